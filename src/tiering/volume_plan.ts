/**
 * One policy pass with everything issue 16 adds around the pure `decide()`: pins and opt-outs,
 * held volumes of two policies, volume health, backoff, manual approval and move windows —
 * and, for every volume, the one reason it is (or is not) moving. Pure: no I/O, time and
 * metrics passed in. The controller and `couchestor explain` both call `planVolumes`, so what
 * explain says would happen is what the operator does.
 *
 * How it composes `decide()` (whose rules are not repeated here):
 *  1. explore: decide() with an unlimited budget says, per volume, whether it wants a move
 *     (a pinned volume is given the IOPS at the edge of its pinned tier's band and no
 *     cooldown, so decide() sends it there; a reading the metrics source rejected as
 *     implausible is not in the snapshot, and the volume says why);
 *  2. hold: a volume two policies select, or with an invalid annotation, is held whatever its
 *     IOPS; a wanted move is blocked by: policy disabled, opt-out, Faulted, not Online,
 *     backoff, no target pool, approval, a closed move window (first match wins);
 *  3. budget: decide() with the real budgets over the moves left picks the ones to start.
 */
import type { Tier } from "../model/storage.ts";
import type { ApprovalMark, Proposal, ProposalOutcome, WantedMove } from "./approval.ts";
import { markStarted, reconcileProposals } from "./approval.ts";
import { type BackoffRecord, backoffRemaining, DEFAULT_BACKOFF_BASE_MS } from "./backoff.ts";
import { classify, type Watermarks } from "./bands.ts";
import { decide, type DecideInput, type Decision, type VolumeState } from "./decide.ts";
import { describeOverride, type Override } from "./overrides.ts";
import { REASON_HELP, VOLUME_REASONS, type VolumeReason } from "../api/volume_reasons.ts";
import { type MoveWindow, type WindowState, windowState } from "../api/move_windows.ts";

/** A volume as the plan sees it: decide()'s view plus what issue 16 adds. */
export interface PlanVolume extends VolumeState {
  /** Its PVC as `namespace/name`. */
  claim?: string;
  /** Pin / opt-out annotations (overrides.ts `readOverride`). */
  override?: Override;
  /** Other enabled policies that select it too (selection.ts `policyVolumes`). */
  contestedBy?: readonly string[];
  /** Mayastor's volume status. */
  health?: "Online" | "Degraded" | "Faulted" | "Unknown";
  /**
   * Mayastor has not published it (no pod uses it): without IOPS it is reported Detached
   * rather than NoMetrics. It does not block a move (a detached cold volume is what the EC
   * tier archives).
   */
  detached?: boolean;
  /**
   * Why the PV's persisted work annotation is refused (unreadable, or naming another volume):
   * the volume is held as MigrationInFlight with this as the detail, never acted on.
   */
  workProblem?: string;
  /** From the PV's backoff annotation (backoff.ts `readBackoff`). */
  backoff?: BackoffRecord;
  /** Approval annotations on its PVC / PV (approval.ts `readApprovals`). */
  approvals?: readonly ApprovalMark[];
}

/**
 * Where a move would put the new replicas; a failure holds the volume as NoTargetPool, as
 * AlreadyOnTier when it already has its copy there (preservation mode keeps the old replica),
 * or as Detached when it is not published (a replica is rebuilt only through a nexus).
 */
export type PlaceFn = (
  volume: string,
  to: Tier,
) => { ok: true; targetPool: string } | {
  ok: false;
  detail: string;
  reason?: "NoTargetPool" | "AlreadyOnTier" | "Detached";
};

/** Everything one pass needs. */
export interface PlanInput extends Omit<DecideInput, "volumes"> {
  volumes: readonly PlanVolume[];
  /** Parsed `spec.moveWindows` (none = always open). */
  windows?: readonly MoveWindow[];
  /** `spec.approval` with the proposals of the last status (Auto when absent). */
  approval?: {
    mode: "Auto" | "Manual";
    ttlMs: number;
    previous: readonly Proposal[];
    limit?: number;
  };
  /** First backoff delay (default 5 min); the cap is the policy's cooldown. */
  backoffBaseMs?: number;
  /** Placement of a wanted move (must not reserve space: it is asked for moves not started). */
  place?: PlaceFn;
  /**
   * Volumes whose reading the metrics source rejected (not a number, non-finite, negative,
   * above the plausibility ceiling, stamped outside the window), with why: they have no reading
   * and carry ImplausibleMetrics. The source judges plausibility; this only reports it.
   */
  rejected?: ReadonlyMap<string, string>;
}

