/**
 * The pure move machine (src/migration/step.ts) on hand-built observations: a 2-replica volume
 * on hot-1/hot-2 (nodes node-h1/node-h2, published on node-h1) moving to cold-1 (node-c1) and
 * cold-2 (node-c2), one replica step each. Then a property test over random observations.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { MayastorNode } from "../../src/mayastor/port.ts";
import { isHealthyReplica } from "../../src/model/health.ts";
import type { Replica, Volume } from "../../src/model/storage.ts";
import {
  decodeMoveState,
  encodeMoveState,
  MOVE_CORDON_LABEL,
  type MoveState,
  planMove,
} from "../../src/migration/state.ts";
import {
  type Action,
  isTerminal,
  type Observation,
  step,
  type StepConfig,
} from "../../src/migration/step.ts";

const T0 = Date.UTC(2026, 0, 1);
const POLL = 1000;
const CFG: StepConfig = { pollMs: POLL };
const TIMEOUT = 10 * 60_000;
const NODE_IDS = ["node-c1", "node-c2", "node-h1", "node-h2"];

/** A healthy replica (Online, an Online nexus child). */
function rep(uuid: string, pool: string, node: string, over: Partial<Replica> = {}): Replica {
  return { uuid, pool, node, state: "Online", childState: "Online", ...over };
}
const A = rep("A", "hot-1", "node-h1");
const B = rep("B", "hot-2", "node-h2");
const N1 = rep("N1", "cold-1", "node-c1");
const N2 = rep("N2", "cold-2", "node-c2");
/** A hot spare the control plane made on a third hot node. */
const S = rep("S", "hot-3", "node-h3");

/** A replica rebuilding through the nexus at `pct` percent. */
const rebuilding = (r: Replica, pct: number): Replica => ({
  ...r,
  childState: "Degraded",
  rebuildProgress: pct,
});
/** A replica whose nexus child faulted. */
const faulted = (r: Replica): Replica => ({ ...r, childState: "Faulted" });
/** A replica the nexus no longer has as a child (detached). */
const detached = (r: Replica): Replica => ({ ...r, childState: undefined });

/** A volume of `replicas`; Online when every one is healthy and there are `count` of them. */
function vol(
  replicas: Replica[],
  o: { count?: number; status?: Volume["status"]; target?: string | null } = {},
): Volume {
  const count = o.count ?? replicas.length;
  const base: Volume = {
    uuid: "vol-1",
    sizeBytes: 1 << 20,
    replicaCount: count,
    status: "Online",
    replicas,
  };
  if (o.target !== null) base.targetNode = o.target ?? "node-h1";
  const healthy = replicas.every((r) => isHealthyReplica(base, r));
  base.status = o.status ?? (healthy && replicas.length === count ? "Online" : "Degraded");
  return base;
}

/** The io-engine nodes, every one online and uncordoned unless `over` says otherwise. */
function nodes(over: Record<string, Partial<MayastorNode>> = {}): MayastorNode[] {
  return [...NODE_IDS, ...Object.keys(over).filter((id) => !NODE_IDS.includes(id))].map((id) => ({
    id,
    cordonLabels: [],
    online: true,
    ...over[id],
  }));
}

/** The planned 2-step move of A → cold-1 and B → cold-2. */
function planned(over: Partial<MoveState> = {}): MoveState {
  return {
    ...planMove({
      id: "m1",
      policy: "p",
      volume: "pv-1",
      volumeUuid: "vol-1",
      from: "hot",
      to: "cold",
      steps: [
        { old: "A", oldPool: "hot-1", targetPools: ["cold-1"], targetNode: "node-c1" },
        { old: "B", oldPool: "hot-2", targetPools: ["cold-2"], targetNode: "node-c2" },
      ],
      replicas: ["A", "B"],
      replicaCount: 2,
      healthyReplicas: 2,
      triggerIOPS: 100,
      now: T0,
      timeoutMs: TIMEOUT,
      dryRun: false,
      preservation: false,
    }),
    ...over,
  };
}

/** The nodes the first step cordons (every node but its target node-c1). */
const CORDON1 = ["node-c2", "node-h1", "node-h2"];
/** The nodes the second step cordons (every node but node-c2). */
const CORDON2 = ["node-c1", "node-h1", "node-h2"];

const seen = (v: Volume | undefined, n?: MayastorNode[]): Observation =>
  n ? { kind: "volume", volume: v, nodes: n } : { kind: "volume", volume: v };
const done = (action: "cordon" | "uncordon" | "detach"): Observation => ({ kind: "done", action });
const counted = (v: Volume, uncordoned?: boolean): Observation => ({
  kind: "done",
  action: "setReplicaCount",
  volume: v,
  ...(uncordoned === undefined ? {} : { uncordoned }),
});
const failed = (
  action: "cordon" | "uncordon" | "setReplicaCount" | "detach",
  status?: number,
  errorKind?: string,
): Observation => ({
  kind: "actionFailed",
  action,
  error: status === undefined ? "connection reset" : `→ ${status}`,
  ...(status !== undefined ? { status } : {}),
  ...(errorKind ? { errorKind } : {}),
  retryable: status === undefined || status >= 500,
});
const OBSERVE = { kind: "observe", delayMs: 0 } as const;
const WAIT = { kind: "observe", delayMs: POLL } as const;
const OBSERVE_NODES = { kind: "observe", delayMs: 0, nodes: true } as const;
const WAIT_NODES = { kind: "observe", delayMs: POLL, nodes: true } as const;

/** Feeds observations to the machine one second apart, keeping its state. */
class Run {
  t: number;
  action: Action = { kind: "none" };
  constructor(public s: MoveState, t = T0) {
    this.t = t;
  }
  feed(obs: Observation, dt = 1000): Action {
    this.t += dt;
    const r = step(this.s, obs, this.t, CFG);
    this.s = r.state;
    this.action = r.action;
    // Every state the machine makes is a valid, consistent one.
    const back = decodeMoveState(encodeMoveState(r.state));
    assert.ok(back.ok, back.ok ? "" : back.error);
    return r.action;
  }
  get phase() {
    return this.s.phase;
  }
}

/** Runs step 1 from Planned until its increase answered (phase Uncordoning). */
function throughScaling(m: Run, answer: Volume): void {
  m.feed({ kind: "resume" });
  m.feed(seen(vol([A, B]), nodes()));
  m.feed(done("cordon"));
  m.feed(counted(answer));
}

/** Runs step 1 to Verified with N1 rebuilt (its next observation decides the detach). */
function toVerified(m: Run): void {
  throughScaling(m, vol([A, B, rebuilding(N1, 0)], { count: 3 }));
  m.feed(done("uncordon"));
  m.feed(seen(vol([A, B, rebuilding(N1, 40)], { count: 3 })));
  m.feed(seen(vol([A, B, N1], { count: 3 })));
  assert.equal(m.phase, "Verified");
}

