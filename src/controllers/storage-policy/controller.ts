/**
 * The StoragePolicy controller: informers on StoragePolicies, PersistentVolumes, their claims
 * and namespaces (always running, so a follower's caches are warm; DiskPools come from the
 * caller's informer), the work queue and the reconcile, and `lead()`, which the manager runs while this process leads: it first resumes or records every
 * move found on PVs, then reconciles until leadership ends, then waits for its moves to stop.
 */
import type { Clock } from "../../clock.ts";
import type { KubeClient } from "../../kube/client.ts";
import { Controller } from "../../kube/controller.ts";
import { EventRecorder } from "../../kube/events.ts";
import { Informer, stripManagedFields } from "../../kube/informer.ts";
import { type KubeObject, objectKey } from "../../kube/resource.ts";
import type { InFlight } from "../../machine/inflight.ts";
import type { VolumeBackend } from "../../mayastor/port.ts";
import type { IopsSource } from "../../metrics/source.ts";
import { MoveRunner } from "../../migration/runner.ts";
import type { MoveStore } from "../../migration/store.ts";
import type { Logger } from "../../observability/log.ts";
import type { Metrics } from "../../observability/metrics.ts";
import type { EcTierHook } from "./ec_route.ts";
import {
  finishedEvent,
  type MoveEventSinks,
  pvRef,
  recordOnPvAndPolicy,
  startedNote,
} from "./events.ts";
import { MIGRATION_ANNOTATION } from "../../migration/state.ts";
import { type ReconcileSettings, StoragePolicyReconciler } from "./reconcile.ts";
import {
  NAMESPACES,
  PERSISTENT_VOLUME_CLAIMS,
  PERSISTENT_VOLUMES,
  type PersistentVolume,
  STORAGE_POLICIES,
} from "./resources.ts";
import { APPROVE_ANNOTATION } from "../../tiering/approval.ts";
import { PIN_ANNOTATION, TIERING_ANNOTATION } from "../../tiering/overrides.ts";

/** Annotations a person sets on a PVC or PV that a pass must see at once (not at the resync). */
const CONTROL_ANNOTATIONS = [PIN_ANNOTATION, TIERING_ANNOTATION, APPROVE_ANNOTATION];
import { CONTROLLER_NAME, recordHistory } from "./status.ts";
import { recordBackoff } from "./backoff_record.ts";
import { StoragePolicySchema } from "../../api/storage_policy.ts";
import { parseDuration } from "../../config/duration.ts";
import { claimKey } from "../../tiering/selection.ts";

/** What the StoragePolicy controller is built from (the composition root hands it in). */
export interface StoragePolicyControllerOptions {
  client: KubeClient;
  /** The Mayastor backend (its pool labels come from `diskPools`). */
  backend: VolumeBackend;
  /** The DiskPool informer (pool changes queue every policy). */
  diskPools: Informer<KubeObject>;
  iops: IopsSource;
  /** Where moves persist (the PV annotation store). */
  moveStore: MoveStore;
  /** The operator's one registry of work in flight on volumes. */
  inFlight: InFlight;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  settings: ReconcileSettings;
  /** How often a running move polls the rebuild (--sync-poll-interval). */
  pollIntervalMs: number;
  /** This process's identity (Events' reportingInstance). */
  identity: string;
  /** Namespace of Events about cluster-scoped objects (PVs, policies). */
  eventNamespace: string;
  /** Reconcile workers (default 1). */
  concurrency?: number;
  /** The erasure-coded cold tier (optional): resumed on becoming leader. */
  ecTier?: EcTierHook;
}

/** The running parts, exposed for tests and the demo. */
export class StoragePolicyController {
  readonly policies: Informer<KubeObject>;
  readonly pvs: Informer<PersistentVolume>;
  /** Claims (all namespaces) and namespaces: `claimSelector`, `namespaceSelector`, overrides. */
  readonly pvcs: Informer<KubeObject>;
  readonly namespaces: Informer<KubeObject>;
  readonly diskPools: Informer<KubeObject>;
  readonly reconciler: StoragePolicyReconciler;
  readonly controller: Controller;
  readonly backend: VolumeBackend;
  readonly moves: MoveRunner;
  readonly #o: StoragePolicyControllerOptions;
  /** Last generation queued per policy key (status writes must not queue a pass). */
  readonly #seenGeneration = new Map<string, number | undefined>();
  readonly #sinks: MoveEventSinks;

