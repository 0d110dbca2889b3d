/**
 * One tiering pass of a StoragePolicy, minus the I/O: from the spec, the operator's settings,
 * the pools, the policy's volumes (their plan facts: tier, cooldown, pins, backoff, approvals,
 * health) and one IOPS reading, every volume's outcome (planVolumes: decide() plus the
 * per-volume rules) and the work to start now: replica moves placed on pools, and (when the
 * caller gives an EC placer) archives to and restores from the erasure-coded cold tier. Space
 * taken by this pass's own placements counts, with the configured headroom, so two moves of
 * one pass never overfill a pool. Pure; the controller and `couchestor explain` both run it.
 */
import { PROPOSALS_LIMIT } from "../api/storage_policy.ts";
import { parseMoveWindows } from "../api/move_windows.ts";
import { byPvName } from "../model/series.ts";
import type { Pool, Tier, Volume } from "../model/storage.ts";
import type { Proposal } from "./approval.ts";
import type { MetricsSnapshot } from "./decide.ts";
import { chooseEcTier } from "./ec_route.ts";
import { availableTiers, type PlacedStep, placeVolume, poolTiers } from "./placement.ts";
import {
  type OperatorSettings,
  type PolicySettings,
  policySettings,
  specDuration,
  type TieringSpecFields,
  tierSelectors,
} from "./policy.ts";
import {
  type PlaceFn,
  type PlanVolume,
  planVolumes,
  type PolicyPlan,
  type VolumeOutcome,
} from "./volume_plan.ts";

/** A volume of the policy: its PV name, the backend's view of it and its plan facts. */
export interface PassVolume {
  pv: string;
  /** Mayastor volume uuid (the PV's volumeHandle): its metric series is `pvc-<uuid>`. */
  uuid?: string;
  /** Mayastor's volume; absent only for `explain` when Mayastor could not be read. */
  volume?: Volume;
  /** What the plan reads of it (volume_facts.ts `volumeFacts`; `name` is the PV name). */
  facts: PlanVolume;
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
  /**
   * undefined when the read failed. Keyed by the series' `pv_name` label (`pvc-<volume uuid>`
   * for Mayastor's exporter, model/series.ts); the pass re-keys it by PV name.
   */
  metrics: MetricsSnapshot | undefined;
  now: number;
  /** Work already in flight, of this policy and across all policies. */
  inFlight: { policy: number; global: number };
  /** Readings the metrics source rejected, with why (ImplausibleMetrics); keyed like metrics. */
  rejected?: ReadonlyMap<string, string>;
  /** The proposals the policy's status holds (approval: Manual). */
  previousProposals?: readonly Proposal[];
  /** Move ids; `<pv>-<now>` by default. */
  moveId?: (pv: string, now: number) => string;
  /** The EC tier's placement; without it every volume stays on replicas. */
  ec?: EcPlacer;
}

/** A move of a whole volume to start: one step per replica not on the target tier. */
export interface PlannedMove {
  kind: "move";
  outcome: VolumeOutcome;
  id: string;
  pv: PassVolume;
  /** Mayastor's volume as the pass saw it. */
  volume: Volume;
  from: Tier;
  to: Tier;
  steps: PlacedStep[];
  timeoutMs: number;
  dryRun: boolean;
  preservation: boolean;
}

/** Work on the EC tier to start: an archive into stripes or a restore onto replicas. */
export interface PlannedEcWork {
  kind: "ec-archive" | "ec-restore";
  outcome: VolumeOutcome;
  id: string;
  pv: PassVolume;
  /** Mayastor's volume as the pass saw it. */
  volume: Volume;
  to: Tier;
  ecPolicy: string;
  /** Shard pools (archive) or replica pools (restore). */
  pools: string[];
  timeoutMs: number;
}

/** Work the pass starts. */
export type PlannedWork = PlannedMove | PlannedEcWork;

/** A move the plan wanted that could not be placed (not started), and why. */
export interface HeldMove {
  outcome: VolumeOutcome;
  reason: string;
  detail: string;
}

/** Result of one pass. */
export interface PassResult {
  settings: PolicySettings;
  /** Pool id → tier under this policy's selectors. */
  tiers: Map<string, Tier>;
  /** Every volume's outcome (a move held at placement is NoTargetPool there too). */
  plan: PolicyPlan;
  /** The work to start now, in start order. */
  work: PlannedWork[];
  held: HeldMove[];
}