/** What happens to one volume this pass, and why. */
export interface VolumeOutcome {
  volume: string;
  claim?: string;
  /** True when its move is to be started now. */
  move: boolean;
  reason: VolumeReason;
  /** Its IOPS reading (when one was read and plausible). */
  iops?: number;
  from?: Tier | "mixed";
  /** The tier it should be on (its band's or its pin's), when known. */
  to?: Tier;
  /** For moves and proposals, when `place` was given. */
  targetPool?: string;
  /** How long until the reason lifts (cooldown, backoff, window, proposal expiry). */
  timeLeftMs?: number;
  /** Details for people. */
  detail?: string;
  /** Id of its proposal (approval: Manual). */
  proposal?: string;
  /** Belongs in status.volumeDecisions: not where its bands say, or held by a rule. */
  listed: boolean;
}

/** The result of one pass. */
export interface PolicyPlan {
  /** One outcome per input volume, in input order. */
  outcomes: VolumeOutcome[];
  /** The moves to start now, in start order (hottest promotions, then coldest demotions). */
  moves: VolumeOutcome[];
  /** How many volumes carry each reason. */
  counts: Record<VolumeReason, number>;
  window: WindowState;
  /** New moves the budgets allowed this pass. */
  budget: number;
  /** Approval: Manual only: the proposals to write to status and the events to record. */
  proposals?: ProposalOutcome;
}

const WANTS = new Set<VolumeReason>(["Promote", "Demote"]);
/** Blocks that pass on their own: a proposal waiting behind one of them is kept. */
const PAUSING = new Set<VolumeReason>(["Faulted", "NotOnline", "BackingOff", "NoTargetPool"]);

/** Plans one pass of a policy; see the module comment for the order of the rules. */
export function planVolumes(input: PlanInput): PolicyPlan {
  const { policy, now } = input;
  const n = input.volumes.length;
  const adjusted = adjust(input);
  const explore = decide({
    ...input,
    policy: { ...policy, enabled: true, maxConcurrentMigrations: n },
    volumes: adjusted.volumes,
    metrics: adjusted.metrics,
    inFlight: { policy: 0, global: 0 },
    globalLimit: n,
  });
  const outcomes = input.volumes.map((v, i) => hold(input, v, explore.decisions[i]));

  const byName = new Map(input.volumes.map((v, i) => [v.name, i]));
  let candidates = outcomes.filter((o) => WANTS.has(o.reason));
  // Moves still wanted but blocked for a while keep their proposal (and its approval).
  const paused = outcomes.filter((o, i) =>
    WANTS.has(explore.decisions[i].reason) && PAUSING.has(o.reason)
  );
  const proposals = input.approval?.mode === "Manual"
    ? approve(input, candidates, paused, (name) => input.volumes[byName.get(name)!])
    : undefined;
  if (proposals) candidates = candidates.filter((o) => o.reason !== "AwaitingApproval");

  const window = windowState(input.windows ?? [], now);
  if (!window.open) {
    for (const o of candidates) {
      o.reason = "OutsideMoveWindow";
      o.listed = true;
      if (window.nextOpeningMs !== undefined) o.timeLeftMs = window.nextOpeningMs - now;
    }
    candidates = [];
  }

  const chosen = new Set(candidates.map((o) => o.volume));
  const final = decide({
    ...input,
    volumes: adjusted.volumes.filter((v) => chosen.has(v.name)),
    metrics: adjusted.metrics,
  });
  for (const d of final.decisions) {
    const o = outcomes[byName.get(d.volume)!];
    o.move = d.move;
    if (d.move) continue;
    o.reason = d.reason;
    if (d.reason === "ConcurrencyLimit") {
      o.detail = `the budget of ${final.budget} new moves this pass is spent ` +
        `(${input.inFlight.policy} of this policy and ${input.inFlight.global} in all in flight)`;
    }
  }
  const moves = final.moves.map((d) => outcomes[byName.get(d.volume)!]);
  if (proposals) {
    proposals.proposals = markStarted(proposals.proposals, new Set(moves.map((m) => m.volume)));
  }
  const counts = Object.fromEntries(VOLUME_REASONS.map((r) => [r, 0])) as PolicyPlan["counts"];
  for (const o of outcomes) counts[o.reason]++;
  return { outcomes, moves, counts, window, budget: final.budget, proposals };
}

