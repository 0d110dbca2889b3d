/**
 * The product's own CRDs (`crds/`) and examples (`deploy/examples/`) through kubectl.
 * Both directories are part of the repository; a checkout without them fails here (it used to
 * be skipped, which hid their loss).
 */
import assert from "node:assert/strict";
import { startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { kubectl, requireKubectl } from "./kubectl.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "kubectl: product CRDs and examples (apply, get sp, explain, invalid StoragePolicy)",
  async fn() {
    for (const p of ["crds/storage.billyronks.io_storagepolicies.yaml", "deploy/examples"]) {
      assert.ok(exists(`${ROOT}${p}`), `${p} is missing: run \`deno task crds\``);
    }
    await requireKubectl();
    const home = await Deno.makeTempDir({ prefix: "kubectl-home-" });
    const sb = await startSandbox({});
    const run = (...args: string[]) => kubectl(sb, home, ...args);
    try {
      const crds = await run("apply", "-R", "-f", `${ROOT}crds/`);
      assert.equal(crds.code, 0, crds.stderr);
      assert.match(crds.stdout, /storagepolicies.storage.billyronks.io created/);
      const ex = await run("apply", "-R", "-f", `${ROOT}deploy/examples/`);
      assert.equal(ex.code, 0, ex.stderr);
      const sp = await run("get", "sp");
      assert.equal(sp.code, 0, sp.stderr);
      assert.match(sp.stdout.split("\n")[0], /^NAME\s+/);
      const name = sp.stdout.split("\n")[1].split(/\s+/)[0];
      assert.ok(name, sp.stdout);
      const explain = await run("explain", "storagepolicy.spec");
      assert.equal(explain.code, 0, explain.stderr);
      assert.match(explain.stdout, /lowWatermarkIOPS/);
      const bad = await run(
        "patch",
        "sp",
        name,
        "--type=merge",
        "-p",
        '{"spec":{"lowWatermarkIOPS":-1}}',
      );
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /spec\.lowWatermarkIOPS/);
    } finally {
      await sb.close();
      await Deno.remove(home, { recursive: true });
    }
  },
});
