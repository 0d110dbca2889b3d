/**
 * ECStripe records from a store's manifest (FR-503). Pure: manifest stripes plus what the node
 * observed (targets down, unrepaired scrub findings, a running rebuild) in, ECStripe specs and
 * statuses out.
 *
 * Granularity: one ECStripe covers a run of up to `stripesPerRecord` consecutive stripes (ids
 * aligned to multiples of it) that share one placement, so each shard index names exactly one
 * target. The default, `recordStripesFor`, aims at 256 MiB of volume data per ECStripe: 64
 * stripes of 4 MiB, 256 of 1 MiB (clamped to 1..4096); a 10 GiB volume is then 40 objects. The
 * store is created with the same number as its placement run, so runs only split while a
 * rebuild has moved some but not all shards of a window (see docs/ec-stripes.md).
 */
import {
  type ECStripeSpec,
  type ECStripeStatus,
  GROUP_VERSION,
  type ShardLocation,
} from "../../api/mod.ts";
import type { CodeParams } from "../../ec/store/codec.ts";
import type { Stripe } from "../../ec/store/manifest.ts";

/** Bytes of volume data one ECStripe aims to cover. */
export const RECORD_TARGET_BYTES = 256 * 1024 * 1024;

/** Label naming the policy of an ECStripe (for listing and aggregation). */
export const POLICY_LABEL = "storage.billyronks.io/ec-policy";
/** Label naming the volume of an ECStripe. */
export const VOLUME_LABEL = "storage.billyronks.io/volume";

/** Stripes per ECStripe for a stripe size: RECORD_TARGET_BYTES of data, within 1..4096. */
export function recordStripesFor(stripeSizeBytes: number): number {
  return Math.min(4096, Math.max(1, Math.round(RECORD_TARGET_BYTES / stripeSizeBytes)));
}

/** State of one shard of a stripe as the node observed it. */
export type ShardProblem = "Missing" | "Corrupt";

/** What the node knows beyond the manifest. */
export interface Observations {
  /** Targets that are down (directory gone, disk failed). */
  downTargets: ReadonlySet<string>;
  /** Unrepaired problems from the last scrub or rebuild, keyed `${stripe}/${shard}`. */
  findings: ReadonlyMap<string, ShardProblem>;
  /** Stripes written but not yet named by a committed object (a put or destage in flight). */
  writing?: ReadonlySet<number>;
  /** A rebuild pass in progress: stripe ids in order and how many it has finished. */
  rebuild?: { order: readonly number[]; done: number };
}

/** Inputs of buildRecords. */
export interface RecordInput {
  volume: string;
  policy: string;
  /** Owner reference target (the policy), when known. */
  policyUid?: string;
  node: string;
  code: CodeParams;
  stripes: readonly Stripe[];
  stripesPerRecord: number;
  observed: Observations;
  /** Pool (DiskPool or shard target name) of a target id. */
  poolOf?: (target: string) => string;
  /** Checksum ("alg:hex") over one shard index of the given stripes, in order. */
  checksum: (stripes: readonly Stripe[], shard: number) => string;
  /** Epoch ms → RFC 3339. */
  now: number;
}

/** A desired ECStripe: metadata, spec (generation filled in by the syncer) and status. */
export interface DesiredRecord {
  name: string;
  labels: Record<string, string>;
  ownerReferences?: Record<string, unknown>[];
  spec: Omit<ECStripeSpec, "generation">;
  status: ECStripeStatus;
  /** Volume bytes covered (exact, not rounded to blocks). */
  dataBytes: number;
  /** Bytes stored for them (all shards). */
  storedBytes: number;
}

/** Key of a finding. */
export function findingKey(stripe: number, shard: number): string {
  return `${stripe}/${shard}`;
}

/** Shard count and role of index i for a code. */
export function shardRole(code: CodeParams, i: number): ShardLocation["kind"] {
  if (i < code.k) return "Data";
  if (code.algorithm === "LRC" && i < code.k + code.l) return "LocalParity";
  return "Parity";
}

/** Shards per stripe of a code. */
export function shardsPerStripe(code: CodeParams): number {
  return code.algorithm === "LRC" ? code.k + code.l + code.g : code.k + code.m;
}

