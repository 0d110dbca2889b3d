/**
 * Decoding (MinIO's cmd/erasure-decode.go, `parallelReader` and `Erasure.Decode`): a stripe's
 * data shards are read in parallel and, when some are missing, corrupt or foreign, parity is
 * read too and the data rebuilt. Nothing leaves this module unverified: a shard must carry the
 * identity the manifest expects, a decoded stripe must match its data hash, an extent must
 * name the stripe it expects, and an object's last bytes are held back until its whole SHA-256
 * matches.
 */
import { createHash } from "node:crypto";
import type { ShardSlot } from "../shards.ts";
import type { StoreCore } from "./core.ts";
import { shardFileName } from "./core.ts";
import { IntegrityError } from "./integrity.ts";
import type { Extent, StoredObject, Stripe } from "./manifest.ts";
import { decodeShardFile, identityMismatch } from "./shard_format.ts";
import type { FindingKind, ReadOptions } from "./types.ts";

/** One shard as read from its target. */
export interface ShardRead {
  /** The shard bytes (bad blocks included, as read), or null when unusable. */
  data: Uint8Array | null;
  /** Blocks whose checksum failed. */
  badBlocks: number[];
  problem: Extract<FindingKind, "missing" | "checksum" | "identity"> | null;
  /** For foreign shards: how its identity differs. */
  detail?: string;
}

/** A slot not read (yet); compared by identity, so never returned by readShard. */
const UNREAD: ShardRead = { data: null, badBlocks: [], problem: "missing" };

/**
 * Reads shard i of a stripe. A missing file or target, a damaged header or a wrong size is
 * "missing"; a shard of another store, object, stripe or geometry is "identity" (foreign) and
 * its bytes are never used.
 */
export async function readShard(core: StoreCore, stripe: Stripe, i: number): Promise<ShardRead> {
  let file: Uint8Array | null;
  try {
    file = await core.target(stripe.placement[i]).read(shardFileName(stripe.id, i));
  } catch {
    file = null;
  }
  if (!file) return { data: null, badBlocks: [], problem: "missing" };
  const parsed = decodeShardFile(file, core.hasher);
  if (!parsed) return { data: null, badBlocks: [], problem: "checksum" };
  const foreign = identityMismatch(parsed.header, core.identity(stripe, i));
  if (foreign) return { data: null, badBlocks: [], problem: "identity", detail: foreign };
  return {
    data: parsed.data,
    badBlocks: parsed.badBlocks,
    problem: parsed.badBlocks.length > 0 ? "checksum" : null,
  };
}

/**
 * Rebuilds every missing shard and every bad block in place, block range by block range: a
 * range is decoded from the shards whose blocks there are good, so a stripe with m lost
 * shards still heals a flipped byte in a further shard. Throws (writing nothing the caller
 * keeps) when some range lacks enough good blocks.
 */
export function recover(
  core: StoreCore,
  stripe: Stripe,
  reads: ShardRead[],
  dataOnly = false,
): Uint8Array[] {
  const { shardSize } = stripe;
  const bs = core.manifest.blockSize;
  const blocks = Math.ceil(shardSize / bs);
  const full = reads.map((r) => r.data ?? new Uint8Array(shardSize));
  const lostAt = (b: number) =>
    reads.flatMap((r, i) => (!r.data || r.badBlocks.includes(b) ? [i] : []));
  for (let b = 0; b < blocks;) {
    const lost = lostAt(b);
    let end = b + 1;
    while (end < blocks && sameList(lostAt(end), lost)) end++;
    if (lost.length > 0) {
      if (!core.codec.canRecover(lost)) {
        const k = core.codec.dataShards;
        throw new Error(
          `stripe ${stripe.id} is unrecoverable: shards [${lost.join(", ")}] missing or corrupt` +
            ` in blocks ${b}..${end - 1}, need k=${k} good shards, have ${
              reads.length - lost.length
            }`,
        );
      }
      const lo = b * bs;
      const hi = Math.min(end * bs, shardSize);
      const slots: ShardSlot[] = full.map((s, i) => (lost.includes(i) ? null : s.subarray(lo, hi)));
      core.codec.reconstruct(slots, dataOnly);
      for (const i of lost) {
        if (!dataOnly || i < core.codec.dataShards) full[i].set(slots[i] as Uint8Array, lo);
      }
    }
    b = end;
  }
  return full;
}

