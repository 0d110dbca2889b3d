/**
 * The on-target shard file (the bitrot layer): a header naming whose shard this is, then the
 * shard in blocks, each preceded by its xxhash64 — MinIO's streaming bitrot layout
 * (cmd/bitrot-streaming.go: `streamingBitrotWriter.Write` writes hash then block), so a flipped
 * bit is caught on read and pinned to a block. Unlike MinIO, where xl.meta beside the part
 * says whose shard it is, the identity lives in the shard itself, so a shard copied from another
 * store or object (valid checksums, same geometry) is recognised as foreign. Pure: bytes in,
 * bytes out.
 *
 * Header (72 bytes, little-endian): "CSSH" | version u16 = 2 | shard index u16 | stripe id u32 |
 * generation u32 | shard size u32 | block size u32 | store id (16-byte UUID) | object id u64 |
 * stripe index u32 | data bytes u32 | algorithm u8 (1 ReedSolomon, 2 LRC) | k u8 | m or l u8 |
 * g u8 | reserved u32 | xxhash64 of the first 64 bytes. Format 1 files (no identity) read as
 * damaged.
 */
import type { BlockHasher } from "./checksum.ts";
import type { CodeParams } from "./codec.ts";

const MAGIC = 0x48535343; // "CSSH" read as little-endian u32
const VERSION = 2;
/** Bytes of the shard file header. */
export const SHARD_HEADER_BYTES = 72;
const HASHED = 64;
const HASH = 8;

/** What a shard must be to be used as a shard of a given stripe (everything but generation). */
export interface ShardIdentity {
  /** UUID of the store that wrote it. */
  storeId: string;
  stripeId: number;
  shardIndex: number;
  /** The put (or destage batch) that wrote the stripe: the object id of the issue. */
  writeId: number;
  /** Index of the stripe within that write. */
  stripeIndex: number;
  /** User bytes in the stripe. */
  dataBytes: number;
  shardSize: number;
  blockSize: number;
  code: CodeParams;
}

/** Identity of a shard file plus its generation (bumped on each rewrite by repair). */
export interface ShardHeader extends ShardIdentity {
  generation: number;
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
  return SHARD_HEADER_BYTES + Math.ceil(shardSize / blockSize) * HASH + shardSize;
}

/** Serialises a shard with its header and per-block checksums. */
export function encodeShardFile(h: ShardHeader, data: Uint8Array, hasher: BlockHasher): Uint8Array {
  if (data.length !== h.shardSize) throw new RangeError("shard data length differs from header");
  const out = new Uint8Array(shardFileSize(h.shardSize, h.blockSize));
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint16(4, VERSION, true);
  v.setUint16(6, h.shardIndex, true);
  v.setUint32(8, h.stripeId, true);
  v.setUint32(12, h.generation, true);
  v.setUint32(16, h.shardSize, true);
  v.setUint32(20, h.blockSize, true);
  out.set(uuidBytes(h.storeId), 24);
  v.setBigUint64(40, BigInt(h.writeId), true);
  v.setUint32(48, h.stripeIndex, true);
  v.setUint32(52, h.dataBytes, true);
  out.set(codeBytes(h.code), 56);
  out.set(hasher.sum(out.subarray(0, HASHED)), HASHED);
  let at = SHARD_HEADER_BYTES;
  for (let off = 0; off < data.length; off += h.blockSize) {
    const block = data.subarray(off, Math.min(off + h.blockSize, data.length));
    out.set(hasher.sum(block), at);
    out.set(block, at + HASH);
    at += HASH + block.length;
  }
  return out;
}

