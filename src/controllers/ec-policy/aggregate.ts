/**
 * Policy status from ECStripe records: stripe counts by state (weighted by the stripes each
 * record covers), logical and stored bytes, the oldest verification time. Pure.
 */
import {
  type ECStripe,
  type ErasureCodingPolicy,
  type ErasureCodingPolicyStatus,
  storageEfficiency,
} from "../../api/mod.ts";
import { type Condition, setCondition } from "../../kube/conditions.ts";
import type { PolicyProblem } from "./validate.ts";

/** Annotation holding the exact volume bytes an ECStripe covers (its LBA range rounds up). */
export const DATA_BYTES_ANNOTATION = "storage.billyronks.io/data-bytes";

/** Stripe counts by state. */
export interface StripeCounts {
  total: number;
  healthy: number;
  degraded: number;
  rebuilding: number;
  failed: number;
  /** Records still being written (counted in total, shown in the metric only). */
  writing: number;
}

/** What the policy's records add up to. */
export interface Aggregate {
  stripes: StripeCounts;
  logicalBytes: number;
  storedBytes: number;
  /** Oldest `lastVerified` over every shard, when every shard has one. */
  lastScrub?: string;
}

/** Sums records (any mix of volumes and nodes) of one policy. */
export function aggregate(records: readonly ECStripe[]): Aggregate {
  const stripes: StripeCounts = {
    total: 0,
    healthy: 0,
    degraded: 0,
    rebuilding: 0,
    failed: 0,
    writing: 0,
  };
  let logicalBytes = 0;
  let storedBytes = 0;
  let lastScrub: string | undefined;
  let allVerified = records.length > 0;
  for (const r of records) {
    const n = r.spec.stripeCount;
    stripes.total += n;
    switch (r.status?.state) {
      case "Degraded":
        stripes.degraded += n;
        break;
      case "Rebuilding":
        stripes.rebuilding += n;
        break;
      case "Failed":
        stripes.failed += n;
        break;
      case "Writing":
        stripes.writing += n;
        break;
      default:
        // A record with no status yet counts as healthy only once its status says so.
        if (r.status?.state === "Healthy") stripes.healthy += n;
        else stripes.writing += n;
    }
    const exact = Number(r.metadata.annotations?.[DATA_BYTES_ANNOTATION]);
    logicalBytes += Number.isFinite(exact) ? exact : (r.spec.lbaEnd - r.spec.lbaStart) * 512;
    for (const s of r.spec.shards) storedBytes += s.sizeBytes;
    for (const s of r.status?.shards ?? [{ lastVerified: undefined }]) {
      if (!s.lastVerified) allVerified = false;
      else if (!lastScrub || s.lastVerified < lastScrub) lastScrub = s.lastVerified;
    }
  }
  return { stripes, logicalBytes, storedBytes, lastScrub: allVerified ? lastScrub : undefined };
}

/** Status of a valid policy: Ready when every stripe is healthy, Degraded otherwise. */
export function readyStatus(
  policy: ErasureCodingPolicy,
  agg: Aggregate,
  now: Date,
): ErasureCodingPolicyStatus {
  const s = agg.stripes;
  const bad = s.degraded + s.rebuilding + s.failed;
  const generation = policy.metadata.generation;
  const ready = bad === 0;
  const message = ready
    ? `${s.total} stripes healthy`
    : `${s.degraded} degraded, ${s.rebuilding} rebuilding, ${s.failed} failed of ${s.total} stripes`;
  const conditions = setCondition(policy.status?.conditions as Condition[] | undefined, {
    type: "Ready",
    status: ready ? "True" : "False",
    reason: ready ? "StripesHealthy" : s.failed > 0 ? "StripesFailed" : "StripesDegraded",
    message,
    observedGeneration: generation,
  }, now);
  const status: ErasureCodingPolicyStatus = {
    phase: ready ? "Ready" : "Degraded",
    conditions,
    stripes: {
      total: s.total,
      healthy: s.healthy,
      degraded: s.degraded,
      rebuilding: s.rebuilding,
      failed: s.failed,
    },
    storageEfficiency: Math.round(storageEfficiency(policy.spec) * 1000) / 1000,
  };
  if (generation !== undefined) status.observedGeneration = generation;
  const lastScrub = agg.lastScrub ?? policy.status?.lastScrubTime;
  if (lastScrub) status.lastScrubTime = lastScrub;
  return status;
}

/** Status of an invalid policy: phase Invalid, Ready=False naming the field; counts kept. */
export function invalidStatus(
  previous: ErasureCodingPolicyStatus | undefined,
  generation: number | undefined,
  problem: PolicyProblem,
  now: Date,
): ErasureCodingPolicyStatus {
  const conditions = setCondition(previous?.conditions as Condition[] | undefined, {
    type: "Ready",
    status: "False",
    reason: problem.reason,
    message: problem.message,
    observedGeneration: generation,
  }, now);
  const status: ErasureCodingPolicyStatus = { ...previous, phase: "Invalid", conditions };
  if (generation !== undefined) status.observedGeneration = generation;
  return status;
}

/** True when two statuses say the same thing (ignores key order). */
export function sameStatus(a: unknown, b: unknown): boolean {
  return stable(a) === stable(b);
}

function stable(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, x) =>
      x && typeof x === "object" && !Array.isArray(x)
        ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : 1)))
        : x,
  );
}
