/**
 * L3 adapter over erasure-coded stores (FR-303): keys `<volume>/<block>` map to the object
 * `blk-<block>` of that volume's EcStore, so a block of an EC-tiered volume is read through the
 * TieredCache (L1 → L2 → stripes, degraded reads rebuilding missing shards on the fly).
 * `EcVolumeReader` turns byte ranges into block reads through the cache.
 */
import type { EcStore } from "../ec/store/store.ts";
import type { L3Backend } from "./l3.ts";
import type { TieredCache } from "./tiered.ts";

/** Object name of block `index` inside a volume's store (zero-padded: names sort by offset). */
export function blockObjectName(index: number): string {
  return `blk-${String(index).padStart(10, "0")}`;
}

/** Cache key of block `index` of a volume. */
export function blockKey(volume: string, index: number): string {
  return `${volume}/${index}`;
}

/** Finds the store of an EC-tiered volume (undefined: the volume is not in the EC tier). */
export type EcStoreResolver = (volume: string) => Promise<EcStore | undefined>;

function parseKey(key: string): { volume: string; name: string } | undefined {
  const at = key.lastIndexOf("/");
  const index = Number(key.slice(at + 1));
  if (at <= 0 || !Number.isSafeInteger(index) || index < 0) return undefined;
  return { volume: key.slice(0, at), name: blockObjectName(index) };
}

/** The L3 port over the EC stores of every EC-tiered volume. */
export class EcL3Backend implements L3Backend {
  constructor(readonly resolve: EcStoreResolver) {}

  /** The block's bytes (rebuilt from parity when shards are missing); undefined when absent. */
  async get(key: string): Promise<Uint8Array | undefined> {
    const k = parseKey(key);
    const store = k && await this.resolve(k.volume);
    if (!k || !store) return undefined;
    try {
      return await store.get(k.name);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
  }

  /** Writes the block through the store's journal (durable once fdatasync'd). */
  async put(key: string, value: Uint8Array): Promise<void> {
    const k = parseKey(key);
    if (!k) throw new RangeError(`not a block key: ${key}`);
    const store = await this.resolve(k.volume);
    if (!store) throw new Error(`volume ${k.volume} is not in the EC tier`);
    await store.write(k.name, value);
  }

  /** Removes the block's object (absent is fine). */
  async delete(key: string): Promise<void> {
    const k = parseKey(key);
    const store = k && await this.resolve(k.volume);
    if (k && store) await store.delete(k.name);
  }
}

/** Byte-range reads of EC-tiered volumes through a TieredCache whose L3 is an EcL3Backend. */
export class EcVolumeReader {
  constructor(readonly cache: TieredCache, readonly blockSize: (volume: string) => number) {}

  /** One block of the volume; throws when the EC tier has no such block. */
  async readBlock(volume: string, index: number): Promise<Uint8Array> {
    const v = await this.cache.get(blockKey(volume, index));
    if (v === undefined) throw new Deno.errors.NotFound(`block ${index} of ${volume} not found`);
    return v;
  }

  /** Bytes [offset, offset+length) of the volume. */
  async read(volume: string, offset: number, length: number): Promise<Uint8Array> {
    const bs = this.blockSize(volume);
    const out = new Uint8Array(length);
    let pos = offset;
    while (pos < offset + length) {
      const index = Math.floor(pos / bs);
      const block = await this.readBlock(volume, index);
      const from = pos - index * bs;
      const n = Math.min(block.length - from, offset + length - pos);
      if (n <= 0) throw new RangeError(`read past the end of ${volume} at ${pos}`);
      out.set(block.subarray(from, from + n), pos - offset);
      pos += n;
    }
    return out;
  }

  /** Drops a volume's blocks from L1 and L2 (its stripes are being deleted). */
  evict(volume: string, blocks: number): void {
    for (let i = 0; i < blocks; i++) {
      const key = blockKey(volume, i);
      this.cache.l1.delete(key);
      this.cache.l2?.delete(key);
    }
  }
}
