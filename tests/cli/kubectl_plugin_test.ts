/**
 * The kubectl plugin: with deploy/kubectl-couchestor and a `couchestor` on PATH, the machine's
 * real kubectl runs `kubectl couchestor explain …` and `kubectl couchestor approve …` against
 * the sandbox like the couchestor commands themselves.
 */
import assert from "node:assert/strict";
import { KUBECTL, requireKubectl } from "../sandbox/kubectl.ts";
import { type ExplainEnv, startExplainEnv } from "./_explain_env.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** A PATH directory with the launcher and a `couchestor` that runs this checkout. */
async function pluginDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "couchestor-plugin-" });
  await Deno.copyFile(`${ROOT}/deploy/kubectl-couchestor`, `${dir}/kubectl-couchestor`);
  await Deno.chmod(`${dir}/kubectl-couchestor`, 0o755);
  await Deno.writeTextFile(
    `${dir}/couchestor`,
    `#!/bin/sh\nexec "${Deno.execPath()}" run -A "${ROOT}/main.ts" "$@"\n`,
    { mode: 0o755 },
  );
  return dir;
}

async function kubectlPlugin(env: ExplainEnv, dir: string, args: string[]) {
  const r = await new Deno.Command(KUBECTL, {
    args: ["couchestor", ...args],
    env: {
      PATH: `${dir}:/usr/bin:/bin`,
      HOME: dir,
      KUBECONFIG: env.kubeconfig,
      NO_COLOR: "1",
      ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
    },
    clearEnv: true,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

Deno.test("kubectl plugin: kubectl couchestor explain / approve run the couchestor commands", async () => {
  await requireKubectl();
  const dir = await pluginDir();
  const env = await startExplainEnv({ shop: {} }, [
    { pv: "pv-idle", pool: "hot-1", iops: 2, claim: { namespace: "shop", name: "idle" } },
  ]);
  try {
    await env.createPolicy("dbs", { lowWatermarkIOPS: 100, samplingWindow: "1m" });
    const list = await kubectlPlugin(env, dir, ["--help"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /explain\s+Why a volume is \(not\) moving/);
    const r = await kubectlPlugin(env, dir, ["explain", "idle", "-n", "shop", ...env.urls]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Volume\s+pv-idle \(claim shop\/idle\)$/m);
    assert.match(r.stdout, /^Policy\s+dbs: selects it \(its rules apply\)$/m);
    assert.match(r.stdout, /^Next\s+its next pass moves it from hot to cold \(pool cold-1\)$/m);
    const a = await kubectlPlugin(env, dir, ["approve", "shop/idle"]);
    assert.equal(a.code, 1);
    assert.match(a.stderr, /approve: no pending proposal for shop\/idle \(volume pv-idle\)/);
  } finally {
    await env.close();
    await Deno.remove(dir, { recursive: true });
  }
});
