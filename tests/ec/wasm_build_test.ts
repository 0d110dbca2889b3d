import assert from "node:assert/strict";
import { assembleGfSimd, renderModule } from "../../scripts/build_wasm.ts";
import { gfSimdWasmBytes } from "../../src/ec/kernels/wasm_simd_kernel.ts";

Deno.test("wasm: the committed gf_simd modules are what gf_simd.wat assembles to (run `deno task wasm`)", async () => {
  const fresh = await assembleGfSimd();
  assert.deepEqual(gfSimdWasmBytes(false), fresh.simd);
  assert.deepEqual(gfSimdWasmBytes(true), fresh.relaxed);
  const committed = await Deno.readTextFile(
    new URL("../../src/ec/kernels/gf_simd_wasm.ts", import.meta.url),
  );
  assert.equal(committed, renderModule(fresh));
});
