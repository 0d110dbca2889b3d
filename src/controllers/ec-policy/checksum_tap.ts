/**
 * Shard checksums for ECStripe records without re-reading the store: a ShardTarget decorator
 * hashes every shard file as the store writes it (xxhash64, several GB/s) and remembers it by
 * file name and stripe generation. The sums are saved beside the store (a JSON sidecar) so a
 * restart does not read every shard again; a file never seen is hashed once on first need, and
 * one that cannot be read has no checksum here.
 */
import { z } from "zod";
import { writeFileAtomic } from "../../ec/store/atomic.ts";
import type { BlockHasher } from "../../ec/store/checksum.ts";
import type { Stripe } from "../../ec/store/manifest.ts";
import { shardFileName } from "../../ec/store/store.ts";
import type { ShardTarget } from "../../ec/store/target.ts";

/** The sidecar: `target/file` → [stripe generation, xxhash64 hex]. */
const SidecarSchema = z.record(z.string(), z.tuple([z.number().int(), z.string()]));

/** Generation field of a shard file header (u32 LE at byte 12, see shard_format.ts). */
function headerGeneration(file: Uint8Array): number {
  if (file.length < 16) return 0;
  return new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(12, true);
}

/** Remembers the xxhash64 of every shard file written through its targets. */
export class ChecksumTap {
  /** `target/file` → generation and sum. */
  readonly #sums = new Map<string, [number, string]>();
  readonly #targets = new Map<string, ShardTarget>();
  #dirty = false;

  constructor(private readonly hasher: BlockHasher) {}

  /** Loads saved sums (a missing or unreadable sidecar just means starting empty). */
  async load(path: string): Promise<void> {
    try {
      const parsed = SidecarSchema.safeParse(JSON.parse(await Deno.readTextFile(path)));
      if (parsed.success) {
        for (const [k, v] of Object.entries(parsed.data)) this.#sums.set(k, v);
      }
    } catch {
      // absent or torn: sums are re-learned from the files
    }
  }

  /** Saves the sums atomically when they changed since the last save. */
  async save(path: string): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    const text = JSON.stringify(Object.fromEntries(this.#sums));
    await writeFileAtomic(path, new TextEncoder().encode(text));
  }

  #set(key: string, generation: number, sum: string): void {
    this.#sums.set(key, [generation, sum]);
    this.#dirty = true;
  }

  #get(stripe: Stripe, shard: number): string | undefined {
    const v = this.#sums.get(`${stripe.placement[shard]}/${shardFileName(stripe.id, shard)}`);
    return v && v[0] === stripe.generation ? v[1] : undefined;
  }

  /** Wraps a target (pass as EcStoreDeps.openTarget around the real one). */
  wrap(target: ShardTarget): ShardTarget {
    this.#targets.set(target.id, target);
    const key = (name: string) => `${target.id}/${name}`;
    return {
      id: target.id,
      write: async (name, data) => {
        if (this.#sums.delete(key(name))) this.#dirty = true;
        await target.write(name, data);
        this.#set(key(name), headerGeneration(data), this.hasher.hex(data));
      },
      flush: () => target.flush(),
      read: (name) => target.read(name),
      remove: async (name) => {
        if (this.#sums.delete(key(name))) this.#dirty = true;
        await target.remove(name);
      },
      healthy: () => target.healthy(),
      provision: () => target.provision(),
    };
  }

  /** xxhash64 hex of a stripe's shard file, reading it once when not seen yet; null if unreadable. */
  async fileSum(stripe: Stripe, shard: number): Promise<string | null> {
    const known = this.#get(stripe, shard);
    if (known) return known;
    const target = stripe.placement[shard];
    const name = shardFileName(stripe.id, shard);
    const data = await this.#targets.get(target)?.read(name).catch(() => null);
    if (!data) return null;
    const sum = this.hasher.hex(data);
    this.#set(`${target}/${name}`, headerGeneration(data), sum);
    return headerGeneration(data) === stripe.generation ? sum : null;
  }

  /** Loads the sums of every shard of these stripes (so `extentSum` can stay synchronous). */
  async prefetch(stripes: readonly Stripe[]): Promise<void> {
    for (const s of stripes) {
      for (let i = 0; i < s.placement.length; i++) await this.fileSum(s, i);
    }
  }

  /**
   * Checksum of shard index `shard` over a run of stripes: xxhash64 of the concatenated file
   * hashes in stripe order ("xxh64:<hex>"); files without a known hash count as zeros.
   */
  extentSum(stripes: readonly Stripe[], shard: number): string {
    const parts = stripes.map((s) => this.#get(s, shard) ?? "0".repeat(16));
    return `xxh64:${this.hasher.hex(new TextEncoder().encode(parts.join("")))}`;
  }
}
