/**
 * Locally repairable code (Azure-style LRC k + l + g): k data shards split into l local groups,
 * one XOR parity per group, and g global parities. Shard order: data 0..k-1, local parities
 * k..k+l-1 (group j), global parities k+l..k+l+g-1.
 *
 * Generator: data column i gets the element α_i = 2^i. A local parity is the XOR (α_i^0) of its
 * group; global parity j (1..g) has coefficients α_i^j. Any g+1 lost shards are decodable: at
 * most one group then holds several losses and its local row plus the global rows form a
 * Vandermonde system on distinct α_i. Larger patterns are decided exactly by the rank of the
 * survivors' generator rows.
 */
import { exp } from "./gf256.ts";
import { UnrecoverablePatternError } from "./errors.ts";
import type { Kernel } from "./kernels/kernel.ts";
import { createTsKernel } from "./kernels/ts_kernel.ts";
import { SmallLru } from "./lru.ts";
import {
  identity,
  independentRows,
  invert,
  type Matrix,
  multiply,
  selectRows,
  zeros,
} from "./matrix.ts";
import { equalBytes } from "./rs.ts";
import { presentIndices, shardSize, type ShardSlot } from "./shards.ts";

/** LRC geometry. */
export interface LrcLayout {
  /** Data shards. */
  k: number;
  /** Local groups (one XOR parity each). */
  l: number;
  /** Global parities. */
  g: number;
}

/** What a reconstruction read and how. */
export interface LrcRepairReport {
  /** Shards rebuilt. */
  rebuilt: number[];
  /** Distinct shards read to rebuild them. */
  readShards: number[];
  /** True when only local groups were used (no global decode). */
  localOnly: boolean;
}

/** Construction options. */
export interface LrcOptions {
  /** The multiply kernel (default: the TypeScript reference). */
  kernel?: Kernel;
}

/** An LRC codec; encode/verify/reconstruct work on caller-owned shard arrays. */
export class Lrc {
  /** k + l + g. */
  readonly totalShards: number;
  /** The n × k generator matrix (top k rows identity). */
  readonly generator: Matrix;
  /** The (l + g) × k parity rows. */
  readonly parityMatrix: Matrix;
  /** The kernel doing the byte work. */
  readonly kernel: Kernel;
  readonly #groups: number[][];
  readonly #cache = new SmallLru<string, Matrix>(64);
  readonly #rankCache = new SmallLru<string, number[]>(256);