Deno.test("step: a 2-step move through every phase", () => {
  const m = new Run(planned());
  assert.deepEqual(m.feed({ kind: "resume" }), OBSERVE_NODES);
  assert.deepEqual(m.feed(seen(vol([A, B]), nodes())), {
    kind: "cordon",
    nodes: CORDON1,
    clear: [],
  });
  assert.equal(m.phase, "Cordoning");
  assert.deepEqual(m.s.cordon?.nodes, CORDON1, "the cordon is persisted before it is put on");
  // The increase takes the cordon off right after its call: no state write inside the window.
  assert.deepEqual(m.feed(done("cordon")), {
    kind: "setReplicaCount",
    n: 3,
    thenUncordon: CORDON1,
  });
  assert.equal(m.phase, "Scaling");
  assert.equal(m.s.scaleIssued, true);
  const since = m.s.cordon!.since;
  const answered = counted(vol([A, B, rebuilding(N1, 0)], { count: 3 }), true);
  assert.deepEqual(m.feed(answered, 250), OBSERVE);
  assert.equal(m.phase, "Landing");
  assert.equal(m.s.steps[0].newReplica, "N1");
  assert.equal(m.s.cordon, undefined);
  assert.deepEqual(m.s.cordonWindowsMs, [m.t - since], "the window: cordon on to cordon off");
  assert.deepEqual(m.feed(seen(vol([A, B, rebuilding(N1, 10)], { count: 3 }))), WAIT);
  assert.equal(m.phase, "Rebuilding");
  assert.deepEqual(m.feed(seen(vol([A, B, rebuilding(N1, 60)], { count: 3 }))), WAIT);
  assert.equal(m.s.rebuildProgress, 60);
  assert.deepEqual(m.feed(seen(vol([A, B, N1], { count: 3 }))), OBSERVE);
  assert.equal(m.phase, "Verified");
  assert.deepEqual(m.feed(seen(vol([A, B, N1], { count: 3 }))), { kind: "detach", replica: "A" });
  assert.equal(m.phase, "Detaching");
  assert.equal(m.s.retiring, "A");
  assert.deepEqual(m.feed(done("detach")), { kind: "setReplicaCount", n: 2 });
  assert.equal(m.phase, "Trimming");
  // The first decrease answers 409 InUse (the nexus still owns A): the same call at once.
  assert.deepEqual(m.feed(failed("setReplicaCount", 409, "InUse")), {
    kind: "setReplicaCount",
    n: 2,
  });
  assert.deepEqual(m.feed(counted(vol([B, N1]))), OBSERVE_NODES);
  assert.equal(m.phase, "Planned");
  assert.equal(m.s.current, 1);
  assert.equal(m.s.steps[0].done, true);
  assert.deepEqual(m.s.replicasBefore, ["B", "N1"]);
  assert.equal(m.s.baseCount, 2);
  assert.equal(m.s.scaleIssued, false);
  assert.equal(m.s.deadline, m.t + TIMEOUT, "each step has its own deadline");

  // Step 2: B → cold-2, every node but node-c2 cordoned.
  assert.deepEqual(m.feed(seen(vol([B, N1]), nodes())), {
    kind: "cordon",
    nodes: CORDON2,
    clear: [],
  });
  m.feed(done("cordon"));
  // Here the uncordon after the increase failed: Uncordoning retries it before anything else.
  assert.deepEqual(
    m.feed(counted(vol([B, N1, rebuilding(N2, 0)], { count: 3 }), false)),
    { kind: "uncordon", nodes: CORDON2 },
  );
  assert.equal(m.phase, "Uncordoning");
  m.feed(done("uncordon"));
  m.feed(seen(vol([B, N1, rebuilding(N2, 50)], { count: 3 })));
  m.feed(seen(vol([B, N1, N2], { count: 3 })));
  assert.deepEqual(m.feed(seen(vol([B, N1, N2], { count: 3 }))), { kind: "detach", replica: "B" });
  assert.deepEqual(m.feed(done("detach")), { kind: "setReplicaCount", n: 2 });
  m.feed(failed("setReplicaCount", 409, "InUse"));
  assert.deepEqual(m.feed(counted(vol([N1, N2]))), { kind: "none" });
  assert.equal(m.phase, "Done");
  assert.equal(m.s.result, "Succeeded");
  assert.equal(m.s.error, undefined);
  assert.equal(m.s.cordon, undefined);
  assert.equal(m.s.cordonWindowsMs.length, 2);
  assert.equal(m.s.finishedAt, m.t);
  assert.ok(m.s.steps.every((x) => x.done));
  // A terminal state absorbs everything.
  const end = m.s;
  assert.deepEqual(m.feed(seen(undefined)), { kind: "none" });
  assert.deepEqual(m.s, end);
});

Deno.test("step: Planned refuses a volume that is not published, before any cordon", () => {
  const m = new Run(planned());
  m.feed({ kind: "resume" });
  assert.deepEqual(m.feed(seen(vol([A, B], { target: null }), nodes())), { kind: "none" });
  assert.equal(m.s.result, "RolledBack");
  assert.match(m.s.error!, /not published/);
});

Deno.test("step: Planned refuses a target node that holds a replica, is offline or cordoned", () => {
  const cases: [Volume, MayastorNode[], RegExp][] = [
    [vol([A, B, rep("X", "cold-9", "node-c1")], { count: 3 }), nodes(), /already holds replica X/],
    [vol([A, B]), nodes({ "node-c1": { online: false } }), /node-c1 is not online/],
    [vol([A, B]), nodes({ "node-c1": { cordonLabels: ["admin"] } }), /cordoned \(admin\)/],
    [vol([A, B]), nodes().filter((n) => n.id !== "node-c1"), /node-c1 is not online/],
  ];
  for (const [v, n, why] of cases) {
    const m = new Run(planned());
    m.feed({ kind: "resume" });
    assert.deepEqual(m.feed(seen(v, n)), { kind: "none" }, String(why));
    assert.equal(m.s.result, "RolledBack");
    assert.match(m.s.error!, why);
    assert.equal(m.s.cordon, undefined);
  }
});

Deno.test("step: Planned asks for the nodes, and clears its own leftover cordon on the target", () => {
  const m = new Run(planned());
  m.feed({ kind: "resume" });
  assert.deepEqual(m.feed(seen(vol([A, B]))), OBSERVE_NODES, "no nodes in the observation");
  const left = nodes({ "node-c1": { cordonLabels: [MOVE_CORDON_LABEL] } });
  assert.deepEqual(m.feed(seen(vol([A, B]), left)), {
    kind: "cordon",
    nodes: CORDON1,
    clear: ["node-c1"],
  });
});

Deno.test("step: Planned waits while the volume is not Online or below its floor, until the deadline", () => {
  for (
    const v of [
      vol([A, B], { status: "Degraded" }),
      vol([A, rebuilding(B, 30)]),
      vol([A, faulted(B)], { status: "Online" }),
    ]
  ) {
    const m = new Run(planned());
    m.feed({ kind: "resume" });
    assert.deepEqual(m.feed(seen(v, nodes())), WAIT_NODES);
    assert.equal(m.phase, "Planned");
    assert.deepEqual(m.feed(seen(v, nodes()), TIMEOUT), { kind: "none" });
    assert.equal(m.s.result, "RolledBack");
    assert.match(m.s.error!, /step 1 of 2 timed out after \d+s in Planned/);
    assert.equal(m.s.cordonWindowsMs.length, 0, "never cordoned");
  }
});

Deno.test("step: a failed cordon is undone first, then the move ends RolledBack", () => {
  const m = new Run(planned());
  m.feed({ kind: "resume" });
  m.feed(seen(vol([A, B]), nodes()));
  assert.deepEqual(m.feed(failed("cordon", 503)), { kind: "uncordon", nodes: CORDON1 });
  assert.equal(m.phase, "RollingBack");
  assert.match(m.s.error!, /cordoning the other nodes failed/);
  assert.deepEqual(m.feed(done("uncordon")), OBSERVE);
  assert.equal(m.s.cordon, undefined);
  assert.deepEqual(m.feed(seen(vol([A, B]))), { kind: "none" });
  assert.equal(m.s.result, "RolledBack");
});

