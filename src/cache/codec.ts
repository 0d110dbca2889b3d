/**
 * LZ4 for cache entries (FR-304) through lz4-wasm. A value is kept compressed only
 * when that saves space; callers record the choice (a header flag in L2, a frame byte
 * in L3) so a reader knows whether to decompress.
 */
import * as lz4 from "lz4-wasm";

/** Values shorter than this are never worth compressing (the frame costs more). */
export const MIN_COMPRESS_BYTES = 64;

/** The bytes to store and whether they are LZ4-compressed. */
export interface Encoded {
  bytes: Uint8Array;
  compressed: boolean;
}

/**
 * Compresses `raw` and keeps the result only when it is smaller by at least 1/16
 * (below that, decompression time buys too little space).
 */
export function encodeValue(raw: Uint8Array, enabled = true): Encoded {
  if (!enabled || raw.byteLength < MIN_COMPRESS_BYTES) return { bytes: raw, compressed: false };
  const c = lz4.compress(raw);
  if (c.byteLength <= raw.byteLength - (raw.byteLength >>> 4)) {
    return { bytes: c, compressed: true };
  }
  return { bytes: raw, compressed: false };
}

/** The original bytes of an encoded value. */
export function decodeValue(bytes: Uint8Array, compressed: boolean): Uint8Array {
  return compressed ? lz4.decompress(bytes) : bytes;
}

const FRAME_RAW = 0;
const FRAME_LZ4 = 1;

/**
 * A self-describing frame for stores without a header of their own (L3): one byte
 * (0 raw, 1 LZ4) followed by the payload.
 */
export function frame(raw: Uint8Array, enabled = true): Uint8Array {
  const e = encodeValue(raw, enabled);
  const out = new Uint8Array(e.bytes.byteLength + 1);
  out[0] = e.compressed ? FRAME_LZ4 : FRAME_RAW;
  out.set(e.bytes, 1);
  return out;
}

/** Error for a frame that is not one `frame` wrote. */
export class CodecError extends Error {
  /** @param message what was wrong */
  constructor(message: string) {
    super(message);
    this.name = "CodecError";
  }
}

/** The original bytes of a `frame` output. */
export function unframe(framed: Uint8Array): Uint8Array {
  if (framed.byteLength < 1) throw new CodecError("empty cache frame");
  const kind = framed[0];
  const body = framed.subarray(1);
  if (kind === FRAME_RAW) return body;
  if (kind === FRAME_LZ4) {
    try {
      return lz4.decompress(body);
    } catch (e) {
      throw new CodecError(`corrupt LZ4 frame: ${(e as Error).message}`);
    }
  }
  throw new CodecError(`unknown cache frame kind ${kind}`);
}
