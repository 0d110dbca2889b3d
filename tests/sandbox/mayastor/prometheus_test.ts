/**
 * A real Prometheus (Debian's `prometheus` package) scrapes the simulator's
 * exporter every second; `rate()` over the volume read counter must give the
 * simulated IOPS within 10%. The simulator runs on the system clock here, since
 * Prometheus scrapes in real time.
 */
import assert from "node:assert/strict";
import { systemClock } from "../../../src/clock.ts";
import { startMayastorSim } from "../../../src/sandbox/mayastor/server.ts";

async function requirePrometheus(): Promise<void> {
  try {
    await new Deno.Command("prometheus", { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error("prometheus is not installed: run `apt-get install -y prometheus`");
    }
    throw e;
  }
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function query(base: string, q: string): Promise<number | undefined> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = await res.json();
  const v = body?.data?.result?.[0]?.value?.[1];
  return v === undefined ? undefined : Number(v);
}

Deno.test("Prometheus rate() over the simulator's volume_num_read_ops gives the simulated IOPS", async () => {
  await requirePrometheus();
  const tmp = await Deno.makeTempDir({ prefix: "mayastor-prom-" });
  const sim = await startMayastorSim({
    dataDir: `${tmp}/data`,
    clock: systemClock,
    pools: [{ id: "hot-1", node: "node-1", capacityBytes: 1 << 30, tier: "hot" }],
    volumes: [{
      sizeBytes: 64 * 1024,
      pools: ["hot-1"],
      profile: { kind: "steady", iops: 500, readRatio: 0.7 },
    }],
  });
  const port = freePort();
  // One exporter per node, as the DaemonSet runs them: scrape each.
  const targets = Object.values(sim.metricsUrls).map((u) => `"${new URL(u).host}"`).join(", ");
  await Deno.writeTextFile(
    `${tmp}/prometheus.yml`,
    [
      "global:",
      "  scrape_interval: 1s",
      "  evaluation_interval: 1s",
      "scrape_configs:",
      "  - job_name: mayastor",
      "    static_configs:",
      `      - targets: [${targets}]`,
      "",
    ].join("\n"),
  );
  const prom = new Deno.Command("prometheus", {
    args: [
      `--config.file=${tmp}/prometheus.yml`,
      `--storage.tsdb.path=${tmp}/tsdb`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=error",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  try {
    const start = Date.now();
    let read: number | undefined, write: number | undefined;
    while (Date.now() - start < 30_000) {
      await new Promise((r) => setTimeout(r, 1000));
      let samples: number | undefined;
      try {
        // Judge only once the 5 s window holds a full set of 1 s scrapes.
        samples = await query(base, "count_over_time(volume_num_read_ops[5s])");
        if ((samples ?? 0) < 5) continue;
        read = await query(base, "rate(volume_num_read_ops[5s])");
        write = await query(base, "rate(volume_num_write_ops[5s])");
        break;
      } catch {
        continue; // not listening yet
      }
    }
    assert.ok(read !== undefined, "Prometheus never returned a rate");
    assert.ok(Math.abs(read - 350) <= 35, `read IOPS ${read}, simulated 350`);
    assert.ok(Math.abs(write! - 150) <= 15, `write IOPS ${write}, simulated 150`);
    const pools = await query(base, 'diskpool_status{name="hot-1"}');
    assert.equal(pools, 1);
  } finally {
    prom.kill("SIGTERM");
    await prom.status;
    await sim.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