Deno.test("step: a failed uncordon is retried after every observation, never skipped", () => {
  const m = new Run(planned());
  throughScaling(m, vol([A, B, rebuilding(N1, 0)], { count: 3 }));
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(m.feed(failed("uncordon", 503)), WAIT);
    assert.equal(m.phase, "Uncordoning");
    assert.deepEqual(m.feed(seen(vol([A, B, rebuilding(N1, 10 * i)], { count: 3 }))), {
      kind: "uncordon",
      nodes: CORDON1,
    });
  }
  // Not even the deadline skips it.
  assert.deepEqual(m.feed(failed("uncordon"), TIMEOUT), WAIT);
  assert.deepEqual(m.feed(seen(vol([A, B, N1], { count: 3 }))), {
    kind: "uncordon",
    nodes: CORDON1,
  });
  m.feed(done("uncordon"));
  assert.equal(m.s.cordon, undefined);
});

Deno.test("step: a failed increase uncordons before anything else", () => {
  for (const status of [undefined, 409, 412, 422, 503, 507]) {
    const m = new Run(planned());
    m.feed({ kind: "resume" });
    m.feed(seen(vol([A, B]), nodes()));
    m.feed(done("cordon"));
    assert.deepEqual(m.feed(failed("setReplicaCount", status)), {
      kind: "uncordon",
      nodes: CORDON1,
    });
    assert.equal(m.phase, "Uncordoning");
    assert.equal(m.s.lastFailure?.status, status);
  }
});

Deno.test("step: a resume in Cordoning, Scaling, Uncordoning or RollingBack uncordons first", () => {
  const cordon = { nodes: CORDON1, since: T0 };
  for (const phase of ["Cordoning", "Scaling", "Uncordoning"] as const) {
    const m = new Run(planned({ phase, cordon, scaleIssued: phase !== "Cordoning" }));
    assert.deepEqual(m.feed({ kind: "resume" }), { kind: "uncordon", nodes: CORDON1 }, phase);
    assert.equal(m.phase, "Uncordoning");
    // An observation in those phases (a resume that read first) also uncordons.
    const o = new Run(planned({ phase, cordon, scaleIssued: true }));
    assert.deepEqual(o.feed(seen(vol([A, B]))), { kind: "uncordon", nodes: CORDON1 }, phase);
  }
  const rb = new Run(planned({ phase: "RollingBack", cordon, error: "x", scaleIssued: true }));
  assert.deepEqual(rb.feed({ kind: "resume" }), { kind: "uncordon", nodes: CORDON1 });
  assert.deepEqual(rb.feed(seen(vol([A, B]))), { kind: "uncordon", nodes: CORDON1 });
});

Deno.test("step: past the deadline a cordoned step uncordons, then removes what it added", () => {
  // The increase answers after the deadline: its replica is still recorded for the rollback.
  const m = new Run(planned());
  m.feed({ kind: "resume" });
  m.feed(seen(vol([A, B]), nodes()));
  m.feed(done("cordon"));
  assert.deepEqual(m.feed(counted(vol([A, B, rebuilding(N1, 0)], { count: 3 })), TIMEOUT), {
    kind: "uncordon",
    nodes: CORDON1,
  });
  assert.equal(m.phase, "RollingBack");
  assert.match(m.s.error!, /timed out .* in Scaling/);
  assert.equal(m.s.steps[0].newReplica, "N1");
  m.feed(done("uncordon"));
  assert.deepEqual(m.feed(seen(vol([A, B, rebuilding(N1, 5)], { count: 3 }))), {
    kind: "detach",
    replica: "N1",
  });
  assert.deepEqual(m.feed(done("detach")), { kind: "setReplicaCount", n: 2 });
  assert.deepEqual(m.feed(failed("setReplicaCount", 409, "InUse")), {
    kind: "setReplicaCount",
    n: 2,
  });
  assert.deepEqual(m.feed(counted(vol([A, B]))), { kind: "none" });
  assert.equal(m.s.result, "RolledBack");

  // Deadline while Cordoning: the cordon comes off.
  const c = new Run(planned());
  c.feed({ kind: "resume" });
  c.feed(seen(vol([A, B]), nodes()));
  assert.deepEqual(c.feed(done("cordon"), TIMEOUT), { kind: "uncordon", nodes: CORDON1 });
  assert.equal(c.phase, "RollingBack");
});

Deno.test("step: the increase's answer lost — Landing finds the newcomer by scan", () => {
  const m = new Run(planned());
  m.feed({ kind: "resume" });
  m.feed(seen(vol([A, B]), nodes()));
  m.feed(done("cordon"));
  m.feed(failed("setReplicaCount")); // a timeout: it may have acted
  assert.equal(m.s.lastFailure?.definite, false);
  m.feed(done("uncordon"));
  assert.equal(m.phase, "Landing");
  assert.deepEqual(m.feed(seen(vol([A, B, rebuilding(N1, 20)], { count: 3 }))), WAIT);
  assert.equal(m.phase, "Rebuilding");
  assert.equal(m.s.steps[0].newReplica, "N1");
  assert.equal(m.s.lastFailure, undefined);

  // A crash in Scaling (no answer at all) resumes the same way.
  const r = new Run(
    planned({ phase: "Scaling", scaleIssued: true, cordon: { nodes: CORDON1, since: T0 } }),
  );
  r.feed({ kind: "resume" });
  r.feed(done("uncordon"));
  r.feed(seen(vol([A, B, rebuilding(N1, 20)], { count: 3 })));
  assert.equal(r.phase, "Rebuilding");
  assert.equal(r.s.steps[0].newReplica, "N1");
});

Deno.test("step: a hot spare made before the cordon is never taken for the newcomer", () => {
  // B was replaced by the spare S before step 1 cordoned; the increase's answer is lost.
  const m = new Run(planned());
  m.feed({ kind: "resume" });
  m.feed(seen(vol([A, S]), nodes({ "node-h3": {} })));
  assert.deepEqual(m.s.replicasBefore, ["A", "S"]);
  m.feed(done("cordon"));
  m.feed(failed("setReplicaCount"));
  m.feed(done("uncordon"));
  const wrong = rebuilding(rep("W", "hot-9", "node-c1"), 0);
  m.feed(seen(vol([A, S, wrong], { count: 3 })));
  assert.equal(m.phase, "RollingBack");
  assert.equal(m.s.steps[0].newReplica, "W");
  assert.deepEqual(m.feed(seen(vol([A, S, wrong], { count: 3 }))), {
    kind: "detach",
    replica: "W",
  });
  // A adopted spare for the step's own old replica, and no replica landed: retry, not S.
  const a = new Run(planned());
  a.feed({ kind: "resume" });
  a.feed(seen(vol([S, B]), nodes({ "node-h3": {} })));
  a.feed(seen(vol([S, B]), nodes({ "node-h3": {} })));
  a.feed(done("cordon"));
  a.feed(failed("setReplicaCount"));
  a.feed(done("uncordon"));
  assert.deepEqual(a.feed(seen(vol([S, B]))), WAIT_NODES);
  assert.equal(a.s.stepAttempts, 1);
  assert.equal(a.s.steps[0].newReplica, undefined);
});

