/**
 * Move benchmark (issue 14): whole-volume moves through the product path (the planner's
 * `placeVolume` + `planMove`, `executeMove`, the REST adapter) against the Mayastor simulator
 * over HTTP, on the real clock. Prints a move's cordon window (p50/p99: as the executor measures
 * it, and as seen on the wire) and the REST calls each move makes, by endpoint, beside a
 * baseline measured in the same run: one `GET /v0/volumes/{id}` round trip (median of many).
 * A second phase runs moves at once under one CordonLock: how long a step waited for the lock,
 * and whether two cordon windows ever overlapped. Calls are counted by wrapping `fetch`
 * (bench/_rest_calls.ts); no product code is changed. Exits 1 when a move fails its checks.
 *
 * Run: deno run -A bench/move_bench.ts [--moves 30] [--concurrent 4] [--get-runs 300]
 * (or MOVE_BENCH_MOVES, MOVE_BENCH_CONCURRENT; --concurrent 0 skips the second phase)
 */
import { parseArgs } from "node:util";
import { systemClock } from "../src/clock.ts";
import { MemoryStateStore } from "../src/machine/pv_state_store.ts";
import { MayastorRestBackend } from "../src/mayastor/rest.ts";
import { healthyReplicas } from "../src/model/health.ts";
import type { Tier } from "../src/model/storage.ts";
import { CordonLock } from "../src/migration/cordon_lock.ts";
import { executeMove } from "../src/migration/executor.ts";
import { type MoveState, planMove } from "../src/migration/state.ts";
import { silentLogger } from "../src/observability/log.ts";
import { createMetrics, type Metrics } from "../src/observability/metrics.ts";
import { placeVolume, poolTiers } from "../src/tiering/placement.ts";
import { type SimPoolConfig, TIER_LABEL } from "../src/sandbox/mayastor/cluster.ts";
import { type MayastorSim, startMayastorSim } from "../src/sandbox/mayastor/server.ts";
import { CallLog, overlaps, type RestCall, type WireWindow, wireWindows } from "./_rest_calls.ts";
import { median, percentile } from "./_timing.ts";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
/** 4 MiB volumes rebuilt at 512 MiB/s: the rebuild wait is a poll or two, not the figure. */
const SIZE = 4 * MiB;
const RATE = 512 * MiB;
const POLL_MS = 20;
/** Three nodes per tier, one pool each (as tests/migration/rig.ts): 2-replica volumes move. */
const POOLS: SimPoolConfig[] = [1, 2, 3].flatMap((i) => [
  { id: `hot-${i}`, node: `node-h${i}`, capacityBytes: 4 * GiB, tier: "hot" as const },
  { id: `cold-${i}`, node: `node-c${i}`, capacityBytes: 4 * GiB, tier: "cold" as const },
]);
const SELECTORS = {
  hot: { matchLabels: { [TIER_LABEL]: "hot" } },
  cold: { matchLabels: { [TIER_LABEL]: "cold" } },
};

/** The bench's settings, from flags or their environment twins. */
interface Settings {
  moves: number;
  concurrent: number;
  getRuns: number;
}

