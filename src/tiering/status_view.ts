/**
 * A pass's outcome as the StoragePolicy status shows it: the bounded list of volumes held away
 * from their bands (most pressing first), counts by reason, and the proposals. Pure.
 */
import type { ProposalRecord, StoragePolicyStatus, VolumeDecision } from "../api/storage_policy.ts";
import { formatDuration } from "../config/duration.ts";
import type { Proposal } from "./approval.ts";
import { reasonRank } from "../api/volume_reasons.ts";
import type { PolicyPlan, VolumeOutcome } from "./volume_plan.ts";

/** The status fields a pass writes. */
export type PlanStatus = Required<
  Pick<StoragePolicyStatus, "volumeDecisions" | "decisionCounts" | "proposals" | "pendingApprovals">
>;

/** RFC 3339 without milliseconds, as the rest of the status writes times. */
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** A time left as a duration string, whole seconds rounded up (never "0s" for a wait). */
export function timeLeftText(ms: number): string {
  return formatDuration(Math.max(1, Math.ceil(ms / 1000)) * 1000);
}

/** One outcome as a status.volumeDecisions entry. */
export function toVolumeDecision(o: VolumeOutcome): VolumeDecision {
  const e: VolumeDecision = { volume: o.volume, reason: o.reason };
  if (o.claim) e.claim = o.claim;
  if (o.iops !== undefined) e.iops = Math.round(o.iops * 100) / 100;
  if (o.from) e.currentTier = o.from;
  if (o.to) e.wantedTier = o.to;
  if (o.timeLeftMs !== undefined && o.timeLeftMs > 0) e.timeLeft = timeLeftText(o.timeLeftMs);
  if (o.detail) e.message = o.detail.slice(0, 512);
  return e;
}

/** A proposal as status.proposals holds it. */
export function proposalToStatus(p: Proposal): ProposalRecord {
  const r: ProposalRecord = {
    id: p.id,
    volume: p.volume,
    from: p.from,
    to: p.to,
    reason: p.reason,
    message: p.message.slice(0, 512),
    created: iso(p.createdMs),
    expires: iso(p.expiresMs),
    state: p.state,
  };
  if (p.claim) r.claim = p.claim;
  if (p.targetPool) r.targetPool = p.targetPool;
  if (p.iops !== undefined) r.iops = Math.round(p.iops * 100) / 100;
  return r;
}

/** A status.proposals entry back as a proposal (for the next pass). */
export function proposalFromStatus(r: ProposalRecord): Proposal {
  const { created, expires, ...rest } = r;
  return { ...rest, createdMs: Date.parse(created), expiresMs: Date.parse(expires) };
}

/**
 * The status view of a plan: at most `limit` listed volumes, most pressing reason first
 * (then by name), the non-zero counts, and the proposals (none under approval: Auto).
 */
export function planStatus(plan: PolicyPlan, limit = 50): PlanStatus {
  const listed = plan.outcomes.filter((o) => o.listed)
    .sort((a, b) =>
      reasonRank(a.reason) - reasonRank(b.reason) ||
      (a.volume < b.volume ? -1 : a.volume > b.volume ? 1 : 0)
    )
    .slice(0, limit);
  const counts: PlanStatus["decisionCounts"] = {};
  for (const [reason, n] of Object.entries(plan.counts)) {
    if (n > 0) counts[reason as keyof typeof plan.counts] = n;
  }
  const proposals = (plan.proposals?.proposals ?? []).map(proposalToStatus);
  return {
    volumeDecisions: listed.map(toVolumeDecision),
    decisionCounts: counts,
    proposals,
    pendingApprovals: proposals.filter((p) => p.state === "Pending").length,
  };
}
