/**
 * The StoragePolicy reconcile: one tiering pass of one policy. Read (observe.ts: the selected
 * volumes with their claims, one IOPS reading, Mayastor's pools and volumes) → plan (the pure
 * planPass: bands, cooldown, pins, backoff, approvals, windows, budgets, placement with per-pass
 * capacity reservation) → start (replica moves through the MoveRunner, EC work through the EC
 * tier) → status (with the per-volume view), Events and metrics.
 */
import { healthyReplicas } from "../../model/health.ts";
import {
  type ProposalRecord,
  type StoragePolicy,
  StoragePolicySchema,
  type StoragePolicyStatus,
} from "../../api/storage_policy.ts";
import { VOLUME_REASONS } from "../../api/volume_reasons.ts";
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
import { PROPOSAL_EVENT_REASONS } from "../../tiering/approval.ts";
import { INVALID_OVERRIDE_EVENT } from "../../tiering/overrides.ts";
import { type PassResult, passTiers, type PlannedMove, planPass } from "../../tiering/pass.ts";
import type { OperatorSettings } from "../../tiering/policy.ts";
import { planStatus, proposalFromStatus } from "../../tiering/status_view.ts";
import type { PolicyPlan } from "../../tiering/volume_plan.ts";
import { ecPlacer, type EcTierHook, ecTierProblem, startEcWork } from "./ec_route.ts";
import { claimRef, policyRef, pvRef } from "./events.ts";
import { type Observation, observePass } from "./observe.ts";
import { type AnnotationProblem, passVolumesOf } from "./pass_volumes.ts";
import type { PersistentVolume } from "./resources.ts";
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
  pvcs: Store<KubeObject>;
  namespaces: Store<KubeObject>;
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
  plan?: PolicyPlan;
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
    const resync = this.#d.settings.resyncMs ?? resyncInterval(windowMs);
    return { requeueAfter: Math.min(resync, untilWindowOpens(summary.plan, this.#d.clock.now())) };
  };

  /** Drops what is kept for a deleted policy (its gauges). */
  forget(name: string): void {
    for (const tier of ["hot", "warm", "cold", "other"]) {
      this.#d.metrics.volumesByTier.remove({ policy: name, tier });
    }
    for (const reason of VOLUME_REASONS) {
      this.#d.metrics.volumeDecisions.remove({ policy: name, reason });
    }
    this.lastPass.delete(name);
  }

  async #pass(sp: StoragePolicy, raw: KubeObject, signal: AbortSignal): Promise<PassSummary> {
    const d = this.#d;
    const name = sp.metadata.name!;
    const seen = await observePass(d, sp, signal);
    const conds = [...seen.conditions];
    let counts: TierCounts | undefined;
    let result: PassResult | undefined;
    const started: MoveState[] = [];
    if (seen.mayastor) {
      const ecPolicy = await this.#ecPolicy(sp.spec.ecPolicyRef, signal);
      const ecProblem = ecTierProblem(sp.spec.ecPolicyRef, d.ecTier, ecPolicy);
      if (ecProblem) conds.push(ecProblem);
      result = await this.#plan(sp, raw, seen, ecPolicy);
      conds.push(poolsCondition(result));
      counts = this.#count(name, result);
      conds.push(...this.#start(name, result, ecPolicy, signal, started));
      await this.#proposalEvents(sp, raw, result.plan);
    }
    const plan = result?.plan;
    const phase = readiness(sp, seen, conds, plan, d.inFlight.count(name));
    await this.#metricsEvent(raw, seen.reading.ok, conds);
    await this.#status(name, {
      phase: phase.phase,
      conditions: [...conds, phase.ready],
      counts,
      ...(plan ? { view: planStatus(plan) } : {}),
    }, signal);
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

  /** The pure plan over what was observed; reports the volumes' annotation problems. */
  async #plan(
    sp: StoragePolicy,
    raw: KubeObject,
    seen: Observation,
    ecPolicy?: ErasureCodingPolicy,
  ): Promise<PassResult> {
    const d = this.#d;
    const name = sp.metadata.name!;
    const { pools, volumes } = seen.mayastor!;
    const ec = d.ecTier?.runner;
    const tiers = passTiers(pools, sp.spec);
    const pv = passVolumesOf(seen.selected, seen.contested, volumes, tiers, {
      has: (v) => d.inFlight.has(v),
      lastFinished: (v) => d.inFlight.lastFinished(v),
      isEcTiered: (v) => ec?.isEcTiered(v) ?? false,
    });
    for (const p of pv.problems) d.logger.warn("annotation ignored", { policy: name, ...p });
    await this.#overrideEvents(pv.overrideProblems);
    const previous =
      ((raw.status as StoragePolicyStatus | undefined)?.proposals ?? []) as ProposalRecord[];
    return planPass({
      policyName: name,
      spec: sp.spec,
      operator: d.settings,
      pools,
      volumes: pv.volumes,
      metrics: seen.reading.ok ? { at: seen.reading.at, iops: seen.reading.iops } : undefined,
      now: d.clock.now(),
      inFlight: { policy: d.inFlight.count(name), global: d.inFlight.count() },
      rejected: new Map([...seen.rejected].map(([k, r]) => [k, r.message])),
      previousProposals: previous.map(proposalFromStatus),
      moveId: () => crypto.randomUUID(),
      ec: ec && ecPolicy ? ecPlacer(ecPolicy) : undefined,
    });
  }

  /** Tier counts of the policy's volumes (status and the couchestor_volumes gauge). */
  #count(name: string, result: PassResult): TierCounts {
    const counts = countTiers(result.plan.outcomes.map((o) => o.from));
    for (const t of ["hot", "warm", "cold", "other"] as const) {
      this.#d.metrics.volumesByTier.set({ policy: name, tier: t }, counts[t]);
    }
    for (const reason of VOLUME_REASONS) {
      this.#d.metrics.volumeDecisions.set({ policy: name, reason }, result.plan.counts[reason]);
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
        volume: h.outcome.volume,
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

  /** A Warning Event on the PVC (or PV) whose pin or opt-out value is not accepted. */
  async #overrideEvents(problems: readonly AnnotationProblem[]): Promise<void> {
    const d = this.#d;
    for (const { subject, problem } of problems) {
      const regarding = problem.on === "pvc" && subject.pvc
        ? claimRef(subject.pvc)
        : pvRef(subject.pv.metadata.name ?? "", d.pvs);
      await d.events.record({
        regarding,
        type: "Warning",
        reason: INVALID_OVERRIDE_EVENT,
        action: "ReadAnnotations",
        note: problem.message,
      });
    }
  }

  /** An Event per proposal change (Manual approval), on the policy and on the volume's PVC. */
  async #proposalEvents(sp: StoragePolicy, raw: KubeObject, plan: PolicyPlan): Promise<void> {
    const d = this.#d;
    const name = sp.metadata.name!;
    for (const e of plan.proposals?.events ?? []) {
      const p = e.proposal;
      const who = p.claim ?? p.volume;
      const note = `${who}: ${p.from} → ${p.to} (${p.message}); proposal ${p.id}, expires ` +
        `${new Date(p.expiresMs).toISOString()}; approve with: couchestor approve ` +
        `${p.claim ?? `pv/${p.volume}`} --policy ${name}`;
      const ev = {
        type: "Normal" as const,
        reason: PROPOSAL_EVENT_REASONS[e.kind],
        action: "Propose",
        note,
      };
      await d.events.record({ regarding: policyRef(raw), ...ev });
      const pvc = p.claim ? d.pvcs.get(p.claim) : undefined;
      if (pvc) await d.events.record({ regarding: claimRef(pvc), ...ev });
    }
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