/** A whole number ≥ `min` from a flag or its variable; a clear message and exit 2 otherwise. */
function count(name: string, text: string | undefined, env: string, fallback: number, min = 0) {
  const raw = text ?? Deno.env.get(env);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} (or ${env}): expected a whole number ≥ ${min}, got "${raw}"`);
    Deno.exit(2);
  }
  return n;
}

function settings(): Settings {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      moves: { type: "string" },
      concurrent: { type: "string" },
      "get-runs": { type: "string" },
    },
  });
  return {
    moves: count("moves", values.moves, "MOVE_BENCH_MOVES", 30, 1),
    concurrent: count("concurrent", values.concurrent, "MOVE_BENCH_CONCURRENT", 4),
    getRuns: count("get-runs", values["get-runs"], "MOVE_BENCH_GET_RUNS", 300, 1),
  };
}

/** One finished move and what it cost. */
interface MoveRecord {
  id: string;
  volume: string;
  replicas: number;
  to: Tier;
  ms: number;
  state: MoveState;
  calls: RestCall[];
  windows: WireWindow[];
}

/** What every move of the bench shares. */
class Bench {
  readonly metrics: Metrics = createMetrics({ defaultMetrics: false });
  readonly failures: string[] = [];
  readonly log: CallLog;
  readonly backend: MayastorRestBackend;

  private constructor(readonly sim: MayastorSim, readonly dir: string) {
    this.log = new CallLog(sim.url);
    this.backend = new MayastorRestBackend({
      baseUrl: sim.url,
      clock: systemClock,
      logger: silentLogger,
      diskPools: { listDiskPools: () => Promise.resolve(sim.diskPools()) },
    });
  }

  /** Starts a simulator on POOLS (real clock) and starts logging the calls made to it. */
  static async start(): Promise<Bench> {
    const dir = await Deno.makeTempDir({ prefix: "couchestor-move-bench-" });
    const sim = await startMayastorSim({
      dataDir: dir,
      clock: systemClock,
      pools: POOLS,
      rebuildBytesPerSec: RATE,
    });
    const b = new Bench(sim, dir);
    b.log.install();
    return b;
  }

  /** Stops logging and the simulator, and removes its files. */
  async close(): Promise<void> {
    this.log.uninstall();
    await this.sim.close();
    await Deno.remove(this.dir, { recursive: true });
  }

  /** Plans a whole-volume move to `to` with the product's planner (its reads are not counted). */
  async plan(uuid: string, to: Tier, id: string): Promise<MoveState> {
    const v = await this.backend.getVolume(uuid);
    if (!v) throw new Error(`volume ${uuid} is gone`);
    const pools = await this.backend.listPools();
    const p = placeVolume(v, pools, poolTiers(pools, SELECTORS), to);
    if (!p.ok) throw new Error(`placing ${uuid} on ${to}: ${p.detail}`);
    const now = systemClock.now();
    return planMove({
      id,
      policy: "bench",
      volume: `pvc-${uuid}`,
      volumeUuid: uuid,
      from: p.from,
      to,
      steps: p.steps,
      replicas: v.replicas.map((r) => r.uuid),
      replicaCount: v.replicaCount,
      healthyReplicas: healthyReplicas(v).length,
      triggerIOPS: 0,
      now,
      timeoutMs: 60_000,
      dryRun: false,
      preservation: false,
    });
  }

  /** Runs a planned move with the product executor, its calls tagged with the move's id. */
  async run(s: MoveState, lock: CordonLock): Promise<MoveRecord> {
    const t0 = performance.now();
    const state = await this.log.run(s.id, () =>
      executeMove(s, {
        backend: this.backend,
        store: new MemoryStateStore<MoveState>(),
        clock: systemClock,
        logger: silentLogger,
        metrics: this.metrics,
        pollIntervalMs: POLL_MS,
        cordonLock: lock,
      }));
    const ms = performance.now() - t0;
    const calls = this.log.of(s.id);
    const replicas = s.replicasBefore.length;
    const rec = { id: s.id, volume: s.volumeUuid, replicas, to: s.to, ms, state, calls };
    return { ...rec, windows: wireWindows(calls) };
  }

  /** Checks a move: succeeded, every replica on its tier, as many as before. */
  async check(r: MoveRecord): Promise<void> {
    const fail = (why: string) => void this.failures.push(`${r.id} (${r.volume}): ${why}`);
    if (r.state.result !== "Succeeded") return fail(`${r.state.result}: ${r.state.error}`);
    const v = await this.backend.getVolume(r.volume);
    const pools = await this.backend.listPools();
    const tiers = poolTiers(pools, SELECTORS);
    const off = v?.replicas.filter((x) => tiers.get(x.pool) !== r.to) ?? [];
    if (off.length > 0) fail(`replicas off ${r.to}: ${off.map((x) => x.pool)}`);
    if (v?.replicas.length !== r.replicas) {
      fail(`${v?.replicas.length} replicas, not ${r.replicas}`);
    }
  }

  /** After a phase: no node keeps a cordon, no replica lost its owners, every copy intact. */
  async checkCluster(volumes: string[]): Promise<void> {
    const cordoned = (await this.backend.listNodes()).filter((n) => n.cordonLabels.length > 0);
    if (cordoned.length > 0) this.failures.push(`nodes cordoned: ${cordoned.map((n) => n.id)}`);
    await this.sim.tick();
    const orphans = [...this.sim.cluster.replicas.values()].filter((r) =>
      r.owners.volume === undefined && r.owners.nexuses.length === 0
    );
    if (orphans.length > 0) this.failures.push(`replicas without an owner: ${orphans.length}`);
    for (const uuid of volumes) {
      const hashes = Object.values(await this.sim.replicaHashes(uuid));
      const want = this.sim.originalHash(uuid);
      if (hashes.some((h) => h !== want)) this.failures.push(`${uuid}: a replica's data differs`);
    }
  }
}

/** A CordonLock that records how long each acquire waited. */
class TimedCordonLock extends CordonLock {
  readonly waitsMs: number[] = [];
  override async acquire(signal?: AbortSignal): Promise<() => void> {
    const t = performance.now();
    const release = await super.acquire(signal);
    this.waitsMs.push(performance.now() - t);
    return release;
  }
}

