/**
 * One tiering pass of a StoragePolicy, minus the I/O: from the spec, the operator's settings,
 * the pools, the policy's volumes (with their PV annotations) and one IOPS reading, every
 * volume's decision and the work to start now: replica moves placed on pools, and (when the
 * caller gives an EC placer) archives to and restores from the erasure-coded cold tier. Space
 * taken by this pass's own placements counts, with the configured headroom, so two moves of
 * one pass never overfill a pool. Pure; the controller fetches, starts the work and writes the
 * decisions to status.
 */
import type { Pool, Tier, Volume } from "../model/storage.ts";
import { lastMigrationFrom } from "./cooldown.ts";
import { decide, type Decision, type MetricsSnapshot, type TieringPlan } from "./decide.ts";
import { chooseEcTier } from "./ec_route.ts";
import { availableTiers, choosePlacement, poolTiers, volumeTier } from "./placement.ts";
import {
  type OperatorSettings,
  type PolicySettings,
  policySettings,
  type TieringSpecFields,
  tierSelectors,
} from "./policy.ts";

/** A volume of the policy: its PV name and annotations, and the backend's view of it. */
export interface PassVolume {
  pv: string;
  annotations?: Readonly<Record<string, string>>;
  volume: Volume;
  /** True when its data lives in erasure-coded stripes (it counts as cold). */
  ecTiered?: boolean;
}

/** Where the EC tier puts a volume, or why it can't (the caller's placement rules). */
export type EcPlacement =
  | { ok: true; pools: string[]; bytesPerPool: number }
  | { ok: false; reason: string; message: string };

/** The EC tier's placement, handed in by the caller that runs the EC tier. */
export interface EcPlacer {
  /** Shard pools for archiving the volume into stripes. */
  archive(v: Volume, pools: readonly Pool[], tiers: ReadonlyMap<string, Tier>): EcPlacement;
  /** Replica pools on `to` for bringing an EC-tiered volume back. */
  restore(
    v: Volume,
    to: Tier,
    pools: readonly Pool[],
    tiers: ReadonlyMap<string, Tier>,
  ): EcPlacement;
}

/** Inputs of one pass. */
export interface PassInput {
  policyName: string;
  spec: TieringSpecFields;
  operator: OperatorSettings;
  pools: readonly Pool[];
  volumes: readonly PassVolume[];
  /** undefined when the read failed. */
  metrics: MetricsSnapshot | undefined;
  now: number;
  /** Work already in flight, of this policy and across all policies. */
  inFlight: { policy: number; global: number };
  /** True while work on this PV runs (or is persisted unfinished). */
  isMoving: (pv: string) => boolean;
  /** When this process last finished work on the PV (a cooldown floor); optional. */
  lastFinished?: (pv: string) => number | undefined;
  /** Move ids; `<pv>-<now>` by default. */
  moveId?: (pv: string, now: number) => string;
  /** The EC tier's placement; without it every volume stays on replicas. */
  ec?: EcPlacer;
}

/** A replica move to start: which replica leaves which pool for which pool. */
export interface PlannedMove {
  kind: "move";
  decision: Decision;
  id: string;
  pv: PassVolume;
  from: Tier;
  to: Tier;
  oldReplica: string;
  oldPool: string;
  targetPool: string;
  timeoutMs: number;
  dryRun: boolean;
  preservation: boolean;
}

/** Work on the EC tier to start: an archive into stripes or a restore onto replicas. */
export interface PlannedEcWork {
  kind: "ec-archive" | "ec-restore";
  decision: Decision;
  id: string;
  pv: PassVolume;
  to: Tier;
  ecPolicy: string;
  /** Shard pools (archive) or replica pools (restore). */
  pools: string[];
  timeoutMs: number;
}

/** Work the pass starts. */
export type PlannedWork = PlannedMove | PlannedEcWork;

/** A move the decision wanted that could not be placed (not started), and why. */
export interface HeldMove {
  decision: Decision;
  reason: string;
  detail: string;
}

/** Result of one pass. */
export interface PassResult {
  settings: PolicySettings;
  /** Pool id → tier under this policy's selectors. */
  tiers: Map<string, Tier>;
  plan: TieringPlan;
  /** The work to start now, in start order. */
  work: PlannedWork[];
  held: HeldMove[];
}

