import assert from "node:assert/strict";
import fc from "fast-check";
import { type Action, type Observation, safeToRetire, step } from "../../src/migration/step.ts";
import {
  decodeMoveState,
  encodeMoveState,
  type MoveState,
  planMove,
} from "../../src/migration/state.ts";
import type { Replica, Volume } from "../../src/model/storage.ts";

const T0 = Date.UTC(2026, 0, 1);
const CFG = { pollMs: 1000 };
const OLD: Replica = {
  uuid: "old",
  pool: "cold-1",
  node: "n1",
  state: "Online",
  childState: "Online",
};

function planned(over: Partial<MoveState> = {}): MoveState {
  return {
    ...planMove({
      id: "m1",
      policy: "p",
      volume: "pv-1",
      volumeUuid: "vol-1",
      from: "cold",
      to: "hot",
      oldReplica: "old",
      oldPool: "cold-1",
      targetPool: "hot-1",
      replicas: ["old"],
      replicaCount: 1,
      triggerIOPS: 4200,
      now: T0,
      dryRun: false,
      preservation: false,
    }),
    ...over,
  };
}

function vol(replicas: Replica[], status: Volume["status"] = "Online"): Volume {
  return { uuid: "vol-1", sizeBytes: 1 << 30, replicaCount: 1, status, replicas, targetNode: "n1" };
}
const fresh = (over: Partial<Replica> = {}): Replica => ({
  uuid: "new",
  pool: "hot-1",
  node: "n2",
  state: "Online",
  childState: "Online",
  ...over,
});
const seen = (v: Volume): Observation => ({ kind: "volume", volume: v });

function run(s: MoveState, obs: Observation, now = T0 + 1000) {
  return step(s, obs, now, CFG);
}

Deno.test("step: the happy path through every phase", () => {
  let r = run(planned(), { kind: "resume" });
  assert.deepEqual(r.action, { kind: "observe", delayMs: 0 });
  r = run(r.state, seen(vol([OLD])));
  assert.deepEqual(r.action, { kind: "addReplica", volumeUuid: "vol-1", poolId: "hot-1" });
  assert.equal(r.state.addIssued, true);
  assert.deepEqual(r.state.replicasBefore, ["old"]);
  assert.equal(r.state.phase, "Planned");
  r = run(r.state, { kind: "replicaAdded", replicaUuid: "new" });
  assert.equal(r.state.phase, "ReplicaAdded");
  assert.equal(r.state.newReplica, "new");
  r = run(r.state, seen(vol([OLD, fresh({ state: "Degraded", rebuildProgress: 10 })])));
  assert.equal(r.state.phase, "Rebuilding");
  r = run(r.state, seen(vol([OLD, fresh({ state: "Degraded", rebuildProgress: 40 })])));
  assert.equal(r.state.phase, "Rebuilding");
  assert.equal(r.state.rebuildProgress, 40);
  assert.deepEqual(r.action, { kind: "observe", delayMs: 1000 });
  r = run(r.state, seen(vol([OLD, fresh({ rebuildProgress: 100 })])));
  assert.equal(r.state.phase, "Verified");
  assert.deepEqual(r.action, { kind: "observe", delayMs: 0 });
  r = run(r.state, seen(vol([OLD, fresh()])));
  assert.deepEqual(r.action, { kind: "retireReplica", volumeUuid: "vol-1", replicaUuid: "old" });
  r = run(r.state, { kind: "replicaRetired", replicaUuid: "old" });
  assert.equal(r.state.phase, "OldReplicaRetired");
  r = run(r.state, seen(vol([fresh()])), T0 + 5000);
  assert.equal(r.state.phase, "Done");
  assert.equal(r.state.result, "Succeeded");
  assert.equal(r.state.finishedAt, T0 + 5000);
  assert.deepEqual(r.action, { kind: "none" });
  // Terminal is absorbing.
  assert.deepEqual(run(r.state, seen(vol([]))).state, r.state);
});

