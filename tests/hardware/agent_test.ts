/** The node agent (`discover --serve`) as a real process: metrics, readiness, SIGTERM. */
import assert from "node:assert/strict";
import { buildMixedNode } from "./fixtures/sysfs.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

Deno.test("discover --serve publishes device tiers on /metrics and stops on SIGTERM", async () => {
  const base = await Deno.makeTempDir({ prefix: "couchestor-agent-" });
  const sys = await buildMixedNode(base);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "discover",
      "--serve",
      "127.0.0.1:0",
      "--node",
      "worker-7",
      "--sys-root",
      sys,
      "--no-smart",
    ],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const stdout = child.stdout.pipeTo(new WritableStream());
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let log = "";
    let port = 0;
    let health = 0;
    while (!port) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`agent exited before listening:\n${log}`);
      log += value;
      // With port 0 the metrics and health servers each get their own port.
      const m = /metrics=127\.0\.0\.1:(\d+) health=127\.0\.0\.1:(\d+)/.exec(log);
      if (m) [port, health] = [Number(m[1]), Number(m[2])];
    }
    // Ready once the first scan has published.
    let ready = 0;
    for (let i = 0; i < 100 && ready !== 200; i++) {
      const r = await fetch(`http://127.0.0.1:${health}/readyz`);
      ready = r.status;
      await r.body?.cancel();
      if (ready !== 200) await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(ready, 200);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(
      text,
      /couchestor_device_info\{node="worker-7",device="nvme10n1",transport="nvme",tier="hot",model="WZS4C8T4TDSP303"\} 1/,
    );
    assert.match(
      text,
      /couchestor_device_info\{node="worker-7",device="sda",transport="sata",tier="warm"/,
    );
    assert.match(
      text,
      /couchestor_device_info\{node="worker-7",device="nvme10n2",transport="nvme",tier="none"/,
    );
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0);
    void lines.cancel();
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
    await stdout.catch(() => {});
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("discover --serve without a node name exits 2 and says how to give one", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "discover", "--serve", "127.0.0.1:0"],
    stdout: "piped",
    stderr: "piped",
    env: { NODE_NAME: "" },
  }).output();
  assert.equal(out.code, 2);
  assert.match(
    new TextDecoder().decode(out.stderr),
    /--serve needs --node NAME \(or env NODE_NAME\)/,
  );
});
