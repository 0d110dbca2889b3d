/**
 * From a StoragePolicy spec (as src/api defines it, after defaults) to what the pure decision
 * and the migration planner need. Structural types only, so this module does not depend on
 * the api package's schema module.
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
  migrationTimeout?: string;
  enabled?: boolean;
  dryRun?: boolean;
  preservationMode?: boolean;
  metricsQuery?: string;
  hotPoolSelector?: TierSelectors["hot"];
  warmPoolSelector?: TierSelectors["warm"];
  coldPoolSelector?: TierSelectors["cold"];
}

/** Everything a policy pass needs, with durations in milliseconds. */
export interface PolicySettings {
  policy: TieringPolicy;
  selectors: TierSelectors;
  samplingWindowMs: number;
  migrationTimeoutMs: number;
  dryRun: boolean;
  preservation: boolean;
  /** The policy's own PromQL template, when set. */
  metricsQuery?: string;
}

/**
 * Reads a spec. `tiersAvailable` comes from the pools seen this pass; the operator-wide
 * `--dry-run` / `--preservation` flags are OR-ed with the policy's own switches.
 * Throws (with the field name) on an unparsable duration.
 */
export function policySettings(
  name: string,
  spec: TieringSpecFields,
  tiersAvailable: ReadonlySet<Tier>,
  flags: { dryRun?: boolean; preservation?: boolean } = {},
): PolicySettings {
  const dur = (field: string, text: string) => {
    try {
      return parseDuration(text);
    } catch (e) {
      throw new Error(`${field}: ${(e as Error).message}`);
    }
  };
  const selectors: TierSelectors = {
    ...(spec.hotPoolSelector ? { hot: spec.hotPoolSelector } : {}),
    ...(spec.warmPoolSelector ? { warm: spec.warmPoolSelector } : {}),
    ...(spec.coldPoolSelector ? { cold: spec.coldPoolSelector } : {}),
  };
  return {
    policy: {
      name,
      watermarks: {
        highWatermarkIOPS: spec.highWatermarkIOPS,
        warmWatermarkIOPS: spec.warmWatermarkIOPS,
        lowWatermarkIOPS: spec.lowWatermarkIOPS,
      },
      cooldownMs: dur("cooldownPeriod", spec.cooldownPeriod),
      maxConcurrentMigrations: spec.maxConcurrentMigrations,
      warmTier: selectors.warm !== undefined && spec.warmWatermarkIOPS !== undefined,
      tiersAvailable,
      enabled: spec.enabled ?? true,
    },
    selectors,
    samplingWindowMs: dur("samplingWindow", spec.samplingWindow),
    migrationTimeoutMs: dur("migrationTimeout", spec.migrationTimeout ?? "30m"),
    dryRun: (spec.dryRun ?? false) || (flags.dryRun ?? false),
    preservation: (spec.preservationMode ?? false) || (flags.preservation ?? false),
    ...(spec.metricsQuery ? { metricsQuery: spec.metricsQuery } : {}),
  };
}
