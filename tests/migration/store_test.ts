import assert from "node:assert/strict";
import {
  appendHistory,
  FileMoveStore,
  historyEntry,
  MoveStoreError,
  planMove,
  resultLabel,
} from "../../src/migration/mod.ts";

const T0 = Date.UTC(2026, 0, 1);

function state(volume: string) {
  return planMove({
    id: `m-${volume}`,
    policy: "p",
    volume,
    volumeUuid: `u-${volume}`,
    from: "hot",
    to: "cold",
    oldReplica: "r1",
    oldPool: "hot-1",
    targetPool: "cold-1",
    replicas: ["r1"],
    replicaCount: 1,
    triggerIOPS: 3,
    now: T0,
    dryRun: false,
    preservation: false,
  });
}

Deno.test("FileMoveStore: save, load, list, unreadable files, clear", async () => {
  const dir = await Deno.makeTempDir({ prefix: "couchestor-store-" });
  try {
    const store = new FileMoveStore(`${dir}/moves`);
    assert.equal(await store.load("pv-a"), undefined);
    assert.deepEqual(await store.list(), { moves: [], unreadable: [] });
    await store.save(state("pv-a"));
    await store.save({ ...state("pv-a"), phase: "Rebuilding", addIssued: true, newReplica: "n" });
    await store.save(state("ns/odd name"));
    assert.equal((await store.load("pv-a"))?.phase, "Rebuilding");
    assert.equal((await store.load("ns/odd name"))?.volume, "ns/odd name");
    await Deno.writeTextFile(`${dir}/moves/pv-broken.json`, '{"version":1}');
    const all = await store.list();
    assert.deepEqual(all.moves.map((m) => m.volume).sort(), ["ns/odd name", "pv-a"]);
    assert.equal(all.unreadable.length, 1);
    assert.equal(all.unreadable[0].key, "pv-broken");
    await assert.rejects(store.load("pv-broken"), MoveStoreError);
    // No temp files left behind by the atomic writes.
    const names = [...Deno.readDirSync(`${dir}/moves`)].map((e) => e.name);
    assert.ok(names.every((n) => n.endsWith(".json")));
    await store.clear("pv-a");
    await store.clear("pv-a");
    assert.equal(await store.load("pv-a"), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("history: entries from finished moves, newest first, at most 50", () => {
  const done = {
    ...state("pv-a"),
    phase: "Done" as const,
    result: "Succeeded" as const,
    finishedAt: T0 + 95_500,
  };
  const e = historyEntry(done);
  assert.deepEqual(e, {
    volume: "pv-a",
    time: new Date(T0 + 95_500).toISOString(),
    from: "hot",
    to: "cold",
    triggerIOPS: 3,
    durationSeconds: 95.5,
    result: "Succeeded",
  });
  let h = [] as ReturnType<typeof historyEntry>[];
  for (let i = 0; i < 60; i++) h = appendHistory(h, { ...e, triggerIOPS: i });
  assert.equal(h.length, 50);
  assert.equal(h[0].triggerIOPS, 59);
  assert.equal(resultLabel("RolledBack"), "rolled_back");
});