/** Time until the policy's move windows open, when some volume waits for that; else Infinity. */
function untilWindowOpens(plan: PolicyPlan | undefined, now: number): number {
  if (!plan || plan.window.open || plan.window.nextOpeningMs === undefined) return Infinity;
  if (plan.counts.OutsideMoveWindow === 0) return Infinity;
  return Math.max(1_000, plan.window.nextOpeningMs - now);
}

/** The Planned state of a planned move. */
function moveState(policy: string, w: PlannedMove, now: number): MoveState {
  return planMove({
    id: w.id,
    policy,
    volume: w.pv.pv,
    volumeUuid: w.volume.uuid,
    from: w.from,
    to: w.to,
    steps: w.steps,
    replicas: w.volume.replicas.map((r) => r.uuid),
    replicaCount: w.volume.replicaCount,
    healthyReplicas: healthyReplicas(w.volume).length,
    triggerIOPS: Math.round((w.outcome.iops ?? 0) * 100) / 100,
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
  plan: PolicyPlan | undefined,
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
  const held = seen.contested.size;
  const shared = held > 0
    ? `; ${held} volume(s) also selected by another policy are held (see status.volumeDecisions)`
    : "";
  return {
    phase: "Active",
    ready: ready(
      "True",
      "Reconciled",
      plan ? `${plan.moves.length} moves started; ${inFlight} in flight${shared}` : "reconciled",
    ),
  };
}