Deno.test("step: an increase that made nothing retries the step, capped", () => {
  const m = new Run(planned());
  m.feed({ kind: "resume" });
  for (let attempt = 1; attempt <= 3; attempt++) {
    m.feed(seen(vol([A, B]), nodes()));
    assert.equal(m.phase, "Cordoning");
    m.feed(done("cordon"));
    m.feed(failed("setReplicaCount", 503));
    m.feed(done("uncordon"));
    const a = m.feed(seen(vol([A, B])));
    if (attempt < 3) {
      assert.deepEqual(a, WAIT_NODES);
      assert.equal(m.phase, "Planned");
      assert.equal(m.s.stepAttempts, attempt);
    } else {
      assert.deepEqual(a, { kind: "none" });
      assert.equal(m.s.result, "RolledBack");
      assert.match(m.s.error!, /replica_count 3 failed: → 503 \(3 attempts\)/);
    }
  }
  assert.equal(m.s.cordonWindowsMs.length, 3, "every attempt's cordon came off");
});

Deno.test("step: Scaling — a definite refusal ends the step, an ambiguous failure retries it", () => {
  const outcome = (status?: number, kind?: string) => {
    const m = new Run(planned());
    m.feed({ kind: "resume" });
    m.feed(seen(vol([A, B]), nodes()));
    m.feed(done("cordon"));
    m.feed(failed("setReplicaCount", status, kind));
    m.feed(done("uncordon"));
    m.feed(seen(vol([A, B])));
    return m;
  };
  for (const status of [400, 412, 422, 507]) {
    const m = outcome(status);
    assert.equal(m.s.result, "RolledBack", `${status}`);
    assert.equal(m.s.stepAttempts, 0);
  }
  for (const status of [undefined, 408, 429, 500, 503]) {
    const m = outcome(status);
    assert.equal(m.phase, "Planned", `${status}`);
    assert.equal(m.s.stepAttempts, 1);
    assert.deepEqual(m.action, WAIT_NODES);
    assert.equal(m.s.scaleIssued, true, "an increase of this step went out");
  }
  // 409: the volume is busy (perhaps with our own increase): not an attempt, a longer wait.
  for (const kind of [undefined, "Conflict"]) {
    const busy = outcome(409, kind);
    assert.equal(busy.phase, "Planned");
    assert.equal(busy.s.stepAttempts, 0);
    assert.deepEqual(busy.action, { kind: "observe", delayMs: 5 * POLL, nodes: true });
  }
  // Another 409 (InUse, Deleting) is no busy guard: an attempt like any other.
  assert.equal(outcome(409, "Deleting").s.stepAttempts, 1);
});

Deno.test("step: an increase whose answer was lost and that lands late is found, not repeated", () => {
  const m = new Run(planned());
  m.feed({ kind: "resume" });
  m.feed(seen(vol([A, B]), nodes()));
  m.feed(done("cordon"));
  m.feed(failed("setReplicaCount")); // timed out: still in flight
  m.feed(done("uncordon"));
  m.feed(seen(vol([A, B])));
  assert.equal(m.phase, "Planned");
  // The retry's own increase finds the volume busy with the first one.
  m.feed(seen(vol([A, B]), nodes()));
  m.feed(done("cordon"));
  m.feed(failed("setReplicaCount", 409, "Conflict"));
  m.feed(done("uncordon"));
  assert.deepEqual(m.feed(seen(vol([A, B]))), { kind: "observe", delayMs: 5 * POLL, nodes: true });
  // Meanwhile the first increase landed: Planned sends the step to Landing, no new increase.
  assert.deepEqual(m.feed(seen(vol([A, B, rebuilding(N1, 5)], { count: 3 }), nodes())), OBSERVE);
  assert.equal(m.phase, "Landing");
  m.feed(seen(vol([A, B, rebuilding(N1, 20)], { count: 3 })));
  assert.equal(m.phase, "Rebuilding");
  assert.equal(m.s.steps[0].newReplica, "N1");
  // Busy answers alone never end the step: only its deadline does, and then nothing is left.
  const b = new Run(planned());
  b.feed({ kind: "resume" });
  for (let i = 0; i < 5; i++) {
    b.feed(seen(vol([A, B]), nodes()));
    b.feed(done("cordon"));
    b.feed(failed("setReplicaCount", 409, "Conflict"));
    b.feed(done("uncordon"));
    b.feed(seen(vol([A, B])));
    assert.equal(b.phase, "Planned");
  }
  assert.deepEqual(b.feed(seen(vol([A, B]), nodes()), TIMEOUT), OBSERVE);
  assert.equal(b.phase, "RollingBack", "an increase went out: look for it before ending");
  assert.deepEqual(b.feed(seen(vol([A, B]))), { kind: "none" });
  assert.equal(b.s.result, "RolledBack");
});

Deno.test("step: a rollback never lowers a count this step did not raise", () => {
  // The cordon failed (no increase went out) and someone else raised the count meanwhile.
  const m = new Run(planned());
  m.feed({ kind: "resume" });
  m.feed(seen(vol([A, B]), nodes()));
  m.feed(failed("cordon", 409));
  m.feed(done("uncordon"));
  assert.deepEqual(m.feed(seen(vol([A, B, S], { count: 3 }))), { kind: "none" });
  assert.equal(m.s.result, "RolledBack");
});

Deno.test("step: a newcomer on the wrong pool is rolled back, exactly it removed", () => {
  const wrong = rebuilding(rep("W", "hot-9", "node-c1"), 0);
  const m = new Run(planned());
  throughScaling(m, vol([A, B, wrong], { count: 3 }));
  assert.equal(m.s.steps[0].newReplica, "W");
  m.feed(done("uncordon"));
  assert.deepEqual(m.feed(seen(vol([A, B, wrong], { count: 3 }))), OBSERVE);
  assert.equal(m.phase, "RollingBack");
  assert.equal(m.s.steps[0].landedOn, "hot-9");
  assert.match(m.s.error!, /placed the new replica on pool hot-9, not on cold-1/);
  assert.deepEqual(m.feed(seen(vol([A, B, wrong], { count: 3 }))), {
    kind: "detach",
    replica: "W",
  });
  assert.deepEqual(m.feed(done("detach")), { kind: "setReplicaCount", n: 2 });
  assert.deepEqual(m.feed(counted(vol([A, B]))), { kind: "none" });
  assert.equal(m.s.result, "RolledBack");
});

Deno.test("step: a newcomer that faults or leaves while rebuilding rolls the step back", () => {
  const m = new Run(planned());
  throughScaling(m, vol([A, B, rebuilding(N1, 0)], { count: 3 }));
  m.feed(done("uncordon"));
  m.feed(seen(vol([A, B, rebuilding(N1, 30)], { count: 3 })));
  assert.deepEqual(m.feed(seen(vol([A, B, faulted(N1)], { count: 3 }))), OBSERVE);
  assert.equal(m.phase, "RollingBack");
  assert.match(m.s.error!, /faulted while it rebuilt/);
  assert.deepEqual(m.feed(seen(vol([A, B, faulted(N1)], { count: 3 }))), {
    kind: "detach",
    replica: "N1",
  });

  const gone = new Run(planned());
  throughScaling(gone, vol([A, B, rebuilding(N1, 0)], { count: 3 }));
  gone.feed(done("uncordon"));
  gone.feed(seen(vol([A, B, rebuilding(N1, 30)], { count: 3 })));
  gone.feed(seen(vol([A, B], { count: 3 })));
  assert.equal(gone.phase, "RollingBack");
  assert.match(gone.s.error!, /left the volume/);
  // Nothing of ours to detach: only the count this step raised goes back.
  assert.deepEqual(gone.feed(seen(vol([A, B], { count: 3 }))), { kind: "setReplicaCount", n: 2 });
  assert.deepEqual(gone.feed(counted(vol([A, B]))), { kind: "none" });
  assert.equal(gone.s.result, "RolledBack");
});

