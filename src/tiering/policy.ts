/**
 * From a StoragePolicy spec (as src/api defines it, after defaults) and the operator's settings
 * to what the pure decision and the planner need. Every policy-level rule lives here once:
 * durations, the migration timeout (the policy's own, else the operator's --migration-timeout),
 * whether the policy has a warm band, the dry-run and preservation switches. Structural types
 * only, so this module does not depend on the api package's schema module.
 */
import { parseDuration } from "../config/duration.ts";
import type { Tier } from "../model/storage.ts";
import type { TierSelectors } from "./pools.ts";
import type { TieringPolicy } from "./decide.ts";

/** The StoragePolicy spec fields tiering reads (names as in the CRD). */
export interface TieringSpecFields {
  highWatermarkIOPS: number;
  warmWatermarkIOPS?: number;
  lowWatermarkIOPS: number;
  samplingWindow: string;
  cooldownPeriod: string;
  maxConcurrentMigrations: number;
  /** Unset: the operator's --migration-timeout applies. */
  migrationTimeout?: string;
  enabled?: boolean;
  dryRun?: boolean;
  preservationMode?: boolean;
  metricsQuery?: string;
  hotPoolSelector?: TierSelectors["hot"];
  warmPoolSelector?: TierSelectors["warm"];
  coldPoolSelector?: TierSelectors["cold"];
  ecPolicyRef?: string;
  ecMinVolumeSizeBytes?: number;
  /** Weekly windows outside which no move starts (the API's grammar). */
  moveWindows?: readonly string[];
  /** Manual: planned moves become proposals that run once approved. */
  approval?: "Auto" | "Manual";
  /** How long a proposal lives (default 24h). */
  approvalTTL?: string;
}

/** Operator-wide settings (from the command line) every pass applies. */
export interface OperatorSettings {
  /** --max-concurrent-migrations: work in flight across all policies. */
  globalLimit: number;
  /** --dry-run, OR-ed with each policy's dryRun. */
  dryRun: boolean;
  /** --preservation-mode, OR-ed with each policy's preservationMode. */
  preservation: boolean;
  /** --migration-timeout: the timeout of policies that set no migrationTimeout. */
  migrationTimeoutMs: number;
  /** Free space a target pool keeps beyond what a move puts on it, as a fraction of capacity. */
  freeSpaceHeadroom: number;
}

/** The default migration timeout (NFR-204) when neither the policy nor the flag sets one. */
export const DEFAULT_MIGRATION_TIMEOUT_MS = 30 * 60_000;

/** Everything a policy pass needs, with durations in milliseconds. */
export interface PolicySettings {
  policy: TieringPolicy;
  selectors: TierSelectors;
  samplingWindowMs: number;
  /** A metrics snapshot older than this is stale: one window plus a minute of scrape lag. */
  maxMetricsAgeMs: number;
  migrationTimeoutMs: number;
  dryRun: boolean;
  preservation: boolean;
  /** The policy's own PromQL template, when set. */
  metricsQuery?: string;
}

/** The pool selectors of a spec, per tier. */
export function tierSelectors(spec: TieringSpecFields): TierSelectors {
  return {
    ...(spec.hotPoolSelector ? { hot: spec.hotPoolSelector } : {}),
    ...(spec.warmPoolSelector ? { warm: spec.warmPoolSelector } : {}),
    ...(spec.coldPoolSelector ? { cold: spec.coldPoolSelector } : {}),
  };
}

/** Reads a duration field, naming it when it does not parse. */
export function specDuration(field: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (e) {
    throw new Error(`${field}: ${(e as Error).message}`);
  }
}

/**
 * Reads a spec. `tiers` (pool id → tier under this policy's selectors) says whether a warm
 * band exists (some pool is warm) and which tiers have an Online pool (`tiersAvailable`).
 * Throws (with the field name) on an unparsable duration.
 */
export function policySettings(
  name: string,
  spec: TieringSpecFields,
  tiers: ReadonlyMap<string, Tier>,
  tiersAvailable: ReadonlySet<Tier>,
  operator: Pick<OperatorSettings, "dryRun" | "preservation" | "migrationTimeoutMs">,
): PolicySettings {
  const samplingWindowMs = specDuration("samplingWindow", spec.samplingWindow);
  const warmPool = [...tiers.values()].includes("warm");
  return {
    policy: {
      name,
      watermarks: {
        highWatermarkIOPS: spec.highWatermarkIOPS,
        warmWatermarkIOPS: spec.warmWatermarkIOPS,
        lowWatermarkIOPS: spec.lowWatermarkIOPS,
      },
      cooldownMs: specDuration("cooldownPeriod", spec.cooldownPeriod),
      maxConcurrentMigrations: spec.maxConcurrentMigrations,
      // A warm band exists when the policy has a warm watermark and some pool is warm.
      warmTier: warmPool && spec.warmWatermarkIOPS !== undefined,
      tiersAvailable,
      enabled: spec.enabled ?? true,
    },
    selectors: tierSelectors(spec),
    samplingWindowMs,
    maxMetricsAgeMs: samplingWindowMs + 60_000,
    migrationTimeoutMs: spec.migrationTimeout === undefined
      ? operator.migrationTimeoutMs
      : specDuration("migrationTimeout", spec.migrationTimeout),
    dryRun: (spec.dryRun ?? false) || operator.dryRun,
    preservation: (spec.preservationMode ?? false) || operator.preservation,
    ...(spec.metricsQuery ? { metricsQuery: spec.metricsQuery } : {}),
  };
}
