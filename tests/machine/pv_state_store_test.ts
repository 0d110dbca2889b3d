import assert from "node:assert/strict";
import { PERSISTENT_VOLUMES } from "../../src/controllers/storage-policy/resources.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { pvMoveStore } from "../../src/migration/store.ts";
import { StateConflict } from "../../src/machine/pv_state_store.ts";
import { MIGRATION_ANNOTATION, type MoveState } from "../../src/migration/state.ts";
import { plannedMove } from "../migration/fixtures.ts";
import { startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { mayastorPv } from "../../src/sandbox/local_cluster.ts";
import { LAST_MIGRATION_ANNOTATION } from "../../src/tiering/cooldown.ts";

function planned(volume: string): MoveState {
  return plannedMove(volume, { from: "cold", to: "hot", now: Date.UTC(2026, 10, 26, 12) });
}

Deno.test("PV state store: states survive in PV annotations; last-migration is stamped only when a move completes", async () => {
  const sb = await startSandbox({ tls: false });
  const client = new KubeClient({ connection: { server: sb.httpUrl, token: sb.token } });
  try {
    for (const name of ["pv-a", "pv-b", "pv-c"]) {
      await client.create(PERSISTENT_VOLUMES, mayastorPv({ name, sizeBytes: 1, pools: [] }, name));
    }
    const store = pvMoveStore(client);
    const a = planned("pv-a");
    await store.save(a);
    await store.save({ ...planned("pv-b"), phase: "Rebuilding", scaleIssued: true });
    assert.deepEqual(await store.load("pv-a"), a);
    assert.equal(await store.load("pv-c"), undefined);
    assert.equal(await store.load("pv-missing"), undefined);
    const pvA = await client.get(PERSISTENT_VOLUMES, "pv-a");
    assert.equal(pvA.metadata.annotations?.[LAST_MIGRATION_ANNOTATION], undefined);

    // A fresh store (a restarted operator) lists what is in flight.
    const again = pvMoveStore(client);
    const { states: moves, unreadable } = await again.list();
    assert.deepEqual(moves.map((m) => `${m.volume}:${m.phase}`).sort(), [
      "pv-a:Planned",
      "pv-b:Rebuilding",
    ]);
    assert.deepEqual(unreadable, []);

    const finishedAt = Date.UTC(2026, 10, 26, 12, 5);
    await store.save({ ...a, phase: "Done", result: "Succeeded", finishedAt });
    const done = await client.get(PERSISTENT_VOLUMES, "pv-a");
    assert.equal(
      done.metadata.annotations?.[LAST_MIGRATION_ANNOTATION],
      new Date(finishedAt).toISOString(),
    );
    await store.save({ ...planned("pv-c"), phase: "RolledBack", result: "RolledBack" });
    const rolled = await client.get(PERSISTENT_VOLUMES, "pv-c");
    assert.equal(rolled.metadata.annotations?.[LAST_MIGRATION_ANNOTATION], undefined);

    await store.clear("pv-a");
    const cleared = await client.get(PERSISTENT_VOLUMES, "pv-a");
    assert.equal(cleared.metadata.annotations?.[MIGRATION_ANNOTATION], undefined);
    assert.ok(cleared.metadata.annotations?.[LAST_MIGRATION_ANNOTATION], "cooldown stamp kept");
    await store.clear("pv-missing");

    await client.patch(PERSISTENT_VOLUMES, "pv-c", {
      metadata: { annotations: { [MIGRATION_ANNOTATION]: "{not json" } },
    });
    const l2 = await store.list();
    assert.deepEqual(l2.unreadable.map((u) => u.key), ["pv-c"]);
    await assert.rejects(store.load("pv-c"), /not JSON/);
  } finally {
    client.close();
    await sb.close();
  }
});

Deno.test("PV state store: writes are conditional; another writer's state is never overwritten", async () => {
  const sb = await startSandbox({ tls: false });
  const client = new KubeClient({ connection: { server: sb.httpUrl, token: sb.token } });
  try {
    await client.create(
      PERSISTENT_VOLUMES,
      mayastorPv({ name: "pv-a", sizeBytes: 1, pools: [] }, "pv-a"),
    );
    const mine = pvMoveStore(client);
    const a = planned("pv-a");
    await mine.save(a);
    // Someone changes another part of the PV: the next write retries on the new version.
    await client.patch(PERSISTENT_VOLUMES, "pv-a", { metadata: { labels: { team: "db" } } });
    const landed = { ...a.steps[0], newReplica: "r-new" };
    await mine.save({ ...a, phase: "Landing", scaleIssued: true, steps: [landed] });
    assert.equal((await mine.load("pv-a"))?.phase, "Landing");
    // Another operator (a new leader) takes the move over and writes its own state.
    const theirs = pvMoveStore(client);
    const cur = (await theirs.load("pv-a"))!;
    await theirs.save({ ...cur, phase: "Rebuilding", rebuildProgress: 40 });
    // The stale writer's next save is refused and leaves the successor's state alone.
    await assert.rejects(
      mine.save({ ...a, phase: "RollingBack", error: "stale" }),
      StateConflict,
    );
    await assert.rejects(mine.clear("pv-a"), StateConflict);
    const now = await pvMoveStore(client).load("pv-a");
    assert.equal(now?.phase, "Rebuilding");
    assert.equal(now?.rebuildProgress, 40);
  } finally {
    client.close();
    await sb.close();
  }
});
