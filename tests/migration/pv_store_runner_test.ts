/**
 * The move runner and the PV move store against the sandbox API server (real HTTP, real
 * PersistentVolumes), driving moves on the Mayastor simulator: annotations written before each
 * step, last-migration stamped with the final state, stop and resume from the PVs alone.
 */
import assert from "node:assert/strict";
import { KubeClient } from "../../src/kube/client.ts";
import { BuiltinResources, type KubeObject } from "../../src/kube/resource.ts";
import {
  decodeMoveState,
  encodeMoveState,
  MIGRATION_ANNOTATION,
  type MoveState,
} from "../../src/migration/state.ts";
import { executeMove } from "../../src/migration/executor.ts";
import { MoveRunner } from "../../src/migration/runner.ts";
import { pvMoveStore } from "../../src/migration/store.ts";
import { InFlight } from "../../src/machine/inflight.ts";
import { UnreadableStateError } from "../../src/machine/pv_state_store.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { LAST_MIGRATION_ANNOTATION, lastMigrationFrom } from "../../src/tiering/cooldown.ts";
import { drive, harness } from "../mayastor/harness.ts";
import { planWith } from "./rig.ts";

const PV = BuiltinResources.persistentVolumes;

function pvObject(name: string, handle: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: {
      capacity: { storage: "1Mi" },
      accessModes: ["ReadWriteOnce"],
      csi: { driver: "io.openebs.csi-mayastor", volumeHandle: handle },
    },
  };
}

Deno.test("move runner + PV store: moves persisted on PersistentVolumes in the sandbox API server", async (t) => {
  const sb = await startSandbox({ tls: false });
  const h = await harness({ volume: { pools: ["cold-1"] } });
  try {
    const client = new KubeClient({ connection: { server: sb.httpUrl, token: sb.token } });
    const store = pvMoveStore(client);
    const second = await h.sim.addVolume({ sizeBytes: 1024 * 1024, pools: ["cold-1"] });
    await client.create(PV, pvObject("pv-a", h.volume));
    await client.create(PV, pvObject("pv-b", second));
    const plan = (volume: string, uuid: string) =>
      planWith(h.backend, uuid, "hot", {
        id: `m-${volume}`,
        policy: "gold",
        pv: volume,
        triggerIOPS: 9000,
        now: h.clock.now(),
      });
    const deps = {
      backend: h.backend,
      store,
      inFlight: new InFlight(),
      clock: h.clock,
      logger: silentLogger,
      pollIntervalMs: 500,
    };

    await t.step("a move leaves its final state and last-migration on the PV", async () => {
      assert.equal(await store.load("pv-a"), undefined);
      const end = await drive(h.clock, executeMove(await plan("pv-a", h.volume), deps));
      assert.equal(end.phase, "Done");
      const pv = await client.get(PV, "pv-a");
      const ann = pv.metadata.annotations ?? {};
      const persisted = decodeMoveState(ann[MIGRATION_ANNOTATION]);
      assert.ok(persisted.ok && persisted.state.phase === "Done");
      assert.equal(lastMigrationFrom(ann), end.finishedAt);
      // One PATCH per persisted state at least: every phase went through the API server.
      const patches = sb.writes.list({
        resource: "persistentvolumes",
        name: "pv-a",
        verb: "patch",
      });
      assert.ok(patches.length >= 6, `${patches.length} patches`);
      assert.ok(patches.every((p) => p.code === 200));
      await store.clear("pv-a");
      const after = (await client.get(PV, "pv-a")).metadata.annotations ?? {};
      assert.equal(after[MIGRATION_ANNOTATION], undefined);
      assert.ok(after[LAST_MIGRATION_ANNOTATION]);
      assert.equal(await store.load("pv-a"), undefined);
      assert.equal(await store.load("no-such-pv"), undefined);
      await store.clear("no-such-pv");
    });

    let planB: MoveState | undefined;
    await t.step("stop mid-move, resume from the PVs with a new runner", async () => {
      const runner = new MoveRunner(deps);
      const leading = new AbortController();
      const planned = await plan("pv-b", second);
      planB = planned;
      assert.ok(runner.start(planned, leading.signal));
      for (let i = 0; i < 3; i++) {
        await h.clock.advance(500);
        await new Promise((r) => setTimeout(r, 10));
      }
      leading.abort(); // leadership ends: the move stops between steps
      await drive(h.clock, runner.idle());
      const listed = await store.list();
      assert.equal(listed.states.length, 1);
      assert.notEqual(listed.states[0].phase, "Done");
      const fresh = new MoveRunner({
        ...deps,
        inFlight: new InFlight(),
        store: pvMoveStore(client),
      });
      assert.equal((await fresh.resume(new AbortController().signal)).resumed, 1);
      await drive(h.clock, fresh.idle());
      const v = (await h.backend.getVolume(second))!;
      assert.deepEqual(v.replicas.map((r) => r.pool), [planned.steps[0].targetPools[0]]);
      assert.deepEqual((await store.list()).states, []);
      const ann = (await client.get(PV, "pv-b")).metadata.annotations ?? {};
      assert.ok(ann[LAST_MIGRATION_ANNOTATION]);
    });

    await t.step("an unreadable annotation is reported, never overwritten", async () => {
      await client.patch(PV, "pv-a", {
        metadata: { annotations: { [MIGRATION_ANNOTATION]: "{broken" } },
      });
      const listed = await store.list();
      assert.deepEqual(listed.unreadable.map((u) => u.key), ["pv-a"]);
      await assert.rejects(store.load("pv-a"), UnreadableStateError);
      const runner = new MoveRunner(deps);
      const r = await runner.resume(new AbortController().signal);
      assert.equal(r.unreadable.length, 1);
      assert.equal(r.resumed, 0);
      const raw = (await client.get(PV, "pv-a")).metadata.annotations?.[MIGRATION_ANNOTATION];
      assert.equal(raw, "{broken");
    });

    await t.step("a state naming another volume is refused, never acted on", async () => {
      // A hand edit (or a copy between PVs): pv-a's annotation acts on pv-b's Mayastor volume.
      const foreign = { ...planB!, volume: "pv-a", phase: "Verified" as const };
      await client.patch(PV, "pv-a", {
        metadata: { annotations: { [MIGRATION_ANNOTATION]: encodeMoveState(foreign) } },
      });
      const before = await h.sim.replicaHashes(second);
      const r = await new MoveRunner(deps).resume(new AbortController().signal);
      assert.equal(r.resumed, 0);
      assert.match(r.unreadable[0].error, /acts on Mayastor volume .*volumeHandle is/);
      await assert.rejects(store.load("pv-a"), /refused/);
      assert.deepEqual(await h.sim.replicaHashes(second), before, "nothing touched");
    });
    client.close();
  } finally {
    await h.close();
    await sb.close();
  }
});
