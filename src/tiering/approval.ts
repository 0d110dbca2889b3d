/**
 * Manual approval of moves (`spec.approval: Manual`). Pure: time is passed in.
 *
 * A planned move becomes a proposal in the policy status (id, what, why, IOPS, target,
 * created, expires = created + approvalTTL). Someone approves it by annotating the volume's
 * PVC (or its PV) with `storage.billyronks.io/approve: <policy>/<id>` (what
 * `couchestor approve` writes). States:
 *
 *   Pending ──annotation names it──▶ Approved ──the move starts──▶ Started (dropped next pass)
 *      ▲                               │
 *      └──annotation removed───────────┘
 *   Pending / Approved ──now ≥ expires──▶ dropped (Expired)
 *   Pending / Approved ──the volume no longer wants that move──▶ dropped (Withdrawn)
 *
 * A proposal lives for approvalTTL from its creation whether or not it is approved, so an old
 * approval never starts a move under changed circumstances; with move windows, choose a TTL
 * that reaches the next window.
 */
import type { Tier } from "../model/storage.ts";

/** PVC (or PV) annotation naming the approved proposal as `<policy>/<id>`. */
export const APPROVE_ANNOTATION = "storage.billyronks.io/approve";

/** Where a proposal is. */
export type ProposalState = "Pending" | "Approved" | "Started";

/** A move proposed for approval (times in ms since the epoch). */
export interface Proposal {
  id: string;
  volume: string;
  claim?: string;
  from: Tier | "mixed";
  to: Tier;
  targetPool?: string;
  iops?: number;
  reason: "Promote" | "Demote";
  /** Why, for people (the band or pin). */
  message: string;
  createdMs: number;
  expiresMs: number;
  state: ProposalState;
}

/** A move the policy wants to make (the input proposals are made from). */
export type WantedMove = Omit<Proposal, "id" | "createdMs" | "expiresMs" | "state">;

/** One approval annotation, parsed. */
export interface ApprovalMark {
  policy: string;
  id: string;
}

/** What happened to a proposal in one pass (each one an Event on the policy and the volume). */
export type ProposalEventKind = "Proposed" | "Approved" | "Expired" | "Withdrawn";

/** Event reasons of the proposal events. */
export const PROPOSAL_EVENT_REASONS: Record<ProposalEventKind, string> = {
  Proposed: "MoveProposed",
  Approved: "MoveApproved",
  Expired: "ProposalExpired",
  Withdrawn: "ProposalWithdrawn",
};

/** A proposal event. */
export interface ProposalEvent {
  kind: ProposalEventKind;
  proposal: Proposal;
}

/** The annotation value approving proposal `id` of `policy`. */
export function approvalValue(policy: string, id: string): string {
  return `${policy}/${id}`;
}

/** Parses an approval annotation value (`<policy>/<id>`); undefined when malformed. */
export function parseApproval(value: string | undefined): ApprovalMark | undefined {
  const m = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\/([a-z0-9][-a-z0-9]*)$/.exec(value ?? "");
  return m ? { policy: m[1], id: m[3] } : undefined;
}

/** The approvals a volume carries (on its PVC and on its PV). */
export function readApprovals(
  pvc: Readonly<Record<string, string>> | undefined,
  pv: Readonly<Record<string, string>> | undefined,
): ApprovalMark[] {
  return [pvc, pv].map((a) => parseApproval(a?.[APPROVE_ANNOTATION]))
    .filter((m): m is ApprovalMark => m !== undefined);
}

/** A short stable id for a proposal (FNV-1a of what it is and when it was made). */
export function proposalId(policy: string, volume: string, to: Tier, createdMs: number): string {
  let h = 0x811c9dc5;
  for (const ch of `${policy}\u0000${volume}\u0000${to}\u0000${createdMs}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `p-${h.toString(16).padStart(8, "0")}`;
}

/** Inputs of one proposal pass. */
export interface ProposalInput {
  policy: string;
  /** Proposals from the status (last pass). */
  previous: readonly Proposal[];
  /** Moves the policy wants now (only ones no other rule blocks), one per volume. */
  wanted: readonly WantedMove[];
  /** Moves still wanted but blocked for now (backoff, not Online…): kept, not proposed. */
  paused?: readonly { volume: string; to: Tier }[];
  /** The approval annotations of each volume. */
  approvals: (volume: string) => readonly ApprovalMark[];
  nowMs: number;
  ttlMs: number;
  /** Most proposals kept (the status bound). */
  limit: number;
}

/** Outcome of one proposal pass. */
export interface ProposalOutcome {
  /** The proposals to write to status, oldest first. */
  proposals: Proposal[];
  /** Volume → its live proposal. */
  byVolume: Map<string, Proposal>;
  /** Wanted moves that got no proposal because the list is full. */
  overflow: Set<string>;
  events: ProposalEvent[];
}

/**
 * Carries proposals one pass on: drops expired, started and withdrawn ones, marks the ones an
 * annotation names Approved (and back to Pending when it is removed), proposes new moves.
 */
export function reconcileProposals(i: ProposalInput): ProposalOutcome {
  const wanted = new Map(i.wanted.map((w) => [w.volume, w]));
  const paused = new Map((i.paused ?? []).map((w) => [w.volume, w.to]));
  const events: ProposalEvent[] = [];
  const kept: Proposal[] = [];
  for (const p of i.previous) {
    if (p.state === "Started") continue;
    if (i.nowMs >= p.expiresMs) {
      events.push({ kind: "Expired", proposal: p });
      continue;
    }
    const w = wanted.get(p.volume);
    if ((w?.to ?? paused.get(p.volume)) !== p.to) {
      events.push({ kind: "Withdrawn", proposal: p });
      continue;
    }
    const approved = i.approvals(p.volume).some((m) => m.policy === i.policy && m.id === p.id);
    const next: Proposal = { ...p, state: approved ? "Approved" : "Pending" };
    if (w) {
      next.from = w.from;
      if (w.iops !== undefined) next.iops = w.iops;
      if (w.targetPool) next.targetPool = w.targetPool;
    }
    if (approved && p.state === "Pending") events.push({ kind: "Approved", proposal: next });
    kept.push(next);
  }
  const byVolume = new Map(kept.map((p) => [p.volume, p]));
  const overflow = new Set<string>();
  for (const w of i.wanted) {
    if (byVolume.has(w.volume)) continue;
    if (kept.length >= i.limit) {
      overflow.add(w.volume);
      continue;
    }
    const p: Proposal = {
      ...w,
      id: proposalId(i.policy, w.volume, w.to, i.nowMs),
      createdMs: i.nowMs,
      expiresMs: i.nowMs + i.ttlMs,
      state: "Pending",
    };
    kept.push(p);
    byVolume.set(p.volume, p);
    events.push({ kind: "Proposed", proposal: p });
  }
  return { proposals: kept, byVolume, overflow, events };
}

/** The proposals after the moves of `started` volumes began (they show as Started once). */
export function markStarted(proposals: readonly Proposal[], started: ReadonlySet<string>) {
  return proposals.map((p) =>
    started.has(p.volume) && p.state === "Approved" ? { ...p, state: "Started" as const } : p
  );
}
