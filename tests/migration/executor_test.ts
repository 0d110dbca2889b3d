/**
 * The executor against the Mayastor simulator over HTTP (real REST adapter, real replica
 * files): complete moves, preservation, dry-run, timeouts, failed rebuilds, API errors, and
 * a crash-and-resume from every persisted state and after every backend call.
 */
import assert from "node:assert/strict";
import { executeMove, type ExecutorDeps, MoveInterrupted } from "../../src/migration/executor.ts";
import { type HistoryEntry, historyEntry } from "../../src/migration/history.ts";
import { type MoveState, planMove } from "../../src/migration/state.ts";
import { type MoveStore } from "../../src/migration/store.ts";
import type { VolumeBackend } from "../../src/mayastor/port.ts";
import { MemoryStateStore } from "../../src/machine/pv_state_store.ts";
import { createMetrics, type Metrics } from "../../src/observability/metrics.ts";
import { createLogger, silentLogger } from "../../src/observability/log.ts";
import { drive, type Harness, harness } from "../mayastor/harness.ts";

const POLL = 500;

/** Counts the calls that reach the real backend, and can abort after the n-th mutation. */
class CountingBackend implements VolumeBackend {
  calls: string[] = [];
  abortAfterMutation?: { n: number; ac: AbortController };
  constructor(readonly inner: VolumeBackend) {}
  listPools(signal?: AbortSignal) {
    this.calls.push("listPools");
    return this.inner.listPools(signal);
  }
  listVolumes(signal?: AbortSignal) {
    this.calls.push("listVolumes");
    return this.inner.listVolumes(signal);
  }
  getVolume(uuid: string, signal?: AbortSignal) {
    this.calls.push("getVolume");
    return this.inner.getVolume(uuid, signal);
  }
  async addReplica(v: string, pool: string, signal?: AbortSignal) {
    this.calls.push(`add:${pool}`);
    const r = await this.inner.addReplica(v, pool);
    this.#maybeAbort();
    void signal;
    return r;
  }
  async retireReplica(v: string, replica: string, signal?: AbortSignal) {
    this.calls.push(`retire:${replica}`);
    await this.inner.retireReplica(v, replica);
    this.#maybeAbort();
    void signal;
  }
  mutations(): number {
    return this.calls.filter((c) => c.startsWith("add:") || c.startsWith("retire:")).length;
  }
  #maybeAbort() {
    const a = this.abortAfterMutation;
    if (a && this.mutations() === a.n) a.ac.abort(new Error("simulated crash"));
  }
}

/** A move store that can simulate a crash right after the n-th save was stored. */
class CrashingStore implements MoveStore {
  saves: MoveState[] = [];
  crashAfter?: { n: number; ac: AbortController };
  constructor(readonly inner: MoveStore) {}
  async save(s: MoveState) {
    await this.inner.save(s);
    this.saves.push(s);
    if (this.crashAfter && this.saves.length === this.crashAfter.n) {
      this.crashAfter.ac.abort(new Error("simulated crash"));
    }
  }
  load(v: string) {
    return this.inner.load(v);
  }
  list() {
    return this.inner.list();
  }
  clear(v: string) {
    return this.inner.clear(v);
  }
}

interface Rig {
  h: Harness;
  backend: CountingBackend;
  store: CrashingStore;
  metrics: Metrics;
  history: HistoryEntry[];
  deps: ExecutorDeps;
  oldReplica: string;
  close(): Promise<void>;
}

async function rig(): Promise<Rig> {
  const h = await harness({ volume: { pools: ["cold-1"] } });
  const backend = new CountingBackend(h.backend);
  const store = new CrashingStore(new MemoryStateStore<MoveState>());
  const metrics = createMetrics({ defaultMetrics: false });
  const history: HistoryEntry[] = [];
  const v = await h.backend.getVolume(h.volume);
  assert.ok(v);
  const deps: ExecutorDeps = {
    backend,
    store,
    clock: h.clock,
    logger: Deno.env.get("DEBUG_MOVES") ? createLogger({ level: "debug" }) : silentLogger,
    metrics,
    pollIntervalMs: POLL,
  };
  return {
    h,
    backend,
    store,
    metrics,
    history,
    deps,
    oldReplica: v.replicas[0].uuid,
    close: () => h.close(),
  };
}

/** Runs the move with the rig's deps and keeps its history entry (what the runner records). */
async function execute(r: Rig, s: MoveState, signal?: AbortSignal): Promise<MoveState> {
  const end = await executeMove(s, r.deps, signal);
  r.history.push(historyEntry(end));
  return end;
}

