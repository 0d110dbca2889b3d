/** The plain TypeScript kernel: the reference every faster kernel is tested against. */
import { MUL_TABLE } from "../gf256.ts";
import type { Matrix } from "../matrix.ts";
import { checkShape, type Kernel } from "./kernel.ts";

/** Creates the reference kernel (table lookups, byte at a time). */
export function createTsKernel(): Kernel {
  return {
    name: "ts",
    mulRows(coeffs: Matrix, inputs: readonly Uint8Array[], outputs: readonly Uint8Array[], len) {
      checkShape(coeffs, inputs, outputs, len);
      const cols = coeffs.cols;
      for (let r = 0; r < coeffs.rows; r++) {
        const out = outputs[r];
        out.fill(0, 0, len);
        for (let c = 0; c < cols; c++) {
          const coef = coeffs.data[r * cols + c];
          if (coef === 0) continue;
          const src = inputs[c];
          if (coef === 1) {
            for (let i = 0; i < len; i++) out[i] ^= src[i];
            continue;
          }
          const t = MUL_TABLE.subarray(coef * 256, coef * 256 + 256);
          for (let i = 0; i < len; i++) out[i] ^= t[src[i]];
        }
      }
    },
  };
}