/** The user bytes held by the data shards (the last shard is cut at dataBytes). */
export function joinData(stripe: Stripe, shards: readonly Uint8Array[], k: number): Uint8Array {
  const out = new Uint8Array(stripe.dataBytes);
  for (let i = 0, off = 0; i < k && off < out.length; i++, off += stripe.shardSize) {
    out.set(shards[i].subarray(0, Math.min(stripe.shardSize, out.length - off)), off);
  }
  return out;
}

/** Throws unless the stripe's decoded bytes match the data hash recorded when it was written. */
export function checkStripeData(core: StoreCore, stripe: Stripe, data: Uint8Array): void {
  const got = core.hasher.hex(data);
  if (got !== stripe.dataHash) {
    throw new IntegrityError(
      "stripe-data",
      `stripe ${stripe.id}: decoded data hash ${got} differs from the recorded ${stripe.dataHash}` +
        ` (its shards agree with each other but not with what was written)`,
    );
  }
}

/**
 * The stripe's user bytes, verified: data shards when intact, else rebuilt from good shards,
 * reading only the parity the code says it needs first (LRC: the local group's).
 */
export async function readStripeData(core: StoreCore, id: number): Promise<Uint8Array> {
  if (core.lastStripe?.id === id) return core.lastStripe.data;
  const stripe = core.manifest.stripes[id];
  if (!stripe) throw new Error(`manifest names stripe ${id} but does not describe it`);
  const k = core.codec.dataShards;
  const n = core.codec.totalShards;
  const reads = await Promise.all(Array.from({ length: k }, (_, i) => readShard(core, stripe, i)));
  core.stats.shardReads += k;
  let shards = reads.map((r) => r.data) as Uint8Array[];
  if (reads.some((r) => r.problem)) {
    noteProblems(core, stripe, reads);
    const lostData = reads.flatMap((r, i) => (r.problem ? [i] : []));
    const planned = new Set(core.codec.readPlan(lostData));
    const all: ShardRead[] = [...reads, ...new Array<ShardRead>(n - k).fill(UNREAD)];
    const readParity = async (want: (i: number) => boolean) => {
      const idx = Array.from({ length: n - k }, (_, j) => k + j).filter(
        (i) => all[i] === UNREAD && want(i),
      );
      const got = await Promise.all(idx.map((i) => readShard(core, stripe, i)));
      idx.forEach((i, j) => (all[i] = got[j]));
      noteProblems(core, stripe, got, idx);
      core.stats.shardReads += idx.length;
    };
    await readParity((i) => planned.has(i));
    try {
      shards = recover(core, stripe, all, true);
    } catch {
      await readParity(() => true);
      shards = recover(core, stripe, all, true);
    }
    core.stats.degradedReads++;
    core.deps.metrics?.ecDegradedReads.inc();
  }
  let out = joinData(stripe, shards, k);
  if (core.hasher.hex(out) !== stripe.dataHash) {
    // Checksums and identities passed, yet the data differs: one shard holds wrong bytes that
    // look right. Find the shard whose exclusion gives the recorded data, or refuse.
    out = await excludeOneShard(core, stripe) ?? out;
    checkStripeData(core, stripe, out);
    core.stats.degradedReads++;
  }
  core.lastStripe = { id, data: out };
  return out;
}

/** The stripe's data rebuilt without the one shard that made it wrong; null when none does. */
async function excludeOneShard(core: StoreCore, stripe: Stripe): Promise<Uint8Array | null> {
  const n = core.codec.totalShards;
  const reads = await Promise.all(Array.from({ length: n }, (_, i) => readShard(core, stripe, i)));
  core.stats.shardReads += n;
  for (let i = 0; i < n; i++) {
    if (!reads[i].data) continue;
    const trial = reads.map((r, j) => (j === i ? UNREAD : r));
    try {
      const data = joinData(stripe, recover(core, stripe, trial, true), core.codec.dataShards);
      if (core.hasher.hex(data) === stripe.dataHash) return data;
    } catch {
      // this exclusion leaves too few good shards: try the next
    }
  }
  return null;
}