/** Median round trip (ms) of `runs` raw `GET /v0/volumes/{id}`, and of the adapter's getVolume. */
async function getBaseline(b: Bench, uuid: string, runs: number): Promise<[number, number]> {
  const raw: number[] = [];
  const adapter: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    await (await fetch(`${b.sim.url}/volumes/${uuid}`)).text();
    raw.push(performance.now() - t);
    t = performance.now();
    await b.backend.getVolume(uuid);
    adapter.push(performance.now() - t);
  }
  return [median(raw), median(adapter)];
}

/** `n` moves one after another: two volumes (1 and 2 replicas) taking turns, each ping-ponging. */
async function sequential(b: Bench, n: number): Promise<MoveRecord[]> {
  const volumes = [
    await b.sim.addVolume({ sizeBytes: SIZE, pools: ["hot-1"] }),
    await b.sim.addVolume({ sizeBytes: SIZE, pools: ["hot-2", "hot-3"] }),
  ];
  const out: MoveRecord[] = [];
  for (let i = 0; i < n; i++) {
    const to: Tier = Math.floor(i / 2) % 2 === 0 ? "cold" : "hot";
    const rec = await b.run(await b.plan(volumes[i % 2], to, `seq-${i}`), new CordonLock());
    await b.check(rec);
    out.push(rec);
  }
  await b.checkCluster(volumes);
  return out;
}

/** `n` moves at once (1- and 2-replica volumes, hot → cold) sharing one lock. */
async function concurrent(b: Bench, n: number, lock: CordonLock): Promise<MoveRecord[]> {
  const volumes: string[] = [];
  for (let i = 0; i < n; i++) {
    const pools = [`hot-${(i % 3) + 1}`, `hot-${((i + 1) % 3) + 1}`].slice(0, 1 + (i % 2));
    volumes.push(await b.sim.addVolume({ sizeBytes: SIZE, pools }));
  }
  const plans = await Promise.all(volumes.map((v, i) => b.plan(v, "cold", `par-${i}`)));
  const out = await Promise.all(plans.map((s) => b.run(s, lock)));
  for (const r of out) await b.check(r);
  await b.checkCluster(volumes);
  return out;
}