async function plan(r: Rig, over: Partial<Parameters<typeof planMove>[0]> = {}) {
  const v = await r.h.backend.getVolume(r.h.volume);
  assert.ok(v);
  return planMove({
    id: "move-1",
    policy: "gold",
    volume: "pv-1",
    volumeUuid: r.h.volume,
    from: "cold",
    to: "hot",
    oldReplica: r.oldReplica,
    oldPool: "cold-1",
    targetPool: "hot-1",
    replicas: v.replicas.map((x) => x.uuid),
    replicaCount: v.replicaCount,
    triggerIOPS: 4321,
    now: r.h.clock.now(),
    dryRun: false,
    preservation: false,
    ...over,
  });
}

async function counter(m: Metrics, result: string): Promise<number> {
  const v = (await m.migrationsTotal.get()).values.find((x) => x.labels.result === result);
  return v?.value ?? 0;
}

async function pools(r: Rig): Promise<string[]> {
  const v = await r.h.backend.getVolume(r.h.volume);
  return (v?.replicas ?? []).map((x) => x.pool).sort();
}

async function contentIntact(r: Rig): Promise<void> {
  const want = r.h.sim.originalHash(r.h.volume);
  const hashes = await r.h.sim.replicaHashes(r.h.volume);
  assert.ok(Object.keys(hashes).length > 0);
  for (const [id, hash] of Object.entries(hashes)) assert.equal(hash, want, `replica ${id}`);
}

Deno.test("executor: a move completes, retires only the old replica, keeps the bytes", async () => {
  const r = await rig();
  try {
    const start = await plan(r);
    const end = await drive(r.h.clock, execute(r, start));
    assert.equal(end.phase, "Done");
    assert.equal(end.result, "Succeeded");
    assert.deepEqual(await pools(r), ["hot-1"]);
    await contentIntact(r);
    assert.deepEqual(r.backend.calls.filter((c) => !c.startsWith("get")), [
      "add:hot-1",
      `retire:${r.oldReplica}`,
    ]);
    // Every phase was persisted, in order, before its action.
    const phases = [...new Set(r.store.saves.map((s) => s.phase))];
    assert.deepEqual(phases, [
      "Planned",
      "ReplicaAdded",
      "Rebuilding",
      "Verified",
      "OldReplicaRetired",
      "Done",
    ]);
    assert.equal((await r.store.load("pv-1"))?.phase, "Done");
    assert.equal(r.history.length, 1);
    assert.equal(r.history[0].result, "Succeeded");
    assert.equal(r.history[0].triggerIOPS, 4321);
    assert.equal(r.history[0].from, "cold");
    assert.ok(r.history[0].durationSeconds >= 4); // 1 MiB at 256 KiB/s
    assert.equal(await counter(r.metrics, "succeeded"), 1);
    assert.equal((await r.metrics.activeMigrations.get()).values[0].value, 0);
  } finally {
    await r.close();
  }
});

Deno.test("executor: preservation ends Done with both replicas", async () => {
  const r = await rig();
  try {
    const end = await drive(r.h.clock, execute(r, await plan(r, { preservation: true })));
    assert.equal(end.result, "Preserved");
    assert.deepEqual(await pools(r), ["cold-1", "hot-1"]);
    assert.ok(!r.backend.calls.some((c) => c.startsWith("retire:")));
    await contentIntact(r);
    assert.equal(await counter(r.metrics, "preserved"), 1);
  } finally {
    await r.close();
  }
});

Deno.test("executor: dry-run records the move and calls nothing on the backend", async () => {
  const r = await rig();
  try {
    const end = await execute(r, await plan(r, { dryRun: true }));
    assert.equal(end.result, "DryRun");
    assert.deepEqual(r.backend.calls, []);
    assert.deepEqual(await pools(r), ["cold-1"]);
    assert.equal(r.history[0].result, "DryRun");
    assert.equal(await counter(r.metrics, "dry_run"), 1);
  } finally {
    await r.close();
  }
});

