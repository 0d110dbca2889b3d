/**
 * Encoding (MinIO's cmd/erasure-encode.go): bytes are cut into stripes, each stripe into k data
 * shards plus parity, and each shard written to its target with its identity and checksums. A
 * stripe tolerates as many failed shard writes as the code can lose (MinIO's write quorum,
 * `multiWriter.Write`); beyond that the write fails, naming the cause, and removes what it
 * wrote.
 */
import { createHash } from "node:crypto";
import type { StoreCore } from "./core.ts";
import { shardFileName } from "./core.ts";
import type { Extent, StoredObject, Stripe } from "./manifest.ts";
import { isNoSpace, NoSpaceError } from "./nospace.ts";
import { encodeShardFile } from "./shard_format.ts";
import type { PutOptions } from "./types.ts";

/** Writes shard i of a stripe (with its identity and generation) onto its target. */
export async function writeShard(
  core: StoreCore,
  stripe: Stripe,
  i: number,
  data: Uint8Array,
): Promise<void> {
  const file = encodeShardFile(
    { ...core.identity(stripe, i), generation: stripe.generation },
    data,
    core.hasher,
  );
  await core.target(stripe.placement[i]).write(shardFileName(stripe.id, i), file);
}

/**
 * Encodes and writes one stripe, shard `index` of write `writeId`; records it in the in-memory
 * manifest (the caller commits). On failure nothing of it is left on the targets.
 */
export async function writeStripe(
  core: StoreCore,
  data: Uint8Array,
  writeId: number,
  index: number,
): Promise<Stripe> {
  const k = core.codec.dataShards;
  const n = core.codec.totalShards;
  const shardSize = Math.max(1, Math.ceil(data.length / k));
  const padded = new Uint8Array(shardSize * k);
  padded.set(data);
  const shards = Array.from(
    { length: n },
    (_, i) =>
      i < k ? padded.subarray(i * shardSize, (i + 1) * shardSize) : new Uint8Array(shardSize),
  );
  core.codec.encode(shards);
  const id = core.allocateStripeId();
  try {
    const stripe: Stripe = {
      id,
      generation: 1,
      dataBytes: data.length,
      shardSize,
      placement: await core.place(id, n),
      health: "healthy",
      writeId,
      index,
      dataHash: core.hasher.hex(data),
    };
    const results = await Promise.allSettled(shards.map((s, i) => writeShard(core, stripe, i, s)));
    const lost = results.flatMap((r, i) => (r.status === "rejected" ? [i] : []));
    if (lost.length > 0) await degradedOrFail(core, stripe, results, lost);
    core.manifest.stripes[id] = stripe;
    core.reserved.delete(id);
    return stripe;
  } catch (e) {
    core.releaseStripeId(id);
    throw e;
  }
}

/** Accepts a stripe with recoverable losses (degraded); otherwise cleans up and throws. */
async function degradedOrFail(
  core: StoreCore,
  stripe: Stripe,
  results: PromiseSettledResult<void>[],
  lost: number[],
): Promise<void> {
  const reasons = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
  const full = lost.filter((i) => isNoSpace((results[i] as PromiseRejectedResult).reason));
  if (core.codec.canRecover(lost)) {
    stripe.health = "degraded";
    core.deps.logger.warn("stripe written degraded", {
      stripe: stripe.id,
      failedShards: lost,
      error: reasons[0],
      ...(full.length > 0 ? { noSpaceOn: full.map((i) => stripe.placement[i]) } : {}),
    });
    return;
  }
  await core.removeShards(stripe);
  const n = results.length;
  const what = `${lost.length} of ${n} shard writes of stripe ${stripe.id} failed`;
  if (full.length > 0) {
    const first = (results[full[0]] as PromiseRejectedResult).reason;
    const where = first instanceof NoSpaceError
      ? first.where
      : core.describeTarget(stripe.placement[full[0]]);
    const others = full.length > 1 ? ` and ${full.length - 1} more targets` : "";
    throw new NoSpaceError(`${where}${others} (${what})`, { cause: first });
  }
  const cause = reasons[0] instanceof Error ? reasons[0].message : String(reasons[0]);
  throw new Error(`${what} (${cause}); the data would not be recoverable`, { cause: reasons[0] });
}

