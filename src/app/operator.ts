/**
 * The operator's one composition root: from the adapters (Kubernetes client, Mayastor backend,
 * IOPS source, optionally the EC tier's data path) and the settings, it builds every component
 * — the DiskPool informer, the StoragePolicy controller, the ErasureCodingPolicy controller and
 * the EC tier with its cache, the shared in-flight registry and state stores — and runs them
 * under the manager: informers always, controllers and runners only while leading.
 * `couchestor run` hands in the cluster's adapters, `couchestor demo` the sandbox's; nothing
 * else constructs these components.
 */
import type { Clock } from "../clock.ts";
import { StoragePolicyController } from "../controllers/storage-policy/controller.ts";
import type { ReconcileSettings } from "../controllers/storage-policy/reconcile.ts";
import { DISK_POOLS } from "../controllers/storage-policy/resources.ts";
import type { KubeClient } from "../kube/client.ts";
import { Informer, stripManagedFields } from "../kube/informer.ts";
import { LeaderElector } from "../kube/leader.ts";
import type { KubeObject } from "../kube/resource.ts";
import type { Component } from "../lifecycle.ts";
import { InFlight } from "../machine/inflight.ts";
import { type DiskPoolCR, diskPoolsOf, type DiskPoolSource } from "../mayastor/diskpool.ts";
import type { VolumeBackend } from "../mayastor/port.ts";
import type { IopsSource } from "../metrics/source.ts";
import { pvMoveStore } from "../migration/store.ts";
import type { Logger } from "../observability/log.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Readiness } from "../observability/readiness.ts";
import { buildEcTier, type EcTier, type EcTierAdapters } from "./ec_tier.ts";
import { runManager, type Runnable } from "./manager.ts";

/** The outside systems the operator talks to. */
export interface OperatorAdapters {
  client: KubeClient;
  /** The Mayastor backend, given the DiskPool CRs the operator's informer caches. */
  backend(diskPools: DiskPoolSource): VolumeBackend;
  iops: IopsSource;
  /** The EC tier's data path; absent: no EC tier (policies with ecPolicyRef are told so). */
  ec?: EcTierAdapters;
}

/** Leader election settings (from --lease-*). */
export interface LeaderSettings {
  namespace: string;
  name: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** How the operator behaves (from the command line, or the demo's choices). */
export interface OperatorSettings {
  reconcile: ReconcileSettings;
  /** How often a running move or EC operation polls Mayastor (--sync-poll-interval). */
  pollIntervalMs: number;
  /** This replica's identity (Lease holder, Events' reportingInstance, shard locations). */
  identity: string;
  /** Namespace of Events about cluster-scoped objects. */
  eventNamespace: string;
  /** Campaign for this Lease; absent = act at once. */
  leader?: LeaderSettings;
}

/** Process-wide collaborators. */
export interface OperatorRuntime {
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  readiness?: Readiness;
}

/** The built operator. */
export interface Operator {
  storagePolicies: StoragePolicyController;
  /** The EC tier, when the adapters include its data path. */
  ecTier?: EcTier;
  /** All work in flight on volumes (replica moves and EC operations). */
  inFlight: InFlight;
  backend: VolumeBackend;
  /** True while this process leads (always while running, without leader election). */
  readonly leading: boolean;
  /** The lifecycle component that runs everything. */
  component(): Component;
}

/** Builds every component of the operator from its adapters. */
export function buildOperator(
  adapters: OperatorAdapters,
  settings: OperatorSettings,
  rt: OperatorRuntime,
): Operator {
  const { client } = adapters;
  const { clock, logger, metrics } = rt;
  const inFlight = new InFlight();
  const diskPools = new Informer<KubeObject>({
    client,
    resource: DISK_POOLS,
    clock,
    logger: logger.child("informer", { resource: DISK_POOLS.plural }),
    transform: stripManagedFields,
    backoff: { initialMs: 200, maxMs: 5_000 },
  });
  const backend = adapters.backend(informerDiskPools(diskPools));
  const ecTier = adapters.ec && buildEcTier(adapters.ec, {
    client,
    backend,
    inFlight,
    clock,
    logger,
    metrics,
    identity: settings.identity,
    pollIntervalMs: settings.pollIntervalMs,
    readiness: rt.readiness?.register("ec-policy-controller", "policy cache not synced"),
  });
  const storagePolicies = new StoragePolicyController({
    client,
    backend,
    diskPools,
    iops: adapters.iops,
    moveStore: pvMoveStore(client),
    inFlight,
    clock,
    logger,
    metrics,
    settings: settings.reconcile,
    pollIntervalMs: settings.pollIntervalMs,
    identity: settings.identity,
    eventNamespace: settings.eventNamespace,
    ecTier: ecTier?.hook,
  });
  const caches = [diskPools, ...storagePolicies.informers()];
  const runnables: Runnable[] = [
    ...caches.map((inf, i) => ({
      name: `informer-${i}`,
      leaderOnly: false,
      run: (s: AbortSignal) => inf.run(s),
    })),
    ...(ecTier?.controller.runnables() ?? []),
    { name: "storage-policy-controller", leaderOnly: true, run: (s) => storagePolicies.lead(s) },
  ];
  const state = { leading: false };
  runnables.push({
    name: "leadership",
    leaderOnly: true,
    run: (s) =>
      new Promise<void>((resolve) => {
        if (s.aborted) return resolve();
        const identity = { identity: settings.identity };
        state.leading = true;
        metrics.leader.set(identity, 1);
        s.addEventListener("abort", () => {
          state.leading = false;
          metrics.leader.set(identity, 0);
          resolve();
        }, { once: true });
      }),
  });
  return {
    storagePolicies,
    ecTier,
    inFlight,
    backend,
    get leading() {
      return state.leading;
    },
    component: () => operatorComponent(runnables, caches, adapters, settings, rt, ecTier),
  };
}

/** DiskPool CRs from the informer cache (waits for its first sync). */
function informerDiskPools(inf: Informer<KubeObject>): DiskPoolSource {
  return {
    listDiskPools: async (signal?: AbortSignal): Promise<DiskPoolCR[]> => {
      await inf.waitForSync(signal);
      return diskPoolsOf(inf.store.list());
    },
  };
}

/** Runs the manager in the background from start until the stop signal; stop waits for it. */
function operatorComponent(
  runnables: Runnable[],
  caches: Informer<KubeObject>[],
  adapters: OperatorAdapters,
  settings: OperatorSettings,
  rt: OperatorRuntime,
  ecTier: EcTier | undefined,
): Component {
  let running: Promise<void> | undefined;
  return {
    name: "operator",
    async start(signal) {
      await ecTier?.controller.init();
      const ready = rt.readiness?.register("storage-policy-controller", "caches syncing");
      Promise.all(caches.map((i) => i.waitForSync(signal))).then(() => ready?.ready(), () => {});
      const l = settings.leader;
      const elector = l && new LeaderElector({
        client: adapters.client,
        namespace: l.namespace,
        name: l.name,
        identity: settings.identity,
        clock: rt.clock,
        logger: rt.logger.child("leader"),
        leaseDurationMs: l.leaseDurationMs,
        renewDeadlineMs: l.renewDeadlineMs,
        retryPeriodMs: l.retryPeriodMs,
      });
      running = runManager({ runnables, elector, logger: rt.logger }, signal);
    },
    async stop() {
      await running;
      await ecTier?.runner.stop();
      await ecTier?.controller.close();
      ecTier?.cache.close();
    },
  };
}
