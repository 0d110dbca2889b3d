/**
 * One policy pass with issue 16's rules over 10,000 volumes (`planVolumes`: pins, opt-outs,
 * backoff, health, a move window and manual approval around two decide() calls), and the
 * selection of those volumes by claim and namespace among five policies (`policyVolumes`).
 * Each is printed beside a baseline measured in the same run: decide() alone on the same
 * volumes, and one plain label match per volume and policy. Target: a pass well under 100 ms.
 * Run: deno run -A bench/volume_plan_bench.ts   (or deno bench -A bench/volume_plan_bench.ts)
 */
import { matchesLabelSelector } from "../src/api/selector.ts";
import type { Tier } from "../src/model/storage.ts";
import { recordFailure } from "../src/tiering/backoff.ts";
import { decide, type TieringPolicy } from "../src/tiering/decide.ts";
import {
  type PolicySelection,
  policyVolumes,
  type VolumeSubject,
} from "../src/tiering/selection.ts";
import { type PlanVolume, planVolumes } from "../src/tiering/volume_plan.ts";
import { parseMoveWindows } from "../src/api/move_windows.ts";
import { rng, time } from "./_timing.ts";

const VOLUMES = 10_000;
const NOW = Date.UTC(2026, 11, 5, 2); // Saturday 03:00 in Paris: the window is open
const tiers: Tier[] = ["hot", "warm", "cold"];

const rand = rng(7);

const policy: TieringPolicy = {
  name: "bench",
  watermarks: { highWatermarkIOPS: 1000, warmWatermarkIOPS: 300, lowWatermarkIOPS: 100 },
  cooldownMs: 3_600_000,
  maxConcurrentMigrations: 20,
  warmTier: true,
  tiersAvailable: new Set(tiers),
};
const iops = new Map<string, number>();
const volumes: PlanVolume[] = Array.from({ length: VOLUMES }, (_, i) => {
  const name = `pv-${i}`;
  const r = rand();
  if (rand() > 0.02) {
    iops.set(name, r < 0.6 ? rand() * 50 : r < 0.9 ? 50 + rand() * 500 : 500 + rand() * 9000);
  }
  const v: PlanVolume = { name, claim: `ns-${i % 50}/claim-${i}`, tier: tiers[i % 3] };
  const k = rand();
  if (k < 0.02) v.override = { kind: "pin", tier: tiers[i % 3], on: "pvc" };
  else if (k < 0.04) v.override = { kind: "optOut", on: "pvc" };
  else if (k < 0.06) v.backoff = recordFailure(undefined, "RolledBack", NOW - 60_000);
  else if (k < 0.07) v.health = "Degraded";
  if (rand() < 0.1) v.lastMigrationMs = NOW - Math.floor(rand() * 7_200_000);
  return v;
});
const windows = parseMoveWindows(["Sat-Sun 01:00-06:00 Europe/Paris"]);
if (!windows.ok) throw new Error(windows.message);
const common = {
  policy,
  metrics: { at: NOW, iops },
  now: NOW,
  maxMetricsAgeMs: 600_000,
  inFlight: { policy: 0, global: 0 },
  globalLimit: 50,
};

function plan(): number {
  const p = planVolumes({
    ...common,
    volumes,
    windows: windows.ok ? windows.windows : [],
    approval: { mode: "Manual", ttlMs: 86_400_000, previous: [] },
  });
  return p.moves.length + p.outcomes.length;
}

function decideOnly(): number {
  return decide({ ...common, volumes }).moves.length;
}

const subjects: VolumeSubject[] = volumes.map((v, i) => ({
  pv: {
    metadata: { name: v.name },
    spec: { storageClassName: "mayastor", claimRef: { namespace: `ns-${i % 50}`, name: `c-${i}` } },
  },
  pvc: {
    metadata: { namespace: `ns-${i % 50}`, name: `c-${i}`, labels: { app: `app-${i % 7}` } },
    spec: { volumeName: v.name },
  },
  namespaceLabels: { team: `team-${i % 5}` },
}));
const policies: PolicySelection[] = Array.from({ length: 5 }, (_, p) => ({
  name: `p${p}`,
  enabled: true,
  spec: {
    claimSelector: { matchLabels: { app: `app-${p}` } },
    namespaceSelector: { matchLabels: { team: `team-${p}` } },
  },
}));

function select(): number {
  return policyVolumes(policies[0], policies, subjects).selected.length;
}

function selectBaseline(): number {
  let n = 0;
  for (const s of subjects) {
    for (const p of policies) {
      if (matchesLabelSelector(p.spec.claimSelector!, s.pvc!.metadata.labels)) n++;
    }
  }
  return n;
}

Deno.bench({ name: "planVolumes, 10k volumes", group: "plan" }, () => void plan());
Deno.bench(
  { name: "decide() alone, 10k volumes", group: "plan", baseline: true },
  () => void decideOnly(),
);
Deno.bench(
  { name: "policyVolumes, 10k volumes x 5 policies", group: "select" },
  () => void select(),
);
Deno.bench(
  { name: "plain label match, 10k x 5", group: "select", baseline: true },
  () => void selectBaseline(),
);

if (import.meta.main && !Deno.args.includes("--no-print")) {
  for (let i = 0; i < 5; i++) plan(), decideOnly(), select(), selectBaseline(); // warm-up
  const p = time(plan, 21);
  const d = time(decideOnly, 21);
  const s = time(select, 21);
  const b = time(selectBaseline, 21);
  console.log(`policy pass over ${VOLUMES} volumes (${iops.size} with metrics)`);
  console.log(`  planVolumes (pins, backoff, window, approval): median ${p.toFixed(2)} ms`);
  console.log(`  baseline decide() alone:                       median ${d.toFixed(2)} ms`);
  console.log(`  ratio: ${(p / d).toFixed(1)}x`);
  console.log(`selection of ${VOLUMES} volumes among ${policies.length} policies`);
  console.log(`  policyVolumes (claim + namespace, contested): median ${s.toFixed(2)} ms`);
  console.log(`  baseline plain label match per policy:        median ${b.toFixed(2)} ms`);
  console.log(`  ratio: ${(s / b).toFixed(1)}x`);
  console.log(`  process RSS: ${(Deno.memoryUsage().rss / 2 ** 20).toFixed(1)} MiB`);
}
