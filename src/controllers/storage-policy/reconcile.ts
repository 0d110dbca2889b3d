/**
 * The StoragePolicy reconcile: one tiering pass of one policy. Read (observe.ts: selected PVs,
 * one IOPS reading, Mayastor's pools and volumes) → plan (the pure planPass: bands, cooldown,
 * budgets, placement with per-pass capacity reservation) → start (replica moves through the
 * MoveRunner, EC work through the EC tier) → status, Events and metrics.
 */
import {
  type StoragePolicy,
  StoragePolicySchema,
  type StoragePolicyStatus,
} from "../../api/storage_policy.ts";
import type { ErasureCodingPolicy } from "../../api/mod.ts";
import type { Clock } from "../../clock.ts";
import { parseDuration } from "../../config/duration.ts";
import type { KubeClient } from "../../kube/client.ts";
import type { ConditionUpdate } from "../../kube/conditions.ts";
import type { ReconcileContext, ReconcileResult } from "../../kube/controller.ts";
import type { EventRecorder } from "../../kube/events.ts";
import type { KubeObject } from "../../kube/resource.ts";
import type { Store } from "../../kube/store.ts";
import type { InFlight } from "../../machine/inflight.ts";
import type { VolumeBackend } from "../../mayastor/port.ts";
import type { IopsSource } from "../../metrics/source.ts";
import type { MoveRunner } from "../../migration/runner.ts";
import { type MoveState, planMove } from "../../migration/state.ts";
import type { Logger } from "../../observability/log.ts";
import type { Metrics } from "../../observability/metrics.ts";
import type { TieringPlan } from "../../tiering/decide.ts";
import {
  type PassResult,
  type PassVolume,
  type PlannedMove,
  planPass,
} from "../../tiering/pass.ts";
import { volumeTier } from "../../tiering/placement.ts";
import type { OperatorSettings } from "../../tiering/policy.ts";
import { ecPlacer, type EcTierHook, ecTierProblem, startEcWork } from "./ec_route.ts";
import { policyRef } from "./events.ts";
import { type Observation, observePass } from "./observe.ts";
import { persistedWork } from "./persisted_work.ts";
import { mayastorVolumeUuid, type PersistentVolume } from "./resources.ts";
import {
  CONDITION,
  countTiers,
  type PassStatus,
  resyncInterval,
  type TierCounts,
  writePassStatus,
} from "./status.ts";

/** Operator-wide settings of the controller (from the command line). */
export interface ReconcileSettings extends OperatorSettings {
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
  /** Runs replica moves (their Events and history are recorded through its hooks). */
  moves: MoveRunner;
  /** All work in flight on volumes (moves and EC tier). */
  inFlight: InFlight;
  events: EventRecorder;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  settings: ReconcileSettings;
  /** The erasure-coded cold tier (optional; without it cold volumes keep a replica). */
  ecTier?: EcTierHook;
}

