/**
 * A rig for moving volumes through the product path against the Mayastor simulator over HTTP:
 * the real planner (`placeVolume` + `planMove`), the real executor and REST adapter, a manual
 * clock. Plus the checks every move test makes: data intact on every replica, the replica set on
 * the target tier, no node cordoned, no replica without an owner, never fewer healthy replicas.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.ts";
import { MemoryStateStore } from "../../src/machine/pv_state_store.ts";
import { healthyReplicas } from "../../src/model/health.ts";
import type { Pool, Tier, Volume } from "../../src/model/storage.ts";
import { MayastorRestBackend } from "../../src/mayastor/rest.ts";
import { CordonLock } from "../../src/migration/cordon_lock.ts";
import { executeMove, type ExecutorDeps } from "../../src/migration/executor.ts";
import { type MoveState, planMove } from "../../src/migration/state.ts";
import type { Action } from "../../src/migration/step.ts";
import { createLogger, silentLogger } from "../../src/observability/log.ts";
import { createMetrics, type Metrics } from "../../src/observability/metrics.ts";
import { placeVolume, poolTiers } from "../../src/tiering/placement.ts";
import type { SimPoolConfig } from "../../src/sandbox/mayastor/cluster.ts";
import { type MayastorSim, startMayastorSim } from "../../src/sandbox/mayastor/server.ts";
import { drive, simHealthy } from "../mayastor/harness.ts";

const GiB = 1024 ** 3;
/** 1 MiB volumes rebuilt at 256 KiB/s: a rebuild takes 4 simulated seconds. */
export const SIZE = 1024 * 1024;
export const RATE = 256 * 1024;
/** Poll interval of the executor in the tests. */
export const POLL = 500;
const TIER_LABEL = "storage.billyronks.io/tier";

/** Three nodes per tier, one pool each: any 1..3-replica volume can move as a whole. */
export const SIX_NODES: SimPoolConfig[] = [1, 2, 3].flatMap((i) => [
  { id: `hot-${i}`, node: `node-h${i}`, capacityBytes: GiB, tier: "hot" as const },
  { id: `cold-${i}`, node: `node-c${i}`, capacityBytes: 4 * GiB, tier: "cold" as const },
]);

/** The tier selectors of the tests (the sandbox's DiskPool topology label). */
const SELECTORS = Object.fromEntries(
  (["hot", "warm", "cold"] as const).map((t) => [t, { matchLabels: { [TIER_LABEL]: t } }]),
);

/** A store that records every save and can stop the move right after the n-th one. */
export class RecordingStore extends MemoryStateStore<MoveState> {
  readonly saves: MoveState[] = [];
  crashAfter?: { n: number; ac: AbortController };
  override async save(s: MoveState): Promise<void> {
    await super.save(s);
    this.saves.push(s);
    if (this.crashAfter && this.saves.length === this.crashAfter.n) {
      this.crashAfter.ac.abort(new Error("simulated crash"));
    }
  }
}

/** Options of a planned move. */
export interface PlanOptions {
  /** PV name; default `pvc-<uuid>`. */
  pv?: string;
  policy?: string;
  id?: string;
  timeoutMs?: number;
  preservation?: boolean;
  dryRun?: boolean;
  triggerIOPS?: number;
  /** Start time (the clock's now). */
  now?: number;
}

/**
 * Plans a whole-volume move of Mayastor volume `uuid` to `to` with the product's planner
 * (`placeVolume` over the pools' topology tier labels, then `planMove`), as the controller does.
 */
export async function planWith(
  backend: MayastorRestBackend,
  uuid: string,
  to: Tier,
  o: PlanOptions = {},
): Promise<MoveState> {
  const v = await backend.getVolume(uuid);
  assert.ok(v, `volume ${uuid} exists`);
  const pools = await backend.listPools();
  const tiers = poolTiers(pools, SELECTORS);
  const p = placeVolume(v, pools, tiers, to, { keepOld: o.preservation });
  assert.ok(p.ok, `placement: ${p.ok ? "" : p.detail}`);
  const now = o.now ?? Date.UTC(2026, 0, 1);
  return planMove({
    id: o.id ?? `move-${uuid}`,
    policy: o.policy ?? "test",
    volume: o.pv ?? `pvc-${uuid}`,
    volumeUuid: uuid,
    from: p.from,
    to,
    steps: p.steps,
    replicas: v.replicas.map((r) => r.uuid),
    replicaCount: v.replicaCount,
    healthyReplicas: healthyReplicas(v).length,
    triggerIOPS: o.triggerIOPS ?? 1,
    now,
    timeoutMs: o.timeoutMs ?? 10 * 60_000,
    dryRun: o.dryRun ?? false,
    preservation: o.preservation ?? false,
  });
}

/** Options of a rig. */
export interface RigOptions {
  replicas?: number;
  from?: Tier;
  pools?: SimPoolConfig[];
  /** Pools of the volume's replicas; default `${from}-1..n`. */
  on?: string[];
  /** Reconcile periods of the simulator. */
  timing?: Parameters<typeof startMayastorSim>[0]["timing"];
}

/** A simulator with one published volume and the product's move machinery on it. */
export class MoveRig {
  readonly metrics: Metrics = createMetrics({ defaultMetrics: false });
  readonly store = new RecordingStore();
  readonly lock = new CordonLock();
  readonly actions: Action["kind"][] = [];
  /** Healthy replicas of the volume at the start (the floor no move may go below). */
  floor = 0;
  /** The lowest count of healthy replicas seen while a move ran. */
  lowest = Infinity;

  private constructor(
    readonly sim: MayastorSim,
    readonly clock: ManualClock,
    readonly dir: string,
    readonly backend: MayastorRestBackend,
    readonly volume: string,
    readonly original: string,
  ) {}