Deno.test("executor: a stalled rebuild times out and rolls back only the new replica", async () => {
  const r = await rig();
  try {
    r.h.sim.faults.stallRebuilds(true);
    const start = await plan(r, { timeoutMs: 20_000 });
    const end = await drive(r.h.clock, execute(r, start), () => {}, 1000);
    assert.equal(end.phase, "RolledBack");
    assert.match(end.error ?? "", /timed out/);
    assert.deepEqual(await pools(r), ["cold-1"]);
    const retired = r.backend.calls.filter((c) => c.startsWith("retire:"));
    assert.deepEqual(retired, [`retire:${end.newReplica}`]);
    assert.notEqual(end.newReplica, r.oldReplica);
    await contentIntact(r);
    assert.equal(r.history[0].result, "RolledBack");
    assert.equal(await counter(r.metrics, "rolled_back"), 1);
  } finally {
    await r.close();
  }
});

Deno.test("executor: a failing rebuild rolls back; API errors are retried", async () => {
  const r = await rig();
  try {
    const start = await plan(r);
    r.h.sim.faults.apiErrors(503, { count: 3 });
    r.h.sim.faults.failRebuilds(true);
    const end = await drive(r.h.clock, execute(r, start));
    assert.equal(end.phase, "RolledBack");
    assert.match(end.error ?? "", /faulted/);
    assert.deepEqual(await pools(r), ["cold-1"]);
    await contentIntact(r);
  } finally {
    await r.close();
  }
});

/** Runs a move to completion, crashing once as `crash` arranges, then resuming from the store. */
async function crashAndResume(
  r: Rig,
  arm: (ac: AbortController) => void,
): Promise<{ end: MoveState; crashedIn?: string }> {
  const ac = new AbortController();
  arm(ac);
  let crashedIn: string | undefined;
  let end: MoveState;
  try {
    end = await drive(r.h.clock, execute(r, await plan(r), ac.signal));
  } catch (e) {
    assert.ok(e instanceof MoveInterrupted, String(e));
    crashedIn = e.state.phase;
    // A new operator: reads the persisted state and carries on.
    const persisted = await r.store.inner.load("pv-1");
    assert.ok(persisted);
    r.store.crashAfter = undefined;
    r.backend.abortAfterMutation = undefined;
    end = await drive(r.h.clock, execute(r, persisted));
  }
  return { end, crashedIn };
}

Deno.test("executor: crash after each persisted state, then resume", async (t) => {
  // A clean run tells how many saves a move makes.
  const probe = await rig();
  let saves: number;
  try {
    await drive(probe.h.clock, execute(probe, await plan(probe)));
    saves = probe.store.saves.length;
  } finally {
    await probe.close();
  }
  assert.ok(saves >= 6);
  for (let n = 1; n < saves; n++) {
    await t.step(`crash after save ${n}`, async () => {
      const r = await rig();
      try {
        const { end, crashedIn } = await crashAndResume(r, (ac) => {
          r.store.crashAfter = { n, ac };
        });
        // Rebuild polls race real HTTP against the manual clock, so a run may save a little
        // less often than the probe did; then the crash point lies past its last save.
        assert.ok(crashedIn || r.store.saves.length < n + 1, "the crash happened");
        assert.equal(end.phase, "Done", `${crashedIn} → ${end.phase} ${end.error ?? ""}`);
        assert.deepEqual(await pools(r), ["hot-1"]);
        assert.equal(r.backend.calls.filter((c) => c.startsWith("add:")).length, 1);
        await contentIntact(r);
        assert.equal(r.history.length, 1);
      } finally {
        await r.close();
      }
    });
  }
});

Deno.test("executor: crash right after each backend call (answer lost), then resume", async (t) => {
  for (const n of [1, 2]) {
    await t.step(`crash after mutation ${n}`, async () => {
      const r = await rig();
      try {
        const { end, crashedIn } = await crashAndResume(r, (ac) => {
          r.backend.abortAfterMutation = { n, ac };
        });
        assert.ok(crashedIn);
        assert.equal(end.phase, "Done", `${crashedIn} → ${end.phase} ${end.error ?? ""}`);
        assert.deepEqual(await pools(r), ["hot-1"]);
        // The replica added before the crash was found by pool and adopted, not re-added.
        assert.equal(r.backend.calls.filter((c) => c.startsWith("add:")).length, 1);
        await contentIntact(r);
      } finally {
        await r.close();
      }
    });
  }
});

Deno.test("executor: resume of a timed-out move rolls it back after a restart", async () => {
  const r = await rig();
  try {
    r.h.sim.faults.stallRebuilds(true);
    const ac = new AbortController();
    r.store.crashAfter = { n: 3, ac }; // crash while Rebuilding
    const start = await plan(r, { timeoutMs: 10_000 });
    await assert.rejects(drive(r.h.clock, execute(r, start, ac.signal)), MoveInterrupted);
    await r.h.clock.advance(60_000); // the operator was down past the deadline
    const persisted = await r.store.inner.load("pv-1");
    assert.ok(persisted && persisted.phase !== "Done");
    r.store.crashAfter = undefined;
    const end = await drive(r.h.clock, execute(r, persisted));
    assert.equal(end.phase, "RolledBack");
    assert.deepEqual(await pools(r), ["cold-1"]);
    await contentIntact(r);
  } finally {
    await r.close();
  }
});