/** Splits stripes (any order) into runs: aligned windows, cut where the placement changes. */
export function runsOf(stripes: readonly Stripe[], per: number): Stripe[][] {
  const sorted = [...stripes].sort((a, b) => a.id - b.id);
  const runs: Stripe[][] = [];
  let run: Stripe[] = [];
  for (const s of sorted) {
    const prev = run[run.length - 1];
    const same = prev && Math.floor(prev.id / per) === Math.floor(s.id / per) &&
      prev.id + 1 === s.id && prev.placement.join() === s.placement.join();
    if (!same && run.length > 0) {
      runs.push(run);
      run = [];
    }
    run.push(s);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** Name of the ECStripe of a volume's run starting at `firstStripe`. */
export function recordName(volume: string, firstStripe: number): string {
  return `${volume}-s${String(firstStripe).padStart(6, "0")}`;
}

/** Builds the desired ECStripes of one volume. */
export function buildRecords(input: RecordInput): DesiredRecord[] {
  const { code, observed } = input;
  const n = shardsPerStripe(code);
  const poolOf = input.poolOf ?? ((t: string) => t);
  const out: DesiredRecord[] = [];
  let bytesBefore = 0;
  let shardBytesBefore = 0;
  const rebuildDone = new Set(observed.rebuild?.order.slice(0, observed.rebuild.done) ?? []);
  for (const run of runsOf(input.stripes, input.stripesPerRecord)) {
    const first = run[0];
    const dataBytes = run.reduce((t, s) => t + s.dataBytes, 0);
    const shardBytes = run.reduce((t, s) => t + s.shardSize, 0);
    const shards: ShardLocation[] = [];
    const health: NonNullable<ECStripeStatus["shards"]> = [];
    const oldestScrub = run.every((s) => s.lastScrub !== undefined)
      ? Math.min(...run.map((s) => s.lastScrub!))
      : undefined;
    let unhealthyIdx = 0;
    for (let i = 0; i < n; i++) {
      const target = first.placement[i];
      shards.push({
        index: i,
        kind: shardRole(code, i),
        pool: poolOf(target),
        node: input.node,
        offsetBytes: shardBytesBefore,
        sizeBytes: Math.max(1, shardBytes),
        checksum: input.checksum(run, i),
      });
      let problem: ShardProblem | undefined = observed.downTargets.has(target)
        ? "Missing"
        : undefined;
      for (const s of run) {
        if (problem) break;
        problem = observed.findings.get(findingKey(s.id, i));
      }
      if (!problem && run.some((s) => s.health === "lost")) problem = "Corrupt";
      const rebuilding = problem !== undefined && observed.rebuild !== undefined &&
        run.some((s) => !rebuildDone.has(s.id));
      if (problem) unhealthyIdx++;
      const h: (typeof health)[number] = {
        index: i,
        state: rebuilding ? "Rebuilding" : problem ?? "Healthy",
      };
      if (oldestScrub !== undefined) h.lastVerified = iso(oldestScrub);
      health.push(h);
    }
    const anyDegraded = unhealthyIdx > 0 || run.some((s) => s.health !== "healthy");
    const status: ECStripeStatus = { shards: health };
    if (n - unhealthyIdx < code.k || run.some((s) => s.health === "lost")) status.state = "Failed";
    else if (anyDegraded && observed.rebuild) {
      status.state = "Rebuilding";
      // Progress over the run's whole window: stripes the pass already moved elsewhere split
      // off into their own record, so counting the run alone would stay at 0 until the end.
      const w = Math.floor(first.id / input.stripesPerRecord);
      const window = input.stripes.filter((s) => Math.floor(s.id / input.stripesPerRecord) === w);
      const done = window.filter((s) => rebuildDone.has(s.id)).length;
      status.rebuildProgressPercent = Math.round((done / window.length) * 1000) / 10;
    } else if (anyDegraded) status.state = "Degraded";
    else if (run.some((s) => observed.writing?.has(s.id))) status.state = "Writing";
    else status.state = "Healthy";
    const lbaStart = Math.floor(bytesBefore / 512);
    const lbaEnd = Math.max(lbaStart + 1, Math.ceil((bytesBefore + dataBytes) / 512));
    out.push({
      name: recordName(input.volume, first.id),
      labels: { [POLICY_LABEL]: input.policy, [VOLUME_LABEL]: input.volume },
      ownerReferences: input.policyUid
        ? [{
          apiVersion: GROUP_VERSION,
          kind: "ErasureCodingPolicy",
          name: input.policy,
          uid: input.policyUid,
        }]
        : undefined,
      spec: {
        volume: input.volume,
        policy: input.policy,
        stripeId: first.id,
        stripeCount: run.length,
        lbaStart,
        lbaEnd,
        shards,
      },
      status,
      dataBytes,
      storedBytes: shardBytes * n,
    });
    bytesBefore += dataBytes;
    shardBytesBefore += shardBytes;
  }
  return out;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