const fmt = (ms: number) => `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;

/** Prints p50/p99 of `xs` (ms), each also as a multiple of the GET round trip. */
function quantiles(label: string, xs: number[], getMs: number): void {
  const q = (p: number) => {
    const v = percentile(xs, p);
    return `${fmt(v).padStart(9)} ${`(${(v / getMs).toFixed(1)}x GET)`.padStart(12)}`;
  };
  console.log(`  ${label.padEnd(56)} p50 ${q(0.5)}   p99 ${q(0.99)}`);
}

/** Prints the REST calls of some moves: per move, per replica step, by endpoint kind. */
function printCalls(moves: MoveRecord[]): void {
  const per = moves.map((m) => m.calls.length);
  const steps = moves.reduce((a, m) => a + m.state.steps.length, 0);
  const total = per.reduce((a, x) => a + x, 0);
  console.log(
    `  REST calls per move: mean ${(total / moves.length).toFixed(1)} (min ${
      Math.min(...per)
    }, max ${Math.max(...per)}); per replica step ${(total / steps).toFixed(1)}`,
  );
  for (const n of [...new Set(moves.map((m) => m.replicas))].sort()) {
    const of = moves.filter((m) => m.replicas === n);
    const mean = of.reduce((a, m) => a + m.calls.length, 0) / of.length;
    console.log(`    ${n}-replica move (${n} step${n > 1 ? "s" : ""}): mean ${mean.toFixed(1)}`);
  }
  printKinds("by endpoint, mean per move:", moves.flatMap((m) => m.calls), moves.length);
  const refused = moves.flatMap((m) => m.calls.filter((c) => c.status >= 300));
  const kinds = refused.map((c) => ({ ...c, kind: `${c.status} ← ${c.kind}` }));
  if (refused.length > 0) printKinds("of them not 2xx, mean per move:", kinds, moves.length);
}

/** Prints how many of `calls` each endpoint kind had, divided by `moves`. */
function printKinds(title: string, calls: RestCall[], moves: number): void {
  const byKind = new Map<string, number>();
  for (const c of calls) byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + 1);
  console.log(`    ${title}`);
  for (const [kind, n] of [...byKind].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
    console.log(`      ${kind.padEnd(50)} ${(n / moves).toFixed(1).padStart(6)}`);
  }
}

/** Prints one phase: cordon windows (executor and wire), whole move time, REST calls. */
function printPhase(moves: MoveRecord[], getMs: number): void {
  const windows = moves.flatMap((m) => m.windows);
  quantiles(
    "cordon window, as the executor measures it",
    moves.flatMap((m) => m.state.cordonWindowsMs),
    getMs,
  );
  quantiles("on the wire: every other node cordoned", windows.map((w) => w.fullMs), getMs);
  quantiles(
    "on the wire: first cordon sent → last uncordon answered",
    windows.map((w) => w.span.endMs - w.span.startMs),
    getMs,
  );
  quantiles("whole move", moves.map((m) => m.ms), getMs);
  const one = windows.filter((w) => w.callsInside.join() === "PUT /volumes/{id}/replica_count/{n}");
  console.log(
    `  calls inside the full window: replica_count alone in ${one.length} of ${windows.length}`,
  );
  printCalls(moves);
}

/** Prints the product's own histogram of the windows: its count and mean. */
async function printHistogram(m: Metrics): Promise<void> {
  const h = (await m.cordonWindow.get()).values;
  const sum = h.find((v) => v.metricName?.endsWith("_sum"))?.value ?? 0;
  const n = h.find((v) => v.metricName?.endsWith("_count"))?.value ?? 0;
  console.log(
    `  histogram couchestor_move_cordon_window_seconds: ${n} windows, mean ${fmt(sum / n * 1000)}`,
  );
}

/** Phase 1: `n` moves one after another. */
async function reportSequential(b: Bench, n: number, getMs: number): Promise<void> {
  const seq = await sequential(b, n);
  const steps = seq.reduce((a, m) => a + m.state.steps.length, 0);
  console.log(
    `\n${seq.length} moves one after another (1- and 2-replica volumes taking turns, ` +
      `hot → cold and cold → hot), ${steps} replica steps:`,
  );
  printPhase(seq, getMs);
  await printHistogram(b.metrics);
}

/** Phase 2: `n` moves at once under one lock; how long the lock was waited for. */
async function reportConcurrent(b: Bench, n: number, getMs: number): Promise<void> {
  const lock = new TimedCordonLock();
  const t0 = performance.now();
  const par = await concurrent(b, n, lock);
  const wall = performance.now() - t0;
  const steps = par.reduce((a, m) => a + m.state.steps.length, 0);
  console.log(
    `\n${par.length} moves at once sharing one CordonLock (1- and 2-replica volumes, ` +
      `hot → cold), ${steps} replica steps, all done in ${fmt(wall)}:`,
  );
  quantiles("lock wait per acquire", lock.waitsMs, getMs);
  printPhase(par, getMs);
  const spans = par.flatMap((m) => m.windows.map((w) => w.span));
  console.log(`  cordon spans of different moves overlapping: ${overlaps(spans)}`);
}

async function main(): Promise<number> {
  const cfg = settings();
  const b = await Bench.start();
  try {
    const probe = await b.sim.addVolume({ sizeBytes: SIZE, pools: ["cold-1"] });
    const [getMs, adapterMs] = await getBaseline(b, probe, cfg.getRuns);
    console.log(
      `Moves through the product path on the Mayastor simulator over HTTP (${POOLS.length} ` +
        `nodes, 3 hot + 3 cold pools; ${SIZE / MiB} MiB volumes rebuilt at ${RATE / MiB} MiB/s; ` +
        `executor poll ${POLL_MS} ms; move state kept in memory; real clock)`,
    );
    console.log(
      `baseline: GET /v0/volumes/{id} round trip, median of ${cfg.getRuns}: ${fmt(getMs)}`,
    );
    console.log(
      `          adapter getVolume (zod included), median of ${cfg.getRuns}: ${fmt(adapterMs)}`,
    );
    await reportSequential(b, cfg.moves, getMs);
    if (cfg.concurrent > 0) await reportConcurrent(b, cfg.concurrent, getMs);
  } finally {
    await b.close();
  }
  for (const f of b.failures) console.log(`FAIL ${f}`);
  return b.failures.length > 0 ? 1 : 0;
}

/** `deno bench` (deno task bench): a 1-replica move, hot ↔ cold, beside one GET round trip. */
async function registerDenoBench(): Promise<void> {
  const b = await Bench.start();
  const volume = await b.sim.addVolume({ sizeBytes: SIZE, pools: ["hot-1"] });
  Deno.bench("GET /v0/volumes/{id} (baseline)", { group: "move", baseline: true }, async () => {
    await (await fetch(`${b.sim.url}/volumes/${volume}`)).text();
  });
  let i = 0;
  Deno.bench("a 1-replica move, hot ↔ cold", { group: "move", n: 20 }, async (t) => {
    const s = await b.plan(volume, i % 2 === 0 ? "cold" : "hot", `bench-${i++}`);
    t.start();
    const r = await b.run(s, new CordonLock());
    t.end();
    if (r.state.result !== "Succeeded") throw new Error(`move ${r.state.result}: ${r.state.error}`);
  });
  globalThis.addEventListener("unload", () => void b.close());
}

if (import.meta.main) Deno.exit(await main());
else await registerDenoBench();
