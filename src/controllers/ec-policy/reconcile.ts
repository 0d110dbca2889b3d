/**
 * Reconcile of one ErasureCodingPolicy: validate it (Invalid with a condition naming the field,
 * and nothing else, when the schema or the placement fails); otherwise open its volumes' stores,
 * start a rebuild when stripes are damaged or a scrub when one is due, publish the volumes'
 * ECStripes, and sum every ECStripe of the policy into its status and metrics.
 */
import {
  EC_POLICY_SOURCE,
  type ErasureCodingPolicy,
  type ErasureCodingPolicyStatus,
  totalShards,
} from "../../api/mod.ts";
import type { Clock } from "../../clock.ts";
import { parseDuration } from "../../config/duration.ts";
import type { KubeClient } from "../../kube/client.ts";
import type { ReconcileContext, ReconcileResult } from "../../kube/controller.ts";
import { type EventRecorder, referenceTo } from "../../kube/events.ts";
import type { KubeObject, ResourceRef } from "../../kube/resource.ts";
import { updateStatusWithRetry } from "../../kube/status.ts";
import type { Store } from "../../kube/store.ts";
import type { Metrics } from "../../observability/metrics.ts";
import { type Aggregate, aggregate, invalidStatus, readyStatus, sameStatus } from "./aggregate.ts";
import { listPolicyStripes, syncRecords } from "./ecstripe_writer.ts";
import type { DesiredRecord } from "./ecstripe_records.ts";
import { checkPlacement, codeParams, type PolicyProblem, validatePolicy } from "./validate.ts";
import { bindingTargets, type EcVolume, type JobResult } from "./volume.ts";
import { currentBindings, type EcBindings, type EcVolumeBinding } from "../../ectier/bindings.ts";

/** The ErasureCodingPolicy resource. */
export const EC_POLICIES: ResourceRef = {
  group: EC_POLICY_SOURCE.group,
  version: EC_POLICY_SOURCE.version,
  plural: EC_POLICY_SOURCE.plural,
  namespaced: false,
  kind: EC_POLICY_SOURCE.kind,
};

/** Metric state labels of couchestor_ec_stripes. */
export const STRIPE_STATES = ["healthy", "degraded", "rebuilding", "failed", "writing"] as const;

/** Timing knobs (milliseconds). */
export interface EcPolicyTimings {
  /** Re-sync ECStripes and status this often while idle (default 30 s). */
  syncIntervalMs: number;
  /** …and this often while a scrub or rebuild runs, to publish progress (default 2 s). */
  progressIntervalMs: number;
  /** Wait this long before retrying a rebuild that left shards unrepaired (default 5 min). */
  rebuildRetryMs: number;
  /** Read budget of a rebuild in bytes per second; 0 means as fast as the disks go (default). */
  rebuildBytesPerSecond: number;
}

/** Default timings. */
export const DEFAULT_TIMINGS: EcPolicyTimings = {
  syncIntervalMs: 30_000,
  progressIntervalMs: 2_000,
  rebuildRetryMs: 300_000,
  rebuildBytesPerSecond: 0,
};

/** Collaborators of the reconciler. */
export interface EcPolicyReconcilerDeps {
  client: KubeClient;
  /** The policy informer's cache (raw objects: they are validated here). */
  policies: Store<KubeObject>;
  /** Volumes bound to policies: fixed, or a source read on every reconcile. */
  bindings: EcBindings;
  /** Opens (once) and returns the volume of a binding. */
  openVolume: (b: EcVolumeBinding, policy: ErasureCodingPolicy) => Promise<EcVolume>;
  /**
   * Writes a volume's ECStripes (default: at once). The controller serializes these writes per
   * volume with its release and skips a volume released meanwhile, so a reconcile that started
   * before a volume left the EC tier never re-creates its records.
   */
  publish?: (volume: string, desired: DesiredRecord[], signal?: AbortSignal) => Promise<void>;
  events: EventRecorder;
  metrics: Metrics;
  clock: Clock;
  /** Node name written into shard locations. */
  node: string;
  /** Queues a policy key again (a background job finished). */
  enqueue: (key: string) => void;
  timings?: Partial<EcPolicyTimings>;
}

