/**
 * Systematic Reed-Solomon over GF(2^8) for any k data + m parity shards (k + m ≤ 255). The
 * encoding matrix is the `reed-solomon-erasure` crate's, so parity is byte-identical to
 * `@subspace/reed-solomon-erasure.wasm`. The API follows klauspost/reedsolomon and works on
 * caller-owned Uint8Arrays: encode fills parity in place; reconstruct fills missing slots.
 */
import { ShardShapeError, TooFewShardsError } from "./errors.ts";
import type { Kernel } from "./kernels/kernel.ts";
import { createTsKernel } from "./kernels/ts_kernel.ts";
import { SmallLru } from "./lru.ts";
import {
  invert,
  type Matrix,
  multiply,
  rsEncodingMatrix,
  selectRows,
  subMatrix,
} from "./matrix.ts";
import { presentIndices, shardSize, type ShardSlot } from "./shards.ts";

/** Construction options. */
export interface ReedSolomonOptions {
  /** The multiply kernel (default: the TypeScript reference; use selectKernel() in products). */
  kernel?: Kernel;
  /** Decode matrices kept, one per erasure pattern (default 64). */
  decodeCacheSize?: number;
}

/** A k+m Reed-Solomon codec. Not safe to share between concurrent workers (scratch state). */
export class ReedSolomon {
  /** k. */
  readonly dataShards: number;
  /** m. */
  readonly parityShards: number;
  /** k + m. */
  readonly totalShards: number;
  /** The (k+m) × k encoding matrix; its top k rows are the identity. */
  readonly matrix: Matrix;
  /** The m × k parity rows. */
  readonly parityMatrix: Matrix;
  /** The kernel doing the byte work. */
  readonly kernel: Kernel;
  readonly #decodeCache: SmallLru<string, Matrix>;
  #decodeCacheMisses = 0;

  constructor(k: number, m: number, opts: ReedSolomonOptions = {}) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be ≥ 1, got ${k}`);
    if (!Number.isInteger(m) || m < 1) throw new RangeError(`m must be ≥ 1, got ${m}`);
    if (k + m > 255) throw new RangeError(`k + m must be ≤ 255, got ${k + m}`);
    this.dataShards = k;
    this.parityShards = m;
    this.totalShards = k + m;
    this.matrix = rsEncodingMatrix(k, m);
    this.parityMatrix = subMatrix(this.matrix, k, 0, k + m, k);
    this.kernel = opts.kernel ?? createTsKernel();
    this.#decodeCache = new SmallLru(opts.decodeCacheSize ?? 64);
  }

  /** How many decode matrices had to be computed (cache misses), for tests and metrics. */
  get decodeMatrixComputations(): number {
    return this.#decodeCacheMisses;
  }

  /** Computes the m parity shards from the k data shards, in place (all k+m must be present). */
  encode(shards: readonly Uint8Array[]): void {
    const size = shardSize(shards, this.totalShards);
    this.#requireAll(shards);
    const k = this.dataShards;
    this.kernel.mulRows(this.parityMatrix, shards.slice(0, k), shards.slice(k), size);
  }

  /** True when the parity shards match the data shards (all k+m must be present). */
  verify(shards: readonly Uint8Array[]): boolean {
    const size = shardSize(shards, this.totalShards);
    this.#requireAll(shards);
    const k = this.dataShards;
    const scratch = Array.from({ length: this.parityShards }, () => new Uint8Array(size));
    this.kernel.mulRows(this.parityMatrix, shards.slice(0, k), scratch, size);
    for (let p = 0; p < this.parityShards; p++) {
      if (!equalBytes(scratch[p], shards[k + p])) return false;
    }
    return true;
  }

  /**
   * Rebuilds every missing (null/undefined) shard, data and parity, allocating its buffer into
   * the slot. Throws TooFewShardsError when fewer than k shards are present; the present shards
   * are trusted (find corrupt ones with checksums or verify first and pass them as null).
   */
  reconstruct(shards: ShardSlot[]): void {
    this.#reconstruct(shards, false);
  }

  /** Like reconstruct but rebuilds only missing data shards (parity slots stay empty). */
  reconstructData(shards: ShardSlot[]): void {
    this.#reconstruct(shards, true);
  }

  /**
   * Rebuilds the shards listed in `wanted` into the caller's buffers from the shards flagged
   * in `present`, without allocating shard buffers (the store reuses stripe buffers this way).
   */
  reconstructInto(
    shards: readonly Uint8Array[],
    present: readonly boolean[],
    wanted: number[],
  ): void {
    const have = present.map((p, i) => (p ? i : -1)).filter((i) => i >= 0);
    if (have.length < this.dataShards) throw new TooFewShardsError(this.dataShards, have.length);
    if (wanted.length === 0) return;
    const size = shardSize(shards.filter((_, i) => present[i]), have.length);
    const use = have.slice(0, this.dataShards);
    const coeffs = this.#decodeMatrix(use, wanted);
    this.kernel.mulRows(coeffs, use.map((i) => shards[i]), wanted.map((i) => shards[i]), size);
  }

  #reconstruct(shards: ShardSlot[], dataOnly: boolean): void {
    const size = shardSize(shards, this.totalShards);
    const have = presentIndices(shards);
    if (have.length < this.dataShards) throw new TooFewShardsError(this.dataShards, have.length);
    const limit = dataOnly ? this.dataShards : this.totalShards;
    const wanted: number[] = [];
    for (let i = 0; i < limit; i++) if (!shards[i]) wanted.push(i);
    if (wanted.length === 0) return;
    // Prefer data shards as inputs: when all k data are present the matrix is pure parity rows.
    const use = have.slice(0, this.dataShards);
    const coeffs = this.#decodeMatrix(use, wanted);
    const outputs = wanted.map((i) => (shards[i] = new Uint8Array(size)));
    this.kernel.mulRows(coeffs, use.map((i) => shards[i] as Uint8Array), outputs, size);
  }

  /** wanted-rows × k matrix turning the shards `use` into the shards `wanted` (cached). */
  #decodeMatrix(use: readonly number[], wanted: readonly number[]): Matrix {
    const key = `${use.join(",")}>${wanted.join(",")}`;
    let m = this.#decodeCache.get(key);
    if (!m) {
      this.#decodeCacheMisses++;
      // use-rows × data = used shards, so data = inverse × used shards and every shard i
      // (data or parity) = matrix row i × inverse × used shards.
      const inverse = invert(selectRows(this.matrix, use));
      m = multiply(selectRows(this.matrix, wanted), inverse);
      this.#decodeCache.set(key, m);
    }
    return m;
  }

  #requireAll(shards: readonly ShardSlot[]): void {
    const have = presentIndices(shards).length;
    if (have !== this.totalShards) {
      throw new ShardShapeError(
        `encode and verify need all ${this.totalShards} shards, ${this.totalShards - have} missing`,
      );
    }
  }
}

/** Byte equality of two arrays. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