/** The header of a shard file (only its first SHARD_HEADER_BYTES are needed); null if damaged. */
export function decodeShardHeader(file: Uint8Array, hasher: BlockHasher): ShardHeader | null {
  if (file.length < SHARD_HEADER_BYTES) return null;
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (v.getUint32(0, true) !== MAGIC || v.getUint16(4, true) !== VERSION) return null;
  if (!equal(hasher.sum(file.subarray(0, HASHED)), file.subarray(HASHED, SHARD_HEADER_BYTES))) {
    return null;
  }
  const code = decodeCode(file.subarray(56, 60));
  const blockSize = v.getUint32(20, true);
  if (!code || blockSize === 0) return null;
  return {
    shardIndex: v.getUint16(6, true),
    stripeId: v.getUint32(8, true),
    generation: v.getUint32(12, true),
    shardSize: v.getUint32(16, true),
    blockSize,
    storeId: uuidString(file.subarray(24, 40)),
    writeId: Number(v.getBigUint64(40, true)),
    stripeIndex: v.getUint32(48, true),
    dataBytes: v.getUint32(52, true),
    code,
  };
}

/**
 * Parses a shard file; null when the header is damaged or the file is truncated (the shard is
 * then treated as missing). Block damage is reported in badBlocks.
 */
export function decodeShardFile(file: Uint8Array, hasher: BlockHasher): ParsedShard | null {
  const header = decodeShardHeader(file, hasher);
  if (!header || file.length !== shardFileSize(header.shardSize, header.blockSize)) return null;
  const data = new Uint8Array(header.shardSize);
  const badBlocks: number[] = [];
  let at = SHARD_HEADER_BYTES;
  for (let b = 0, off = 0; off < header.shardSize; b++, off += header.blockSize) {
    const n = Math.min(header.blockSize, header.shardSize - off);
    const block = file.subarray(at + HASH, at + HASH + n);
    if (!equal(hasher.sum(block), file.subarray(at, at + HASH))) badBlocks.push(b);
    data.set(block, off);
    at += HASH + n;
  }
  return { header, data, badBlocks };
}

/**
 * How a shard's header differs from the identity the reader expects, in words (e.g. "store
 * 1f…, expected 9c…"); null when it is the expected shard.
 */
export function identityMismatch(h: ShardIdentity, want: ShardIdentity): string | null {
  const diffs: string[] = [];
  const cmp = (what: string, got: unknown, exp: unknown) => {
    if (got !== exp) diffs.push(`${what} ${got}, expected ${exp}`);
  };
  cmp("store", h.storeId, want.storeId);
  cmp("object", h.writeId, want.writeId);
  cmp("stripe index", h.stripeIndex, want.stripeIndex);
  cmp("stripe id", h.stripeId, want.stripeId);
  cmp("shard index", h.shardIndex, want.shardIndex);
  cmp("geometry", geometry(h), geometry(want));
  return diffs.length > 0 ? diffs.join("; ") : null;
}

function geometry(h: ShardIdentity): string {
  const c = h.code;
  const code = c.algorithm === "ReedSolomon" ? `RS ${c.k}+${c.m}` : `LRC ${c.k}+${c.l}+${c.g}`;
  return `${code} block ${h.blockSize} shard ${h.shardSize} data ${h.dataBytes}`;
}

function codeBytes(c: CodeParams): Uint8Array {
  const fields = c.algorithm === "ReedSolomon" ? [1, c.k, c.m, 0] : [2, c.k, c.l, c.g];
  if (fields.some((x) => x > 255)) throw new RangeError(`code ${JSON.stringify(c)} too large`);
  return new Uint8Array(fields);
}

function decodeCode(b: Uint8Array): CodeParams | null {
  if (b[0] === 1 && b[1] > 0 && b[2] > 0) return { algorithm: "ReedSolomon", k: b[1], m: b[2] };
  if (b[0] === 2 && b[1] > 0 && b[2] > 0) return { algorithm: "LRC", k: b[1], l: b[2], g: b[3] };
  return null;
}

/** The 16 bytes of a UUID string (hyphens optional). */
function uuidBytes(id: string): Uint8Array {
  const hex = id.replaceAll("-", "");
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new RangeError(`store id ${id} is not a UUID`);
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

function uuidString(b: Uint8Array): string {
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
