/**
 * The on-target shard file: a checksummed header, then the shard in blocks, each preceded by
 * its xxhash64 (MinIO's streaming bitrot layout), so a flipped bit is caught on read and
 * pinned to a block. Pure: bytes in, bytes out.
 *
 * Header (32 bytes, little-endian): "CSSH" | version u16 | shard index u16 | stripe id u32 |
 * generation u32 | shard size u32 | block size u32 | xxhash64 of the first 24 bytes.
 */
import type { BlockHasher } from "./checksum.ts";

const MAGIC = 0x48535343; // "CSSH" read as little-endian u32
const HEADER = 32;
const HASH = 8;

/** Identity of a shard file. */
export interface ShardHeader {
  stripeId: number;
  shardIndex: number;
  generation: number;
  shardSize: number;
  blockSize: number;
}

/** A parsed shard file. */
export interface ParsedShard {
  header: ShardHeader;
  data: Uint8Array;
  /** Indices of blocks whose checksum does not match (empty when intact). */
  badBlocks: number[];
}

/** Total file size for a shard. */
export function shardFileSize(shardSize: number, blockSize: number): number {
  return HEADER + Math.ceil(shardSize / blockSize) * HASH + shardSize;
}

/** Serialises a shard with its header and per-block checksums. */
export function encodeShardFile(h: ShardHeader, data: Uint8Array, hasher: BlockHasher): Uint8Array {
  if (data.length !== h.shardSize) throw new RangeError("shard data length differs from header");
  const out = new Uint8Array(shardFileSize(h.shardSize, h.blockSize));
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint16(4, 1, true);
  v.setUint16(6, h.shardIndex, true);
  v.setUint32(8, h.stripeId, true);
  v.setUint32(12, h.generation, true);
  v.setUint32(16, h.shardSize, true);
  v.setUint32(20, h.blockSize, true);
  out.set(hasher.sum(out.subarray(0, 24)), 24);
  let at = HEADER;
  for (let off = 0; off < data.length; off += h.blockSize) {
    const block = data.subarray(off, Math.min(off + h.blockSize, data.length));
    out.set(hasher.sum(block), at);
    out.set(block, at + HASH);
    at += HASH + block.length;
  }
  return out;
}

/**
 * Parses a shard file; null when the header is damaged or the file is truncated (the shard is
 * then treated as missing). Block damage is reported in badBlocks.
 */
export function decodeShardFile(file: Uint8Array, hasher: BlockHasher): ParsedShard | null {
  if (file.length < HEADER) return null;
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (v.getUint32(0, true) !== MAGIC || v.getUint16(4, true) !== 1) return null;
  if (!equal(hasher.sum(file.subarray(0, 24)), file.subarray(24, 32))) return null;
  const header: ShardHeader = {
    shardIndex: v.getUint16(6, true),
    stripeId: v.getUint32(8, true),
    generation: v.getUint32(12, true),
    shardSize: v.getUint32(16, true),
    blockSize: v.getUint32(20, true),
  };
  if (header.blockSize === 0) return null;
  if (file.length !== shardFileSize(header.shardSize, header.blockSize)) return null;
  const data = new Uint8Array(header.shardSize);
  const badBlocks: number[] = [];
  let at = HEADER;
  for (let b = 0, off = 0; off < header.shardSize; b++, off += header.blockSize) {
    const n = Math.min(header.blockSize, header.shardSize - off);
    const block = file.subarray(at + HASH, at + HASH + n);
    if (!equal(hasher.sum(block), file.subarray(at, at + HASH))) badBlocks.push(b);
    data.set(block, off);
    at += HASH + n;
  }
  return { header, data, badBlocks };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
