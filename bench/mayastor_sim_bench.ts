/**
 * Mayastor simulator at scale: 10,000 published 2-replica volumes on 30 pools
 * in one process. Times GET /v0/volumes (all at once, and all pages of 500
 * through the REST adapter, zod parsing included) beside a baseline measured in
 * the same run: JSON.stringify of the same volume objects. Target: < 1 s.
 * Run: deno run -A bench/mayastor_sim_bench.ts  (or deno bench -A bench/)
 */
import { systemClock } from "../src/clock.ts";
import { MayastorRestBackend } from "../src/mayastor/rest.ts";
import { silentLogger } from "../src/observability/log.ts";
import { renderVolume } from "../src/sandbox/mayastor/render.ts";
import { startMayastorSim } from "../src/sandbox/mayastor/server.ts";

const VOLUMES = 10_000;
const POOLS = 30;
const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeIt(f: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await f();
    times.push(performance.now() - t);
  }
  return median(times);
}

const dir = await Deno.makeTempDir({ prefix: "mayastor-bench-" });
const tiers = ["hot", "warm", "cold"] as const;
const sim = await startMayastorSim({
  dataDir: dir,
  clock: systemClock,
  pools: Array.from({ length: POOLS }, (_, i) => ({
    id: `pool-${i}`,
    node: `node-${i % 10}`,
    capacityBytes: 2 ** 40,
    tier: tiers[i % 3],
  })),
});
try {
  const t0 = performance.now();
  for (let i = 0; i < VOLUMES; i++) {
    await sim.addVolume({
      sizeBytes: 4096,
      pools: [`pool-${i % POOLS}`, `pool-${(i + 1) % POOLS}`],
      profile: { kind: "steady", iops: i % 500 },
    });
  }
  const setupMs = performance.now() - t0;

  const objects = () => [...sim.cluster.volumes.values()].map((v) => renderVolume(sim.cluster, v));
  const data = objects();
  const baseline = await timeIt(() => JSON.stringify({ entries: data }));
  const renderAndStringify = await timeIt(() => JSON.stringify({ entries: objects() }));
  let count = 0;
  const oneShot = await timeIt(async () => {
    const body = await (await fetch(`${sim.url}/volumes?max_entries=0`)).json();
    count = body.entries.length;
  });
  const backend = new MayastorRestBackend({
    baseUrl: sim.url,
    clock: systemClock,
    logger: silentLogger,
    pageSize: 500,
  });
  let listed = 0;
  const paged = await timeIt(async () => {
    listed = (await backend.listVolumes()).length;
  });
  const metrics = await timeIt(async () => await (await fetch(sim.metricsUrl)).text());

  const row = (name: string, ms: number) =>
    console.log(
      `${name.padEnd(52)} ${ms.toFixed(1).padStart(8)} ms  ${
        (ms / baseline).toFixed(1).padStart(6)
      }x baseline`,
    );
  console.log(
    `Mayastor simulator: ${VOLUMES} volumes x 2 replicas on ${POOLS} pools ` +
      `(setup ${(setupMs / 1000).toFixed(1)} s), median of ${RUNS}`,
  );
  row("baseline: JSON.stringify of the same volumes", baseline);
  row("render + JSON.stringify (server-side work)", renderAndStringify);
  row(`GET /v0/volumes?max_entries=0 (${count} entries)`, oneShot);
  row(`adapter listVolumes, pages of 500 (${listed}, zod)`, paged);
  row("GET /metrics (exporter text)", metrics);
  console.log(
    `target GET /v0/volumes < 1000 ms: ${oneShot < 1000 ? "met" : "MISSED"} (${
      oneShot.toFixed(0)
    } ms)`,
  );
} finally {
  await sim.close();
  await Deno.remove(dir, { recursive: true });
}
