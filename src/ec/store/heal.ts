/**
 * Healing (MinIO's cmd/erasure-healing.go and `Erasure.Heal` in erasure-decode.go): a scrub
 * reads every shard of a stripe, finds missing, corrupt and foreign shards and parity that
 * disagrees, checks the decoded data against its recorded hash, and with `repair` rewrites the
 * damaged shards onto their own target or a spare. Foreign shards are never kept: they are
 * overwritten with the stripe's own shard.
 */
import type { ShardSlot } from "../shards.ts";
import type { StoreCore } from "./core.ts";
import { shardFileName } from "./core.ts";
import { joinData, readShard, recover } from "./decode.ts";
import { writeShard } from "./encode.ts";
import type { Stripe } from "./manifest.ts";
import { RateLimiter } from "./rate_limit.ts";
import type { FindingKind, ScrubFinding, ScrubOptions, ScrubReport } from "./types.ts";

interface Bad {
  shard: number;
  kind: FindingKind;
  detail?: string;
}

/**
 * Scrubs every stripe in id order, taking the lock per stripe so reads and writes interleave
 * with a long pass, paced to the byte budget on the injected clock; stops early on abort.
 */
export async function scrubPass(
  core: StoreCore,
  opts: ScrubOptions,
  report: ScrubReport,
): Promise<void> {
  const limiter = new RateLimiter(core.deps.clock, opts.bytesPerSecond ?? Infinity);
  const ids = Object.keys(core.manifest.stripes).map(Number).sort((a, b) => a - b);
  const stored = (id: number) => {
    const s = core.manifest.stripes[id];
    return s ? s.shardSize * s.placement.length : 0;
  };
  const totalBytes = ids.reduce((n, id) => n + stored(id), 0);
  for (const id of ids) {
    if (opts.signal?.aborted) break;
    const bytes = await core.exclusive(async () => {
      const stripe = core.manifest.stripes[id];
      if (!stripe) return 0;
      const before = report.findings.length;
      const n = await scrubStripe(core, stripe, opts, report);
      // Persist moved placements as they happen, not only at the end of a long pass.
      if (opts.repair && report.findings.slice(before).some((f) => f.repaired)) {
        await core.commitManifest();
      }
      return n;
    });
    report.stripes++;
    report.bytesRead += bytes;
    const done = report.stripes;
    opts.onProgress?.({ done, total: ids.length, bytes: report.bytesRead, totalBytes });
    try {
      await limiter.consume(bytes, opts.signal);
    } catch {
      break; // aborted while pacing
    }
  }
}

/** Records a finished pass as the manifest's last scrub (under the lock). */
export async function recordScrub(core: StoreCore, report: ScrubReport): Promise<void> {
  core.manifest.lastScrub = {
    at: core.deps.clock.now(),
    stripes: report.stripes,
    problems: report.findings.length,
    repaired: report.findings.filter((f) => f.repaired).length,
    unrecoverable: report.unrecoverable.length,
  };
  await core.commitManifest();
}

/** Scrubs one stripe (under the lock); returns bytes read. Findings go into the report. */
export async function scrubStripe(
  core: StoreCore,
  stripe: Stripe,
  opts: ScrubOptions,
  report: ScrubReport,
): Promise<number> {
  const n = core.codec.totalShards;
  const reads = await Promise.all(Array.from({ length: n }, (_, i) => readShard(core, stripe, i)));
  const bytes = reads.reduce((s, r) => s + (r.data?.length ?? 0), 0);
  const slots: ShardSlot[] = reads.map((r) => r.data);
  const bad: Bad[] = reads.flatMap((r, i) =>
    r.problem ? [{ shard: i, kind: r.problem, detail: r.detail }] : []
  );
  // Parity is checked when asked, and whenever intact-looking shards decode to the wrong data.
  const intact = slots as Uint8Array[];
  const suspect = bad.length === 0 &&
    ((opts.parity ?? true) || !dataMatches(core, stripe, intact));
  if (suspect && !core.codec.verify(intact)) {
    // Checksums pass but parity disagrees: find the one shard whose exclusion makes it agree.
    bad.push({ shard: locateParityCulprit(core, slots as Uint8Array[]) ?? -1, kind: "parity" });
  }
  stripe.lastScrub = core.deps.clock.now();
  const healed = bad.some((b) => b.shard < 0) ? null : heal(core, stripe, reads, slots, bad);
  if (healed && !dataMatches(core, stripe, healed)) {
    bad.push({
      shard: -1,
      kind: "data",
      detail: `decoded data differs from the hash recorded at write (${stripe.dataHash})`,
    });
    return unrecoverable(core, stripe, bad, report, bytes);
  }
  if (bad.length === 0) {
    stripe.health = "healthy";
    return bytes;
  }
  for (const b of bad) core.deps.metrics?.ecScrubErrors.inc({ kind: b.kind });
  if (!healed) return unrecoverable(core, stripe, bad, report, bytes);
  if (!opts.repair) {
    stripe.health = "degraded";
    for (const b of bad) report.findings.push(finding(stripe, b, false));
    return bytes;
  }
  await rewrite(core, stripe, bad, healed, opts, report);
  return bytes;
}