  /** Starts a simulator on `pools` (SIX_NODES) with one volume on `from` (hot). */
  static async start(o: RigOptions = {}): Promise<MoveRig> {
    const clock = new ManualClock();
    const dir = await Deno.makeTempDir({ prefix: "couchestor-move-" });
    const pools = o.pools ?? SIX_NODES;
    const sim = await startMayastorSim({
      dataDir: dir,
      clock,
      rebuildBytesPerSec: RATE,
      pools,
      ...(o.timing ? { timing: o.timing } : {}),
    });
    const n = o.replicas ?? 1;
    const from = o.from ?? "hot";
    const on = o.on ?? Array.from({ length: n }, (_, i) => `${from}-${i + 1}`);
    const volume = await sim.addVolume({ sizeBytes: SIZE, pools: on });
    const backend = new MayastorRestBackend({
      baseUrl: sim.url,
      clock,
      logger: silentLogger,
      timeoutMs: 10_000,
      backoffMs: 200,
      diskPools: { listDiskPools: () => Promise.resolve(sim.diskPools()) },
    });
    const rig = new MoveRig(sim, clock, dir, backend, volume, sim.originalHash(volume)!);
    rig.floor = await rig.healthy();
    return rig;
  }

  /** The volume as the product reads it. */
  async read(): Promise<Volume> {
    const v = await this.backend.getVolume(this.volume);
    assert.ok(v, "the volume exists");
    return v;
  }

  /** Healthy replicas now, read from the simulator's model (no API fault applies). */
  async healthy(): Promise<number> {
    await this.sim.tick();
    return simHealthy(this.sim, this.volume);
  }

  /** Pool id → tier by the topology label. */
  async tiers(): Promise<{ pools: Pool[]; tiers: Map<string, Tier> }> {
    const pools = await this.backend.listPools();
    return { pools, tiers: poolTiers(pools, SELECTORS) };
  }

  /** Plans a whole-volume move to `to` with the product's planner. */
  plan(to: Tier, o: PlanOptions = {}): Promise<MoveState> {
    return planWith(this.backend, this.volume, to, {
      pv: `pvc-${this.volume}`,
      now: this.clock.now(),
      ...o,
    });
  }

  /** The executor's dependencies. */
  deps(extra: Partial<ExecutorDeps> = {}): ExecutorDeps {
    return {
      backend: this.backend,
      store: this.store,
      clock: this.clock,
      logger: Deno.env.get("DEBUG_MOVES") ? createLogger({ level: "debug" }) : silentLogger,
      metrics: this.metrics,
      pollIntervalMs: POLL,
      cordonLock: this.lock,
      afterSave: (_s, a) => {
        this.actions.push(a.kind);
      },
      ...extra,
    };
  }

  /**
   * Runs a move to its end (or until `signal` aborts) while the clock advances, tracking the
   * lowest healthy count; `onStep` runs after each clock step (fault injection).
   */
  run(
    s: MoveState,
    o: { signal?: AbortSignal; onStep?: () => void | Promise<void>; deps?: Partial<ExecutorDeps> } =
      {},
  ): Promise<MoveState> {
    return drive(this.clock, executeMove(s, this.deps(o.deps), o.signal), async () => {
      this.lowest = Math.min(this.lowest, await this.healthy());
      await o.onStep?.();
    });
  }

  /** Advances the clock (1 s steps, the simulator catching up after each). */
  async advance(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 1000) {
      await this.clock.advance(Math.min(1000, ms - t));
      await this.sim.tick();
    }
  }

  /**
   * The checks of every move: no node keeps a cordon, no replica lost its owners, every replica
   * the volume owns holds the original bytes, and (when `on` is given) they are all on that
   * tier, `count` of them. The lowest healthy count seen never fell below the start's, unless
   * `floorHeld` is false: an injected fault took copies away (the caller then checks that the
   * move itself removed none).
   */
  async assertClean(o: { on?: Tier; count?: number; floorHeld?: boolean } = {}): Promise<void> {
    const c = this.sim.cluster;
    await this.sim.tick();
    const cordoned = [...c.nodes.values()].filter((n) => n.cordonLabels.length > 0);
    assert.deepEqual(cordoned.map((n) => `${n.id}:${n.cordonLabels}`), [], "no node cordoned");
    const orphans = [...c.replicas.values()].filter((r) =>
      r.owners.volume === undefined && r.owners.nexuses.length === 0
    );
    assert.deepEqual(orphans.map((r) => `${r.uuid}@${r.pool}`), [], "no replica without an owner");
    const hashes = await this.sim.replicaHashes(this.volume);
    for (const [r, h] of Object.entries(hashes)) {
      assert.equal(h, this.original, `replica ${r} data`);
    }
    const v = await this.read();
    if (o.on) {
      const { tiers } = await this.tiers();
      assert.deepEqual(
        v.replicas.map((r) => tiers.get(r.pool)),
        v.replicas.map(() => o.on),
        `every replica on ${o.on}: ${v.replicas.map((r) => r.pool)}`,
      );
    }
    if (o.count !== undefined) assert.equal(v.replicas.length, o.count, "replica count");
    if (o.floorHeld === false) return;
    assert.ok(this.lowest >= this.floor, `healthy replicas fell to ${this.lowest} < ${this.floor}`);
  }

  /** Stops the simulator and removes its files. */
  async close(): Promise<void> {
    await this.sim.close();
    await Deno.remove(this.dir, { recursive: true });
  }
}

/** Runs `f` on a fresh rig, closing it afterwards. */
export async function withRig(o: RigOptions, f: (r: MoveRig) => Promise<void>): Promise<void> {
  const r = await MoveRig.start(o);
  try {
    await f(r);
  } finally {
    await r.close();
  }
}
