/** Shape checks shared by the RS and LRC codecs. */
import { ShardShapeError } from "./errors.ts";

/** A shard slot: the bytes, or null/undefined when the shard is lost. */
export type ShardSlot = Uint8Array | null | undefined;

/** Checks the count and that every present shard has one non-zero size; returns that size. */
export function shardSize(shards: readonly ShardSlot[], total: number): number {
  if (shards.length !== total) {
    throw new ShardShapeError(`expected ${total} shards, got ${shards.length}`);
  }
  let size = -1;
  for (let i = 0; i < shards.length; i++) {
    const s = shards[i];
    if (!s) continue;
    if (size < 0) size = s.length;
    else if (s.length !== size) {
      throw new ShardShapeError(
        `shard sizes differ: shard ${i} has ${s.length} bytes, expected ${size}`,
      );
    }
  }
  if (size === 0) throw new ShardShapeError("shards are empty");
  return size;
}

/** Indices of the present shards. */
export function presentIndices(shards: readonly ShardSlot[]): number[] {
  const out: number[] = [];
  shards.forEach((s, i) => {
    if (s) out.push(i);
  });
  return out;
}
