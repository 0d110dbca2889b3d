/**
 * The WebAssembly SIMD kernel (gf_simd.wat): split nibble tables with i8x16.swizzle. Shards
 * live in JS memory, so each call streams them through the module's memory in cache-sized
 * blocks: copy a block of every input in, multiply, copy the outputs' block out.
 */
import { nibbleTables } from "../gf256.ts";
import type { Matrix } from "../matrix.ts";
import { checkShape, type Kernel } from "./kernel.ts";
import { GF_RELAXED_SIMD_WASM_BASE64, GF_SIMD_WASM_BASE64 } from "./gf_simd_wasm.ts";

type MulRowsFn = (
  tbl: number,
  rows: number,
  cols: number,
  inp: number,
  out: number,
  stride: number,
  len: number,
) => void;

/** Bytes of (inputs + outputs) one block aims at, so a block stays in L2 cache. */
const BLOCK_BUDGET = 192 * 1024;
const PAGE = 65536;

/** Decodes the embedded module bytes (the relaxed-SIMD variant when asked). */
export function gfSimdWasmBytes(relaxed = false): Uint8Array {
  const s = atob(relaxed ? GF_RELAXED_SIMD_WASM_BASE64 : GF_SIMD_WASM_BASE64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Whether this runtime validates the SIMD (or relaxed-SIMD) module. */
export function wasmSimdSupported(relaxed = false): boolean {
  try {
    return WebAssembly.validate(gfSimdWasmBytes(relaxed) as Uint8Array<ArrayBuffer>);
  } catch {
    return false;
  }
}

/**
 * Creates a kernel instance with its own wasm memory (not shared between threads). Uses the
 * relaxed-SIMD module where the runtime has it unless `relaxed: false`.
 */
export function createWasmSimdKernel(opts: { relaxed?: boolean } = {}): Kernel & {
  readonly variant: "relaxed-simd" | "simd";
} {
  const relaxed = (opts.relaxed ?? true) && wasmSimdSupported(true);
  const mod = new WebAssembly.Module(gfSimdWasmBytes(relaxed) as Uint8Array<ArrayBuffer>);
  const inst = new WebAssembly.Instance(mod, {});
  const memory = inst.exports.memory as WebAssembly.Memory;
  const mulRowsWasm = inst.exports.mul_rows as MulRowsFn;
  let heap = new Uint8Array(memory.buffer);
  // Nibble tables per matrix, built once (32 bytes per coefficient).
  const tables = new WeakMap<Matrix, Uint8Array>();
  let loaded: Matrix | null = null;

  function ensure(bytes: number): void {
    if (heap.length >= bytes) return;
    memory.grow(Math.ceil((bytes - heap.length) / PAGE));
    heap = new Uint8Array(memory.buffer);
  }

  function tablesOf(coeffs: Matrix): Uint8Array {
    let t = tables.get(coeffs);
    if (!t) {
      t = new Uint8Array(coeffs.data.length * 32);
      for (let i = 0; i < coeffs.data.length; i++) nibbleTables(coeffs.data[i], t, i * 32);
      tables.set(coeffs, t);
    }
    return t;
  }

  return {
    name: "wasm-simd",
    variant: relaxed ? "relaxed-simd" : "simd",
    mulRows(coeffs: Matrix, inputs: readonly Uint8Array[], outputs: readonly Uint8Array[], len) {
      checkShape(coeffs, inputs, outputs, len);
      if (len === 0 || coeffs.rows === 0) return;
      const { rows, cols } = coeffs;
      const tbl = tablesOf(coeffs);
      // Block width: a multiple of 64 that keeps (cols + rows) blocks within the budget.
      const per = Math.max(64, Math.floor(BLOCK_BUDGET / (cols + rows) / 64) * 64);
      const stride = Math.min(per, Math.ceil(len / 64) * 64);
      const tblBytes = Math.ceil(tbl.length / 64) * 64;
      const inBase = tblBytes;
      const outBase = inBase + cols * stride;
      ensure(outBase + rows * stride);
      if (loaded !== coeffs) {
        heap.set(tbl, 0);
        loaded = coeffs;
      }
      for (let off = 0; off < len; off += stride) {
        const n = Math.min(stride, len - off);
        for (let c = 0; c < cols; c++) {
          heap.set(inputs[c].subarray(off, off + n), inBase + c * stride);
        }
        // Bytes between n and the next multiple of 64 are stale but only feed discarded output.
        mulRowsWasm(0, rows, cols, inBase, outBase, stride, Math.ceil(n / 64) * 64);
        for (let r = 0; r < rows; r++) {
          const at = outBase + r * stride;
          outputs[r].set(heap.subarray(at, at + n), off);
        }
      }
    },
  };
}