Deno.test("step: a rebuild past the step's deadline rolls back", () => {
  const m = new Run(planned());
  throughScaling(m, vol([A, B, rebuilding(N1, 0)], { count: 3 }));
  m.feed(done("uncordon"));
  m.feed(seen(vol([A, B, rebuilding(N1, 30)], { count: 3 })));
  m.feed(seen(vol([A, B, rebuilding(N1, 30)], { count: 3 })), TIMEOUT);
  assert.equal(m.phase, "RollingBack");
  assert.match(
    m.s.error!,
    /step 1 of 2 timed out after 60\ds in Rebuilding \(the new replica at 30%\)/,
  );
});

Deno.test("step: Verified waits for the healthy floor, and re-checks the rebuild", () => {
  const m = new Run(planned());
  toVerified(m);
  // B faulted: without A only N1 is healthy (< 2), so A stays.
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(m.feed(seen(vol([A, faulted(B), N1], { count: 3 }))), WAIT);
    assert.equal(m.phase, "Verified");
  }
  // Past the deadline a verified step only goes forward.
  assert.deepEqual(m.feed(seen(vol([A, B, N1], { count: 3 })), TIMEOUT), {
    kind: "detach",
    replica: "A",
  });

  const flap = new Run(planned());
  toVerified(flap);
  assert.deepEqual(flap.feed(seen(vol([A, B, rebuilding(N1, 90)], { count: 3 }))), WAIT);
  assert.equal(flap.phase, "Rebuilding");
});

Deno.test("step: Detaching — ambiguous failures retry, a definite refusal rolls back", () => {
  const m = new Run(planned());
  toVerified(m);
  m.feed(seen(vol([A, B, N1], { count: 3 })));
  assert.deepEqual(m.feed(failed("detach", 409)), WAIT);
  assert.deepEqual(m.feed(seen(vol([A, B, N1], { count: 3 }))), { kind: "detach", replica: "A" });
  // Gone from the nexus although the answer was lost: on to the decrease.
  assert.deepEqual(m.feed(failed("detach")), WAIT);
  assert.deepEqual(m.feed(seen(vol([detached(A), B, N1], { count: 3 }))), {
    kind: "setReplicaCount",
    n: 2,
  });
  assert.equal(m.phase, "Trimming");

  const r = new Run(planned());
  toVerified(r);
  r.feed(seen(vol([A, B, N1], { count: 3 })));
  r.feed(failed("detach", 412));
  assert.deepEqual(r.feed(seen(vol([A, B, N1], { count: 3 }))), OBSERVE);
  assert.equal(r.phase, "RollingBack");
  assert.match(r.s.error!, /detaching replica A failed/);
  // Both copies are whole: the newcomer goes, the count returns.
  assert.deepEqual(r.feed(seen(vol([A, B, N1], { count: 3 }))), { kind: "detach", replica: "N1" });
});

Deno.test("step: Detaching retries only while the floor holds without the retiree", () => {
  const m = new Run(planned());
  toVerified(m);
  m.feed(seen(vol([A, B, N1], { count: 3 })));
  m.feed(failed("detach", 503));
  // B faulted meanwhile: detaching A now would leave one healthy copy of two.
  assert.deepEqual(m.feed(seen(vol([A, faulted(B), N1], { count: 3 }))), WAIT);
  assert.equal(m.phase, "Verified");
  assert.deepEqual(m.feed(seen(vol([A, faulted(B), N1], { count: 3 }))), WAIT);
  assert.deepEqual(m.feed(seen(vol([A, B, N1], { count: 3 }))), { kind: "detach", replica: "A" });
});

Deno.test("step: Trimming retries 409 InUse once at once, then after an observation", () => {
  const m = new Run(planned());
  toVerified(m);
  m.feed(seen(vol([A, B, N1], { count: 3 })));
  m.feed(done("detach"));
  assert.deepEqual(m.feed(failed("setReplicaCount", 409, "InUse")), {
    kind: "setReplicaCount",
    n: 2,
  });
  // A second 409 in a row is a busy volume: wait, look, try again.
  assert.deepEqual(m.feed(failed("setReplicaCount", 409, "Conflict")), WAIT);
  assert.deepEqual(m.feed(seen(vol([B, N1], { count: 3 }))), { kind: "setReplicaCount", n: 2 });
  // Other failures wait too.
  assert.deepEqual(m.feed(failed("setReplicaCount", 503)), WAIT);
  assert.deepEqual(m.feed(seen(vol([B, N1], { count: 3 }))), { kind: "setReplicaCount", n: 2 });
  // The count already committed (the answer was lost): the step is done.
  m.feed(failed("setReplicaCount"));
  assert.deepEqual(m.feed(seen(vol([B, N1]))), OBSERVE_NODES);
  assert.equal(m.s.current, 1);
});

Deno.test("step: a retiree the control plane re-attached goes back to Verified", () => {
  const m = new Run(planned());
  toVerified(m);
  m.feed(seen(vol([A, B, N1], { count: 3 })));
  m.feed(done("detach"));
  m.feed(failed("setReplicaCount", 503));
  // The nexus replica-count reconciler re-attached A before the decrease.
  assert.deepEqual(m.feed(seen(vol([rebuilding(A, 10), B, N1], { count: 3 }))), OBSERVE);
  assert.equal(m.phase, "Verified");
  // A still rebuilds: it is not healthy, so detaching it costs nothing.
  assert.deepEqual(m.feed(seen(vol([rebuilding(A, 20), B, N1], { count: 3 }))), {
    kind: "detach",
    replica: "A",
  });
});

Deno.test("step: the old replica replaced by a hot spare — Planned adopts it, Verified retires it", () => {
  // Before the step: A was replaced by S (same count); the step moves S instead.
  const p = new Run(planned());
  p.feed({ kind: "resume" });
  assert.deepEqual(p.feed(seen(vol([S, B]), nodes())), OBSERVE_NODES);
  assert.equal(p.s.steps[0].old, "S");
  assert.equal(p.s.steps[0].oldPool, "hot-3");
  const cordon = p.feed(seen(vol([S, B]), nodes({ "node-h3": {} })));
  assert.deepEqual(cordon, { kind: "cordon", nodes: [...CORDON1, "node-h3"].sort(), clear: [] });

  // During the step: A faulted and the control plane replaced it with S.
  const v = new Run(planned());
  toVerified(v);
  assert.deepEqual(v.feed(seen(vol([S, B, N1], { count: 3 }))), { kind: "detach", replica: "S" });
  assert.equal(v.s.retiring, "S");
  // While the spare still rebuilds it is not a copy: detaching it is free.
  const w = new Run(planned());
  toVerified(w);
  assert.deepEqual(w.feed(seen(vol([rebuilding(S, 40), B, N1], { count: 3 }))), {
    kind: "detach",
    replica: "S",
  });
  // Neither the old one nor a spare: only the count goes back.
  const x = new Run(planned());
  toVerified(x);
  assert.deepEqual(x.feed(seen(vol([B, N1], { count: 3 }))), { kind: "setReplicaCount", n: 2 });
  assert.equal(x.phase, "Trimming");
});