/**
 * Cuts a byte stream into the stripes of one write, two stripes in flight (the next one is
 * filled and encoded while the last is written). `stripes` lists them in order once finished.
 */
export class StripeWriter {
  readonly stripes: Stripe[] = [];
  #buf: Uint8Array;
  #fill = 0;
  #index = 0;
  #inflight: Promise<Stripe>[] = [];
  #all: Promise<Stripe>[] = [];

  constructor(
    private readonly core: StoreCore,
    readonly writeId: number,
    private readonly onStripe?: (s: Stripe) => void,
  ) {
    this.#buf = new Uint8Array(core.manifest.stripeSizeBytes);
  }

  /** Index of the stripe the next appended byte goes to, and its offset there. */
  get position(): { index: number; offset: number } {
    return { index: this.#index, offset: this.#fill };
  }

  /** Bytes still free in the stripe being filled. */
  get room(): number {
    return this.#buf.length - this.#fill;
  }

  /** Appends bytes (copied), writing every stripe that fills. */
  async append(chunk: Uint8Array): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(this.room, chunk.length - off);
      this.#buf.set(chunk.subarray(off, off + n), this.#fill);
      this.#fill += n;
      off += n;
      if (this.room === 0) await this.#flush();
    }
  }

  /** Writes the last, short stripe and waits until every stripe is durable on its targets. */
  async finish(): Promise<void> {
    if (this.#fill > 0) await this.#flush();
    await this.#settle(0);
  }

  /** After a failure: waits for writes in flight and removes every stripe this writer wrote. */
  async abort(): Promise<void> {
    await Promise.allSettled(this.#all);
    for (const p of this.#all) {
      const s = await p.catch(() => null);
      if (!s) continue;
      delete this.core.manifest.stripes[s.id];
      await this.core.removeShards(s);
      this.core.releaseStripeId(s.id);
    }
  }

  async #flush(): Promise<void> {
    const written = writeStripe(
      this.core,
      this.#buf.subarray(0, this.#fill),
      this.writeId,
      this.#index++,
    );
    written.catch(() => {}); // awaited in #settle; avoids an unhandled rejection meanwhile
    this.#inflight.push(written);
    this.#all.push(written);
    this.#buf = new Uint8Array(this.core.manifest.stripeSizeBytes);
    this.#fill = 0;
    await this.#settle(1);
  }

  async #settle(keep: number): Promise<void> {
    while (this.#inflight.length > keep) {
      const s = await this.#inflight.shift()!;
      this.stripes.push(s);
      this.onStripe?.(s);
    }
  }
}

/**
 * Stores an object straight into full stripes, bypassing the journal: a stripe is durable on
 * its targets before the manifest names it, and the manifest is replaced once. A failure
 * leaves the manifest and the targets as they were.
 */
export async function putObject(
  core: StoreCore,
  name: string,
  source: Uint8Array | AsyncIterable<Uint8Array>,
  opts: PutOptions,
): Promise<StoredObject> {
  const writeId = core.manifest.nextWriteId++;
  const sha = createHash("sha256"); // node:crypto's SHA-256 is native (~4x hash-wasm's here)
  let bytes = 0;
  const totalBytes = opts.totalBytes ?? 0;
  const total = Math.ceil(totalBytes / core.manifest.stripeSizeBytes);
  const writer = new StripeWriter(core, writeId, (s) => {
    bytes += s.dataBytes;
    opts.onProgress?.({ done: writer.stripes.length, total, bytes, totalBytes });
  });
  let size = 0;
  try {
    for await (const chunk of source instanceof Uint8Array ? [source] : source) {
      sha.update(chunk);
      size += chunk.length;
      await writer.append(chunk);
    }
    await writer.finish();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  let at = 0;
  const extents: Extent[] = writer.stripes.map((s) => {
    const e = { stripe: s.id, offset: 0, length: s.dataBytes, writeId, index: s.index, at };
    at += s.dataBytes;
    return e;
  });
  const obj: StoredObject = {
    size,
    sha256: sha.digest("hex"),
    extents,
    createdAt: core.deps.clock.now(),
  };
  const previous = core.manifest.objects[name];
  core.manifest.objects[name] = obj;
  try {
    await core.commitManifest();
  } catch (e) {
    if (previous) core.manifest.objects[name] = previous;
    else delete core.manifest.objects[name];
    await writer.abort();
    throw e;
  }
  return obj;
}
