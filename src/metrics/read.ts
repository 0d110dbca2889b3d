/**
 * One policy's IOPS read as the StoragePolicy controller does it: the query for its window
 * (its own template or the defaults), a failure counted in
 * `couchestor_metrics_query_failures_total{policy,reason}`, and the `MetricsAvailable`
 * condition to put in the policy's status.
 */
import { formatDuration } from "../config/duration.ts";
import type { Metrics } from "../observability/metrics.ts";
import { templatesFor } from "./promql.ts";
import { summarizeRejections } from "./sample.ts";
import type { IopsResult, IopsSource, Rejection } from "./source.ts";

/** The `MetricsAvailable` status condition (lastTransitionTime is the status writer's job). */
export interface MetricsAvailableCondition {
  type: "MetricsAvailable";
  status: "True" | "False";
  reason: string;
  message: string;
}

/** What to read for one policy. */
export interface PolicyIopsRequest {
  policy: string;
  windowMs: number;
  /** The policy's `metricsQuery` template, when set. */
  metricsQuery?: string;
  at?: number;
  signal?: AbortSignal;
}

/** A policy's read: the result, the condition, and why each rejected volume has no reading. */
export interface PolicyIopsRead {
  result: IopsResult;
  condition: MetricsAvailableCondition;
  /** pv_name → rejection (empty when none); a volume here must not move on this pass. */
  rejected: ReadonlyMap<string, Rejection>;
}

/** Reads a policy's IOPS; never throws, counts failures, and says what the condition is. */
export async function readPolicyIops(
  source: IopsSource,
  req: PolicyIopsRequest,
  metrics?: Metrics,
): Promise<PolicyIopsRead> {
  let result: IopsResult;
  try {
    result = await source.fetchIops({
      windowMs: req.windowMs,
      templates: templatesFor(req.metricsQuery),
      at: req.at,
      signal: req.signal,
    });
  } catch (e) {
    // Sources do not throw by contract; a bug in one must still not move volumes.
    result = { ok: false, reason: "Unreachable", message: `source failed: ${String(e)}` };
  }
  const rejected = result.rejected ?? new Map<string, Rejection>();
  if (!result.ok) {
    metrics?.metricsQueryFailures.inc({ policy: req.policy, reason: result.reason });
    return {
      result,
      rejected,
      condition: {
        type: "MetricsAvailable",
        status: "False",
        reason: result.reason,
        message: `${result.message}; no volume is moved until metrics are back`,
      },
    };
  }
  const skipped = rejected.size > 0 ? `; ${summarizeRejections(rejected)}, not moved` : "";
  return {
    result,
    rejected,
    condition: {
      type: "MetricsAvailable",
      status: "True",
      reason: "MetricsRead",
      message: `IOPS of ${result.iops.size} volumes over ${formatDuration(req.windowMs)}${skipped}`,
    },
  };
}