Deno.test("step: RollingBack keeps a newcomer the floor needs, or goes forward", () => {
  const base = planned({
    phase: "RollingBack",
    scaleIssued: true,
    error: "the new replica did not finish rebuilding",
    steps: planned().steps.map((x, i) => (i === 0 ? { ...x, newReplica: "N1" } : x)),
  });
  // B faulted: N1 is one of the two healthy copies and A is fine: wait for the volume to heal.
  const m = new Run(base);
  assert.deepEqual(m.feed(seen(vol([A, faulted(B), N1], { count: 3 }))), WAIT);
  assert.equal(m.phase, "RollingBack");
  assert.deepEqual(m.feed(seen(vol([A, B, N1], { count: 3 }))), { kind: "detach", replica: "N1" });
  // The old one unhealthy: N1 is a whole copy the volume needs; the step finishes forward.
  const f = new Run(base);
  assert.deepEqual(f.feed(seen(vol([faulted(A), B, N1], { count: 3 }))), OBSERVE);
  assert.equal(f.phase, "Verified");
  assert.match(f.s.error!, /kept the new replica/);
  assert.deepEqual(f.feed(seen(vol([faulted(A), B, N1], { count: 3 }))), {
    kind: "detach",
    replica: "A",
  });
  // At the base count nothing of this step is left: RolledBack without touching anything.
  const z = new Run(base);
  assert.deepEqual(z.feed(seen(vol([A, B]))), { kind: "none" });
  assert.equal(z.s.result, "RolledBack");
});

Deno.test("step: preservation keeps the old replica and the count n+1", () => {
  const m = new Run(planned({ preservation: true }));
  toVerified(m);
  assert.deepEqual(m.feed(seen(vol([A, B, N1], { count: 3 }))), OBSERVE_NODES);
  assert.equal(m.s.current, 1);
  assert.equal(m.s.baseCount, 3, "the next step starts from n+1");
  m.feed(seen(vol([A, B, N1], { count: 3 }), nodes()));
  m.feed(done("cordon"));
  assert.equal((m.action as { n: number }).n, 4);
  m.feed(counted(vol([A, B, N1, rebuilding(N2, 0)], { count: 4 })));
  m.feed(done("uncordon"));
  m.feed(seen(vol([A, B, N1, rebuilding(N2, 50)], { count: 4 })));
  m.feed(seen(vol([A, B, N1, N2], { count: 4 })));
  assert.equal(m.phase, "Verified");
  assert.deepEqual(m.feed(seen(vol([A, B, N1, N2], { count: 4 }))), { kind: "none" });
  assert.equal(m.s.result, "Preserved");
});

Deno.test("step: a dry run ends at once with no action", () => {
  for (const obs of [{ kind: "resume" } as const, seen(vol([A, B]), nodes())]) {
    const m = new Run(planned({ dryRun: true }));
    assert.deepEqual(m.feed(obs), { kind: "none" });
    assert.equal(m.s.result, "DryRun");
  }
});

Deno.test("step: the volume vanishing ends the move", () => {
  const m = new Run(planned());
  m.feed({ kind: "resume" });
  assert.deepEqual(m.feed(seen(undefined)), { kind: "none" });
  assert.equal(m.s.result, "RolledBack");
  const r = new Run(planned());
  toVerified(r);
  assert.deepEqual(r.feed(seen(undefined)), { kind: "none" });
  assert.equal(r.s.result, "Failed");
  assert.match(r.s.error!, /vanished during Verified/);
});

Deno.test("step: the volume vanishing while nodes are cordoned still uncordons them", () => {
  const m = new Run(planned());
  throughScaling(m, vol([A, B, rebuilding(N1, 0)], { count: 3 }));
  m.feed(failed("uncordon", 503));
  assert.deepEqual(m.feed(seen(undefined)), { kind: "uncordon", nodes: CORDON1 });
  m.feed(done("uncordon"));
  assert.equal(m.s.cordon, undefined);
  assert.deepEqual(m.feed(seen(undefined)), { kind: "none" });
  assert.equal(m.s.result, "Failed");
});

Deno.test("step: an unavailable backend is asked again after the poll interval", () => {
  const m = new Run(planned());
  m.feed({ kind: "resume" });
  assert.deepEqual(m.feed({ kind: "unavailable", error: "down" }), WAIT_NODES);
  const r = new Run(planned());
  toVerified(r);
  assert.deepEqual(r.feed({ kind: "unavailable", error: "down" }), WAIT);
});

Deno.test("decodeMoveState refuses what it cannot act on safely", () => {
  const ok = planned();
  assert.deepEqual(decodeMoveState(encodeMoveState(ok)), { ok: true, state: ok });
  const bad = (s: unknown) => decodeMoveState(JSON.stringify(s));
  const step0 = ok.steps[0], step1 = ok.steps[1];
  const cases: [unknown, RegExp][] = [
    [{ ...ok, version: 1 }, /not a move state/],
    [{ ...ok, steps: [] }, /not a move state/],
    [{ ...ok, volumeUuid: "" }, /not a move state/],
    [{ ...ok, current: 2 }, /current step 2 of 2/],
    [{ ...ok, steps: [{ ...step0, newReplica: "B" }, step1] }, /B is both moved and added/],
    [
      { ...ok, steps: [{ ...step0, newReplica: "X" }, step1], replicasBefore: ["A", "B", "X"] },
      /X existed before this move added it/,
    ],
    [{ ...ok, steps: [step0, { ...step1, targetNode: "node-c1" }] }, /two steps target one node/],
    [{ ...ok, current: 1 }, /an earlier step is not done/],
  ];
  for (const [s, why] of cases) {
    const r = bad(s);
    assert.equal(r.ok, false, String(why));
    assert.match(r.ok ? "" : r.error, why);
  }
  const notJson = decodeMoveState("{");
  assert.equal(notJson.ok, false);
  assert.match(notJson.ok ? "" : notJson.error, /not JSON/);
});

// ---- properties: over random observations, every action is safe ------------------------

/** What the checks remember over one run of the machine. */
interface Trace {
  /** Steps (by index) whose increase the machine asked for. */
  raised: Set<number>;
  /** True from a cordon action until an uncordon is answered done. */
  maybeCordoned: boolean;
  preservation: boolean;
}

/** Healthy replicas of `v` other than `uuid`. */
function healthyWithout(v: Volume, uuid: string): number {
  return v.replicas.filter((r) => r.uuid !== uuid && isHealthyReplica(v, r)).length;
}

/**
 * The safety rules, checked on one transition (`prev` and `obs` in, `s` and `action` out):
 * a detach follows a fresh look at the volume and removes an unhealthy replica or one the
 * floor can spare; a decrease follows this step's own increase and goes to the base count; a
 * terminal state has no cordon and none of its cordons may still be on; every state decodes.
 */