/** Pool id → tier under a policy's pool selectors (the one rule, via placement.ts). */
export function passTiers(pools: readonly Pool[], spec: TieringSpecFields): Map<string, Tier> {
  return poolTiers(pools, tierSelectors(spec));
}

/** Runs the plan and places the work. Throws on an unparsable duration in the spec. */
export function planPass(input: PassInput): PassResult {
  const tiers = passTiers(input.pools, input.spec);
  const settings = policySettings(
    input.policyName,
    input.spec,
    tiers,
    availableTiers(input.pools, tiers),
    input.operator,
  );
  const byPv = new Map(input.volumes.map((v) => [v.pv, v]));
  const placer = new Placer(input, settings, tiers);
  const windows = parseMoveWindows(input.spec.moveWindows ?? []);
  const plan = planVolumes({
    policy: settings.policy,
    volumes: input.volumes.map((v) => v.facts),
    metrics: input.metrics &&
      { ...input.metrics, iops: byPvName(input.metrics.iops, input.volumes) },
    now: input.now,
    maxMetricsAgeMs: settings.maxMetricsAgeMs,
    inFlight: input.inFlight,
    globalLimit: input.operator.globalLimit,
    // The schema validated the windows; a text it let through that does not parse is no window.
    windows: windows.ok ? windows.windows : [],
    approval: {
      mode: input.spec.approval ?? "Auto",
      ttlMs: specDuration("approvalTTL", input.spec.approvalTTL ?? "24h"),
      previous: input.previousProposals ?? [],
      limit: PROPOSALS_LIMIT,
    },
    rejected: input.rejected && byPvName(input.rejected, input.volumes),
    // Where a wanted move would go before this pass's reservations (for proposals, status).
    place: (pv, to) => placer.preview(byPv.get(pv)!, to),
  });
  for (const o of plan.moves) placer.place(o, byPv.get(o.volume)!);
  for (const h of placer.held) hold(plan, h);
  return { settings, tiers, plan, work: placer.work, held: placer.held };
}

/**
 * A move the placer could not place this pass: not started, NoTargetPool with the detail
 * (Detached when the volume is not published and so cannot rebuild a replica).
 */
function hold(plan: PolicyPlan, h: HeldMove): void {
  const o = h.outcome;
  const reason = h.reason === "Detached" ? "Detached" : "NoTargetPool";
  plan.counts[o.reason]--;
  o.move = false;
  o.reason = reason;
  o.detail = h.detail;
  o.listed = true;
  plan.counts[reason]++;
  plan.moves = plan.moves.filter((m) => m !== o);
}

/** Where one wanted move goes (not yet reserved), or why it can't. */
type Route =
  | { ok: true; kind: "move"; from: Tier; steps: PlacedStep[]; bytes: number }
  | {
    ok: true;
    kind: "ec-archive" | "ec-restore";
    ecPolicy: string;
    pools: string[];
    bytes: number;
  }
  | { ok: false; reason: string; detail: string };

/**
 * Places one pass's moves on a private copy of the pools, reserving what each takes. The same
 * routing (replica move or EC tier, preservation, headroom) previews a move for the plan
 * (`preview`, on the pools as they are) and places it (`place`, on what is left).
 */
class Placer {
  readonly work: PlannedWork[] = [];
  readonly held: HeldMove[] = [];
  readonly #pools: Pool[];
  readonly #byId: Map<string, Pool>;
  readonly #id: (pv: string, now: number) => string;

  constructor(
    readonly input: PassInput,
    readonly settings: PolicySettings,
    readonly tiers: ReadonlyMap<string, Tier>,
  ) {
    this.#pools = input.pools.map((p) => ({ ...p }));
    this.#byId = new Map(this.#pools.map((p) => [p.id, p]));
    this.#id = input.moveId ?? ((pv, now) => `${pv}-${now}`);
  }

  /** Where the move would go on the pools as they are (for the plan's outcome and proposals). */
  preview(pv: PassVolume, to: Tier): ReturnType<PlaceFn> {
    const r = this.#route(pv, to, this.input.pools);
    if (!r.ok) {
      const reason = r.reason === "AlreadyOnTier" || r.reason === "Detached" ? r.reason : undefined;
      return { ok: false, detail: r.detail, ...(reason ? { reason } : {}) };
    }
    const pools = r.kind === "move" ? r.steps.map((x) => x.targetPools[0]) : r.pools;
    return { ok: true, targetPool: pools.join(",") };
  }

