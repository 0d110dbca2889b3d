/**
 * Controller-level set-up: the sandbox API server and the Mayastor simulator (real HTTP on
 * 127.0.0.1), the operator the product's composition root (src/app/operator.ts) builds from the
 * sandbox's adapters, in process on a ManualClock, IOPS read by the direct-scrape source from
 * the simulator's exporter, and a driver that moves time.
 */
import type { StoragePolicyInput } from "../../src/api/storage_policy.ts";
import { ManualClock } from "../../src/clock.ts";
import {
  buildOperator,
  type LeaderSettings,
  type Operator,
  type OperatorAdapters,
} from "../../src/app/operator.ts";
import type { ReconcileSettings } from "../../src/controllers/storage-policy/reconcile.ts";
import {
  PERSISTENT_VOLUMES,
  STORAGE_POLICIES,
} from "../../src/controllers/storage-policy/resources.ts";
import type { KubeObject } from "../../src/kube/resource.ts";
import { MayastorRestBackend } from "../../src/mayastor/rest.ts";
import type { Tier } from "../../src/model/storage.ts";
import { ScrapeIopsSource } from "../../src/metrics/scrape.ts";
import type { IopsSource } from "../../src/metrics/source.ts";
import { MIGRATION_ANNOTATION } from "../../src/migration/state.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { createMetrics, type Metrics } from "../../src/observability/metrics.ts";
import {
  type LocalCluster,
  type LocalVolume,
  OPERATOR_NAMESPACE,
  startLocalCluster,
} from "../../src/sandbox/local_cluster.ts";
import type { SimPoolConfig } from "../../src/sandbox/mayastor/cluster.ts";

/** 1 MiB volumes. */
export const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/**
 * Two pools per tier, one tier per node (six nodes): a move's cordons leave the control plane
 * one node, and so one pool, for the new replica. (A node with pools of several tiers is its
 * own test: the control plane may pick the other pool.)
 */
export const POOLS: SimPoolConfig[] = [
  { id: "hot-1", node: "node-1", capacityBytes: GiB, tier: "hot" },
  { id: "hot-2", node: "node-2", capacityBytes: GiB, tier: "hot" },
  { id: "warm-1", node: "node-3", capacityBytes: GiB, tier: "warm" },
  { id: "warm-2", node: "node-4", capacityBytes: GiB, tier: "warm" },
  { id: "cold-1", node: "node-5", capacityBytes: 4 * GiB, tier: "cold" },
  { id: "cold-2", node: "node-6", capacityBytes: 4 * GiB, tier: "cold" },
];

/** A policy with short windows: hot >= 2000, warm (100, 1200], cold <= 100. */
export function policy(name: string, spec: Record<string, unknown> = {}): StoragePolicyInput {
  return {
    apiVersion: "storage.billyronks.io/v1",
    kind: "StoragePolicy",
    metadata: { name },
    spec: {
      highWatermarkIOPS: 2000,
      warmWatermarkIOPS: 1200,
      lowWatermarkIOPS: 100,
      samplingWindow: "10s",
      cooldownPeriod: "1h",
      maxConcurrentMigrations: 4,
      ...spec,
    },
  } as StoragePolicyInput;
}

/** The running set-up. */
export interface Env {
  clock: ManualClock;
  cluster: LocalCluster;
  operator: Operator;
  metrics: Metrics;
  scrape: ScrapeIopsSource;
  /** Aborting stops the operator. */
  stop(): Promise<void>;
}

/** Options of the harness. */
export interface EnvOptions {
  volumes: LocalVolume[];
  /** Pools (default POOLS). */
  pools?: SimPoolConfig[];
  policies?: StoragePolicyInput[];
  globalLimit?: number;
  dryRun?: boolean;
  preservation?: boolean;
  /** Rebuild speed (default 512 KiB/s: a 1 MiB volume rebuilds in 2 simulated seconds). */
  rebuildBytesPerSec?: number;
  /** Do not start the harness's own operator (the test runs its own). */
  noOperator?: boolean;
  /** IOPS source override (default: direct scrape of the simulator). */
  iops?: (scrape: ScrapeIopsSource, clock: ManualClock) => IopsSource;
  /** Operator settings beyond the above (e.g. migrationTimeoutMs). */
  reconcile?: Partial<ReconcileSettings>;
  /** The EC tier's data path (default: none). */
  ec?: (cluster: LocalCluster) => OperatorAdapters["ec"];
}

/** What makeOperator needs of a running set-up. */
export interface OperatorParts {
  clock: ManualClock;
  cluster: LocalCluster;
  iops: IopsSource;
  metrics?: Metrics;
}

/**
 * The product's operator over the sandbox's adapters (the simulator's REST API, the given IOPS
 * source), built by the same composition root as `couchestor run` and the demo.
 */
export function makeOperator(
  p: OperatorParts,
  o: {
    identity?: string;
    leader?: LeaderSettings;
    reconcile?: Partial<ReconcileSettings>;
    ec?: OperatorAdapters["ec"];
  } = {},
): Operator {
  const { clock, cluster } = p;
  return buildOperator({
    client: cluster.client,
    backend: (diskPools) =>
      new MayastorRestBackend({ baseUrl: cluster.sim.url, clock, logger: silentLogger, diskPools }),
    iops: p.iops,
    ec: o.ec,
  }, {
    reconcile: {
      globalLimit: 10,
      dryRun: false,
      preservation: false,
      migrationTimeoutMs: 30 * 60_000,
      freeSpaceHeadroom: 0,
      resyncMs: 2_000,
      ...o.reconcile,
    },
    pollIntervalMs: 500,
    identity: o.identity ?? "test-operator",
    eventNamespace: OPERATOR_NAMESPACE,
    leader: o.leader,
  }, {
    clock,
    logger: silentLogger,
    metrics: p.metrics ?? createMetrics({ defaultMetrics: false }),
  });
}

