import assert from "node:assert/strict";
import { appendHistory, historyEntry, resultLabel } from "../../src/migration/history.ts";
import { plannedMove } from "./fixtures.ts";

const T0 = Date.UTC(2026, 0, 1);

function state(volume: string) {
  return plannedMove(volume, { uuid: `u-${volume}`, now: T0 });
}

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