function checkTransition(tr: Trace, prev: MoveState, obs: Observation, s: MoveState, a: Action) {
  // (Both properties answer "done uncordon" only to an uncordon the machine asked for.)
  if (obs.kind === "done" && obs.action === "uncordon") tr.maybeCordoned = false;
  const seenVolume = obs.kind === "volume" || obs.kind === "done" ? obs.volume : undefined;
  if (a.kind === "detach") {
    assert.ok(seenVolume, `a detach follows a fresh look at the volume (after ${obs.kind})`);
    const victim = seenVolume.replicas.find((x) => x.uuid === a.replica);
    assert.ok(victim, `the detached replica ${a.replica} is one the volume has`);
    const left = healthyWithout(seenVolume, victim.uuid);
    assert.ok(
      !isHealthyReplica(seenVolume, victim) || left >= s.originalReplicaCount,
      `${prev.phase} → detach of healthy ${victim.uuid} leaves ${left} < ${s.originalReplicaCount}`,
    );
    assert.ok(!tr.preservation || s.phase === "RollingBack", "preservation detaches no old one");
  }
  if (a.kind === "setReplicaCount") {
    assert.equal(s.current, prev.current, "a count change belongs to the step in progress");
    if (a.n === s.baseCount + 1) tr.raised.add(s.current);
    else {
      assert.equal(a.n, s.baseCount, "only the base count or one above it");
      assert.ok(tr.raised.has(s.current), `${prev.phase}: a decrease without this step's increase`);
    }
  }
  if (a.kind === "cordon") tr.maybeCordoned = true;
  if (isTerminal(s)) {
    assert.equal(s.cordon, undefined);
    assert.ok(!tr.maybeCordoned, `ended ${s.phase} (${s.error}) with nodes maybe cordoned`);
    assert.deepEqual(a, { kind: "none" });
  }
  const back = decodeMoveState(encodeMoveState(s));
  assert.ok(back.ok, back.ok ? "" : back.error);
}

const UNIVERSE: Replica[] = [A, B, N1, N2, S, rep("W", "hot-9", "node-c1")];
const replicaArb: fc.Arbitrary<Replica> = fc.record({
  base: fc.constantFrom(...UNIVERSE),
  state: fc.constantFrom<Replica["state"]>("Online", "Online", "Online", "Degraded", "Faulted"),
  child: fc.constantFrom<Replica["childState"]>(
    "Online",
    "Online",
    "Online",
    "Degraded",
    "Faulted",
    undefined,
  ),
  progress: fc.constantFrom(undefined, undefined, undefined, 40, 100),
}).map(({ base, state, child, progress }) => {
  const r: Replica = { ...base, state };
  if (child !== undefined) r.childState = child;
  if (progress !== undefined) r.rebuildProgress = progress;
  return r;
});
const volumeArb: fc.Arbitrary<Volume> = fc.record({
  replicas: fc.uniqueArray(replicaArb, { selector: (r) => r.uuid, maxLength: 5 }),
  count: fc.integer({ min: 1, max: 4 }),
  status: fc.constantFrom<Volume["status"]>("Online", "Online", "Degraded", "Faulted"),
  published: fc.constantFrom(true, true, true, false),
}).map(({ replicas, count, status, published }) => ({
  uuid: "vol-1",
  sizeBytes: 1 << 20,
  replicaCount: count,
  status,
  replicas,
  ...(published ? { targetNode: "node-h1" } : {}),
}));
const nodesArb = fc.array(
  fc.record({
    online: fc.constantFrom(true, true, true, false),
    label: fc.constantFrom(undefined, undefined, undefined, MOVE_CORDON_LABEL, "admin"),
  }),
  { minLength: NODE_IDS.length, maxLength: NODE_IDS.length },
).map((xs) =>
  xs.map((x, i) => ({ id: NODE_IDS[i], online: x.online, cordonLabels: x.label ? [x.label] : [] }))
);
const STATUSES = [undefined, 409, 412, 422, 500, 503, 507];
const DTS = [0, 250, 1000, 5000, 60_000, 400_000];
const obsArb = fc.record({
  pick: fc.integer({ min: 0, max: 99 }),
  volume: fc.option(volumeArb, { freq: 12 }),
  nodes: fc.option(nodesArb, { freq: 1 }),
  status: fc.constantFrom(...STATUSES),
  dt: fc.constantFrom(...DTS),
});
type Acting = "cordon" | "uncordon" | "setReplicaCount" | "detach";

Deno.test("step property: arbitrary observations never drive an unsafe action", () => {
  fc.assert(
    fc.property(fc.array(obsArb, { minLength: 1, maxLength: 60 }), fc.boolean(), (seq, pres) => {
      let s = planned({ preservation: pres });
      let action: Action = { kind: "observe", delayMs: 0, nodes: true };
      let t = T0;
      const tr: Trace = { raised: new Set(), maybeCordoned: false, preservation: pres };
      for (const o of seq) {
        if (isTerminal(s)) break;
        let obs: Observation;
        const acting = action.kind !== "observe" && action.kind !== "none";
        if (o.pick < 4) obs = { kind: "resume" };
        else if (o.pick < 8) obs = { kind: "unavailable", error: "down" };
        else if (acting && o.pick < 45) {
          const kind = action.kind as Acting;
          obs = kind === "setReplicaCount" && o.volume
            ? { kind: "done", action: kind, volume: o.volume }
            : { kind: "done", action: kind };
        } else if (acting && o.pick < 60) {
          obs = {
            kind: "actionFailed",
            action: action.kind as Acting,
            error: "fault",
            ...(o.status !== undefined ? { status: o.status } : {}),
            retryable: o.status === undefined || o.status >= 500,
          };
        } else {
          const volume = o.volume ?? undefined;
          obs = o.nodes ? { kind: "volume", volume, nodes: o.nodes } : { kind: "volume", volume };
        }
        t += o.dt;
        const r = step(s, obs, t, CFG);
        checkTransition(tr, s, obs, r.state, r.action);
        s = r.state;
        action = r.action;
      }
    }),
    { numRuns: 1500, seed: 1400 },
  );
});

/** Pools of each node in the world model (node-c1 also has a hot pool: a wrong landing). */
const POOLS: Record<string, string[]> = {
  "node-c1": ["cold-1", "hot-9"],
  "node-c2": ["cold-2"],
  "node-h1": ["hot-1"],
  "node-h2": ["hot-2"],
  "node-h3": ["hot-3"],
};

/**
 * A small model of the control plane the machine talks to, faults included: cordons, the
 * scheduler placing an increase's replica on the one uncordoned node free of the volume
 * (sometimes on the wrong pool), rebuilds, the nexus refusing to lose its last healthy child,
 * the decrease's 409 InUse after a REST child removal, children faulting and healing, a hot
 * spare replacing a faulted replica, answers lost, crashes, the volume vanishing.
 */
class World {
  exists = true;
  count = 2;
  replicas: Replica[] = [{ ...A }, { ...B }];
  labels = new Map<string, string[]>();
  #seq = 0;

  constructor(readonly dice: () => number) {}

  snapshot(): Volume {
    const v: Volume = {
      uuid: "vol-1",
      sizeBytes: 1 << 20,
      replicaCount: this.count,
      status: "Online",
      replicas: this.replicas.map((r) => ({ ...r })),
      targetNode: "node-h1",
    };
    const children = v.replicas.filter((r) => r.childState !== undefined);
    const online = children.filter((r) => r.childState === "Online").length;
    v.status = online === 0
      ? "Faulted"
      : online === children.length && children.length === this.count
      ? "Online"
      : "Degraded";
    return v;
  }

  nodes(): MayastorNode[] {
    return Object.keys(POOLS).map((id) => ({
      id,
      online: true,
      cordonLabels: [...(this.labels.get(id) ?? [])],
    }));
  }

