/**
 * The kernel port: the one hot loop of erasure coding. Every codec operation (encode, verify,
 * reconstruct, LRC repair) is "multiply these input rows by a small GF(2^8) matrix", so a kernel
 * only has to do that, as fast as the machine allows.
 */
import type { Matrix } from "../matrix.ts";

/** A matrix-times-shards implementation. */
export interface Kernel {
  /** Short stable name for logs and the `codec_kernel` metric label (isal, wasm-simd, ts). */
  readonly name: string;
  /**
   * outputs[r][0, len) = Σ_c coeffs(r, c) · inputs[c][0, len) for r < coeffs.rows, overwriting
   * the outputs. inputs.length must equal coeffs.cols and outputs.length coeffs.rows; every array
   * must hold at least len bytes. Kernels may cache per-matrix set-up keyed by the `coeffs`
   * object, so callers should reuse one Matrix object for repeated calls.
   */
  mulRows(
    coeffs: Matrix,
    inputs: readonly Uint8Array[],
    outputs: readonly Uint8Array[],
    len: number,
  ): void;
}

/** Checks the shape contract shared by all kernels (cheap; called once per mulRows). */
export function checkShape(
  coeffs: Matrix,
  inputs: readonly Uint8Array[],
  outputs: readonly Uint8Array[],
  len: number,
): void {
  if (inputs.length !== coeffs.cols) {
    throw new RangeError(
      `kernel: ${inputs.length} inputs for a matrix with ${coeffs.cols} columns`,
    );
  }
  if (outputs.length !== coeffs.rows) {
    throw new RangeError(`kernel: ${outputs.length} outputs for a matrix with ${coeffs.rows} rows`);
  }
  for (const a of inputs) {
    if (a.length < len) throw new RangeError("kernel: input shorter than len");
  }
  for (const a of outputs) {
    if (a.length < len) throw new RangeError("kernel: output shorter than len");
  }
}
