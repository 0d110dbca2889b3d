/**
 * One tiering pass of a policy over 10,000 volumes with metrics already fetched (`planPass`:
 * pool tiers, each volume's tier and cooldown annotation, the decisions, placement and the
 * Planned states of the chosen moves). Printed beside a baseline measured in the same run (a
 * plain loop that classifies the same IOPS figures) and the process RSS. Target: well under 1 s.
 * Run: deno run -A bench/tiering_bench.ts   (or deno bench -A bench/tiering_bench.ts)
 */
import type { Pool, Tier, Volume } from "../src/model/storage.ts";
import { passTiers, planPass } from "../src/tiering/pass.ts";
import { volumeFacts } from "../src/tiering/volume_facts.ts";
import { type TieringSpecFields } from "../src/tiering/policy.ts";
import { rng, time } from "./_timing.ts";

const VOLUMES = 10_000;
const POOLS = 30;
const NOW = Date.UTC(2026, 0, 1, 12);
const tiers: Tier[] = ["hot", "warm", "cold"];

const rand = rng(42);
const pools: Pool[] = Array.from({ length: POOLS }, (_, i) => ({
  id: `pool-${i}`,
  node: `node-${i % 10}`,
  status: "Online",
  capacityBytes: 2 ** 44,
  usedBytes: Math.floor(rand() * 2 ** 43),
  labels: { "openebs.io/tier": tiers[i % 3] },
}));
const volumes: Volume[] = Array.from({ length: VOLUMES }, (_, i) => ({
  uuid: `vol-${i}`,
  sizeBytes: 2 ** 30,
  replicaCount: 1,
  status: "Online",
  replicas: [{ uuid: `r-${i}`, pool: `pool-${i % POOLS}`, node: "n", state: "Online" }],
}));
const iops = new Map<string, number>();
// Skewed load: most volumes idle, some warm, a few hot; 2% have no series.
for (let i = 0; i < VOLUMES; i++) {
  if (rand() < 0.02) continue;
  const r = rand();
  iops.set(`pv-${i}`, r < 0.6 ? rand() * 50 : r < 0.9 ? 50 + rand() * 500 : 500 + rand() * 9000);
}
const lastMigration = Array.from(
  { length: VOLUMES },
  () => (rand() < 0.1 ? NOW - Math.floor(rand() * 3_600_000) : undefined),
);
const spec: TieringSpecFields = {
  highWatermarkIOPS: 1000,
  warmWatermarkIOPS: 300,
  lowWatermarkIOPS: 100,
  samplingWindow: "5m",
  cooldownPeriod: "30m",
  maxConcurrentMigrations: 20,
  hotPoolSelector: { matchLabels: { "openebs.io/tier": "hot" } },
  warmPoolSelector: { matchLabels: { "openebs.io/tier": "warm" } },
  coldPoolSelector: { matchLabels: { "openebs.io/tier": "cold" } },
};
const benchTiers = passTiers(pools, spec);
const passVolumes = volumes.map((volume, i) => {
  const name = `pv-${i}`;
  const annotations = lastMigration[i] === undefined
    ? undefined
    : { "storage.billyronks.io/last-migration": new Date(lastMigration[i]!).toISOString() };
  const facts = volumeFacts({
    subject: { pv: { metadata: { name, ...(annotations ? { annotations } : {}) } } },
    volume,
    tiers: benchTiers,
  }).plan;
  return { pv: name, volume, facts };
});

/** The full pass, as the StoragePolicy controller runs it (planPass). */
function pass(): number {
  const r = planPass({
    policyName: "bench",
    spec,
    operator: {
      globalLimit: 50,
      dryRun: false,
      preservation: false,
      migrationTimeoutMs: 30 * 60_000,
      freeSpaceHeadroom: 0.05,
    },
    pools,
    volumes: passVolumes,
    metrics: { at: NOW, iops },
    now: NOW,
    inFlight: { policy: 0, global: 0 },
  });
  return r.work.length + r.plan.outcomes.length;
}

/** Baseline: a plain loop that classifies the same figures into three buckets. */
function baseline(): number {
  let hot = 0, warm = 0, cold = 0;
  for (let i = 0; i < VOLUMES; i++) {
    const v = iops.get(`pv-${i}`);
    if (v === undefined) continue;
    if (v >= 1000) hot++;
    else if (v <= 100) cold++;
    else if (v <= 300) warm++;
  }
  return hot * 3 + warm * 2 + cold;
}

Deno.bench({ name: "tiering pass, 10k volumes", group: "tiering" }, () => {
  pass();
});
Deno.bench({ name: "baseline loop, 10k volumes", group: "tiering", baseline: true }, () => {
  baseline();
});

if (import.meta.main && !Deno.args.includes("--no-print")) {
  const s0 = performance.now();
  pass(); // the very first pass, before JIT warm-up
  const first = performance.now() - s0;
  for (let i = 0; i < 5; i++) pass(), baseline(); // warm-up
  const p = time(pass, 21);
  const b = time(baseline, 21);
  const rss = Deno.memoryUsage().rss / 2 ** 20;
  console.log(`tiering pass over ${VOLUMES} volumes (${iops.size} with metrics, ${POOLS} pools)`);
  console.log(`  first (cold) pass:                          ${first.toFixed(2)} ms`);
  console.log(`  full pass (planPass: tiers, decide, place): median ${p.toFixed(2)} ms`);
  console.log(`  baseline plain classify loop:               median ${b.toFixed(2)} ms`);
  console.log(`  ratio pass/baseline: ${(p / b).toFixed(1)}x`);
  console.log(`  process RSS: ${rss.toFixed(1)} MiB`);
}