Deno.test("step: never retires while the new replica rebuilds or the volume is unhealthy", () => {
  const s = planned({ phase: "Rebuilding", addIssued: true, newReplica: "new" });
  for (
    const v of [
      vol([OLD, fresh({ rebuildProgress: 99 })]),
      vol([OLD, fresh({ state: "Degraded" })]),
      vol([OLD, fresh({ childState: "Degraded" })]),
      vol([OLD, fresh()], "Degraded"),
      vol([OLD, fresh({ childState: undefined })]), // published but not a nexus child
    ]
  ) {
    const r = run(s, seen(v));
    assert.equal(r.state.phase, "Rebuilding");
    assert.equal(r.action.kind, "observe");
  }
  // Original count of 2: one healthy besides the old one is not enough.
  const two = { ...s, originalReplicaCount: 2 };
  const other: Replica = {
    uuid: "o2",
    pool: "cold-2",
    node: "n3",
    state: "Faulted",
    childState: "Online",
  };
  assert.equal(safeToRetire(two, vol([OLD, other, fresh()])), false);
  assert.equal(safeToRetire(two, vol([OLD, { ...other, state: "Online" }, fresh()])), true);
});

Deno.test("step: Verified re-checks on a fresh observation before retiring", () => {
  const s = planned({ phase: "Verified", addIssued: true, newReplica: "new" });
  const r = run(s, seen(vol([OLD, fresh({ state: "Degraded" })])));
  assert.equal(r.state.phase, "Rebuilding");
  assert.equal(r.action.kind, "observe");
});

Deno.test("step: preservation ends Done with both replicas, never retiring", () => {
  const s = planned({ phase: "Verified", addIssued: true, newReplica: "new", preservation: true });
  const r = run(s, seen(vol([OLD, fresh()])));
  assert.equal(r.state.phase, "Done");
  assert.equal(r.state.result, "Preserved");
  assert.deepEqual(r.action, { kind: "none" });
});

Deno.test("step: dry-run is Done at once with no backend action", () => {
  const r = run(planned({ dryRun: true }), { kind: "resume" });
  assert.equal(r.state.phase, "Done");
  assert.equal(r.state.result, "DryRun");
  assert.deepEqual(r.action, { kind: "none" });
});

Deno.test("step: timeout rolls back removing only the new replica", () => {
  const s = planned({ phase: "Rebuilding", addIssued: true, newReplica: "new" });
  const late = s.deadline;
  let r = run(s, seen(vol([OLD, fresh({ rebuildProgress: 50, state: "Degraded" })])), late);
  assert.equal(r.state.phase, "RollingBack");
  assert.match(r.state.error ?? "", /timed out/);
  r = run(r.state, seen(vol([OLD, fresh({ rebuildProgress: 50, state: "Degraded" })])), late + 1);
  assert.deepEqual(r.action, { kind: "retireReplica", volumeUuid: "vol-1", replicaUuid: "new" });
  r = run(r.state, { kind: "replicaRetired", replicaUuid: "new" }, late + 2);
  r = run(r.state, seen(vol([OLD])), late + 3);
  assert.equal(r.state.phase, "RolledBack");
  assert.equal(r.state.result, "RolledBack");
  // Before anything was added, a timeout just ends the move.
  const early = run(planned(), seen(vol([OLD])), planned().deadline);
  assert.equal(early.state.phase, "RolledBack");
  assert.deepEqual(early.action, { kind: "none" });
  // Verified is past the point of timing out.
  const v = planned({ phase: "Verified", addIssued: true, newReplica: "new" });
  assert.equal(run(v, seen(vol([OLD, fresh()])), v.deadline + 1).action.kind, "retireReplica");
});

Deno.test("step: rollback never removes the new replica once the old one is gone", () => {
  const s = planned({ phase: "RollingBack", addIssued: true, newReplica: "new", error: "x" });
  const r = run(s, seen(vol([fresh()])));
  assert.equal(r.state.phase, "OldReplicaRetired");
  assert.equal(r.action.kind, "observe");
  const done = run(r.state, seen(vol([fresh()])));
  assert.equal(done.state.phase, "Done");
});

Deno.test("step: resume after a crash during add adopts the replica, never adds a second", () => {
  const s = planned({ addIssued: true });
  const stray = fresh({ uuid: "made-before-crash", state: "Degraded", rebuildProgress: 3 });
  const r = run(s, seen(vol([OLD, stray])));
  assert.equal(r.state.phase, "ReplicaAdded");
  assert.equal(r.state.newReplica, "made-before-crash");
  assert.equal(r.action.kind, "observe");
  // Nothing was made: adding again is safe.
  assert.equal(run(s, seen(vol([OLD]))).action.kind, "addReplica");
  // A rollback of such a move finds the stray by pool and removes exactly it.
  const rb = run({ ...s, phase: "RollingBack" }, seen(vol([OLD, stray])));
  assert.deepEqual(rb.action, {
    kind: "retireReplica",
    volumeUuid: "vol-1",
    replicaUuid: "made-before-crash",
  });
});