/** decide()'s inputs with pins turned into band-edge IOPS. */
function adjust(input: PlanInput): { volumes: VolumeState[]; metrics: DecideInput["metrics"] } {
  const m = input.metrics;
  const iops = m ? new Map(m.iops) : undefined;
  const volumes = input.volumes.map((v): VolumeState => {
    const pin = v.override?.kind === "pin" ? v.override.tier : undefined;
    const edge = pin && pinIops(pin, input.policy.watermarks, input.policy.warmTier);
    if (edge === undefined) return v;
    iops?.set(v.name, edge);
    // A pin is a person's explicit wish: it does not wait for the cooldown.
    return { ...v, lastMigrationMs: undefined };
  });
  return { volumes, metrics: m && iops ? { at: m.at, iops } : m };
}

/** The IOPS at the edge of a tier's band (classify() sends it there), or undefined. */
export function pinIops(tier: Tier, w: Watermarks, warmTier: boolean): number | undefined {
  const edge = tier === "hot"
    ? w.highWatermarkIOPS
    : tier === "cold"
    ? w.lowWatermarkIOPS
    : w.warmWatermarkIOPS;
  if (edge === undefined) return undefined;
  const band = classify(edge, w, warmTier);
  return band.kind === "target" && band.tier === tier ? edge : undefined;
}

/** The outcome of one volume before approval, windows and budgets. */
function hold(input: PlanInput, v: PlanVolume, d: Decision): VolumeOutcome {
  const o = baseOutcome(input, v, d);
  const pin = v.override?.kind === "pin" ? v.override : undefined;
  const heldAnyway = !!v.contestedBy?.length || v.override?.kind === "invalid" ||
    v.override?.kind === "optOut" || input.policy.enabled === false ||
    (pin && pinIops(pin.tier, input.policy.watermarks, input.policy.warmTier) === undefined);
  if (!WANTS.has(d.reason) || heldAnyway) return standing(input, v, d, o);
  listed(o, true);
  o.detail = pin
    ? describeOverride(pin, v.claim, v.name)
    : bandText(o.iops, input.policy.watermarks, o.to!);
  return blocked(input, v, o);
}

/** The outcome as decide() gave it, with the real IOPS, the pin's tier and the listing. */
function baseOutcome(input: PlanInput, v: PlanVolume, d: Decision): VolumeOutcome {
  const raw = input.metrics?.iops.get(v.name);
  const pin = v.override?.kind === "pin" ? v.override.tier : undefined;
  const o: VolumeOutcome = { volume: v.name, move: false, reason: d.reason, listed: false };
  if (d.from ?? v.tier) o.from = d.from ?? v.tier;
  if (v.claim) o.claim = v.claim;
  if (raw !== undefined && Number.isFinite(raw) && raw >= 0) o.iops = raw;
  if (pin ?? d.to) o.to = pin ?? d.to;
  if (d.cooldownRemainingMs) o.timeLeftMs = d.cooldownRemainingMs;
  if (d.detail) o.detail = d.detail;
  // The tier the IOPS bands alone ask for (pins aside): what "not where the bands say" means.
  const band = o.iops === undefined
    ? undefined
    : classify(o.iops, input.policy.watermarks, input.policy.warmTier);
  const bandTier = pin ? (band?.kind === "target" ? band.tier : undefined) : d.to;
  o.listed = bandTier !== undefined && bandTier !== o.from;
  return o;
}

const QUIET = new Set<VolumeReason>(["AlreadyOnTier", "WithinBand"]);

/** A volume held whatever its IOPS, or one decide() does not move: its reason. */
function standing(input: PlanInput, v: PlanVolume, d: Decision, o: VolumeOutcome): VolumeOutcome {
  const pin = v.override?.kind === "pin" ? v.override.tier : undefined;
  if (d.reason === "MigrationInFlight" && v.workProblem) {
    return listed(
      because(
        o,
        "MigrationInFlight",
        `its work annotation is refused and left alone: ${v.workProblem}`,
      ),
      true,
    );
  }
  if (d.reason === "InvalidPolicy" || d.reason === "MigrationInFlight") return listed(o, true);
  if (v.contestedBy?.length) {
    return listed(
      because(o, "ConflictingPolicies", `also selected by ${v.contestedBy.join(", ")}`),
      true,
    );
  }
  if (v.override?.kind === "invalid") {
    return listed(
      because(o, "InvalidOverride", describeOverride(v.override, v.claim, v.name)),
      true,
    );
  }
  if (input.policy.enabled === false) return because(o, "PolicyDisabled");
  if (v.override?.kind === "optOut") {
    return because(o, "OptedOut", describeOverride(v.override, v.claim, v.name));
  }
  if (pin && pinIops(pin, input.policy.watermarks, input.policy.warmTier) === undefined) {
    if (o.from === pin) return because(o, "Pinned", describeOverride(v.override!, v.claim, v.name));
    return listed(
      because(o, "NoTargetPool", `pinned to ${pin}, but the policy has no ${pin} band`),
      true,
    );
  }
  if (d.reason === "NoMetrics") {
    const why = input.rejected?.get(v.name);
    if (why !== undefined) return listed(because(o, "ImplausibleMetrics", why), true);
    return listed(v.detached ? because(o, "Detached") : o, true);
  }
  if (pin && d.reason === "AlreadyOnTier") {
    return because(o, "Pinned", describeOverride(v.override!, v.claim, v.name));
  }
  return listed(o, o.listed || !QUIET.has(o.reason));
}