/** Starts everything; the operator runs without leader election. */
export async function startEnv(o: EnvOptions): Promise<Env> {
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 12));
  const cluster = await startLocalCluster({
    pools: o.pools ?? POOLS,
    volumes: o.volumes,
    simClock: clock,
    clock,
    rebuildBytesPerSec: o.rebuildBytesPerSec ?? 512 * 1024,
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const scrape = new ScrapeIopsSource({ targets: [cluster.sim.metricsUrl], clock });
  for (const p of o.policies ?? []) {
    await cluster.client.create(STORAGE_POLICIES, p as unknown as KubeObject);
  }
  const operator = makeOperator(
    { clock, cluster, iops: o.iops ? o.iops(scrape, clock) : scrape, metrics },
    {
      reconcile: {
        globalLimit: o.globalLimit ?? 10,
        dryRun: o.dryRun ?? false,
        preservation: o.preservation ?? false,
        ...o.reconcile,
      },
      ec: o.ec?.(cluster),
    },
  );
  const ac = new AbortController();
  // The exporter is scraped every 500 ms of simulated time, as a scrape loop would.
  const scraping = scrape.run(500, ac.signal);
  const comp = operator.component();
  if (!o.noOperator) await comp.start(ac.signal);
  return {
    clock,
    cluster,
    operator,
    metrics,
    scrape,
    stop: async () => {
      ac.abort();
      if (!o.noOperator) {
        // Shutdown may wait on timers of the injected clock (a move between polls); in
        // production time passes by itself, here the harness keeps it moving until stopped.
        let stopped = false;
        const stopping = comp.stop().finally(() => (stopped = true));
        await clock.runUntil(() => stopped, { limitMs: 2_000_000, what: "the operator stopped" });
        await stopping;
      }
      await scraping;
      await cluster.close();
    },
  };
}

/**
 * Runs the system on the manual clock until `done` holds (ManualClock.runUntil: every woken task
 * and every request in flight settles before time jumps to the next deadline), calling `onStep`
 * at each check; fails after `maxSteps × stepMs` of simulated time. Returns the simulated ms.
 */
export async function drive(
  env: Env,
  done: () => boolean | Promise<boolean>,
  opts: { stepMs?: number; maxSteps?: number; onStep?: (i: number) => void | Promise<void> } = {},
): Promise<number> {
  let i = 0;
  return await env.clock.runUntil(async () => {
    await opts.onStep?.(i++);
    return await done();
  }, { limitMs: (opts.maxSteps ?? 400) * (opts.stepMs ?? 500), what: String(done) });
}

/** Runs the system for `ms` of simulated time (timers fire, requests settle), then returns. */
export async function runFor(env: Env, ms: number): Promise<void> {
  await env.clock.runFor(ms);
}

/** Tier of each replica of a volume, from the simulator's model. */
export function replicaTiers(env: Env, pv: string): Tier[] {
  const uuid = env.cluster.volumes.get(pv)!;
  const v = env.cluster.sim.cluster.volumes.get(uuid)!;
  return [...v.replicas].map((r) => {
    const pool = env.cluster.sim.cluster.replicas.get(r)!.pool;
    return pool.split("-")[0] as Tier;
  }).sort();
}

/** The policy object as stored. */
export async function getPolicy(env: Env, name: string): Promise<KubeObject> {
  return await env.cluster.client.get(STORAGE_POLICIES, name);
}

/** True when no PV carries a move annotation and no move runs. */
export async function settled(env: Env): Promise<boolean> {
  if (env.operator.inFlight.count() > 0) return false;
  const { items } = await env.cluster.client.listAll(PERSISTENT_VOLUMES);
  return items.every((pv) => pv.metadata.annotations?.[MIGRATION_ANNOTATION] === undefined);
}

/** Events (events.k8s.io/v1) in the operator namespace. */
export async function events(env: Env): Promise<KubeObject[]> {
  const { items } = await env.cluster.client.listAll({
    group: "events.k8s.io",
    version: "v1",
    plural: "events",
    namespaced: true,
  }, { namespace: OPERATOR_NAMESPACE });
  return items;
}

/** Sum of couchestor_migrations_total for a result label. */
export async function migrationsCounted(metrics: Metrics, result?: string): Promise<number> {
  const m = await metrics.migrationsTotal.get();
  return m.values.filter((v) => result === undefined || v.labels.result === result)
    .reduce((a, v) => a + v.value, 0);
}

/** An operator started on an Env made with `noOperator` (after the test set the cluster up). */
export interface StartedOperator {
  operator: Operator;
  /** Stops it, keeping the clock moving until it has. */
  stop(): Promise<void>;
}

/** Starts the product's operator on `env` (built like the harness's own). */
export async function startOperator(
  env: Env,
  o: Parameters<typeof makeOperator>[1] = {},
): Promise<StartedOperator> {
  const operator = makeOperator(
    { clock: env.clock, cluster: env.cluster, iops: env.scrape, metrics: env.metrics },
    o,
  );
  const ac = new AbortController();
  const comp = operator.component();
  await comp.start(ac.signal);
  return {
    operator,
    stop: async () => {
      ac.abort();
      let stopped = false;
      const stopping = comp.stop().finally(() => (stopped = true));
      await env.clock.runUntil(() => stopped, { limitMs: 2_000_000, what: "the operator stopped" });
      await stopping;
    },
  };
}