/** What one pass concluded, for tests, the demo and logs. */
export interface PassSummary {
  phase: NonNullable<StoragePolicyStatus["phase"]>;
  counts?: TierCounts;
  plan?: TieringPlan;
  started: MoveState[];
  conditions: ConditionUpdate[];
}

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
      const conditions: ConditionUpdate[] = [
        { type: CONDITION.ready, status: "False", reason: "InvalidPolicy", message: msg },
      ];
      await this.#status(name, { phase: "Error", conditions }, ctx.signal);
      this.lastPass.set(name, { phase: "Error", started: [], conditions });
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
    const seen = await observePass(d, sp, signal);
    const conds = [...seen.conditions];
    let counts: TierCounts | undefined;
    let plan: TieringPlan | undefined;
    const started: MoveState[] = [];
    if (seen.mayastor) {
      const ecPolicy = await this.#ecPolicy(sp.spec.ecPolicyRef, signal);
      const ecProblem = ecTierProblem(sp.spec.ecPolicyRef, d.ecTier, ecPolicy);
      if (ecProblem) conds.push(ecProblem);
      const result = this.#plan(sp, seen, ecPolicy);
      plan = result.plan;
      conds.push(poolsCondition(result));
      counts = this.#count(name, result, seen);
      if (sp.spec.enabled && seen.clash.policies.length === 0) {
        conds.push(...this.#start(name, result, ecPolicy, signal, started));
      }
    }
    const phase = readiness(sp, seen, conds, plan, d.inFlight.count(name));
    await this.#metricsEvent(raw, seen.reading.ok, conds);
    await this.#status(
      name,
      { phase: phase.phase, conditions: [...conds, phase.ready], counts },
      signal,
    );
    if (started.length > 0) d.logger.info("moves started", { policy: name, count: started.length });
    return { phase: phase.phase, counts, plan, started, conditions: [...conds, phase.ready] };
  }

  async #ecPolicy(
    ref: string | undefined,
    signal: AbortSignal,
  ): Promise<ErasureCodingPolicy | undefined> {
    if (!ref || !this.#d.ecTier) return undefined;
    return await this.#d.ecTier.ecPolicy(ref, signal);
  }

  /** The pure plan over what was observed. */
  #plan(sp: StoragePolicy, seen: Observation, ecPolicy?: ErasureCodingPolicy): PassResult {
    const d = this.#d;
    const name = sp.metadata.name!;
    const { pools, volumes } = seen.mayastor!;
    const byUuid = new Map(volumes.map((v) => [v.uuid, v]));
    const ec = d.ecTier?.runner;
    const passVolumes: PassVolume[] = [];
    for (const pv of seen.selected) {
      const v = byUuid.get(mayastorVolumeUuid(pv)!);
      if (!v) continue;
      const pvName = pv.metadata.name!;
      passVolumes.push({
        pv: pvName,
        annotations: pv.metadata.annotations,
        volume: v,
        ecTiered: ec?.isEcTiered(pvName) ?? false,
      });
    }
    const unfinished = new Set(
      seen.selected.filter((pv) => persistedWork(pv.metadata.annotations).inFlight)
        .map((pv) => pv.metadata.name),
    );
    return planPass({
      policyName: name,
      spec: sp.spec,
      operator: d.settings,
      pools,
      volumes: passVolumes,
      metrics: seen.reading.ok ? { at: seen.reading.at, iops: seen.reading.iops } : undefined,
      now: d.clock.now(),
      inFlight: { policy: d.inFlight.count(name), global: d.inFlight.count() },
      isMoving: (pv) => d.inFlight.has(pv) || unfinished.has(pv),
      lastFinished: (pv) => d.inFlight.lastFinished(pv),
      moveId: () => crypto.randomUUID(),
      ec: ec && ecPolicy ? ecPlacer(ecPolicy) : undefined,
    });
  }

  /** Tier counts of the policy's volumes (status and the couchestor_volumes gauge). */
  #count(name: string, result: PassResult, seen: Observation): TierCounts {
    const ec = this.#d.ecTier?.runner;
    const byUuid = new Map(seen.mayastor!.volumes.map((v) => [v.uuid, v]));
    const tiers = seen.selected.flatMap((pv) => {
      const v = byUuid.get(mayastorVolumeUuid(pv)!);
      if (!v) return [];
      return [ec?.isEcTiered(pv.metadata.name!) ? "cold" as const : volumeTier(v, result.tiers)];
    });
    const counts = countTiers(tiers);
    for (const t of ["hot", "warm", "cold", "other"] as const) {
      this.#d.metrics.volumesByTier.set({ policy: name, tier: t }, counts[t]);
    }
    return counts;
  }

  /** Starts the planned work; the EC tier's conditions. */
  #start(
    name: string,
    result: PassResult,
    ecPolicy: ErasureCodingPolicy | undefined,
    signal: AbortSignal,
    started: MoveState[],
  ): ConditionUpdate[] {
    const d = this.#d;
    const conds: ConditionUpdate[] = [];
    for (const h of result.held) {
      d.logger.info("move not placed", {
        policy: name,
        volume: h.decision.volume,
        reason: h.reason,
        detail: h.detail,
      });
    }
    for (const w of result.work) {
      if (w.kind === "move") {
        const state = moveState(name, w, d.clock.now());
        if (d.moves.start(state, signal)) started.push(state);
      } else if (d.ecTier && ecPolicy) {
        conds.push(startEcWork(d.ecTier, name, w, ecPolicy));
      }
    }
    return conds;
  }

  /** Emits an Event when MetricsAvailable changes (from the cached status). */
  async #metricsEvent(raw: KubeObject, ok: boolean, conds: ConditionUpdate[]): Promise<void> {
    const prev = ((raw.status as StoragePolicyStatus | undefined)?.conditions ?? []).find((c) =>
      c.type === CONDITION.metrics
    );
    if (prev?.status === (ok ? "True" : "False")) return;
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

  async #status(
    name: string,
    st: Omit<PassStatus, "activeMigrations">,
    signal: AbortSignal,
  ): Promise<void> {
    const d = this.#d;
    const ec = d.ecTier?.runner;
    await writePassStatus(
      d.client,
      name,
      {
        ...st,
        activeMigrations: d.inFlight.count(name),
        ...(ec ? { ec: { volumes: ec.tieredVolumes(name), bytes: ec.ecBytes(name) } } : {}),
      },
      d.clock,
      signal,
    );
  }
}

