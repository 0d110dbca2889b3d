/**
 * The StoragePolicy reconcile: one tiering pass of one policy. It reads IOPS for every
 * volume in one query, lists pools and volumes once, computes tiers with the policy's pool
 * selectors, lets the pure `decide()` pick the moves within the per-policy and global
 * budgets, starts them in the background (each a persisted, resumable `executeMove`), and
 * writes status, Events and metrics. Finished moves are recorded (history, counters, Events)
 * before their PV annotation is cleared, so a crash in between records them on restart.
 */
import { GROUP_VERSION } from "../../api/meta.ts";
import {
  MIGRATION_HISTORY_LIMIT,
  type MigrationRecord,
  STORAGE_POLICY_KIND,
  type StoragePolicy,
  StoragePolicySchema,
  type StoragePolicyStatus,
} from "../../api/storage_policy.ts";
import type { Clock } from "../../clock.ts";
import { parseDuration } from "../../config/duration.ts";
import type { KubeClient } from "../../kube/client.ts";
import { type Condition, type ConditionUpdate, setCondition } from "../../kube/conditions.ts";
import type { ReconcileContext, ReconcileResult } from "../../kube/controller.ts";
import { isNotFound } from "../../kube/errors.ts";
import type { EventRecorder, ObjectReference } from "../../kube/events.ts";
import type { KubeObject } from "../../kube/resource.ts";
import { updateStatusWithRetry } from "../../kube/status.ts";
import type { Store } from "../../kube/store.ts";
import type { Pool, Volume } from "../../model/storage.ts";
import type { VolumeBackend } from "../../mayastor/port.ts";
import { templatesFor } from "../../metrics/promql.ts";
import type { IopsSource } from "../../metrics/source.ts";
import { executeMove, MoveInterrupted } from "../../migration/executor.ts";
import { type HistoryEntry, historyEntry } from "../../migration/history.ts";
import { MemoryMoveStore } from "../../migration/pv_store.ts";
import {
  decodeMoveState,
  MIGRATION_ANNOTATION,
  type MoveState,
  planMove,
} from "../../migration/state.ts";
import { isTerminal } from "../../migration/step.ts";
import type { MoveStore } from "../../migration/store.ts";
import type { Logger } from "../../observability/log.ts";
import type { Metrics } from "../../observability/metrics.ts";
import { lastMigrationFrom } from "../../tiering/cooldown.ts";
import { decide, type TieringPlan, type VolumeState } from "../../tiering/decide.ts";
import { availableTiers, choosePlacement, volumeTier } from "../../tiering/placement.ts";
import { type EcTierHook, ecTierPolicy, routeThroughEcTier } from "./ec_tier.ts";
import { mayastorVolumeUuid, type PersistentVolume, STORAGE_POLICIES } from "./resources.ts";
import type { MoveTracker } from "./tracker.ts";
import {
  CONDITION,
  conflicts,
  countTiers,
  hasWarmTier,
  type OtherPolicy,
  poolTierMap,
  resyncInterval,
  selectsPv,
  type TierCounts,
  toRecord,
  withFinished,
} from "./view.ts";

/** Operator-wide settings (from the command line). */
export interface ReconcileSettings {
  /** --max-concurrent-migrations: moves in flight across all policies. */
  globalLimit: number;
  /** --dry-run: every policy behaves as dryRun. */
  dryRun: boolean;
  /** --preservation-mode: every policy behaves as preservationMode. */
  preservation: boolean;
  /** --sync-poll-interval: how often a running move polls the rebuild. */
  pollIntervalMs: number;
  /** --migration-timeout: used for policies that set no migrationTimeout of their own. */
  migrationTimeoutMs?: number;
  /** Overrides the resync cadence (default half the sampling window, 1 s – 5 min). */
  resyncMs?: number;
}

