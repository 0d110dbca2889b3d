/**
 * Wires the StoragePolicy controller: informers on StoragePolicies, PersistentVolumes and
 * DiskPools (always running, so a follower's caches are warm), the reconcile loop and the
 * background moves (only while leading, when leader election is on), as one `Component`.
 * On becoming leader it first resumes or records every move found on PVs.
 */
import type { Clock } from "../../clock.ts";
import type { KubeClient } from "../../kube/client.ts";
import { Controller } from "../../kube/controller.ts";
import { EventRecorder } from "../../kube/events.ts";
import { Informer, stripManagedFields } from "../../kube/informer.ts";
import { LeaderElector } from "../../kube/leader.ts";
import { type KubeObject, objectKey } from "../../kube/resource.ts";
import type { Component } from "../../lifecycle.ts";
import { type DiskPoolCR, DiskPoolCRSchema, type DiskPoolSource } from "../../mayastor/diskpool.ts";
import type { VolumeBackend } from "../../mayastor/port.ts";
import type { IopsSource } from "../../metrics/source.ts";
import { PvAnnotationMoveStore } from "../../migration/pv_store.ts";
import type { Logger } from "../../observability/log.ts";
import type { Metrics } from "../../observability/metrics.ts";
import type { Readiness } from "../../observability/readiness.ts";
import { type ReconcileSettings, StoragePolicyReconciler } from "./reconcile.ts";
import {
  DISK_POOLS,
  PERSISTENT_VOLUMES,
  type PersistentVolume,
  STORAGE_POLICIES,
} from "./resources.ts";
import { MoveTracker } from "./tracker.ts";
import { CONTROLLER_NAME } from "./view.ts";

/** Leader election settings (from --lease-*). */
export interface LeaderSettings {
  namespace: string;
  name: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** Options of the StoragePolicy operator component. */
export interface StoragePolicyOperatorOptions {
  client: KubeClient;
  /** Builds the Mayastor backend; gets the DiskPool source backed by the informer cache. */
  backend: (diskPools: DiskPoolSource) => VolumeBackend;
  iops: IopsSource;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  settings: ReconcileSettings;
  /** This process's identity (Lease holder, Events' reportingInstance). */
  identity: string;
  /** Namespace of Events about cluster-scoped objects (PVs, policies). */
  eventNamespace: string;
  /** Campaign for this Lease first; absent = act at once. */
  leader?: LeaderSettings;
  readiness?: Readiness;
  /** Reconcile workers (default 1). */
  concurrency?: number;
}

/** The running parts, exposed for tests and the demo. */
export class StoragePolicyOperator {
  readonly policies: Informer<KubeObject>;
  readonly pvs: Informer<PersistentVolume>;
  readonly diskPools: Informer<KubeObject>;
  readonly tracker = new MoveTracker();
  readonly reconciler: StoragePolicyReconciler;
  readonly controller: Controller;
  readonly backend: VolumeBackend;
  readonly #o: StoragePolicyOperatorOptions;
  #tasks: Promise<unknown>[] = [];
  #leading = false;
  /** Last generation queued per policy key (status writes must not queue a pass). */
  readonly #seenGeneration = new Map<string, number | undefined>();

  constructor(o: StoragePolicyOperatorOptions) {
    this.#o = o;
    const inf = <T extends KubeObject>(resource: typeof STORAGE_POLICIES) =>
      new Informer<T>({
        client: o.client,
        resource,
        clock: o.clock,
        logger: o.logger.child("informer", { resource: resource.plural }),
        transform: stripManagedFields,
        backoff: { initialMs: 200, maxMs: 5_000 },
      });
    this.policies = inf(STORAGE_POLICIES);
    this.pvs = inf<PersistentVolume>(PERSISTENT_VOLUMES);
    this.diskPools = inf(DISK_POOLS);
    this.backend = o.backend(this.diskPoolSource());
    const events = new EventRecorder({
      client: o.client,
      clock: o.clock,
      logger: o.logger,
      reportingController: "storage.billyronks.io/storage-policy-controller",
      reportingInstance: o.identity,
      defaultNamespace: o.eventNamespace,
    });
    this.controller = new Controller({
      name: CONTROLLER_NAME,
      reconcile: (k, c) => this.reconciler.reconcile(k, c),
      clock: o.clock,
      logger: o.logger,
      metrics: o.metrics,
      concurrency: o.concurrency ?? 1,
      baseDelayMs: 200,
      maxDelayMs: 30_000,
    });
    this.reconciler = new StoragePolicyReconciler({
      client: o.client,
      policies: this.policies.store,
      pvs: this.pvs.store,
      backend: this.backend,
      iops: o.iops,
      moveStore: new PvAnnotationMoveStore(o.client, { resource: PERSISTENT_VOLUMES }),
      events,
      metrics: o.metrics,
      clock: o.clock,
      logger: o.logger,
      tracker: this.tracker,
      settings: o.settings,
      enqueue: (p) => this.controller.enqueue(p),
    });
    this.#wireEvents();
  }