  /** Places a move the plan starts, reserving its space, or holds it with the reason. */
  place(d: VolumeOutcome, pv: PassVolume): void {
    const r = this.#route(pv, d.to!, this.#pools);
    if (!r.ok) {
      this.held.push({ outcome: d, reason: r.reason, detail: r.detail });
      return;
    }
    const id = this.#id(d.volume, this.input.now);
    const timeoutMs = this.settings.migrationTimeoutMs;
    if (r.kind === "move") {
      for (const x of r.steps) this.#byId.get(x.targetPools[0])!.usedBytes += r.bytes;
      this.work.push({
        kind: "move",
        outcome: d,
        id,
        pv,
        volume: pv.volume!,
        from: r.from,
        to: d.to!,
        steps: r.steps,
        timeoutMs,
        dryRun: this.settings.dryRun,
        preservation: this.settings.preservation,
      });
      return;
    }
    for (const pool of r.pools) {
      const p = this.#byId.get(pool);
      if (p) p.usedBytes += r.bytes;
    }
    this.work.push({
      kind: r.kind,
      outcome: d,
      id,
      pv,
      volume: pv.volume!,
      to: d.to!,
      ecPolicy: r.ecPolicy,
      pools: r.pools,
      timeoutMs,
    });
  }

  /** Replica move or EC tier, and where, on `pools`. */
  #route(pv: PassVolume, to: Tier, pools: readonly Pool[]): Route {
    const spec = this.input.spec;
    const ec = this.input.ec;
    const from = pv.facts.tier;
    const volume = pv.volume;
    if (!volume) {
      return { ok: false, reason: "NoTargetPool", detail: "Mayastor has no volume for it" };
    }
    if (pv.ecTiered) {
      if (!ec) {
        return { ok: false, reason: "EcTierUnavailable", detail: "this operator runs no EC tier" };
      }
      const p = ec.restore(volume, to, pools, this.tiers);
      if (!p.ok) return { ok: false, reason: p.reason, detail: p.message };
      return {
        ok: true,
        kind: "ec-restore",
        ecPolicy: spec.ecPolicyRef ?? "",
        pools: p.pools,
        bytes: p.bytesPerPool,
      };
    }
    const choice = chooseEcTier(
      {
        ecPolicyRef: spec.ecPolicyRef,
        ecMinVolumeSizeBytes: spec.ecMinVolumeSizeBytes ?? Infinity,
        preservationMode: this.settings.preservation,
      },
      to,
      volume.sizeBytes,
    );
    if (choice.ec && ec && !this.settings.dryRun && from !== "mixed") {
      const p = ec.archive(volume, pools, this.tiers);
      if (!p.ok) return { ok: false, reason: p.reason, detail: p.message };
      return {
        ok: true,
        kind: "ec-archive",
        ecPolicy: choice.ecPolicy,
        pools: p.pools,
        bytes: p.bytesPerPool,
      };
    }
    // Preservation keeps the old replica, so a moved volume stays "mixed"; it already has its
    // copy on the target tier and must not gain another one every cooldown.
    if (
      this.settings.preservation && volume.replicas.some((r) => this.tiers.get(r.pool) === to)
    ) {
      return {
        ok: false,
        reason: "AlreadyOnTier",
        detail: `a replica is on ${to} already (preservation mode)`,
      };
    }
    // Mayastor copies data to a new replica only by rebuilding it through the volume's nexus.
    if (volume.targetNode === undefined) {
      return {
        ok: false,
        reason: "Detached",
        detail: "not published (no pod uses it): Mayastor rebuilds a new replica only through " +
          "the volume's nexus, so its replicas cannot move until a pod uses it",
      };
    }
    const p = placeVolume(volume, pools, this.tiers, to, {
      marginRatio: this.input.operator.freeSpaceHeadroom,
      keepOld: this.settings.preservation,
      avoidNodes: pv.facts.backoff?.avoidNodes,
    });
    if (!p.ok) return { ok: false, reason: p.reason, detail: p.detail };
    return { ok: true, kind: "move", from: p.from, steps: p.steps, bytes: volume.sizeBytes };
  }
}