/** What the reconciler uses. */
export interface ReconcilerDeps {
  client: KubeClient;
  /** Informer caches. */
  policies: Store<KubeObject>;
  pvs: Store<PersistentVolume>;
  backend: VolumeBackend;
  iops: IopsSource;
  /** Where real moves persist (the PV annotation store). */
  moveStore: MoveStore;
  events: EventRecorder;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  tracker: MoveTracker;
  settings: ReconcileSettings;
  /** Asks for another pass of a policy soon (after a move finished). */
  enqueue?: (policy: string) => void;
  /** The erasure-coded cold tier (optional; without it cold volumes keep a replica). */
  ecTier?: EcTierHook;
}

/** What one pass concluded, for tests and logs. */
export interface PassSummary {
  phase: NonNullable<StoragePolicyStatus["phase"]>;
  counts?: TierCounts;
  plan?: TieringPlan;
  started: MoveState[];
  conditions: ConditionUpdate[];
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Reconciles StoragePolicies; one instance per operator process. */
export class StoragePolicyReconciler {
  readonly #d: ReconcilerDeps;
  /** Result of the last pass per policy (for tests, the demo and logs). */
  readonly lastPass = new Map<string, PassSummary>();

  constructor(deps: ReconcilerDeps) {
    this.#d = deps;
  }

  /** The ReconcileFn: one pass of the policy named by `key`. */
  reconcile = async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const raw = this.#d.policies.get(key);
    if (!raw) {
      this.forget(key);
      return;
    }
    const name = raw.metadata.name ?? key;
    const parsed = StoragePolicySchema.safeParse(raw);
    if (!parsed.success) {
      const msg = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      await this.#writeStatus(
        raw,
        "Error",
        [
          { type: CONDITION.ready, status: "False", reason: "InvalidPolicy", message: msg },
        ],
        undefined,
        ctx.signal,
      );
      this.lastPass.set(name, { phase: "Error", started: [], conditions: [] });
      return; // a spec change (new generation) brings it back
    }
    const summary = await this.#pass(parsed.data, raw, ctx.signal);
    this.lastPass.set(name, summary);
    const windowMs = parseDuration(parsed.data.spec.samplingWindow);
    return { requeueAfter: this.#d.settings.resyncMs ?? resyncInterval(windowMs) };
  };

  /** Drops what is kept for a deleted policy (its gauges). */
  forget(name: string): void {
    for (const tier of ["hot", "warm", "cold", "other"]) {
      this.#d.metrics.volumesByTier.remove({ policy: name, tier });
    }
    this.lastPass.delete(name);
  }

  async #pass(sp: StoragePolicy, raw: KubeObject, signal: AbortSignal): Promise<PassSummary> {
    const d = this.#d;
    const name = sp.metadata.name!;
    const spec = sp.spec;
    const now = d.clock.now();
    const log = d.logger.child("storage-policy", { policy: name });
    const conds: ConditionUpdate[] = [];
    const started: MoveState[] = [];

    const selected = d.pvs.list().filter((pv) => selectsPv(spec, pv));
    const others: OtherPolicy[] = [];
    for (const o of d.policies.list()) {
      if (o.metadata.name === name) continue;
      const p = StoragePolicySchema.safeParse(o);
      if (p.success) others.push({ name: o.metadata.name ?? "", spec: p.data.spec });
    }
    const clash = spec.enabled ? conflicts(selected, others) : { policies: [] };

    // One IOPS read for all volumes of the policy.
    const windowMs = parseDuration(spec.samplingWindow);
    const reading = await d.iops.fetchIops({
      windowMs,
      templates: templatesFor(spec.metricsQuery),
      signal,
    });
    if (reading.ok) {
      conds.push({
        type: CONDITION.metrics,
        status: "True",
        reason: "MetricsRead",
        message: `IOPS of ${reading.iops.size} volumes over ${spec.samplingWindow}`,
      });
    } else {
      d.metrics.metricsQueryFailures.inc({ policy: name, reason: reading.reason });
      conds.push({
        type: CONDITION.metrics,
        status: "False",
        reason: reading.reason,
        message: `${reading.message}; no volume is moved until metrics are back`,
      });
      log.warn("IOPS unavailable; nothing moves", {
        reason: reading.reason,
        error: reading.message,
      });
    }

