import assert from "node:assert/strict";
import { PERSISTENT_VOLUMES } from "../../src/controllers/storage-policy/resources.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { PvAnnotationMoveStore } from "../../src/migration/pv_store.ts";
import { MIGRATION_ANNOTATION, type MoveState, planMove } from "../../src/migration/state.ts";
import { startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { mayastorPv } from "../../src/sandbox/local_cluster.ts";
import { LAST_MIGRATION_ANNOTATION } from "../../src/tiering/cooldown.ts";

function planned(volume: string): MoveState {
  return planMove({
    id: `move-${volume}`,
    policy: "p",
    volume,
    volumeUuid: `uuid-${volume}`,
    from: "cold",
    to: "hot",
    oldReplica: "r-old",
    oldPool: "cold-1",
    targetPool: "hot-1",
    replicas: ["r-old"],
    replicaCount: 1,
    triggerIOPS: 4000,
    now: Date.UTC(2026, 10, 26, 12),
    dryRun: false,
    preservation: false,
  });
}

Deno.test("PvAnnotationMoveStore: states survive in PV annotations; last-migration is stamped only when a move completes", async () => {
  const sb = await startSandbox({ tls: false });
  const client = new KubeClient({ connection: { server: sb.httpUrl, token: sb.token } });
  try {
    for (const name of ["pv-a", "pv-b", "pv-c"]) {
      await client.create(PERSISTENT_VOLUMES, mayastorPv({ name, sizeBytes: 1, pools: [] }, name));
    }
    const store = new PvAnnotationMoveStore(client);
    const a = planned("pv-a");
    await store.save(a);
    await store.save({ ...planned("pv-b"), phase: "Rebuilding", addIssued: true });
    assert.deepEqual(await store.load("pv-a"), a);
    assert.equal(await store.load("pv-c"), undefined);
    assert.equal(await store.load("pv-missing"), undefined);
    const pvA = await client.get(PERSISTENT_VOLUMES, "pv-a");
    assert.equal(pvA.metadata.annotations?.[LAST_MIGRATION_ANNOTATION], undefined);

    // A fresh store (a restarted operator) lists what is in flight.
    const again = new PvAnnotationMoveStore(client);
    const { moves, unreadable } = await again.list();
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
