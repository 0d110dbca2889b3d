/** crds/ must be exactly what the zod schemas generate; `couchestor crds` writes and checks it. */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { crdFiles } from "../../src/api/mod.ts";
import { findDrift, runCrds } from "../../src/cli/crds.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    deps: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) },
  };
}

Deno.test("crds/ matches the schemas (run `deno task crds` when this fails)", async () => {
  assert.deepEqual(await findDrift(`${ROOT}crds`, crdFiles()), []);
});

Deno.test("crds --out writes every CRD and --check then passes; an edit is reported", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const c = capture();
    assert.equal(await runCrds(["--out", dir], c.deps), 0);
    assert.equal(c.out.length, 4);
    assert.equal(await runCrds(["--check", dir], c.deps), 0);
    const f = `${dir}/storage.billyronks.io_storagepolicies.yaml`;
    await Deno.writeTextFile(
      f,
      (await Deno.readTextFile(f)).replace("default: 5000", "default: 1"),
    );
    await Deno.writeTextFile(`${dir}/stray.yaml`, "kind: Nothing\n");
    await Deno.remove(`${dir}/thirdparty/openebs.io_diskpools.yaml`);
    const d = capture();
    assert.equal(await runCrds(["--check", dir], d.deps), 1);
    const text = d.err.join("\n");
    assert.match(text, /storagepolicies.yaml differs/);
    assert.match(text, /stray.yaml is not generated/);
    assert.match(text, /diskpools.yaml is missing/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("crds without --out prints all four CRDs as one multi-document YAML", async () => {
  const c = capture();
  assert.equal(await runCrds([], c.deps), 0);
  const docs = parseAllDocuments(c.out.join("\n")).map((d) => d.toJS());
  assert.deepEqual(docs.map((d) => d.metadata.name).sort(), [
    "diskpools.openebs.io",
    "ecstripes.storage.billyronks.io",
    "erasurecodingpolicies.storage.billyronks.io",
    "storagepolicies.storage.billyronks.io",
  ]);
});

Deno.test("crds --help exits 0; an unknown flag exits 2 naming it", async () => {
  const h = capture();
  assert.equal(await runCrds(["--help"], h.deps), 0);
  assert.match(h.out.join(""), /--out DIR/);
  const u = capture();
  assert.equal(await runCrds(["--bogus"], u.deps), 2);
  assert.match(u.err.join(""), /bogus/);
});
