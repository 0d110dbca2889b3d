/** One stripe codec interface over Reed-Solomon and LRC, so the store does not care which. */
import type { Kernel } from "../kernels/kernel.ts";
import { Lrc } from "../lrc.ts";
import { ReedSolomon } from "../rs.ts";
import type { ShardSlot } from "../shards.ts";

/** What the store needs from a code. */
export interface StripeCodec {
  /** Data shards per stripe (k). */
  readonly dataShards: number;
  /** All shards per stripe. */
  readonly totalShards: number;
  /** Fills the parity slots from the data slots. */
  encode(shards: Uint8Array[]): void;
  /** True when parity matches data. */
  verify(shards: Uint8Array[]): boolean;
  /** Exactly whether the given lost shards can be rebuilt. */
  canRecover(lost: readonly number[]): boolean;
  /**
   * Rebuilds null slots (all, or only the data slots with dataOnly); throws a clear error when
   * impossible (never wrong data).
   */
  reconstruct(shards: ShardSlot[], dataOnly?: boolean): void;
  /** Parity shards to read first when these data shards are lost (LRC: the local groups'). */
  readPlan(lostData: readonly number[]): number[];
}

/** Code parameters as stored in the manifest. */
export type CodeParams =
  | { algorithm: "ReedSolomon"; k: number; m: number }
  | { algorithm: "LRC"; k: number; l: number; g: number };

/** Builds the codec for the parameters with the given kernel. */
export function createStripeCodec(p: CodeParams, kernel: Kernel): StripeCodec {
  if (p.algorithm === "ReedSolomon") {
    const rs = new ReedSolomon(p.k, p.m, { kernel });
    return {
      dataShards: p.k,
      totalShards: p.k + p.m,
      encode: (s) => rs.encode(s),
      verify: (s) => rs.verify(s),
      canRecover: (lost) => lost.length <= p.m,
      reconstruct: (s, dataOnly) => (dataOnly ? rs.reconstructData(s) : rs.reconstruct(s)),
      // Any k shards decode: one parity per lost data shard.
      readPlan: (lostData) =>
        Array.from({ length: Math.min(lostData.length, p.m) }, (_, j) => p.k + j),
    };
  }
  const lrc = new Lrc({ k: p.k, l: p.l, g: p.g }, { kernel });
  return {
    dataShards: p.k,
    totalShards: lrc.totalShards,
    encode: (s) => lrc.encode(s),
    verify: (s) => lrc.verify(s),
    canRecover: (lost) => lrc.isRecoverable(lost),
    reconstruct: (s, dataOnly) =>
      void lrc.reconstruct(s, dataOnly ? { wanted: Array.from({ length: p.k }, (_, i) => i) } : {}),
    readPlan: (lostData) => lrc.readPlan(lostData),
  };
}
