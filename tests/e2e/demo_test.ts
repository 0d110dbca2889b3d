import assert from "node:assert/strict";
import { runDemo } from "../../src/cli/demo.ts";
import { findBinary, PROMETHEUS_INSTALL } from "../../src/sandbox/prometheus.ts";

Deno.test("demo: runs briefly with Prometheus, prints the kubeconfig and the table, exits 0 and cleans up", async () => {
  if (!findBinary("prometheus", Deno.env.get("PATH"))) {
    throw new Error(`prometheus not found; install it with: ${PROMETHEUS_INSTALL}`);
  }
  let text = "";
  const ac = new AbortController();
  // --duration only caps a failing run: the test stops it like Ctrl-C once IOPS are shown.
  const run = runDemo(["--duration", "90s"], {
    out: (t) => {
      text += t;
      if (/pvc-db-orders\s+\d+\s+(hot|cold|mixed)/.test(text)) ac.abort();
    },
    err: (t) => (text += t),
    isTty: false,
    signal: ac.signal,
  });
  const code = await run;
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
  const ac = new AbortController();
  // --duration caps a failing run; the test stops it like Ctrl-C once the table was redrawn.
  const code = await runDemo(["--duration", "60s", "--no-prometheus", "--refresh", "500ms"], {
    out: (t) => {
      text += t;
      if (text.includes("\x1b[") && /VOLUME\s+IOPS/.test(text)) ac.abort();
    },
    err: (t) => (text += t),
    isTty: true,
    signal: ac.signal,
  });
  assert.equal(code, 0, text);
  assert.match(text, /IOPS from: direct scrape of the simulator \(--no-prometheus\)/);
  assert.ok(text.includes("\x1b["), "ANSI redraw on a terminal");
  assert.match(text, /VOLUME\s+IOPS/);
});

Deno.test("demo: the big idle volumes go to 2+1 EC stripes; the summary shows stored ≈ 1.5× logical and the saving; Ctrl-C removes the shards", async () => {
  const root = await Deno.makeTempDir({ prefix: "couchestor-demo-test-" });
  try {
    let text = "";
    const ac = new AbortController();
    // --duration only caps a failing run; the test stops it like Ctrl-C once the stripes exist.
    const run = runDemo(["--duration", "50s", "--no-prometheus"], {
      out: (t) => (text += t),
      err: (t) => (text += t),
      isTty: false,
      tempRoot: root,
      signal: ac.signal,
    });
    // While it runs: the shards of an EC-tiered volume are files in the cold pools' directories.
    const shardPools = new Set<string>();
    let ended = false;
    run.finally(() => (ended = true));
    while (!ended && shardPools.size < 3) {
      const data = /^data: (\S+)/m.exec(text)?.[1];
      for (const pool of ["hdd-1", "hdd-2", "hdd-3"]) {
        const dir = `${data}/cluster/replicas/${pool}/ec/pvc-logs-archive`;
        if (data && [...(await Array.fromAsync(Deno.readDir(dir)).catch(() => []))].length > 0) {
          shardPools.add(pool);
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const lastFrame = () => text.split(/^--- /m).at(-1) ?? "";
    while (!ended && !/EC demo-ec 2\+1: 2 volumes/.test(lastFrame())) {
      await new Promise((r) => setTimeout(r, 500));
    }
    ac.abort();
    const code = await run;
    assert.equal(code, 0, text);
    assert.equal(shardPools.size, 3, "shard files on hdd-1, hdd-2 and hdd-3");
    const last = lastFrame();
    // Both 24 MiB idle volumes are EC-tiered, on three cold pools (one per node).
    for (const v of ["pvc-logs-archive", "pvc-backups-2025"]) {
      assert.match(last, new RegExp(`${v}\\s+\\S+\\s+ec 2\\+1\\s+hdd-\\d,hdd-\\d,hdd-\\d`), last);
    }
    // Small cold volumes keep a replica (below ecMinVolumeSizeBytes).
    assert.match(last, /pvc-mail\s+\d+\s+cold\s+hdd-1/, last);
    assert.doesNotMatch(last, /pvc-(audit|tmp-scratch|metrics-old)\s+\S+\s+ec/, last);
    const m =
      /EC demo-ec 2\+1: (\d+) volumes?, ([\d.]+) MiB logical in ([\d.]+) MiB stored \(stored\/logical ([\d.]+), efficiency ([\d.]+)\); 3 replicas would take ([\d.]+) MiB: ([\d.]+) MiB saved \((\d+)%\)/
        .exec(last);
    assert.ok(m, last);
    const [volumes, logical, stored, ratio, eff, asReplicas, saved, pct] = m.slice(1).map(Number);
    assert.equal(volumes, 2);
    assert.equal(logical, 48);
    assert.ok(stored >= 1.5 * logical && stored <= 1.5 * logical * 1.01, `stored ${stored}`);
    assert.ok(Math.abs(ratio - 1.5) < 0.02, `ratio ${ratio}`);
    assert.ok(Math.abs(eff - 2 / 3) < 0.01, `efficiency ${eff}`);
    assert.equal(asReplicas, 3 * logical);
    assert.ok(Math.abs(saved - (asReplicas - stored)) < 0.11);
    assert.ok(pct >= 49 && pct <= 50, `saved ${pct}%`);
    // Stopped like Ctrl-C: replica files, shard directories and EC stores are gone.
    assert.deepEqual([...Deno.readDirSync(root)], []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
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
  const data = /^data: (\S+)/m.exec(text)![1];
  await assert.rejects(Deno.stat(data), Deno.errors.NotFound, "work dir removed");
});
