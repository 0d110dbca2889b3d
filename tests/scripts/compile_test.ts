import assert from "node:assert/strict";
import { compileArgs, findWasmFiles } from "../../scripts/compile.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("compile: deno compile arguments embed the codec WASM and name the output", () => {
  assert.deepEqual(
    compileArgs({
      output: "dist/couchestor",
      include: ["node_modules/a/x.wasm", "node_modules/b/y.wasm"],
      target: "aarch64-unknown-linux-gnu",
    }),
    [
      "compile",
      "--allow-all",
      "--v8-flags=--max-semi-space-size=2",
      "--include",
      "node_modules/a/x.wasm",
      "--include",
      "node_modules/b/y.wasm",
      "--target",
      "aarch64-unknown-linux-gnu",
      "--output",
      "dist/couchestor",
      "main.ts",
    ],
  );
});

Deno.test("compile: the WASM files the codecs load exist in node_modules", async () => {
  // As scripts/compile.ts does: a fresh clone has no node_modules until `deno install`.
  const install = await new Deno.Command(Deno.execPath(), { args: ["install"], cwd: ROOT })
    .output();
  assert.ok(install.success, new TextDecoder().decode(install.stderr));
  const files = await findWasmFiles(ROOT);
  assert.deepEqual(files, [
    "node_modules/@subspace/reed-solomon-erasure.wasm/dist/reed_solomon_erasure_bg.wasm",
    "node_modules/lz4-wasm/lz4_wasm_bg.wasm",
  ]);
  for (const f of files) {
    const head = new Uint8Array(await Deno.readFile(`${ROOT}/${f}`)).subarray(0, 4);
    assert.deepEqual([...head], [0x00, 0x61, 0x73, 0x6d], `${f} is a WASM module`);
  }
});

Deno.test("compile: deno.json's compile task runs scripts/compile.ts", async () => {
  const cfg = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  assert.equal(cfg.tasks.compile, "deno run -A scripts/compile.ts");
});