/** A wanted move held by the volume's health, its backoff or placement; else still wanted. */
function blocked(input: PlanInput, v: PlanVolume, o: VolumeOutcome): VolumeOutcome {
  if (v.health === "Faulted") return because(o, "Faulted");
  if (v.health === "Degraded" || v.health === "Unknown") {
    return because(o, "NotOnline", `Mayastor reports it ${v.health}; ${REASON_HELP.NotOnline}`);
  }
  const left = backoffRemaining(
    v.backoff,
    { baseMs: input.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS, capMs: input.policy.cooldownMs },
    input.now,
  );
  if (left > 0) {
    const b = v.backoff!;
    o.timeLeftMs = left;
    return because(
      o,
      "BackingOff",
      `${b.failures} failed move(s) in a row, the last ${b.lastResult}` +
        (b.error ? `: ${b.error}` : ""),
    );
  }
  const place = input.place?.(v.name, o.to!);
  if (place && !place.ok) return because(o, place.reason ?? "NoTargetPool", place.detail);
  if (place?.ok) o.targetPool = place.targetPool;
  return o;
}

/** Sets the reason (and its detail); a time left stays only for waits that have one. */
function because(o: VolumeOutcome, reason: VolumeReason, detail?: string): VolumeOutcome {
  o.reason = reason;
  o.detail = detail ?? REASON_HELP[reason];
  if (reason !== "InCooldown" && reason !== "BackingOff") delete o.timeLeftMs;
  return o;
}

function listed(o: VolumeOutcome, on: boolean): VolumeOutcome {
  o.listed = on;
  return o;
}

/** Why the bands ask for `to`, e.g. `12 IOPS <= lowWatermarkIOPS 200`. */
export function bandText(iops: number | undefined, w: Watermarks, to: Tier): string {
  const at = `${iops === undefined ? "?" : Math.round(iops * 100) / 100} IOPS`;
  if (to === "hot") return `${at} >= highWatermarkIOPS ${w.highWatermarkIOPS}`;
  if (to === "cold") return `${at} <= lowWatermarkIOPS ${w.lowWatermarkIOPS}`;
  return `${at} in the warm band (${w.lowWatermarkIOPS}, ${w.warmWatermarkIOPS}]`;
}

/** Manual approval: proposals for the wanted moves; unapproved ones wait. */
function approve(
  input: PlanInput,
  candidates: VolumeOutcome[],
  paused: readonly VolumeOutcome[],
  volume: (name: string) => PlanVolume,
): ProposalOutcome {
  const a = input.approval!;
  const wanted = candidates.map((o): WantedMove => ({
    volume: o.volume,
    ...(o.claim ? { claim: o.claim } : {}),
    from: o.from!,
    to: o.to!,
    ...(o.targetPool ? { targetPool: o.targetPool } : {}),
    ...(o.iops === undefined ? {} : { iops: o.iops }),
    reason: o.reason === "Promote" ? "Promote" : "Demote",
    message: o.detail ?? "",
  }));
  const out = reconcileProposals({
    policy: input.policy.name,
    previous: a.previous,
    wanted,
    paused: paused.map((o) => ({ volume: o.volume, to: o.to! })),
    approvals: (name) => volume(name).approvals ?? [],
    nowMs: input.now,
    ttlMs: a.ttlMs,
    limit: a.limit ?? 50,
  });
  for (const o of candidates) {
    const p = out.byVolume.get(o.volume);
    if (p?.state === "Approved") {
      o.proposal = p.id;
      continue;
    }
    o.reason = "AwaitingApproval";
    if (!p) {
      o.detail = `the proposal list is full (${a.limit ?? 50}); approve or let others expire`;
      continue;
    }
    o.proposal = p.id;
    o.timeLeftMs = p.expiresMs - input.now;
    o.detail = `proposal ${p.id}: ${p.message}; approve with ` +
      `couchestor approve ${o.claim ?? `pv/${o.volume}`} --policy ${input.policy.name}`;
  }
  return out;
}
