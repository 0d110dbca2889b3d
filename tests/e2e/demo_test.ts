import assert from "node:assert/strict";
import { runDemo } from "../../src/cli/demo.ts";
import { findBinary, PROMETHEUS_INSTALL } from "../../src/sandbox/prometheus.ts";

Deno.test("demo: runs briefly with Prometheus, prints the kubeconfig and the table, exits 0 and cleans up", async () => {
  if (!findBinary("prometheus", Deno.env.get("PATH"))) {
    throw new Error(`prometheus not found; install it with: ${PROMETHEUS_INSTALL}`);
  }
  let text = "";
  const code = await runDemo(["--duration", "12s"], {
    out: (t) => (text += t),
    err: (t) => (text += t),
    isTty: false,
  });
  assert.equal(code, 0, text);
  const kc = /kubeconfig: (\S+)/.exec(text)?.[1];
  assert.ok(kc, "kubeconfig path printed");
  assert.match(text, /IOPS from: Prometheus http:\/\/127\.0\.0\.1:\d+/);
  assert.match(text, /VOLUME\s+IOPS\s+TIER\s+REPLICAS ON\s+MIGRATION/);
  assert.match(text, /pvc-db-orders\s+\d+\s+(hot|cold|mixed)/);
  assert.ok(!text.includes("\x1b["), "no ANSI codes when stdout is not a terminal");
  await assert.rejects(Deno.stat(kc), Deno.errors.NotFound, "temp dir removed");
});

Deno.test("demo: --no-prometheus reads IOPS by direct scrape and redraws in place on a TTY", async () => {
  let text = "";
  const code = await runDemo(["--duration", "4s", "--no-prometheus", "--refresh", "500ms"], {
    out: (t) => (text += t),
    err: (t) => (text += t),
    isTty: true,
  });
  assert.equal(code, 0, text);
  assert.match(text, /IOPS from: direct scrape of the simulator \(--no-prometheus\)/);
  assert.ok(text.includes("\x1b["), "ANSI redraw on a terminal");
  assert.match(text, /VOLUME\s+IOPS/);
});

Deno.test("demo: bad flags exit 2 with a message", async () => {
  let text = "";
  const code = await runDemo(["--duration", "soon"], { err: (t) => (text += t) });
  assert.equal(code, 2);
  assert.match(text, /--duration must be a duration/);
});

Deno.test("demo: `couchestor demo` as a process stops cleanly on SIGINT (Prometheus killed, temp dirs removed)", async () => {
  if (!findBinary("prometheus", Deno.env.get("PATH"))) {
    throw new Error(`prometheus not found; install it with: ${PROMETHEUS_INSTALL}`);
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname, "demo"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let text = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = Date.now() + 60_000;
  while (!/VOLUME\s+IOPS/.test(text) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  child.kill("SIGINT");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const status = await child.status;
  assert.equal(status.code, 0, text.slice(-2000));
  const promUrl = /IOPS from: Prometheus (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
  assert.ok(promUrl, text.slice(0, 2000));
  await assert.rejects(fetch(`${promUrl}/-/ready`), "Prometheus is gone");
  const kc = /kubeconfig: (\S+)/.exec(text)![1];
  await assert.rejects(Deno.stat(kc), Deno.errors.NotFound);
});