/** The Planned state of a planned move. */
function moveState(policy: string, w: PlannedMove, now: number): MoveState {
  return planMove({
    id: w.id,
    policy,
    volume: w.pv.pv,
    volumeUuid: w.pv.volume.uuid,
    from: w.from,
    to: w.to,
    oldReplica: w.oldReplica,
    oldPool: w.oldPool,
    targetPool: w.targetPool,
    replicas: w.pv.volume.replicas.map((r) => r.uuid),
    replicaCount: w.pv.volume.replicaCount,
    triggerIOPS: Math.round((w.decision.iops ?? 0) * 100) / 100,
    now,
    timeoutMs: w.timeoutMs,
    dryRun: w.dryRun,
    preservation: w.preservation,
  });
}

/** The PoolsAvailable condition: which tiers have an Online pool under this policy. */
function poolsCondition(result: PassResult): ConditionUpdate {
  const avail = result.settings.policy.tiersAvailable;
  return avail.size > 0
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
    };
}

/** The pass's phase and Ready condition. */
function readiness(
  sp: StoragePolicy,
  seen: Observation,
  conds: ConditionUpdate[],
  plan: TieringPlan | undefined,
  inFlight: number,
): { phase: PassSummary["phase"]; ready: ConditionUpdate } {
  const ready = (status: "True" | "False", reason: string, message: string) => ({
    type: CONDITION.ready,
    status,
    reason,
    message,
  });
  if (!sp.spec.enabled) {
    return {
      phase: "Disabled",
      ready: ready("True", "Disabled", "enabled is false: volumes are observed, never moved"),
    };
  }
  if (seen.clash.policies.length > 0) {
    return {
      phase: "Error",
      ready: ready(
        "False",
        "ConflictingPolicies",
        `volume ${seen.clash.example} is also selected by ${
          seen.clash.policies.join(", ")
        }; no volume is moved until one policy's selector excludes the others' volumes`,
      ),
    };
  }
  const poolsOk = conds.some((c) => c.type === CONDITION.pools && c.status === "True");
  if (!seen.reading.ok) {
    return {
      phase: "Active",
      ready: ready("False", "MetricsUnavailable", "IOPS cannot be read: nothing is moved"),
    };
  }
  if (!poolsOk) {
    return { phase: "Active", ready: ready("False", "PoolsUnavailable", "no usable DiskPool") };
  }
  return {
    phase: "Active",
    ready: ready(
      "True",
      "Reconciled",
      plan ? `${plan.moves.length} moves started; ${inFlight} in flight` : "reconciled",
    ),
  };
}