/** Runs the decision and places the work. Throws on an unparsable duration in the spec. */
export function planPass(input: PassInput): PassResult {
  const tiers = poolTiers(input.pools, tierSelectors(input.spec));
  const settings = policySettings(
    input.policyName,
    input.spec,
    tiers,
    availableTiers(input.pools, tiers),
    input.operator,
  );
  const byPv = new Map(input.volumes.map((v) => [v.pv, v]));
  const plan = decide({
    policy: settings.policy,
    volumes: input.volumes.map((v) => ({
      name: v.pv,
      tier: v.ecTiered ? "cold" : volumeTier(v.volume, tiers),
      lastMigrationMs: latest(lastMigrationFrom(v.annotations), input.lastFinished?.(v.pv)),
      inFlight: input.isMoving(v.pv),
    })),
    metrics: input.metrics,
    now: input.now,
    maxMetricsAgeMs: settings.maxMetricsAgeMs,
    inFlight: input.inFlight,
    globalLimit: input.operator.globalLimit,
  });
  const placer = new Placer(input, settings, tiers);
  for (const d of plan.moves) placer.place(d, byPv.get(d.volume)!);
  return { settings, tiers, plan, work: placer.work, held: placer.held };
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/** Places one pass's moves on a private copy of the pools, reserving what each takes. */
class Placer {
  readonly work: PlannedWork[] = [];
  readonly held: HeldMove[] = [];
  readonly #pools: Pool[];
  readonly #byId: Map<string, Pool>;
  readonly #headroom: number;
  readonly #id: (pv: string, now: number) => string;

  constructor(
    readonly input: PassInput,
    readonly settings: PolicySettings,
    readonly tiers: ReadonlyMap<string, Tier>,
  ) {
    this.#pools = input.pools.map((p) => ({ ...p }));
    this.#byId = new Map(this.#pools.map((p) => [p.id, p]));
    this.#headroom = input.operator.freeSpaceHeadroom;
    this.#id = input.moveId ?? ((pv, now) => `${pv}-${now}`);
  }

  place(d: Decision, pv: PassVolume): void {
    const to = d.to!;
    const ecChoice = chooseEcTier(
      {
        ecPolicyRef: this.input.spec.ecPolicyRef,
        ecMinVolumeSizeBytes: this.input.spec.ecMinVolumeSizeBytes ?? Infinity,
        preservationMode: this.settings.preservation,
      },
      to,
      pv.volume.sizeBytes,
    );
    if (pv.ecTiered) return this.#ec(d, pv, "ec-restore", this.input.spec.ecPolicyRef ?? "");
    if (ecChoice.ec && this.input.ec && !this.settings.dryRun && d.from !== "mixed") {
      return this.#ec(d, pv, "ec-archive", ecChoice.ecPolicy);
    }
    // Preservation keeps the old replica, so a moved volume stays "mixed"; it already has its
    // copy on the target tier and must not gain another one every cooldown.
    if (
      this.settings.preservation && pv.volume.replicas.some((r) => this.tiers.get(r.pool) === to)
    ) {
      return this.#hold(d, "AlreadyOnTier", `a replica is on ${to} already (preservation mode)`);
    }
    const p = choosePlacement(pv.volume, this.#pools, this.tiers, to, {
      marginRatio: this.#headroom,
    });
    if (!p.ok) return this.#hold(d, p.reason, p.detail);
    this.#byId.get(p.targetPool)!.usedBytes += pv.volume.sizeBytes;
    this.work.push({
      kind: "move",
      decision: d,
      id: this.#id(d.volume, this.input.now),
      pv,
      from: p.from,
      to,
      oldReplica: p.oldReplica,
      oldPool: p.oldPool,
      targetPool: p.targetPool,
      timeoutMs: this.settings.migrationTimeoutMs,
      dryRun: this.settings.dryRun,
      preservation: this.settings.preservation,
    });
  }

  #ec(d: Decision, pv: PassVolume, kind: PlannedEcWork["kind"], ecPolicy: string): void {
    const ec = this.input.ec;
    if (!ec) return this.#hold(d, "EcTierUnavailable", "this operator runs no EC tier");
    const placed = kind === "ec-archive"
      ? ec.archive(pv.volume, this.#pools, this.tiers)
      : ec.restore(pv.volume, d.to!, this.#pools, this.tiers);
    if (!placed.ok) return this.#hold(d, placed.reason, placed.message);
    for (const id of placed.pools) {
      const pool = this.#byId.get(id);
      if (pool) pool.usedBytes += placed.bytesPerPool;
    }
    this.work.push({
      kind,
      decision: d,
      id: this.#id(d.volume, this.input.now),
      pv,
      to: d.to!,
      ecPolicy,
      pools: placed.pools,
      timeoutMs: this.settings.migrationTimeoutMs,
    });
  }

  #hold(d: Decision, reason: string, detail: string): void {
    this.held.push({ decision: d, reason, detail });
  }
}
