/**
 * One volume's Kubernetes objects (PV, bound PVC) and Mayastor's view of it, turned into what
 * `planVolumes` needs, plus the annotation problems to report. Pure. The controller and
 * `couchestor explain` both build their plan inputs here, so they read a volume the same way.
 */
import type { Tier, Volume } from "../model/storage.ts";
import { readApprovals } from "./approval.ts";
import { readBackoff } from "./backoff.ts";
import { lastMigrationFrom } from "./cooldown.ts";
import { type OverrideProblem, readOverride } from "./overrides.ts";
import { volumeTier } from "./placement.ts";
import { boundClaim, claimKey, type VolumeSubject } from "./selection.ts";
import type { PlanVolume } from "./volume_plan.ts";

/** What is known about one volume of a policy. */
export interface VolumeFactsInput {
  subject: VolumeSubject;
  /** Mayastor's volume (the PV's volumeHandle), when found. */
  volume?: Volume;
  /** Pool id → tier under the policy's pool selectors. */
  tiers: ReadonlyMap<string, Tier>;
  /** A move of it is running in this process (the controller's tracker). */
  tracked?: boolean;
  /** When this process last saw a move of it finish (ms), if later than the PV stamp. */
  lastFinishedMs?: number;
  /** Other enabled policies that select it (selection.ts `policyVolumes`). */
  contestedBy?: readonly string[];
  /** Its data is in erasure-coded stripes: it is on the cold tier. */
  ecTiered?: boolean;
  /** Another mover (the EC tier) is busy with it. */
  busy?: boolean;
  /**
   * What the PV's persisted work annotations say (the caller decodes them with the machines'
   * codecs): unfinished or unreadable work holds the volume; a problem is reported.
   */
  persisted?: { inFlight: boolean; problem?: string };
}

/** The plan input of a volume and what its annotations got wrong. */
export interface VolumeFacts {
  plan: PlanVolume;
  /** Invalid pin / opt-out values, each for a Warning Event on the object named. */
  overrideProblems: OverrideProblem[];
  /** An unreadable backoff or migration annotation (to log; it is ignored). */
  problems: string[];
}

/** Reads one volume. */
export function volumeFacts(i: VolumeFactsInput): VolumeFacts {
  const pv = i.subject.pv;
  const pvc = boundClaim(i.subject);
  const pvAnn = pv.metadata.annotations;
  const pvcAnn = pvc?.metadata.annotations;
  const override = readOverride(pvcAnn, pvAnn);
  const backoff = readBackoff(pvAnn);
  const move = i.persisted ?? { inFlight: false };
  const stamped = lastMigrationFrom(pvAnn);
  const last = stamped === undefined ? i.lastFinishedMs : Math.max(stamped, i.lastFinishedMs ?? 0);
  const plan: PlanVolume = {
    name: pv.metadata.name ?? "",
    tier: i.ecTiered ? "cold" : i.volume ? volumeTier(i.volume, i.tiers) : undefined,
    inFlight: !!i.tracked || !!i.busy || move.inFlight,
    override,
    approvals: readApprovals(pvcAnn, pvAnn),
  };
  const claim = claimKey(pv);
  if (claim) plan.claim = claim;
  if (last !== undefined) plan.lastMigrationMs = last;
  if (i.contestedBy?.length) plan.contestedBy = i.contestedBy;
  if (backoff.record) plan.backoff = backoff.record;
  if (move.problem) plan.workProblem = move.problem;
  // An EC-tiered volume's data is in stripes: its replica-less Mayastor volume's status says
  // nothing about its health, and it is never "detached" (it has no replica to attach).
  if (i.volume && !i.ecTiered) {
    plan.health = i.volume.status;
    plan.detached = i.volume.targetNode === undefined;
  }
  const problems = [backoff.problem, move.problem].filter((p): p is string => !!p);
  return {
    plan,
    overrideProblems: override.kind === "invalid" ? override.problems : [],
    problems,
  };
}