/**
 * What is wrong with extent j of an object against the manifest's stripes (null: nothing):
 * extents must follow each other without gaps and name the stripe they expect.
 */
export function extentProblem(core: StoreCore, e: Extent, at: number): string | null {
  if (e.at !== at) {
    return `starts at byte ${e.at} of the object, expected ${at} (extents out of order)`;
  }
  const s = core.manifest.stripes[e.stripe];
  if (!s) return `names stripe ${e.stripe}, which the manifest does not describe`;
  if (s.writeId !== e.writeId || s.index !== e.index) {
    return `expects stripe ${e.index} of object ${e.writeId} in stripe ${e.stripe}, which holds ` +
      `stripe ${s.index} of object ${s.writeId} (swapped or edited extent)`;
  }
  if (e.offset + e.length > s.dataBytes) {
    return `bytes ${e.offset}..${e.offset + e.length} lie past stripe ${e.stripe}'s ${s.dataBytes}`;
  }
  return null;
}

/** Every problem of an object's manifest entry, without reading data (for verify). */
export function objectProblems(
  core: StoreCore,
  obj: StoredObject,
): { extent: number; problem: string }[] {
  const out: { extent: number; problem: string }[] = [];
  if (obj.damaged) out.push({ extent: -1, problem: obj.damaged });
  let at = 0;
  obj.extents.forEach((e, j) => {
    const p = extentProblem(core, e, at);
    if (p) out.push({ extent: j, problem: p });
    at += e.length;
  });
  if (at !== obj.size) {
    out.push({ extent: -1, problem: `extents cover ${at} bytes, size is ${obj.size}` });
  }
  return out;
}

/**
 * Streams a stored object's bytes, one verified stripe at a time; the last piece is held back
 * until the whole object's SHA-256 matches, so a reader that stops at an error has never been
 * handed a byte that failed a check.
 */
export async function* readObject(
  core: StoreCore,
  name: string,
  obj: StoredObject,
  opts: ReadOptions = {},
): AsyncGenerator<Uint8Array> {
  if (obj.damaged) throw new IntegrityError("damaged-write", `object ${name}: ${obj.damaged}`);
  const sha = createHash("sha256");
  let held: Uint8Array | null = null;
  let at = 0;
  for (const [j, e] of obj.extents.entries()) {
    const p = extentProblem(core, e, at);
    if (p) throw new IntegrityError("extent", `object ${name}: extent ${j} ${p}`);
    const data = await core.exclusive(() => readStripeData(core, e.stripe));
    const piece = data.subarray(e.offset, e.offset + e.length);
    sha.update(piece);
    if (held) yield held;
    held = piece;
    at += e.length;
    opts.onProgress?.({
      done: j + 1,
      total: obj.extents.length,
      bytes: at,
      totalBytes: obj.size,
    });
  }
  const digest = sha.digest("hex");
  if (at !== obj.size || digest !== obj.sha256) {
    throw new IntegrityError(
      "object-hash",
      `object ${name}: read ${at} bytes with SHA-256 ${digest}, recorded ${obj.size} bytes with ` +
        `${obj.sha256}`,
    );
  }
  if (held) yield held;
}

/** Tells the deps' onShardProblem of every unusable shard among reads (at indices idx). */
function noteProblems(core: StoreCore, stripe: Stripe, reads: ShardRead[], idx?: number[]): void {
  const note = core.deps.onShardProblem;
  if (!note) return;
  reads.forEach((r, j) => {
    if (!r.problem) return;
    const shard = idx ? idx[j] : j;
    note({
      stripe: stripe.id,
      shard,
      target: stripe.placement[shard],
      kind: r.problem,
      ...(r.detail ? { detail: r.detail } : {}),
    });
  });
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
