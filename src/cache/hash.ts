/**
 * Hashes for the cache: a string hash that picks L1 shards, and xxHash32 that
 * checksums L2 entries. Pure functions, no allocation on the hot path.
 */

/**
 * FNV-1a over UTF-16 code units with a final avalanche (murmur3 fmix32), so the low
 * bits used for shard selection depend on every character.
 */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** murmur3's 32-bit finaliser: spreads entropy into every bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function round(acc: number, lane: number): number {
  acc = (acc + Math.imul(lane, P2)) | 0;
  acc = rotl(acc, 13);
  return Math.imul(acc, P1);
}

/**
 * xxHash32 of `buf[start, end)` with `seed` (same output as the reference
 * implementation). Reads whole words through a Uint32Array when the start is
 * 4-byte aligned in its buffer (always the case for L2 entries), bytes otherwise.
 */
export function xxh32(buf: Uint8Array, start: number, end: number, seed = 0): number {
  const len = end - start;
  const abs = buf.byteOffset + start;
  const words = abs % 4 === 0 ? new Uint32Array(buf.buffer, abs, len >>> 2) : null;
  const word = (i: number): number => {
    // i is a byte offset from start, multiple of 4
    if (words) return words[i >>> 2];
    const p = start + i;
    return buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
  };
  let h: number;
  let i = 0;
  if (len >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    const limit = len - 16;
    if (words) {
      let w = 0;
      for (; i <= limit; i += 16, w += 4) {
        v1 = round(v1, words[w]);
        v2 = round(v2, words[w + 1]);
        v3 = round(v3, words[w + 2]);
        v4 = round(v4, words[w + 3]);
      }
    } else {
      for (; i <= limit; i += 16) {
        v1 = round(v1, word(i));
        v2 = round(v2, word(i + 4));
        v3 = round(v3, word(i + 8));
        v4 = round(v4, word(i + 12));
      }
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + len) | 0;
  for (; i + 4 <= len; i += 4) {
    h = (h + Math.imul(word(i), P3)) | 0;
    h = Math.imul(rotl(h, 17), P4);
  }
  for (; i < len; i++) {
    h = (h + Math.imul(buf[start + i], P5)) | 0;
    h = Math.imul(rotl(h, 11), P1);
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}
