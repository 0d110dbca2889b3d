/**
 * Dense matrices over GF(2^8), row-major in one Uint8Array. Pure functions; the encoding
 * matrix construction follows the `reed-solomon-erasure` crate exactly so parity matches it.
 */
import { exp, inv, mul } from "./gf256.ts";

/** A rows × cols matrix, row-major. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Uint8Array;
}

/** Thrown when a square matrix has no inverse. */
export class SingularMatrixError extends Error {
  constructor() {
    super("matrix is singular");
    this.name = "SingularMatrixError";
  }
}

/** A zero matrix. */
export function zeros(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Uint8Array(rows * cols) };
}

/** The n × n identity. */
export function identity(n: number): Matrix {
  const m = zeros(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

/** Builds a matrix from nested arrays (tests, small constants). */
export function fromRows(rows: number[][]): Matrix {
  const m = zeros(rows.length, rows[0]?.length ?? 0);
  rows.forEach((r, i) => m.data.set(r, i * m.cols));
  return m;
}

/** Element (r, c). */
export function get(m: Matrix, r: number, c: number): number {
  return m.data[r * m.cols + c];
}

/** Row r as a view (no copy). */
export function row(m: Matrix, r: number): Uint8Array {
  return m.data.subarray(r * m.cols, (r + 1) * m.cols);
}

/** The crate's Vandermonde matrix: element (r, c) = r^c. */
export function vandermonde(rows: number, cols: number): Matrix {
  const m = zeros(rows, cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) m.data[r * cols + c] = exp(r, c);
  }
  return m;
}

/** Matrix product a × b. */
export function multiply(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) {
    throw new RangeError(`cannot multiply ${a.rows}x${a.cols} by ${b.rows}x${b.cols}`);
  }
  const out = zeros(a.rows, b.cols);
  for (let r = 0; r < a.rows; r++) {
    for (let c = 0; c < b.cols; c++) {
      let v = 0;
      for (let i = 0; i < a.cols; i++) v ^= mul(a.data[r * a.cols + i], b.data[i * b.cols + c]);
      out.data[r * out.cols + c] = v;
    }
  }
  return out;
}

/** The sub-matrix of rows [r0, r1) and columns [c0, c1) (a copy). */
export function subMatrix(m: Matrix, r0: number, c0: number, r1: number, c1: number): Matrix {
  const out = zeros(r1 - r0, c1 - c0);
  for (let r = r0; r < r1; r++) {
    out.data.set(m.data.subarray(r * m.cols + c0, r * m.cols + c1), (r - r0) * out.cols);
  }
  return out;
}

/** A matrix made of the listed rows of m, in that order (a copy). */
export function selectRows(m: Matrix, rows: readonly number[]): Matrix {
  const out = zeros(rows.length, m.cols);
  rows.forEach((r, i) => out.data.set(row(m, r), i * m.cols));
  return out;
}

/** Inverse of a square matrix by Gauss-Jordan elimination; throws SingularMatrixError. */
export function invert(m: Matrix): Matrix {
  const n = m.rows;
  if (n !== m.cols) throw new RangeError(`only square matrices invert, got ${m.rows}x${m.cols}`);
  const w = 2 * n;
  // Work on [m | I] and reduce the left half to I; the right half becomes m^-1.
  const a = new Uint8Array(n * w);
  for (let r = 0; r < n; r++) {
    a.set(m.data.subarray(r * n, r * n + n), r * w);
    a[r * w + n + r] = 1;
  }
  for (let col = 0; col < n; col++) {
    let pivot = col;
    while (pivot < n && a[pivot * w + col] === 0) pivot++;
    if (pivot === n) throw new SingularMatrixError();
    if (pivot !== col) {
      const tmp = a.slice(pivot * w, pivot * w + w);
      a.copyWithin(pivot * w, col * w, col * w + w);
      a.set(tmp, col * w);
    }
    const s = inv(a[col * w + col]);
    if (s !== 1) { for (let c = 0; c < w; c++) a[col * w + c] = mul(a[col * w + c], s); }
    for (let r = 0; r < n; r++) {
      const f = a[r * w + col];
      if (r === col || f === 0) continue;
      for (let c = 0; c < w; c++) a[r * w + c] ^= mul(f, a[col * w + c]);
    }
  }
  const out = zeros(n, n);
  for (let r = 0; r < n; r++) out.data.set(a.subarray(r * w + n, r * w + w), r * n);
  return out;
}

/**
 * Greedy row-basis: walks `candidates` in order and keeps each row that is linearly independent
 * of those kept so far, stopping at m.cols rows. Returns the kept row indices; fewer than
 * m.cols means the candidate rows do not have full rank.
 */
export function independentRows(m: Matrix, candidates: readonly number[]): number[] {
  const k = m.cols;
  // Rows of the reduced basis, each with its pivot column.
  const basis: { pivot: number; v: Uint8Array }[] = [];
  const kept: number[] = [];
  for (const r of candidates) {
    const v = row(m, r).slice();
    for (const b of basis) {
      const f = v[b.pivot];
      if (f !== 0) { for (let c = 0; c < k; c++) v[c] ^= mul(f, b.v[c]); }
    }
    const pivot = v.findIndex((x) => x !== 0);
    if (pivot < 0) continue;
    const s = inv(v[pivot]);
    for (let c = 0; c < k; c++) v[c] = mul(v[c], s);
    // Keep the basis fully reduced in the new pivot column.
    for (const b of basis) {
      const f = b.v[pivot];
      if (f !== 0) { for (let c = 0; c < k; c++) b.v[c] ^= mul(f, v[c]); }
    }
    basis.push({ pivot, v });
    kept.push(r);
    if (kept.length === k) break;
  }
  return kept;
}

/** Rank of the listed rows of m (all rows when omitted). */
export function rank(m: Matrix, rows?: readonly number[]): number {
  return independentRows(m, rows ?? Array.from({ length: m.rows }, (_, i) => i)).length;
}

/** The crate's systematic encoding matrix: vandermonde(k+m, k) × (its top k×k)^-1. */
export function rsEncodingMatrix(k: number, m: number): Matrix {
  const v = vandermonde(k + m, k);
  return multiply(v, invert(subMatrix(v, 0, 0, k, k)));
}