    let pools: Pool[] | undefined;
    let volumes: Volume[] | undefined;
    try {
      [pools, volumes] = await Promise.all([
        d.backend.listPools(signal),
        d.backend.listVolumes(signal),
      ]);
    } catch (e) {
      conds.push({
        type: CONDITION.pools,
        status: "False",
        reason: "BackendUnavailable",
        message: `Mayastor: ${errText(e)}`.slice(0, 1000),
      });
      log.warn("cannot list Mayastor pools/volumes", { error: e });
    }

    let counts: TierCounts | undefined;
    let plan: TieringPlan | undefined;
    if (pools && volumes) {
      const tiers = poolTierMap(pools, spec);
      const avail = availableTiers(pools, tiers);
      conds.push(
        avail.size > 0
          ? {
            type: CONDITION.pools,
            status: "True",
            reason: "PoolsOnline",
            message: `tiers with an Online pool: ${[...avail].sort().join(", ")}`,
          }
          : {
            type: CONDITION.pools,
            status: "False",
            reason: "NoPools",
            message: "no Online DiskPool matches the hot, warm or cold pool selector",
          },
      );
      const byUuid = new Map(volumes.map((v) => [v.uuid, v]));
      const states: VolumeState[] = [];
      const volOf = new Map<string, Volume>();
      for (const pv of selected) {
        const v = byUuid.get(mayastorVolumeUuid(pv)!);
        if (!v) continue;
        const pvName = pv.metadata.name!;
        volOf.set(pvName, v);
        const stamped = lastMigrationFrom(pv.metadata.annotations);
        const seen = d.tracker.lastFinished(pvName);
        const last = stamped === undefined ? seen : Math.max(stamped, seen ?? 0);
        // An EC-tiered volume (no replica: its data is in stripes) is on the cold tier.
        const ec = d.ecTier?.runner;
        states.push({
          name: pvName,
          tier: ec?.isEcTiered(pvName) ? "cold" : volumeTier(v, tiers),
          lastMigrationMs: last,
          inFlight: d.tracker.has(pvName) || annotatedInFlight(pv) || !!ec?.isBusy(pvName),
        });
      }
      counts = countTiers(states.map((s) => s.tier));
      for (const t of ["hot", "warm", "cold", "other"] as const) {
        d.metrics.volumesByTier.set({ policy: name, tier: t }, counts[t]);
      }
      const blocked = !spec.enabled || clash.policies.length > 0;
      if (!blocked) {
        plan = decide({
          policy: {
            name,
            watermarks: {
              highWatermarkIOPS: spec.highWatermarkIOPS,
              warmWatermarkIOPS: spec.warmWatermarkIOPS,
              lowWatermarkIOPS: spec.lowWatermarkIOPS,
            },
            cooldownMs: parseDuration(spec.cooldownPeriod),
            maxConcurrentMigrations: spec.maxConcurrentMigrations,
            warmTier: hasWarmTier(tiers),
            tiersAvailable: avail,
          },
          volumes: states,
          metrics: reading.ok ? { at: reading.at, iops: reading.iops } : undefined,
          now,
          maxMetricsAgeMs: windowMs + 60_000,
          inFlight: {
            policy: d.tracker.countFor(name) + (d.ecTier?.runner.inFlight(name) ?? 0),
            global: d.tracker.size + (d.ecTier?.runner.inFlight() ?? 0),
          },
          globalLimit: d.settings.globalLimit,
        });
        const dryRun = spec.dryRun || d.settings.dryRun;
        // The policy's own migrationTimeout wins; without one the operator flag applies.
        const ownTimeout = (raw.spec as Record<string, unknown> | undefined)?.migrationTimeout;
        const timeoutMs = ownTimeout === undefined && d.settings.migrationTimeoutMs !== undefined
          ? d.settings.migrationTimeoutMs
          : parseDuration(spec.migrationTimeout);
        const preservation = spec.preservationMode || d.settings.preservation;
        for (const m of plan.moves) {
          const v = volOf.get(m.volume)!;
          if (d.ecTier && !dryRun) {
            const route = await routeThroughEcTier(
              d.ecTier,
              ecTierPolicy(name, spec, preservation),
              { volume: m.volume, to: m.to!, iops: m.iops },
              v,
              volumeTier(v, tiers),
              signal,
            );
            if (route.handled) {
              if (route.condition) conds.push(route.condition);
              continue;
            }
          }
          // Preservation keeps the old replica, so a moved volume stays "mixed"; it already
          // has its copy on the target tier and must not gain another one every cooldown.
          if (preservation && v.replicas.some((r) => tiers.get(r.pool) === m.to)) continue;
          const place = choosePlacement(v, pools, tiers, m.to!);
          if (!place.ok) {
            log.info("move not placed", {
              volume: m.volume,
              reason: place.reason,
              detail: place.detail,
            });
            continue;
          }
          const state = planMove({
            id: crypto.randomUUID(),
            policy: name,
            volume: m.volume,
            volumeUuid: v.uuid,
            from: place.from,
            to: m.to!,
            oldReplica: place.oldReplica,
            oldPool: place.oldPool,
            targetPool: place.targetPool,
            replicas: v.replicas.map((r) => r.uuid),
            replicaCount: v.replicaCount,
            triggerIOPS: Math.round((m.iops ?? 0) * 100) / 100,
            now,
            timeoutMs,
            dryRun,
            preservation,
          });
          if (this.startMove(state, signal)) started.push(state);
        }
      }
    }