  constructor(readonly layout: LrcLayout, opts: LrcOptions = {}) {
    const { k, l, g } = layout;
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be ≥ 1, got ${k}`);
    if (!Number.isInteger(l) || l < 1 || l > k) throw new RangeError(`l must be in 1..k, got ${l}`);
    if (!Number.isInteger(g) || g < 0) throw new RangeError(`g must be ≥ 0, got ${g}`);
    if (k + l + g > 255) throw new RangeError(`k + l + g must be ≤ 255, got ${k + l + g}`);
    this.totalShards = k + l + g;
    this.kernel = opts.kernel ?? createTsKernel();
    this.#groups = Array.from({ length: l }, (_, j) => {
      const lo = Math.floor((j * k) / l);
      const hi = Math.floor(((j + 1) * k) / l);
      return Array.from({ length: hi - lo }, (_, i) => lo + i);
    });
    const gen = zeros(this.totalShards, k);
    gen.data.set(identity(k).data);
    this.#groups.forEach((members, j) => {
      for (const i of members) gen.data[(k + j) * k + i] = 1;
    });
    for (let j = 1; j <= g; j++) {
      for (let i = 0; i < k; i++) gen.data[(k + l + j - 1) * k + i] = exp(exp(2, i), j);
    }
    this.generator = gen;
    this.parityMatrix = selectRows(gen, range(k, this.totalShards));
  }

  /** Data shard indices of local group j. */
  groupData(j: number): readonly number[] {
    return this.#groups[j];
  }

  /** The local group of shard i (data or local parity), or null for a global parity. */
  groupOf(i: number): number | null {
    const { k, l } = this.layout;
    if (i >= k && i < k + l) return i - k;
    if (i >= k + l) return null;
    return this.#groups.findIndex((m) => m.includes(i));
  }

  /** Computes all l + g parities from the data, in place (every slot must hold a buffer). */
  encode(shards: readonly Uint8Array[]): void {
    const size = shardSize(shards, this.totalShards);
    const { k } = this.layout;
    this.kernel.mulRows(this.parityMatrix, shards.slice(0, k), shards.slice(k), size);
  }

  /** True when every parity matches the data. */
  verify(shards: readonly Uint8Array[]): boolean {
    const size = shardSize(shards, this.totalShards);
    const { k } = this.layout;
    const scratch = Array.from({ length: this.totalShards - k }, () => new Uint8Array(size));
    this.kernel.mulRows(this.parityMatrix, shards.slice(0, k), scratch, size);
    return scratch.every((p, i) => equalBytes(p, shards[k + i]));
  }

  /** Exactly whether the shards in `lost` can be rebuilt from the others (rank test). */
  isRecoverable(lost: readonly number[]): boolean {
    const gone = new Set(lost);
    return this.#basis(range(0, this.totalShards).filter((i) => !gone.has(i))).length ===
      this.layout.k;
  }

  /** independentRows over the survivors, cached per survivor set (patterns repeat). */
  #basis(survivors: number[]): number[] {
    const key = survivors.join(",");
    let b = this.#rankCache.get(key);
    if (!b) {
      b = independentRows(this.generator, survivors);
      this.#rankCache.set(key, b);
    }
    return b;
  }

  /** Parity shards worth reading to rebuild the lost data shards: a group's local parity when
   * the group lost one data shard, every parity otherwise. */
  readPlan(lostData: readonly number[]): number[] {
    const { k } = this.layout;
    const groups = lostData.map((i) => this.groupOf(i) as number);
    const single = groups.every((g) => groups.filter((x) => x === g).length === 1);
    if (!single) return range(k, this.totalShards);
    return [...new Set(groups)].sort((a, b) => a - b).map((g) => k + g);
  }

  /**
   * Rebuilds missing (null) slots, allocating their buffers: all of them, or only `wanted`. A
   * shard whose group has no other loss is rebuilt from that group alone; anything else goes
   * through a global decode. Throws UnrecoverablePatternError (writing nothing) when the
   * surviving shards do not determine the data.
   */
  reconstruct(shards: ShardSlot[], opts: { wanted?: readonly number[] } = {}): LrcRepairReport {
    const size = shardSize(shards, this.totalShards);
    const lost = range(0, this.totalShards).filter((i) => !shards[i]);
    const wanted = new Set(opts.wanted ? lost.filter((i) => opts.wanted!.includes(i)) : lost);
    const report: LrcRepairReport = { rebuilt: [], readShards: [], localOnly: true };
    if (wanted.size === 0) return report;
    if (!this.isRecoverable(lost)) {
      throw new UnrecoverablePatternError(
        lost,
        `the ${
          this.totalShards - lost.length
        } surviving shards span fewer than k=${this.layout.k} dimensions`,
      );
    }
    const reads = new Set<number>();
    const { k, l } = this.layout;
    // Local phase: a group with exactly one hole (data or its local parity) is an XOR away.
    for (let progress = true; progress;) {
      progress = false;
      for (let j = 0; j < l; j++) {
        const members = [...this.#groups[j], k + j];
        const holes = members.filter((i) => !shards[i]);
        if (holes.length !== 1 || !wanted.has(holes[0])) continue;
        const sources = members.filter((i) => i !== holes[0]);
        const out = new Uint8Array(size);
        this.kernel.mulRows(
          this.#ones(sources.length),
          sources.map((i) => shards[i] as Uint8Array),
          [out],
          size,
        );
        shards[holes[0]] = out;
        sources.forEach((i) => reads.add(i));
        report.rebuilt.push(holes[0]);
        progress = true;
      }
    }
    const remaining = [...wanted].filter((i) => !shards[i]).sort((a, b) => a - b);
    if (remaining.length > 0) {
      report.localOnly = false;
      // Prefer data, then local, then global rows: data rows make the system cheapest.
      const use = this.#basis(presentIndices(shards));
      const key = `${use.join(",")}>${remaining.join(",")}`;
      let coeffs = this.#cache.get(key);
      if (!coeffs) {
        coeffs = multiply(
          selectRows(this.generator, remaining),
          invert(selectRows(this.generator, use)),
        );
        this.#cache.set(key, coeffs);
      }
      const outputs = remaining.map((i) => (shards[i] = new Uint8Array(size)));
      this.kernel.mulRows(coeffs, use.map((i) => shards[i] as Uint8Array), outputs, size);
      use.forEach((i) => reads.add(i));
      report.rebuilt.push(...remaining);
    }
    report.readShards = [...reads].sort((a, b) => a - b);
    return report;
  }

  /** A 1 × n all-ones matrix (XOR of n inputs), cached so kernels can cache their set-up. */
  #ones(n: number): Matrix {
    const key = `ones${n}`;
    let m = this.#cache.get(key);
    if (!m) {
      m = { rows: 1, cols: n, data: new Uint8Array(n).fill(1) };
      this.#cache.set(key, m);
    }
    return m;
  }
}

function range(lo: number, hi: number): number[] {
  return Array.from({ length: hi - lo }, (_, i) => lo + i);
}
