/**
 * Arithmetic in GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D), the field
 * used by the `reed-solomon-erasure` crate, klauspost/reedsolomon and ISA-L, so matrices built
 * here mean the same thing to every kernel. Pure: tables are computed once at import.
 */

/** The field's reduction polynomial. */
export const POLY = 0x11d;

/** LOG[a] for a ≠ 0: the exponent e with 2^e = a. LOG[0] is unused (0). */
export const LOG: Uint8Array = new Uint8Array(256);
/** EXP[e] = 2^e, doubled in length (510 entries used) so `EXP[LOG[a] + LOG[b]]` needs no modulo. */
export const EXP: Uint8Array = new Uint8Array(512);

{
  let x = 1;
  for (let e = 0; e < 255; e++) {
    EXP[e] = x;
    EXP[e + 255] = x;
    LOG[x] = e;
    x <<= 1;
    if (x & 0x100) x ^= POLY;
  }
}

/** Field addition (and subtraction): XOR. */
export function add(a: number, b: number): number {
  return a ^ b;
}

/** Field multiplication through the log/exp tables. */
export function mul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a] + LOG[b]];
}

/** Field division a / b; throws on b = 0. */
export function div(a: number, b: number): number {
  if (b === 0) throw new RangeError("GF(2^8) division by zero");
  if (a === 0) return 0;
  return EXP[LOG[a] + 255 - LOG[b]];
}

/** Multiplicative inverse; throws on 0. */
export function inv(a: number): number {
  return div(1, a);
}

/** a raised to the n-th power, with 0^0 = 1 (the crate's convention for Vandermonde rows). */
export function exp(a: number, n: number): number {
  if (n === 0) return 1;
  if (a === 0) return 0;
  return EXP[(LOG[a] * n) % 255];
}

/** The full product table: MUL_TABLE[c * 256 + x] = c·x (64 KiB). */
export const MUL_TABLE: Uint8Array = (() => {
  const t = new Uint8Array(65536);
  for (let c = 0; c < 256; c++) {
    for (let x = 0; x < 256; x++) t[c * 256 + x] = mul(c, x);
  }
  return t;
})();

/** The 256-entry row of MUL_TABLE for constant c (a view, no copy). */
export function mulRow(c: number): Uint8Array {
  return MUL_TABLE.subarray(c * 256, c * 256 + 256);
}

/**
 * Split nibble tables for SIMD kernels (the pshufb / i8x16.swizzle trick): 32 bytes per
 * constant, the first 16 hold c·x for x in 0..15, the next 16 hold c·(x << 4), so
 * c·b = low[b & 15] ^ high[b >> 4].
 */
export function nibbleTables(c: number, out: Uint8Array = new Uint8Array(32), at = 0): Uint8Array {
  for (let x = 0; x < 16; x++) {
    out[at + x] = mul(c, x);
    out[at + 16 + x] = mul(c, x << 4);
  }
  return out;
}
