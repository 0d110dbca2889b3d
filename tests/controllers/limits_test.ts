import assert from "node:assert/strict";
import type { StoragePolicyStatus } from "../../src/api/storage_policy.ts";
import type { LocalVolume } from "../../src/sandbox/local_cluster.ts";
import { drive, getPolicy, MiB, policy, runFor, startEnv } from "./harness.ts";

Deno.test("controller: 200 volumes turning hot at once respect the per-policy and global limits, then the cooldown", async () => {
  const volumes: LocalVolume[] = [];
  for (let i = 0; i < 200; i++) {
    volumes.push({
      name: `pv-${String(i).padStart(3, "0")}`,
      sizeBytes: MiB,
      pools: [i % 2 ? "cold-1" : "cold-2"],
      profile: { kind: "idle" },
      labels: { team: i < 100 ? "a" : "b" },
    });
  }
  const env = await startEnv({
    globalLimit: 3,
    rebuildBytesPerSec: 4 * MiB,
    policies: [
      policy("a", { maxConcurrentMigrations: 2, volumeSelector: { matchLabels: { team: "a" } } }),
      policy("b", { maxConcurrentMigrations: 4, volumeSelector: { matchLabels: { team: "b" } } }),
    ],
    volumes,
  });
  try {
    const sim = env.cluster.sim;
    // Let every volume be seen as cold and idle first.
    await drive(env, async () => {
      const a = (await getPolicy(env, "a")).status as StoragePolicyStatus | undefined;
      return a?.coldVolumes === 100;
    });
    for (const uuid of env.cluster.volumes.values()) {
      sim.setProfile(uuid, { kind: "steady", iops: 5000 });
    }
    let peak = 0, peakA = 0, peakB = 0;
    const check = () => {
      const t = env.operator.inFlight;
      peak = Math.max(peak, t.count());
      peakA = Math.max(peakA, t.count("a"));
      peakB = Math.max(peakB, t.count("b"));
      // Volumes holding two replicas right now = moves between add and retire.
      let doubled = 0;
      for (const v of sim.cluster.volumes.values()) if (v.replicas.size > 1) doubled++;
      assert.ok(doubled <= 3, `${doubled} volumes mid-move at once`);
      assert.ok(t.count() <= 3 && t.count("a") <= 2, `in flight ${t.count()}`);
    };
    const total = async () => {
      let n = 0;
      for (const p of ["a", "b"]) {
        n +=
          ((await getPolicy(env, p)).status as StoragePolicyStatus | undefined)?.totalMigrations ??
            0;
      }
      return n;
    };
    await drive(env, async () => (await total()) >= 12, { onStep: check, maxSteps: 600 });
    assert.equal(peak, 3, "the global limit is reached and never passed");
    assert.ok(peakA <= 2 && peakB <= 3);

    // The moved volumes go idle again: the 1h cooldown keeps them on hot.
    const moved = new Set<string>();
    for (const p of ["a", "b"]) {
      const st = (await getPolicy(env, p)).status as StoragePolicyStatus;
      for (const h of st.migrationHistory ?? []) moved.add(h.volume);
    }
    for (const pv of moved) sim.setProfile(env.cluster.volumes.get(pv)!, { kind: "idle" });
    // 30 s of simulated time, sampled every 500 ms: the limits keep holding.
    for (let t = 0; t < 30_000; t += 500) {
      await runFor(env, 500);
      check();
    }
    for (const p of ["a", "b"]) {
      const st = (await getPolicy(env, p)).status as StoragePolicyStatus;
      const perVolume = new Map<string, number>();
      for (const h of st.migrationHistory ?? []) {
        perVolume.set(h.volume, (perVolume.get(h.volume) ?? 0) + 1);
        assert.equal(h.to, "hot", `${h.volume} was demoted during its cooldown`);
      }
      for (const [v, n] of perVolume) assert.equal(n, 1, `${v} moved ${n} times`);
    }
  } finally {
    await env.stop();
  }
});