Deno.test("executor: crash after each persisted state of a rollback, then resume", async (t) => {
  const run = async (crashAt?: number) => {
    const r = await rig();
    r.h.sim.faults.stallRebuilds(true);
    const start = await plan(r, { timeoutMs: 5_000 });
    const ac = new AbortController();
    if (crashAt) r.store.crashAfter = { n: crashAt, ac };
    return { r, start, ac };
  };
  const probe = await run();
  let saves: number;
  try {
    await drive(probe.r.h.clock, execute(probe.r, probe.start));
    saves = probe.r.store.saves.length;
  } finally {
    await probe.r.close();
  }
  for (let n = 1; n < saves; n++) {
    await t.step(`crash after save ${n}`, async () => {
      const { r, start, ac } = await run(n);
      try {
        let end: MoveState;
        try {
          end = await drive(r.h.clock, execute(r, start, ac.signal));
        } catch (e) {
          assert.ok(e instanceof MoveInterrupted);
          r.store.crashAfter = undefined;
          const persisted = await r.store.inner.load("pv-1");
          end = await drive(r.h.clock, execute(r, persisted!));
        }
        assert.equal(end.phase, "RolledBack", end.error ?? "");
        assert.deepEqual(await pools(r), ["cold-1"]);
        assert.ok(!r.backend.calls.includes(`retire:${r.oldReplica}`), "old replica untouched");
        assert.equal(r.backend.calls.filter((c) => c.startsWith("add:")).length, 1);
        await contentIntact(r);
      } finally {
        await r.close();
      }
    });
  }
});

Deno.test("executor: crash right after the rollback removed the new replica", async () => {
  const r = await rig();
  try {
    r.h.sim.faults.stallRebuilds(true);
    const start = await plan(r, { timeoutMs: 5_000 });
    const ac = new AbortController();
    r.backend.abortAfterMutation = { n: 2, ac }; // add, then the rollback's retire
    await assert.rejects(drive(r.h.clock, execute(r, start, ac.signal)), MoveInterrupted);
    r.backend.abortAfterMutation = undefined;
    const persisted = await r.store.inner.load("pv-1");
    assert.equal(persisted?.phase, "RollingBack");
    const end = await drive(r.h.clock, execute(r, persisted!));
    assert.equal(end.phase, "RolledBack");
    assert.deepEqual(await pools(r), ["cold-1"]);
    assert.equal(r.backend.calls.filter((c) => c.startsWith("retire:")).length, 1);
    await contentIntact(r);
  } finally {
    await r.close();
  }
});

Deno.test("executor: a store that fails a few times is retried; nothing runs ahead of it", async () => {
  const r = await rig();
  try {
    let failures = 3;
    const inner = r.store;
    const mutationsAtSave: number[] = [];
    r.deps.store = {
      save: (s) => {
        mutationsAtSave.push(r.backend.mutations());
        if (failures-- > 0) return Promise.reject(new Error("etcd leader changed"));
        return inner.save(s);
      },
    };
    const end = await drive(r.h.clock, execute(r, await plan(r)));
    assert.equal(end.phase, "Done");
    // The first state was retried three times before any backend change happened.
    assert.deepEqual(mutationsAtSave.slice(0, 4), [0, 0, 0, 0]);
    r.deps.store = {
      save: () => Promise.reject(new Error("gone")),
    };
    r.deps.maxSaveAttempts = 2;
    const other = await r.h.sim.addVolume({ sizeBytes: 1024 * 1024, pools: ["cold-2"] });
    const v = (await r.h.backend.getVolume(other))!;
    const before = r.backend.mutations();
    await assert.rejects(
      drive(
        r.h.clock,
        execute(
          r,
          await plan(r, {
            volume: "pv-2",
            volumeUuid: other,
            oldReplica: v.replicas[0].uuid,
            oldPool: "cold-2",
            replicas: [v.replicas[0].uuid],
          }),
        ),
      ),
      /gone/,
    );
    assert.equal(r.backend.mutations(), before, "no action without a persisted state");
  } finally {
    await r.close();
  }
});