  constructor(o: StoragePolicyControllerOptions) {
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
    this.pvcs = inf(PERSISTENT_VOLUME_CLAIMS);
    this.namespaces = inf(NAMESPACES);
    this.diskPools = o.diskPools;
    this.backend = o.backend;
    const events = new EventRecorder({
      client: o.client,
      clock: o.clock,
      logger: o.logger,
      reportingController: "storage.billyronks.io/storage-policy-controller",
      reportingInstance: o.identity,
      defaultNamespace: o.eventNamespace,
    });
    const sinks = { events, policies: this.policies.store, pvs: this.pvs.store };
    this.#sinks = sinks;
    this.moves = new MoveRunner({
      backend: this.backend,
      store: o.moveStore,
      inFlight: o.inFlight,
      clock: o.clock,
      logger: o.logger,
      metrics: o.metrics,
      pollIntervalMs: o.pollIntervalMs,
      onStarted: (s) => {
        const pv = this.pvs.store.get(s.volume);
        const claim = pv ? claimKey(pv) : undefined;
        return recordOnPvAndPolicy(sinks, s.volume, s.policy, {
          type: "Normal",
          reason: "MigrationStarted",
          action: "Migrate",
          note: startedNote(s) + (claim ? `; claim ${claim}` : ""),
        });
      },
      onFinished: async (entry, s) => {
        const pv = this.pvs.store.get(s.volume);
        const claim = pv ? claimKey(pv) : undefined;
        // The backoff is on the PV before the move's annotation goes (the runner clears it next).
        const backoff = await recordBackoff(o.client, pv, s, this.#cooldownOf(s.policy));
        // This move is still in flight until onFinished returns.
        const active = Math.max(0, o.inFlight.count(s.policy) - 1);
        await recordHistory(o.client, s.policy, entry, active, o.clock, claim);
        const ev = finishedEvent(s);
        await recordOnPvAndPolicy(sinks, s.volume, s.policy, {
          action: "Migrate",
          ...ev,
          note: ev.note + backoff + (claim ? `; claim ${claim}` : ""),
        });
        this.controller.enqueue(s.policy);
      },
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
      pvcs: this.pvcs.store,
      namespaces: this.namespaces.store,
      backend: this.backend,
      iops: o.iops,
      moves: this.moves,
      inFlight: o.inFlight,
      events,
      metrics: o.metrics,
      clock: o.clock,
      logger: o.logger,
      settings: o.settings,
      ecTier: o.ecTier,
    });
    this.#wireEvents();
  }

  /** The policy's cooldown (the cap of its volumes' backoff); 24h when it can't be read. */
  #cooldownOf(policy: string): number {
    const p = StoragePolicySchema.safeParse(this.policies.store.get(policy));
    return p.success ? parseDuration(p.data.spec.cooldownPeriod) : 86_400_000;
  }

  /** Its own informers (always running, leader or not; the DiskPool one is the caller's). */
  informers(): Informer<KubeObject>[] {
    return [this.policies, this.pvs as Informer<KubeObject>, this.pvcs, this.namespaces];
  }

  /**
   * Policies are reconciled when their spec (generation) changes, not on our own status
   * writes; PV, PVC, Namespace and DiskPool changes that can alter selection, tiers or a
   * person's per-volume control (pin, opt-out, approval) queue every policy.
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
    const control = (o: KubeObject) =>
      CONTROL_ANNOTATIONS.map((k) => o.metadata.annotations?.[k] ?? "").join("\u0000");
    const selectionChanged = (a: KubeObject, b: KubeObject) =>
      JSON.stringify(a.metadata.labels ?? {}) !== JSON.stringify(b.metadata.labels ?? {}) ||
      control(a) !== control(b) ||
      JSON.stringify((a as PersistentVolume).spec?.storageClassName) !==
        JSON.stringify((b as PersistentVolume).spec?.storageClassName) ||
      JSON.stringify((a as PersistentVolume).spec?.claimRef) !==
        JSON.stringify((b as PersistentVolume).spec?.claimRef);
    const sources = [this.pvs, this.pvcs, this.namespaces, this.diskPools] as Informer<
      KubeObject
    >[];
    for (const inf of sources) {
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
    const log = this.#o.logger.child(CONTROLLER_NAME);
    try {
      for (;;) {
        try {
          const r = await this.moves.resume(signal);
          for (const u of r.unreadable) {
            log.error("migration state refused and left alone", { volume: u.key, error: u.error });
            await this.#sinks.events.record({
              regarding: pvRef(u.key, this.pvs.store),
              type: "Warning",
              reason: "MigrationStateRefused",
              action: "Resume",
              note: `${MIGRATION_ANNOTATION} is not acted on: ${u.error}. Nothing was changed; ` +
                "remove the annotation once the volume is checked (kubectl annotate pv " +
                `${u.key} ${MIGRATION_ANNOTATION}-)`,
            });
          }
          if (r.resumed + r.recorded > 0) log.info("moves found on PVs", r);
          const ec = await this.#o.ecTier?.runner.resume(signal);
          if (ec && ec.resumed + ec.tiered > 0) log.info("EC tier found on PVs", ec);
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
      await Promise.all([this.moves.idle(), this.#o.ecTier?.runner.idle()]);
    }
  }
}