/** Builds the reconcile function. */
export function createEcPolicyReconciler(deps: EcPolicyReconcilerDeps) {
  const t: EcPolicyTimings = { ...DEFAULT_TIMINGS, ...deps.timings };
  const warned = new Set<string>();

  return async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const raw = deps.policies.get(key);
    if (!raw) {
      for (const state of STRIPE_STATES) deps.metrics.ecStripes.remove({ policy: key, state });
      for (const kind of ["logical", "stored"]) deps.metrics.ecBytes.remove({ policy: key, kind });
      return;
    }
    const valid = validatePolicy(raw);
    if (!valid.ok) {
      await markInvalid(raw, valid.problem, ctx);
      return;
    }
    const policy = valid.policy;
    const bindings = currentBindings(deps.bindings).filter((b) => b.policy === key);
    const need = totalShards(policy.spec);
    const domains = await Promise.all(
      bindings.map(async (b) => ({
        volume: b.volume,
        failureDomains: await bindingTargets(b, need),
      })),
    );
    const placement = checkPlacement(policy, domains);
    if (placement) {
      await markInvalid(raw, placement, ctx);
      return;
    }

    const now = deps.clock.now();
    const intervalMs = parseDuration(policy.spec.scrub.interval);
    let next = t.syncIntervalMs;
    for (const b of bindings) {
      if (ctx.signal.aborted) return;
      // Still bound? (A changing binding source may have dropped it since the list was taken.)
      if (!currentBindings(deps.bindings).some((x) => x.volume === b.volume)) continue;
      const vol = await deps.openVolume(b, policy);
      await warnCodeMismatch(raw, policy, vol);
      // Observe and publish first, then act: a fresh failure shows as Degraded before Rebuilding.
      const obs = await vol.observe();
      const desired = await vol.records(policy, deps.node, obs);
      await (deps.publish ?? ((v, d, sig) => syncRecords(deps.client, v, d, sig)))(
        b.volume,
        desired,
        ctx.signal,
      );
      if (!vol.running && vol.needsRebuild(obs)) {
        const last = vol.lastRebuildEnd;
        if (last === undefined || now - last >= t.rebuildRetryMs) {
          ctx.logger.info("rebuilding damaged stripes", { volume: b.volume });
          vol.startRebuild(t.rebuildBytesPerSecond, (r) => onJobDone(raw, b, r));
        } else next = Math.min(next, last + t.rebuildRetryMs - now);
      }
      if (!vol.running && policy.spec.scrub.enabled && vol.store.stripes().length > 0) {
        const stat = await vol.store.stat();
        const due = vol.scrubDueAt(intervalMs, stat.lastScrub?.at);
        if (due <= now) {
          ctx.logger.info("scrubbing", { volume: b.volume });
          vol.startScrub(
            policy.spec.scrub.bandwidthLimitBytesPerSecond,
            (r) => onJobDone(raw, b, r),
          );
        } else next = Math.min(next, due - now);
      }
      if (vol.running) next = Math.min(next, t.progressIntervalMs);
    }

    const agg = aggregate(await listPolicyStripes(deps.client, key, ctx.signal));
    publishMetrics(key, agg);
    await writeStatus(
      key,
      ctx,
      (cur) => readyStatus({ ...policy, status: cur }, agg, new Date(now)),
    );
    return { requeueAfter: Math.max(0, next) };
  };

  /** Once per volume: its store keeps the code it was created with, whatever the policy says now. */
  async function warnCodeMismatch(raw: KubeObject, policy: ErasureCodingPolicy, vol: EcVolume) {
    const want = JSON.stringify(codeParams(policy));
    const have = JSON.stringify(vol.store.code);
    const key = `${vol.binding.volume}:${want}`;
    if (want === have || warned.has(key)) return;
    warned.add(key);
    await deps.events.record({
      regarding: referenceTo(raw),
      type: "Warning",
      reason: "StoreCodeDiffers",
      action: "Reconcile",
      note: `volume ${vol.binding.volume} was written as ${have}; the policy now says ${want}. ` +
        `Existing stripes keep their code; rewrite the volume to change it.`,
    });
  }

  function publishMetrics(policy: string, agg: Aggregate): void {
    for (const state of STRIPE_STATES) {
      deps.metrics.ecStripes.set({ policy, state }, agg.stripes[state]);
    }
    deps.metrics.ecBytes.set({ policy, kind: "logical" }, agg.logicalBytes);
    deps.metrics.ecBytes.set({ policy, kind: "stored" }, agg.storedBytes);
  }

  async function markInvalid(raw: KubeObject, problem: PolicyProblem, ctx: ReconcileContext) {
    const name = raw.metadata.name!;
    const changed = await writeStatus(
      name,
      ctx,
      (cur, generation) => invalidStatus(cur, generation, problem, new Date(deps.clock.now())),
    );
    if (changed) {
      ctx.logger.warn("policy invalid", { policy: name, field: problem.field });
      await deps.events.record({
        regarding: referenceTo(raw),
        type: "Warning",
        reason: problem.reason,
        action: "Validate",
        note: problem.message,
      });
    }
  }

  /** Writes the status computed from the current one; true when it changed. */
  async function writeStatus(
    name: string,
    ctx: ReconcileContext,
    compute: (
      cur: ErasureCodingPolicyStatus | undefined,
      generation: number | undefined,
    ) => ErasureCodingPolicyStatus,
  ): Promise<boolean> {
    let changed = false;
    await updateStatusWithRetry<KubeObject>(deps.client, EC_POLICIES, name, (cur) => {
      const prev = cur.status as ErasureCodingPolicyStatus | undefined;
      const next = compute(prev, cur.metadata.generation);
      if (sameStatus(prev ?? {}, next)) return undefined;
      changed = true;
      return next;
    }, { clock: deps.clock, signal: ctx.signal });
    return changed;
  }

  function onJobDone(raw: KubeObject, b: EcVolumeBinding, { kind, report }: JobResult): void {
    const repaired = report.findings.filter((f) => f.repaired).length;
    const problems = report.findings.length;
    const regarding = referenceTo(deps.policies.get(b.policy) ?? raw);
    const events: Promise<unknown>[] = [];
    const what = kind === "scrub" ? "scrub" : "rebuild";
    if (kind === "scrub") {
      events.push(deps.events.record({
        regarding,
        type: "Normal",
        reason: "ScrubCompleted",
        action: "Scrub",
        note:
          `volume ${b.volume}: verified ${report.stripes} stripes (${report.bytesRead} bytes), ` +
          `${problems} problems, ${repaired} repaired`,
      }));
    }
    if (problems > 0) {
      const sample = report.findings.slice(0, 5).map((f) =>
        `stripe ${f.stripe} shard ${f.shard} ${f.kind}${
          f.repaired ? ` repaired on ${f.target}` : ""
        }`
      ).join("; ");
      events.push(deps.events.record({
        regarding,
        type: repaired === problems ? "Normal" : "Warning",
        reason: kind === "scrub" ? "ScrubFoundProblems" : "ShardsReconstructed",
        action: kind === "scrub" ? "Scrub" : "Reconstruct",
        note: `volume ${b.volume}: ${what} found ${problems} damaged shards, repaired ${repaired}` +
          `: ${sample}`,
      }));
    }
    if (report.unrecoverable.length > 0) {
      events.push(deps.events.record({
        regarding,
        type: "Warning",
        reason: "StripesUnrecoverable",
        action: kind === "scrub" ? "Scrub" : "Reconstruct",
        note: `volume ${b.volume}: stripes ${report.unrecoverable.slice(0, 20).join(", ")} ` +
          `cannot be repaired (too many shards lost)`,
      }));
    }
    void Promise.all(events).finally(() => deps.enqueue(b.policy));
  }
}
