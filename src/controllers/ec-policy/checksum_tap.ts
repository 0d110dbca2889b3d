/**
 * Shard checksums for ECStripe records without re-reading the store: a ShardTarget decorator
 * hashes every shard file as the store writes it (xxhash64, several GB/s) and remembers it by
 * file name. Files written before this process started are hashed once on first need (one read
 * each); a file that cannot be read has no checksum here.
 */
import type { BlockHasher } from "../../ec/store/checksum.ts";
import type { Stripe } from "../../ec/store/manifest.ts";
import { shardFileName } from "../../ec/store/store.ts";
import type { ShardTarget } from "../../ec/store/target.ts";

/** Remembers the xxhash64 of every shard file written through its targets. */
export class ChecksumTap {
  readonly #sums = new Map<string, string>();
  readonly #targets = new Map<string, ShardTarget>();

  constructor(private readonly hasher: BlockHasher) {}

  /** Wraps a target (pass as EcStoreDeps.openTarget around the real one). */
  wrap(target: ShardTarget): ShardTarget {
    this.#targets.set(target.id, target);
    const sums = this.#sums;
    const hasher = this.hasher;
    const key = (name: string) => `${target.id}/${name}`;
    return {
      id: target.id,
      async write(name, data) {
        sums.delete(key(name));
        await target.write(name, data);
        sums.set(key(name), hasher.hex(data));
      },
      flush: () => target.flush(),
      read: (name) => target.read(name),
      async remove(name) {
        sums.delete(key(name));
        await target.remove(name);
      },
      healthy: () => target.healthy(),
      provision: () => target.provision(),
    };
  }

  /** xxhash64 hex of a stripe's shard file, reading it once when not seen yet; null if unreadable. */
  async fileSum(stripe: Stripe, shard: number): Promise<string | null> {
    const target = stripe.placement[shard];
    const name = shardFileName(stripe.id, shard);
    const known = this.#sums.get(`${target}/${name}`);
    if (known) return known;
    const t = this.#targets.get(target);
    const data = await t?.read(name).catch(() => null);
    if (!data) return null;
    const sum = this.hasher.hex(data);
    this.#sums.set(`${target}/${name}`, sum);
    return sum;
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
    const parts = stripes.map((s) =>
      this.#sums.get(`${s.placement[shard]}/${shardFileName(s.id, shard)}`) ?? "0".repeat(16)
    );
    return `xxh64:${this.hasher.hex(new TextEncoder().encode(parts.join("")))}`;
  }
}