  healthy(): number {
    const v = this.snapshot();
    return v.replicas.filter((r) => isHealthyReplica(v, r)).length;
  }

  /** Between two calls: rebuilds progress, children fault or heal, a hot spare appears. */
  event(): void {
    const a = this.dice(), pick = this.replicas[this.dice() % Math.max(1, this.replicas.length)];
    if (a < 45) {
      for (const r of this.replicas) {
        if (r.rebuildProgress === undefined) continue;
        r.rebuildProgress += 35;
        if (r.rebuildProgress >= 100) {
          delete r.rebuildProgress;
          r.childState = "Online";
        }
      }
    } else if (a < 49 && pick?.childState !== undefined) {
      pick.childState = "Faulted";
      delete pick.rebuildProgress;
    } else if (a < 52 && pick?.childState === "Faulted") {
      pick.childState = "Online";
    } else if (a < 55 && pick?.childState === "Faulted" && !this.#hasNode("node-h3")) {
      // The control plane removes the faulted child's replica and makes a spare.
      this.replicas = this.replicas.filter((r) => r !== pick);
      this.replicas.push(rebuilding(rep(`S${++this.#seq}`, "hot-3", "node-h3"), 0));
    } else if (a === 55 && this.dice() < 10) {
      this.exists = false;
    }
  }

  #hasNode(node: string): boolean {
    return this.replicas.some((r) => r.node === node);
  }

  /** Performs an action and answers it: done, refused, partly done, or done with the answer lost. */
  perform(a: Action): Observation {
    const fate = this.dice();
    const status = [409, 412, 503, undefined][this.dice() % 4];
    const failed = (kind: Acting, st?: number): Observation => ({
      kind: "actionFailed",
      action: kind,
      error: st === undefined ? "connection reset" : `→ ${st}`,
      ...(st !== undefined ? { status: st } : {}),
      retryable: st === undefined || st >= 500,
    });
    if (a.kind === "observe") {
      if (fate < 4) return { kind: "unavailable", error: "down" };
      if (fate < 7) return { kind: "resume" };
      if (!this.exists) return { kind: "volume", volume: undefined };
      const volume = this.snapshot();
      return a.nodes ? { kind: "volume", volume, nodes: this.nodes() } : { kind: "volume", volume };
    }
    if (a.kind === "none") return { kind: "resume" };
    if (fate < 10) return failed(a.kind, status); // refused before acting
    if (fate < 13) return { kind: "resume" }; // crashed before acting
    const answer = this.#act(a);
    if (fate < 20) return failed(a.kind); // acted, answer lost
    if (fate < 23) return { kind: "resume" }; // acted, then crashed
    return answer;
  }

  #act(a: Exclude<Action, { kind: "observe" | "none" }>): Observation {
    switch (a.kind) {
      case "cordon":
        for (const n of a.clear) this.#unlabel(n);
        for (const n of a.nodes) {
          this.labels.set(n, [...new Set([...(this.labels.get(n) ?? []), MOVE_CORDON_LABEL])]);
        }
        return { kind: "done", action: "cordon" };
      case "uncordon":
        for (const n of a.nodes) this.#unlabel(n);
        return { kind: "done", action: "uncordon" };
      case "detach":
        return this.#detach(a.replica);
      case "setReplicaCount":
        return this.#setCount(a.n);
    }
  }

  #unlabel(n: string): void {
    this.labels.set(n, (this.labels.get(n) ?? []).filter((l) => l !== MOVE_CORDON_LABEL));
  }

  #refuse(action: Acting, status: number): Observation {
    return { kind: "actionFailed", action, error: `→ ${status}`, status, retryable: false };
  }

  #detach(uuid: string): Observation {
    if (!this.exists) return this.#refuse("detach", 404);
    const r = this.replicas.find((x) => x.uuid === uuid);
    if (!r || r.childState === undefined) return { kind: "done", action: "detach" };
    const children = this.replicas.filter((x) => x.childState !== undefined);
    const healthy = children.filter((x) => x.childState === "Online");
    if (children.length === 1 || (healthy.length === 1 && healthy[0] === r)) {
      return this.#refuse("detach", 412);
    }
    delete r.childState;
    delete r.rebuildProgress;
    return { kind: "done", action: "detach" };
  }

  #setCount(n: number): Observation {
    if (!this.exists) return this.#refuse("setReplicaCount", 404);
    if (n === this.count || Math.abs(n - this.count) > 1) {
      return this.#refuse("setReplicaCount", 412);
    }
    const v = this.snapshot();
    if (n > this.count) {
      if (v.status !== "Online") return this.#refuse("setReplicaCount", 412);
      const node = Object.keys(POOLS).find((id) =>
        (this.labels.get(id) ?? []).length === 0 && !this.#hasNode(id)
      );
      if (!node) return this.#refuse("setReplicaCount", 507);
      const pools = POOLS[node];
      const pool = pools[this.dice() < 15 ? pools.length - 1 : 0];
      this.replicas.push(rebuilding(rep(`N${++this.#seq}`, pool, node), 0));
    } else {
      // A detached child is still owned by the nexus: picked first, disowned, 409 InUse.
      const loose = this.replicas.find((r) => r.childState === undefined);
      if (loose) {
        this.replicas = this.replicas.filter((r) => r !== loose);
        return this.#refuse("setReplicaCount", 409);
      }
      const unhealthy = this.replicas.find((r) => !isHealthyReplica(v, r));
      const healthy = this.replicas.filter((r) => isHealthyReplica(v, r));
      const victim = unhealthy ?? (healthy.length > n ? healthy.at(-1) : undefined);
      if (victim) this.replicas = this.replicas.filter((r) => r !== victim);
    }
    this.count = n;
    return { kind: "done", action: "setReplicaCount", volume: this.snapshot() };
  }
}

Deno.test("step property: against a faulty control plane, the move never costs a healthy copy", () => {
  fc.assert(
    fc.property(
      fc.array(fc.nat(99), { minLength: 1500, maxLength: 1500 }),
      fc.boolean(),
      (rolls, pres) => {
        let i = 0;
        const dice = () => rolls[i++ % rolls.length];
        const w = new World(dice);
        let s = planned({ preservation: pres });
        let action: Action = { kind: "observe", delayMs: 0, nodes: true };
        let t = T0;
        const tr: Trace = { raised: new Set(), maybeCordoned: false, preservation: pres };
        for (let n = 0; n < 300 && !isTerminal(s); n++) {
          // The world changes between looks, not between a look and the action it decided.
          if (action.kind === "observe") w.event();
          const before = w.healthy();
          const obs = w.perform(action);
          const after = w.healthy();
          if (action.kind === "detach" || action.kind === "setReplicaCount") {
            assert.ok(
              after >= Math.min(before, s.originalReplicaCount),
              `${action.kind} in ${s.phase} cost a healthy copy: ${before} → ${after}`,
            );
          }
          t += DTS[dice() % DTS.length];
          const r = step(s, obs, t, CFG);
          checkTransition(tr, s, obs, r.state, r.action);
          s = r.state;
          action = r.action;
        }
        if (isTerminal(s)) {
          const left = w.nodes().filter((n) => n.cordonLabels.includes(MOVE_CORDON_LABEL));
          assert.deepEqual(left.map((n) => n.id), [], `${s.result}: no cordon of ours is left`);
        }
      },
    ),
    { numRuns: 1500, seed: 1401 },
  );
});
