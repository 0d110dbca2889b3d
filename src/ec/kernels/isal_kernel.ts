/**
 * The ISA-L kernel: Intel's hand-written AVX2/AVX-512/GFNI assembly through Deno FFI. The
 * same GF(2^8) matrix is handed to `ec_init_tables` (cached per matrix) and
 * `ec_encode_data`, which reads and writes the caller's buffers in place: no copies.
 */
import type { Matrix } from "../matrix.ts";
import { checkShape, type Kernel } from "./kernel.ts";

/** Where libisal.so.2 usually lives; dlopen's own search path is tried first. */
export const ISAL_CANDIDATES: readonly string[] = [
  "libisal.so.2",
  "/usr/lib/x86_64-linux-gnu/libisal.so.2",
  "/usr/lib/aarch64-linux-gnu/libisal.so.2",
  "/usr/local/lib/libisal.so.2",
];

const SYMBOLS = {
  ec_init_tables: { parameters: ["i32", "i32", "buffer", "buffer"], result: "void" },
  ec_encode_data: {
    parameters: ["i32", "i32", "i32", "buffer", "buffer", "buffer"],
    result: "void",
  },
} as const;

type IsalLib = Deno.DynamicLibrary<typeof SYMBOLS>;

/** Opens libisal from the first candidate path that loads; throws the last error otherwise. */
export function openIsal(candidates: readonly string[] = ISAL_CANDIDATES): IsalLib {
  let last: unknown = new Error("no candidate paths");
  for (const path of candidates) {
    try {
      return Deno.dlopen(path, SYMBOLS);
    } catch (e) {
      last = e;
    }
  }
  throw new Error(`libisal.so.2 not loadable (apt-get install libisal-dev): ${String(last)}`);
}

/** Creates the ISA-L kernel; throws when the library (or FFI permission) is unavailable. */
export function createIsalKernel(candidates?: readonly string[]): Kernel {
  const lib = openIsal(candidates);
  const gftbls = new WeakMap<Matrix, Uint8Array>();
  // Pointer arrays are reused between calls; they only grow.
  let inPtrs = new BigUint64Array(16);
  let outPtrs = new BigUint64Array(16);

  function tablesOf(coeffs: Matrix): Uint8Array {
    let t = gftbls.get(coeffs);
    if (!t) {
      t = new Uint8Array(32 * coeffs.rows * coeffs.cols);
      lib.symbols.ec_init_tables(coeffs.cols, coeffs.rows, coeffs.data, t);
      gftbls.set(coeffs, t);
    }
    return t;
  }

  function addr(a: Uint8Array): bigint {
    return Deno.UnsafePointer.value(Deno.UnsafePointer.of(a as Uint8Array<ArrayBuffer>));
  }

  return {
    name: "isal",
    mulRows(coeffs: Matrix, inputs: readonly Uint8Array[], outputs: readonly Uint8Array[], len) {
      checkShape(coeffs, inputs, outputs, len);
      if (len === 0 || coeffs.rows === 0) return;
      if (inPtrs.length < inputs.length) inPtrs = new BigUint64Array(inputs.length);
      if (outPtrs.length < outputs.length) outPtrs = new BigUint64Array(outputs.length);
      for (let i = 0; i < inputs.length; i++) inPtrs[i] = addr(inputs[i]);
      for (let i = 0; i < outputs.length; i++) outPtrs[i] = addr(outputs[i]);
      lib.symbols.ec_encode_data(len, coeffs.cols, coeffs.rows, tablesOf(coeffs), inPtrs, outPtrs);
    },
  };
}
