import assert from "node:assert/strict";
import fc from "fast-check";
import { createIsalKernel } from "../../src/ec/kernels/isal_kernel.ts";
import { createTsKernel } from "../../src/ec/kernels/ts_kernel.ts";
import { availableKernels, reportKernel, selectKernel } from "../../src/ec/kernels/select.ts";
import { createLogger } from "../../src/observability/log.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createWasmSimdKernel } from "../../src/ec/kernels/wasm_simd_kernel.ts";
import { zeros } from "../../src/ec/matrix.ts";

Deno.test("kernels: ISA-L loads here (apt-get install -y libisal-dev if this fails)", () => {
  const k = createIsalKernel();
  assert.equal(k.name, "isal");
  assert.equal(selectKernel().kernel.name, "isal");
  assert.equal(selectKernel({ prefer: "wasm-simd" }).kernel.name, "wasm-simd");
  const none = selectKernel({ isalPaths: ["/nonexistent/libisal.so.2"] });
  assert.equal(none.kernel.name, "wasm-simd");
  assert.match(none.skipped[0].reason, /libisal-dev/);
});

Deno.test("kernels: every kernel equals the TypeScript reference (property)", () => {
  const ref = createTsKernel();
  // Both wasm variants: relaxed SIMD (chosen here) and plain SIMD (the fallback).
  const plain = createWasmSimdKernel({ relaxed: false });
  const relaxed = createWasmSimdKernel();
  assert.equal(plain.variant, "simd");
  assert.equal(relaxed.variant, "relaxed-simd");
  const others = [...availableKernels().filter((k) => k.name !== "ts"), plain];
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 0, max: 5000 }),
      fc.integer({ min: 0, max: 7 }),
      fc.integer(),
      (rows, cols, len, skew, seed) => {
        const coeffs = zeros(rows, cols);
        for (let i = 0; i < coeffs.data.length; i++) {
          coeffs.data[i] = (seed * (i + 1) * 2654435761) >>> 24;
        }
        // Views at odd offsets into one buffer: kernels must honour byteOffset.
        const backing = crypto.getRandomValues(
          new Uint8Array(Math.min(65536, cols * (len + skew) + 8)),
        );
        const big = new Uint8Array(cols * (len + skew) + 8);
        for (let i = 0; i < big.length; i += 65536) {
          big.set(backing.subarray(0, Math.min(65536, big.length - i)), i);
        }
        const inputs = Array.from(
          { length: cols },
          (_, c) => big.subarray(c * (len + skew) + skew, c * (len + skew) + skew + len),
        );
        const want = Array.from({ length: rows }, () => new Uint8Array(len));
        ref.mulRows(coeffs, inputs, want, len);
        for (const kernel of others) {
          const got = Array.from(
            { length: rows },
            () => new Uint8Array(len + skew).fill(0xee).subarray(skew),
          );
          kernel.mulRows(coeffs, inputs, got, len);
          got.forEach((g, r) => assert.deepEqual(g, want[r], `${kernel.name} row ${r}`));
        }
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("kernels: reject mismatched shapes", () => {
  for (const kernel of availableKernels()) {
    const m = zeros(2, 3);
    const a = () => new Uint8Array(10);
    assert.throws(() => kernel.mulRows(m, [a(), a()], [a(), a()], 10), RangeError);
    assert.throws(() => kernel.mulRows(m, [a(), a(), a()], [a()], 10), RangeError);
    assert.throws(() => kernel.mulRows(m, [a(), a(), a()], [a(), a()], 11), RangeError);
  }
});

Deno.test("kernels: the selection is logged and exported as build_info{codec_kernel}", async () => {
  const lines: string[] = [];
  const metrics = createMetrics({ defaultMetrics: false });
  reportKernel(
    selectKernel({ isalPaths: ["/nonexistent/libisal.so.2"] }),
    createLogger({ format: "json", write: (l) => lines.push(l) }),
    metrics,
  );
  const line = JSON.parse(lines[0]);
  assert.equal(line.kernel, "wasm-simd");
  assert.equal(line.skipped[0].name, "isal");
  assert.match(
    await metrics.registry.metrics(),
    /couchestor_build_info\{version="[^"]+",codec_kernel="wasm-simd"\} 1/,
  );
});