/** All shards of the stripe with the bad ones rebuilt; null when that is impossible. */
function heal(
  core: StoreCore,
  stripe: Stripe,
  reads: Awaited<ReturnType<typeof readShard>>[],
  slots: ShardSlot[],
  bad: Bad[],
): Uint8Array[] | null {
  try {
    if (bad.length === 0) return slots as Uint8Array[];
    if (bad[0].kind === "parity") {
      const trial: ShardSlot[] = slots.slice();
      trial[bad[0].shard] = null;
      core.codec.reconstruct(trial);
      return trial as Uint8Array[];
    }
    return recover(core, stripe, reads);
  } catch (e) {
    core.deps.logger.error("stripe cannot be repaired", { stripe: stripe.id, error: e });
    return null;
  }
}

function dataMatches(core: StoreCore, stripe: Stripe, shards: Uint8Array[]): boolean {
  return core.hasher.hex(joinData(stripe, shards, core.codec.dataShards)) === stripe.dataHash;
}

function unrecoverable(
  core: StoreCore,
  stripe: Stripe,
  bad: Bad[],
  report: ScrubReport,
  bytes: number,
): number {
  // A parity mismatch nobody can pin down leaves the data readable (degraded), not lost.
  stripe.health = bad.every((b) => b.kind === "parity") ? "degraded" : "lost";
  report.unrecoverable.push(stripe.id);
  for (const b of bad) report.findings.push(finding(stripe, b, false));
  core.deps.logger.error("stripe unrecoverable", { stripe: stripe.id, problems: bad });
  return bytes;
}

function finding(stripe: Stripe, b: Bad, repaired: boolean, target?: string): ScrubFinding {
  return {
    stripe: stripe.id,
    shard: b.shard,
    kind: b.kind,
    repaired,
    ...(target ? { target } : {}),
    ...(b.detail ? { detail: b.detail } : {}),
  };
}

/** Rewrites the bad shards from the healed set, moving them to a spare when theirs is down. */
async function rewrite(
  core: StoreCore,
  stripe: Stripe,
  bad: Bad[],
  healed: Uint8Array[],
  opts: ScrubOptions,
  report: ScrubReport,
): Promise<void> {
  let allRepaired = true;
  stripe.generation++;
  for (const b of bad) {
    const target = await repairTarget(core, stripe, b.shard, opts.reprovision ?? false);
    let repaired = false;
    if (target) {
      const old = stripe.placement[b.shard];
      stripe.placement[b.shard] = target;
      try {
        await writeShard(core, stripe, b.shard, healed[b.shard]);
        repaired = true;
        if (old !== target) {
          await core.targets.get(old)?.remove(shardFileName(stripe.id, b.shard)).catch(() => {});
        }
        core.stats.reconstructedShards++;
        core.deps.metrics?.ecReconstructedShards.inc();
      } catch (e) {
        stripe.placement[b.shard] = old;
        core.deps.logger.warn("shard rewrite failed", {
          stripe: stripe.id,
          shard: b.shard,
          error: e,
        });
      }
    }
    allRepaired &&= repaired;
    report.findings.push(finding(stripe, b, repaired, repaired ? target! : undefined));
  }
  stripe.health = allRepaired ? "healthy" : "degraded";
}

/** Where a rebuilt shard goes: its own target if up, else a spare not used by the stripe. */
async function repairTarget(
  core: StoreCore,
  stripe: Stripe,
  shard: number,
  reprovision: boolean,
): Promise<string | null> {
  const own = core.targets.get(stripe.placement[shard]);
  if (own && (await own.healthy())) return own.id;
  if (!core.manifest.fixedPlacement) {
    const used = new Set(stripe.placement);
    for (const t of core.manifest.targets) {
      if (!used.has(t.id) && (await core.target(t.id).healthy())) return t.id;
    }
  }
  if (own && reprovision) {
    try {
      await own.provision();
      return own.id;
    } catch (e) {
      // E.g. a device of another store where the target's device should be: never overwritten.
      core.deps.logger.warn("target cannot be re-provisioned", { target: own.id, error: e });
    }
  }
  return null;
}

/** The one shard whose exclusion makes parity agree and changes it; null when none does. */
function locateParityCulprit(core: StoreCore, shards: Uint8Array[]): number | null {
  for (let i = 0; i < shards.length; i++) {
    const trial: ShardSlot[] = shards.slice();
    trial[i] = null;
    if (!core.codec.canRecover([i])) continue;
    core.codec.reconstruct(trial);
    const fixed = trial as Uint8Array[];
    if (core.codec.verify(fixed) && !bytesEqual(fixed[i], shards[i])) return i;
  }
  return null;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
