/**
 * One reconcile pass of a StoragePolicy, minus the I/O: from the spec, the pools, the
 * policy's volumes (with their PV annotations) and one IOPS reading, the decisions and the
 * Planned states of the moves to start. Pure; the controller fetches, then hands the states
 * to a MoveRunner and writes the decisions to status.
 */
import type { Pool, Tier, Volume } from "../model/storage.ts";
import { type MoveState, planMove } from "../migration/state.ts";
import { lastMigrationFrom } from "./cooldown.ts";
import { decide, type Decision, type MetricsSnapshot, type TieringPlan } from "./decide.ts";
import {
  availableTiers,
  choosePlacement,
  type Placement,
  poolTiers,
  volumeTier,
} from "./placement.ts";
import { type PolicySettings, policySettings, type TieringSpecFields } from "./policy.ts";

/** A volume of the policy: its PV name and annotations, and the backend's view of it. */
export interface PassVolume {
  pv: string;
  annotations?: Readonly<Record<string, string>>;
  volume: Volume;
}

/** Inputs of one pass. */
export interface PassInput {
  policyName: string;
  spec: TieringSpecFields;
  /** Operator-wide switches OR-ed with the policy's. */
  flags?: { dryRun?: boolean; preservation?: boolean };
  pools: readonly Pool[];
  volumes: readonly PassVolume[];
  /** undefined when the read failed. */
  metrics: MetricsSnapshot | undefined;
  now: number;
  /** Snapshot age limit; two sampling windows by default. */
  maxMetricsAgeMs?: number;
  inFlight: { policy: number; global: number };
  globalLimit: number;
  /** True while a move of this PV runs (or is persisted unfinished). */
  isMoving: (pv: string) => boolean;
  /** Move ids; `<pv>-<now>` by default. */
  moveId?: (pv: string, now: number) => string;
}

/** Result of one pass. */
export interface PassResult {
  settings: PolicySettings;
  /** Pool id → tier under this policy's selectors. */
  tiers: Map<string, Tier>;
  plan: TieringPlan;
  /** Planned states of the moves to start now, in start order. */
  starts: MoveState[];
  /** Moves the decision wanted but no placement was found for (not started). */
  unplaced: { decision: Decision; placement: Extract<Placement, { ok: false }> }[];
}

/** Runs the decision and plans the moves. Throws on an unparsable duration in the spec. */
export function planPass(input: PassInput): PassResult {
  const provisional = policySettings(input.policyName, input.spec, new Set(), input.flags);
  const tiers = poolTiers(input.pools, provisional.selectors);
  const settings = policySettings(
    input.policyName,
    input.spec,
    availableTiers(input.pools, tiers),
    input.flags,
  );
  const byPv = new Map(input.volumes.map((v) => [v.pv, v]));
  const plan = decide({
    policy: settings.policy,
    volumes: input.volumes.map((v) => ({
      name: v.pv,
      tier: volumeTier(v.volume, tiers),
      lastMigrationMs: lastMigrationFrom(v.annotations),
      inFlight: input.isMoving(v.pv),
    })),
    metrics: input.metrics,
    now: input.now,
    maxMetricsAgeMs: input.maxMetricsAgeMs ?? 2 * settings.samplingWindowMs,
    inFlight: input.inFlight,
    globalLimit: input.globalLimit,
  });
  const starts: MoveState[] = [];
  const unplaced: PassResult["unplaced"] = [];
  const id = input.moveId ?? ((pv: string, now: number) => `${pv}-${now}`);
  // Space taken by this pass's own placements counts, so one pass doesn't overfill a pool.
  const pools = input.pools.map((p) => ({ ...p }));
  const poolById = new Map(pools.map((p) => [p.id, p]));
  for (const d of plan.moves) {
    const pv = byPv.get(d.volume)!;
    const placement = choosePlacement(pv.volume, pools, tiers, d.to!);
    if (!placement.ok) {
      unplaced.push({ decision: d, placement });
      continue;
    }
    poolById.get(placement.targetPool)!.usedBytes += pv.volume.sizeBytes;
    starts.push(planMove({
      id: id(d.volume, input.now),
      policy: input.policyName,
      volume: d.volume,
      volumeUuid: pv.volume.uuid,
      from: placement.from,
      to: d.to!,
      oldReplica: placement.oldReplica,
      oldPool: placement.oldPool,
      targetPool: placement.targetPool,
      replicas: pv.volume.replicas.map((r) => r.uuid),
      replicaCount: pv.volume.replicaCount,
      triggerIOPS: d.iops ?? 0,
      now: input.now,
      timeoutMs: settings.migrationTimeoutMs,
      dryRun: settings.dryRun,
      preservation: settings.preservation,
    }));
  }
  return { settings, tiers, plan, starts, unplaced };
}