    let phase: PassSummary["phase"] = "Active";
    const metricsOk = reading.ok;
    const poolsOk = conds.some((c) => c.type === CONDITION.pools && c.status === "True");
    if (!spec.enabled) {
      phase = "Disabled";
      conds.push({
        type: CONDITION.ready,
        status: "True",
        reason: "Disabled",
        message: "enabled is false: volumes are observed, never moved",
      });
    } else if (clash.policies.length > 0) {
      phase = "Error";
      conds.push({
        type: CONDITION.ready,
        status: "False",
        reason: "ConflictingPolicies",
        message: `volume ${clash.example} is also selected by ${
          clash.policies.join(", ")
        }; no volume is moved until one policy's selector excludes the others' volumes`,
      });
    } else if (!metricsOk || !poolsOk) {
      conds.push({
        type: CONDITION.ready,
        status: "False",
        reason: !metricsOk ? "MetricsUnavailable" : "PoolsUnavailable",
        message: !metricsOk ? "IOPS cannot be read: nothing is moved" : "no usable DiskPool",
      });
    } else {
      conds.push({
        type: CONDITION.ready,
        status: "True",
        reason: "Reconciled",
        message: plan
          ? `${plan.moves.length} moves started; ${d.tracker.countFor(name)} in flight`
          : "reconciled",
      });
    }
    await this.#metricsEvent(raw, reading.ok, conds, signal);
    await this.#writeStatus(raw, phase, conds, counts, signal);
    if (started.length > 0) log.info("moves started", { count: started.length });
    return { phase, counts, plan, started, conditions: conds };
  }

  /** Emits an Event when MetricsAvailable changes (from the cached status). */
  async #metricsEvent(
    raw: KubeObject,
    ok: boolean,
    conds: ConditionUpdate[],
    _signal: AbortSignal,
  ): Promise<void> {
    const prev = ((raw.status as StoragePolicyStatus | undefined)?.conditions ?? []).find((c) =>
      c.type === CONDITION.metrics
    );
    const now = ok ? "True" : "False";
    if (prev?.status === now) return;
    if (!prev && ok) return;
    const c = conds.find((x) => x.type === CONDITION.metrics)!;
    await this.#d.events.record({
      regarding: policyRef(raw),
      type: ok ? "Normal" : "Warning",
      reason: ok ? "MetricsAvailable" : "MetricsUnavailable",
      action: "ReadMetrics",
      note: c.message,
    });
  }

  /** Writes the pass's status fields, keeping history and counters. */
  async #writeStatus(
    raw: KubeObject,
    phase: NonNullable<StoragePolicyStatus["phase"]>,
    conds: ConditionUpdate[],
    counts: TierCounts | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const d = this.#d;
    const name = raw.metadata.name!;
    const now = d.clock.now();
    try {
      await updateStatusWithRetry<KubeObject>(d.client, STORAGE_POLICIES, name, (cur) => {
        const prev = (cur.status ?? {}) as StoragePolicyStatus;
        const gen = cur.metadata.generation;
        let list = prev.conditions as Condition[] | undefined;
        for (const c of conds) {
          list = setCondition(list, { ...c, observedGeneration: gen }, new Date(now));
        }
        const next: StoragePolicyStatus = {
          ...prev,
          phase,
          conditions: list as StoragePolicyStatus["conditions"],
          activeMigrations: d.tracker.countFor(name),
          lastReconcileTime: iso(now),
        };
        if (gen !== undefined) next.observedGeneration = gen;
        if (d.ecTier) {
          const ec = d.ecTier.runner;
          next.ecBytes = ec.ecBytes(name);
          next.ecVolumes = ec.tieredVolumes(name);
        }
        if (counts) {
          next.watchedVolumes = counts.watched;
          next.hotVolumes = counts.hot;
          next.warmVolumes = counts.warm;
          next.coldVolumes = counts.cold;
        }
        return next;
      }, { clock: d.clock, signal });
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }

  /**
   * Starts a move in the background (false when the volume already has one). It stops at
   * the next step when `signal` aborts; its persisted state lets the next leader resume it.
   */
  startMove(state: MoveState, signal: AbortSignal): boolean {
    const d = this.#d;
    const log = d.logger.child("storage-policy", { policy: state.policy, volume: state.volume });
    return d.tracker.start(state, async () => {
      if (!state.dryRun && state.phase === "Planned" && !state.addIssued) {
        const note = `moving replica ${state.oldReplica} from ${state.oldPool} (${state.from}) ` +
          `to ${state.targetPool} (${state.to}) at ${round(state.triggerIOPS)} IOPS`;
        await Promise.all([
          d.events.record({
            regarding: pvRef(state.volume, d.pvs),
            type: "Normal",
            reason: "MigrationStarted",
            action: "Migrate",
            note,
          }),
          d.events.record({
            regarding: policyRefByName(state.policy, d.policies),
            type: "Normal",
            reason: "MigrationStarted",
            action: "Migrate",
            note: `${state.volume}: ${note}`,
          }),
        ]);
      }
      try {
        await executeMove(state, {
          backend: d.backend,
          store: state.dryRun ? new MemoryMoveStore() : d.moveStore,
          clock: d.clock,
          logger: d.logger,
          metrics: d.metrics,
          pollIntervalMs: d.settings.pollIntervalMs,
          onFinished: (entry, s) => this.recordFinished(entry, s),
        }, signal);
      } catch (e) {
        if (e instanceof MoveInterrupted) {
          log.info("move interrupted; its persisted state resumes it later", {
            phase: e.state.phase,
          });
        } else log.error("move failed to run", { error: e });
      }
    });
  }

  /**
   * Records a finished move: history and counters in the policy status (once: a record
   * already there is not added again), Events on the PV and the policy, then clears the PV
   * annotation and asks for another pass.
   */
  async recordFinished(entry: HistoryEntry, s: MoveState): Promise<void> {
    const d = this.#d;
    // Completed and dry-run moves start the cooldown; a failed or rolled-back one does not
    // (as the PV's last-migration stamp), so the volume is tried again on a later pass.
    if (s.result === "Succeeded" || s.result === "Preserved" || s.result === "DryRun") {
      d.tracker.finished(s.volume, s.finishedAt ?? s.updatedAt);
    }
    const rec = toRecord(entry);
    try {
      await updateStatusWithRetry<KubeObject>(d.client, STORAGE_POLICIES, s.policy, (cur) => {
        const prev = cur.status as StoragePolicyStatus | undefined;
        if (prev?.migrationHistory?.some((h) => sameRecord(h, rec))) return undefined;
        return {
          ...withFinished(prev, rec, MIGRATION_HISTORY_LIMIT),
          // This move is still tracked until recordFinished returns.
          activeMigrations: Math.max(0, d.tracker.countFor(s.policy) - 1),
        };
      }, { clock: d.clock });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const ev = finishedEvent(s);
    await Promise.all([
      d.events.record({ regarding: pvRef(s.volume, d.pvs), action: "Migrate", ...ev }),
      d.events.record({
        regarding: policyRefByName(s.policy, d.policies),
        action: "Migrate",
        ...ev,
        note: `${s.volume}: ${ev.note}`,
      }),
    ]);
    if (!s.dryRun) await d.moveStore.clear(s.volume);
    d.enqueue?.(s.policy);
  }

  /**
   * On becoming leader, before any new move: moves found in flight on PVs are resumed (in the
   * background, counted against the budgets) and finished ones not yet recorded are recorded.
   */
  async resumeInFlight(signal: AbortSignal): Promise<{ resumed: number; recorded: number }> {
    const d = this.#d;
    const { moves, unreadable } = await d.moveStore.list(signal);
    for (const u of unreadable) {
      d.logger.error("unreadable migration state left alone", { volume: u.key, error: u.error });
    }
    let resumed = 0, recorded = 0;
    for (const m of moves) {
      if (isTerminal(m)) {
        await this.recordFinished(historyEntry(m), m);
        recorded++;
      } else if (this.startMove(m, signal)) {
        d.logger.info("resuming move found in flight", { volume: m.volume, phase: m.phase });
        resumed++;
      }
    }
    return { resumed, recorded };
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** True when a PV's annotation holds an unfinished (or unreadable) move. */
function annotatedInFlight(pv: PersistentVolume): boolean {
  const text = pv.metadata.annotations?.[MIGRATION_ANNOTATION];
  if (text === undefined) return false;
  const r = decodeMoveState(text);
  return !r.ok || !isTerminal(r.state);
}

function sameRecord(a: MigrationRecord, b: MigrationRecord): boolean {
  return a.volume === b.volume && a.time === b.time && a.to === b.to && a.result === b.result;
}

function finishedEvent(
  s: MoveState,
): { type: "Normal" | "Warning"; reason: string; note: string } {
  const what = `${s.from} → ${s.to} (${s.oldPool} → ${s.targetPool})`;
  switch (s.result) {
    case "Succeeded":
      return { type: "Normal", reason: "MigrationSucceeded", note: `moved ${what}` };
    case "Preserved":
      return {
        type: "Normal",
        reason: "MigrationSucceeded",
        note: `copied ${what}; old replica kept (preservation mode)`,
      };
    case "DryRun":
      return {
        type: "Normal",
        reason: "MigrationDryRun",
        note: `dry run: would move ${what} at ${round(s.triggerIOPS)} IOPS`,
      };
    case "RolledBack":
      return {
        type: "Warning",
        reason: "MigrationRolledBack",
        note: `rolled back ${what}: ${s.error ?? ""}`,
      };
    default:
      return {
        type: "Warning",
        reason: "MigrationFailed",
        note: `failed ${what}: ${s.error ?? ""}`,
      };
  }
}

function policyRef(raw: KubeObject): ObjectReference {
  const ref: ObjectReference = {
    apiVersion: GROUP_VERSION,
    kind: STORAGE_POLICY_KIND,
    name: raw.metadata.name ?? "",
  };
  if (raw.metadata.uid) ref.uid = raw.metadata.uid;
  return ref;
}

function policyRefByName(name: string, policies: Store<KubeObject>): ObjectReference {
  const raw = policies.get(name);
  return raw ? policyRef(raw) : { apiVersion: GROUP_VERSION, kind: STORAGE_POLICY_KIND, name };
}

function pvRef(name: string, pvs: Store<PersistentVolume>): ObjectReference {
  const ref: ObjectReference = { apiVersion: "v1", kind: "PersistentVolume", name };
  const uid = pvs.get(name)?.metadata.uid;
  if (uid) ref.uid = uid;
  return ref;
}