Deno.test("step: failures — add, retire, unavailable backend, vanished volume", () => {
  const issued = planned({ addIssued: true });
  const retry = run(issued, {
    kind: "actionFailed",
    action: "addReplica",
    error: "503",
    retryable: true,
  });
  assert.equal(retry.state.phase, "Planned");
  assert.deepEqual(retry.action, { kind: "observe", delayMs: 1000 });
  const final = run(issued, {
    kind: "actionFailed",
    action: "addReplica",
    error: "no space",
    retryable: false,
  });
  assert.equal(final.state.phase, "RollingBack");
  assert.equal(run(final.state, seen(vol([OLD]))).state.phase, "RolledBack");
  const ver = planned({ phase: "Verified", addIssued: true, newReplica: "new" });
  const rf = run(ver, {
    kind: "actionFailed",
    action: "retireReplica",
    error: "bad",
    retryable: false,
  });
  assert.equal(rf.state.phase, "Failed");
  assert.equal(rf.state.result, "Failed");
  const un = run(ver, { kind: "unavailable", error: "down" });
  assert.deepEqual(un.action, { kind: "observe", delayMs: 1000 });
  assert.equal(run(ver, seen(undefined as unknown as Volume)).state.phase, "Failed");
  assert.equal(run(planned(), seen(vol([]))).state.phase, "Failed");
  const occupied = run(planned(), seen(vol([OLD, fresh({ uuid: "someone-else" })])));
  assert.equal(occupied.state.phase, "Failed");
  const gone = run(
    planned({ phase: "OldReplicaRetired", addIssued: true, newReplica: "new" }),
    seen(vol([OLD])),
  );
  assert.equal(gone.state.phase, "Failed");
});

Deno.test("step: the new replica faulting or vanishing while rebuilding rolls back", () => {
  const s = planned({ phase: "Rebuilding", addIssued: true, newReplica: "new" });
  assert.equal(run(s, seen(vol([OLD, fresh({ state: "Faulted" })]))).state.phase, "RollingBack");
  assert.equal(run(s, seen(vol([OLD]))).state.phase, "RollingBack");
});

Deno.test("codec: round trip, and readable errors for bad JSON or shapes", () => {
  const s = planned({ addIssued: true, newReplica: "new", phase: "Rebuilding" });
  const back = decodeMoveState(encodeMoveState(s));
  assert.ok(back.ok);
  assert.deepEqual(back.state, s);
  const bad = decodeMoveState("{");
  assert.ok(!bad.ok && /not JSON/.test(bad.error));
  const wrong = decodeMoveState(JSON.stringify({ ...s, phase: "Sideways" }));
  assert.ok(!wrong.ok && /phase/.test(wrong.error));
});