  /** True while this process reconciles (leader, or no election). */
  get leading(): boolean {
    return this.#leading;
  }

  /** DiskPool CRs from the informer cache (waits for its first sync). */
  diskPoolSource(): DiskPoolSource {
    return {
      listDiskPools: async (signal?: AbortSignal): Promise<DiskPoolCR[]> => {
        await this.diskPools.waitForSync(signal);
        const out: DiskPoolCR[] = [];
        for (const o of this.diskPools.store.list()) {
          const r = DiskPoolCRSchema.safeParse(o);
          if (r.success) out.push(r.data);
        }
        return out;
      },
    };
  }

  /**
   * Policies are reconciled when their spec (generation) changes, not on our own status
   * writes; PV and DiskPool changes that can alter selection or tiers queue every policy.
   */
  #wireEvents(): void {
    const seen = this.#seenGeneration;
    this.controller.watch(this.policies, {
      map: (o) => {
        const k = objectKey(o);
        if (seen.has(k) && seen.get(k) === o.metadata.generation) return [];
        seen.set(k, o.metadata.generation);
        return [k];
      },
    });
    this.policies.addHandler({
      onDelete: (o) => {
        seen.delete(objectKey(o));
        this.reconciler.forget(o.metadata.name ?? "");
      },
    });
    const all = () => this.policies.store.keys();
    const selectionChanged = (a: KubeObject, b: KubeObject) =>
      JSON.stringify(a.metadata.labels ?? {}) !== JSON.stringify(b.metadata.labels ?? {}) ||
      JSON.stringify((a as PersistentVolume).spec?.storageClassName) !==
        JSON.stringify((b as PersistentVolume).spec?.storageClassName);
    for (const inf of [this.pvs, this.diskPools] as Informer<KubeObject>[]) {
      // Registered as sources only so the controller waits for their first sync.
      this.controller.watch(inf, { map: () => [] });
      inf.addHandler({
        onAdd: () => all().forEach((k) => this.controller.enqueue(k, 500)),
        onDelete: () => all().forEach((k) => this.controller.enqueue(k, 500)),
        onUpdate: (a, b) => {
          if (selectionChanged(a, b)) all().forEach((k) => this.controller.enqueue(k, 500));
        },
      });
    }
  }

  /** Resumes moves in flight, then reconciles until `signal` aborts; waits for moves to stop. */
  async lead(signal: AbortSignal): Promise<void> {
    this.#leading = true;
    const log = this.#o.logger.child(CONTROLLER_NAME);
    try {
      for (;;) {
        try {
          const r = await this.reconciler.resumeInFlight(signal);
          if (r.resumed + r.recorded > 0) log.info("moves found on PVs", r);
          break;
        } catch (e) {
          if (signal.aborted) return;
          log.warn("cannot list moves in flight yet; retrying", { error: e });
          await this.#o.clock.sleep(1000, signal).catch(() => {});
          if (signal.aborted) return;
        }
      }
      this.#seenGeneration.clear(); // a new run queues every policy again
      await this.controller.run(signal);
    } finally {
      await this.tracker.drain();
      this.#leading = false;
    }
  }

  /** The Component for the lifecycle. */
  component(): Component {
    return {
      name: "storage-policy-controller",
      start: (signal) => {
        const handle = this.#o.readiness?.register("storage-policy-controller", "caches syncing");
        for (const inf of [this.policies, this.pvs, this.diskPools] as Informer<KubeObject>[]) {
          this.#tasks.push(inf.run(signal));
        }
        Promise.all([this.policies, this.pvs, this.diskPools].map((i) => i.waitForSync(signal)))
          .then(() => handle?.ready(), () => {});
        if (this.#o.leader) {
          const l = this.#o.leader;
          const elector = new LeaderElector({
            client: this.#o.client,
            namespace: l.namespace,
            name: l.name,
            identity: this.#o.identity,
            clock: this.#o.clock,
            logger: this.#o.logger.child("leader"),
            leaseDurationMs: l.leaseDurationMs,
            renewDeadlineMs: l.renewDeadlineMs,
            retryPeriodMs: l.retryPeriodMs,
          });
          this.#tasks.push(elector.run(signal, { onStartedLeading: (s) => this.lead(s) }));
        } else {
          this.#tasks.push(this.lead(signal));
        }
        return Promise.resolve();
      },
      stop: async () => {
        await Promise.allSettled(this.#tasks);
      },
    };
  }
}
