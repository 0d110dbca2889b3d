import assert from "node:assert/strict";
import { runSandbox } from "../../src/cli/sandbox.ts";
import type { Sandbox } from "../../src/sandbox/apiserver/mod.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { api, FIXTURES } from "./helpers.ts";

Deno.test("cli: sandbox prints the kubeconfig first, installs CRDs, stops on abort", async () => {
  const dir = await Deno.makeTempDir();
  const crds = `${dir}/crds`;
  await Deno.mkdir(crds);
  await Deno.copyFile(`${FIXTURES}widget-crd.yaml`, `${crds}/widget.yaml`);
  const lines: string[] = [];
  const ac = new AbortController();
  let sb: Sandbox | undefined;
  const ready = Promise.withResolvers<void>();
  const run = runSandbox(["--data-dir", `${dir}/data`, "--crds", crds], {
    print: (l) => lines.push(l),
    logger: silentLogger,
    signal: ac.signal,
    onReady: (s) => {
      sb = s;
      ready.resolve();
    },
  });
  try {
    await ready.promise;
    assert.equal(lines[0], `${dir}/data/kubeconfig`);
    assert.match(await Deno.readTextFile(lines[0]), /server: https:\/\/127\.0\.0\.1:\d+/);
    const r = await api(sb!, "GET", "/apis/test.couchestor.io/v1/namespaces/default/widgets");
    assert.equal(r.status, 200);
  } finally {
    ac.abort();
    assert.equal(await run, 0);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: sandbox --help and bad flags", async () => {
  const out: string[] = [];
  assert.equal(await runSandbox(["--help"], { print: (l) => out.push(l) }), 0);
  assert.match(out[0], /Usage: couchestor sandbox/);
  assert.equal(await runSandbox(["--port", "x"], { print: () => {}, logger: silentLogger }), 2);
});

Deno.test("cli: a sandbox process stops cleanly on SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${FIXTURES}run_sandbox.ts`, "--data-dir", dir, "--log-level", "error"],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    assert.equal(text.split("\n")[0], `${dir}/kubeconfig`);
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0);
    await reader.cancel();
  } finally {
    await child.stderr.cancel().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