// A small world answers the machine's actions (with random failures, rebuild progress,
// faults, outages, crashes and time jumps). Whatever happens, the machine never retires the
// old replica unless the observation it just saw made that safe, removes only old or its own
// replica, never adds twice, and never retires anything under preservation.
Deno.test("property: every retire is justified by the observation it follows", () => {
  const reached = new Set<string>();
  const envArb = fc.record({
    fail: fc.integer({ min: 0, max: 9 }),
    event: fc.integer({ min: 0, max: 19 }),
    dt: fc.integer({ min: 0, max: 8 * 60_000 }),
  });
  fc.assert(
    fc.property(fc.array(envArb, { maxLength: 60 }), fc.boolean(), (envs, preservation) => {
      let s = planned({ preservation });
      const world = new Map<string, Replica>([["old", { ...OLD }]]);
      let status: Volume["status"] = "Online";
      let now = T0;
      let adds = 0;
      let obs = { kind: "resume" } as Observation; // widened: reassigned below
      reached.add(s.phase);
      for (const env of envs) {
        now += env.dt;
        const r = step(s, obs, now, CFG);
        const a: Action = r.action;
        s = r.state;
        reached.add(s.phase);
        if (a.kind === "none") break;
        // Invariants on the chosen action.
        if (a.kind === "retireReplica") {
          reached.add(`retire:${a.replicaUuid === "old"}`);
          if (a.replicaUuid === "old") {
            assert.ok(!preservation, "preservation retired the old replica");
            assert.ok(obs.kind === "volume" && obs.volume, "retired without looking");
            assert.ok(safeToRetire(s, obs.volume), "retired without a healthy copy");
          } else {
            assert.equal(a.replicaUuid, s.newReplica, "retired a replica it did not add");
            assert.ok(obs.kind === "volume" && obs.volume?.replicas.some((x) => x.uuid === "old"));
          }
        }
        if (a.kind === "addReplica") {
          assert.ok(![...world.keys()].some((k) => k.startsWith("new")), "second new replica");
        }
        // Random world events.
        const nw = [...world.values()].find((x) => x.uuid.startsWith("new"));
        if (env.event === 0 && nw) nw.state = "Faulted";
        if (env.event <= 6 && nw && nw.state !== "Faulted") {
          nw.rebuildProgress = Math.min(100, (nw.rebuildProgress ?? 0) + 50);
          if (nw.rebuildProgress === 100) nw.state = "Online";
        }
        if (env.event === 7) status = status === "Online" ? "Degraded" : "Online";
        // The world answers the action.
        if (env.event === 8) {
          obs = { kind: "resume" }; // a crash and restart
        } else if (a.kind === "observe") {
          obs = env.fail === 0 ? { kind: "unavailable", error: "down" } : {
            kind: "volume",
            volume: {
              uuid: "vol-1",
              sizeBytes: 1,
              replicaCount: 1,
              status,
              replicas: [...world.values()].map((x) => ({ ...x })),
            },
          };
        } else if (a.kind === "addReplica") {
          if (env.fail === 0) {
            obs = { kind: "actionFailed", action: "addReplica", error: "e", retryable: true };
          } else {
            const uuid = `new${++adds}`;
            world.set(uuid, {
              uuid,
              pool: "hot-1",
              node: "n2",
              state: "Degraded",
              rebuildProgress: 0,
            });
            // fail === 1: the call made the replica but the answer was lost (crash).
            obs = env.fail === 1 ? { kind: "resume" } : { kind: "replicaAdded", replicaUuid: uuid };
          }
        } else {
          if (env.fail === 0) {
            obs = { kind: "actionFailed", action: "retireReplica", error: "e", retryable: true };
          } else {
            world.delete(a.replicaUuid);
            obs = env.fail === 1 ? { kind: "resume" } : {
              kind: "replicaRetired",
              replicaUuid: a.replicaUuid,
            };
          }
        }
      }
      assert.ok(adds <= 1, "added more than one replica");
      if (s.phase === "Done" && s.result === "Succeeded") assert.ok(!world.has("old"));
      if (s.phase === "RolledBack") assert.ok(world.has("old") && world.size === 1);
    }),
    { numRuns: 3000 },
  );
  // The walks reach every phase and both kinds of retire, so the property has teeth.
  for (
    const p of ["Verified", "OldReplicaRetired", "RollingBack", "Done", "RolledBack"]
  ) assert.ok(reached.has(p), `never reached ${p}`);
  assert.ok(reached.has("retire:true") && reached.has("retire:false"));
});

Deno.test("step: a rollback never removes the new replica when it is the only healthy copy", () => {
  // The new replica rebuilt fully, then the old one faulted: the volume is Degraded, so the
  // move cannot verify and times out. Removing the new replica would leave no healthy copy.
  const s = planned({ phase: "Rebuilding", addIssued: true, newReplica: "new" });
  const degraded = vol([{ ...OLD, state: "Faulted", childState: "Faulted" }, fresh()], "Degraded");
  let r = run(s, seen(degraded), s.deadline);
  assert.equal(r.state.phase, "RollingBack");
  r = run(r.state, seen(degraded), s.deadline + 1);
  assert.notDeepEqual(r.action, { kind: "retireReplica", volumeUuid: "vol-1", replicaUuid: "new" });
  assert.equal(r.state.phase, "Failed");
  assert.match(r.state.error ?? "", /only healthy/);
  // With a healthy old replica the rollback still removes exactly the new one.
  const ok = run({ ...s, phase: "RollingBack" }, seen(vol([OLD, fresh()])));
  assert.deepEqual(ok.action, { kind: "retireReplica", volumeUuid: "vol-1", replicaUuid: "new" });
});
