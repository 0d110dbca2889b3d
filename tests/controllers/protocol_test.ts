/**
 * The move protocol through the whole operator (controller → planner → executor → REST
 * adapter → simulator): a node with pools of two tiers (the control plane picks the pool, so a
 * wrong landing is rolled back and that node tried last), a Faulted volume heating up (never
 * moved, visible in status), and persisted move states a person edited (refused with an Event,
 * nothing removed).
 */
import assert from "node:assert/strict";
import type { StoragePolicyStatus } from "../../src/api/storage_policy.ts";
import { PERSISTENT_VOLUMES } from "../../src/controllers/storage-policy/resources.ts";
import type { IopsSource } from "../../src/metrics/source.ts";
import {
  encodeMoveState,
  MIGRATION_ANNOTATION,
  type MoveState,
  planMove,
} from "../../src/migration/state.ts";
import type { SimPoolConfig } from "../../src/sandbox/mayastor/cluster.ts";
import { BACKOFF_ANNOTATION, readBackoff } from "../../src/tiering/backoff.ts";
import {
  drive,
  type Env,
  events,
  getPolicy,
  MiB,
  policy,
  replicaTiers,
  runFor,
  settled,
  type StartedOperator,
  startEnv,
  startOperator,
} from "./harness.ts";

const GiB = 1024 * MiB;
const status = async (env: Env, name: string) =>
  (await getPolicy(env, name)).status as StoragePolicyStatus | undefined;
const decision = async (env: Env, name: string, pv: string) =>
  (await status(env, name))?.volumeDecisions?.find((d) => d.volume === pv);

Deno.test("protocol: on a node with a hot and a cold pool the control plane picks cold: rolled back, that node tried last, then moved", async () => {
  const pools: SimPoolConfig[] = [
    // node-1: the hot pool is the only one the planner wants, but the cold one has more room
    // and the control plane's scheduler prefers it (more free space wins).
    { id: "hot-1", node: "node-1", capacityBytes: GiB, tier: "hot" },
    { id: "cold-3", node: "node-1", capacityBytes: 4 * GiB, tier: "cold" },
    // node-2: hot-2 has more room than the warm pool beside it.
    { id: "hot-2", node: "node-2", capacityBytes: GiB, tier: "hot" },
    { id: "warm-1", node: "node-2", capacityBytes: 256 * MiB, tier: "warm" },
    { id: "cold-1", node: "node-5", capacityBytes: 4 * GiB, tier: "cold" },
  ];
  const env = await startEnv({
    pools,
    policies: [policy("p")],
    volumes: [{
      name: "pv-hot",
      sizeBytes: MiB,
      pools: ["cold-1"],
      profile: { kind: "steady", iops: 3000 },
    }],
  });
  try {
    const uuid = env.cluster.volumes.get("pv-hot")!;
    await drive(env, async () => ((await status(env, "p"))?.failedMigrations ?? 0) >= 1);
    const first = (await status(env, "p"))!.migrationHistory![0];
    assert.equal(first.result, "RolledBack");
    assert.match(first.error ?? "", /placed the new replica on pool cold-3, not on hot-1/);
    // Rolled back: only the original replica, its data intact; node-1 remembered.
    assert.deepEqual(replicaTiers(env, "pv-hot"), ["cold"]);
    const pv = await env.cluster.client.get(PERSISTENT_VOLUMES, "pv-hot");
    const backoff = readBackoff(pv.metadata.annotations).record;
    assert.deepEqual(backoff?.avoidNodes, ["node-1"]);
    // After the backoff the next plan tries node-2 first, and the move lands.
    await drive(
      env,
      async () => ((await status(env, "p"))?.totalMigrations ?? 0) >= 2 && await settled(env),
      { maxSteps: 2_000 },
    );
    const st = (await status(env, "p"))!;
    assert.equal(
      st.migrationHistory![0].result,
      "Succeeded",
      String(st.migrationHistory![0].error),
    );
    const replicas = [...env.cluster.sim.cluster.volumes.get(uuid)!.replicas];
    assert.deepEqual(replicas.map((r) => env.cluster.sim.cluster.replicas.get(r)!.pool), ["hot-2"]);
    const hashes = Object.values(await env.cluster.sim.replicaHashes(uuid));
    assert.deepEqual(hashes, [env.cluster.sim.originalHash(uuid)]);
    const after = await env.cluster.client.get(PERSISTENT_VOLUMES, "pv-hot");
    assert.equal(after.metadata.annotations?.[BACKOFF_ANNOTATION], undefined, "success resets");
    const cordoned = [...env.cluster.sim.cluster.nodes.values()].filter((n) =>
      n.cordonLabels.length > 0
    );
    assert.deepEqual(cordoned, []);
  } finally {
    await env.stop();
  }
});

Deno.test("protocol: a Faulted volume heating up is never moved (no replica added), and status says Faulted", async () => {
  // The IOPS reading says 3000 for the volume whatever its faulted nexus still reports.
  const hot = (scrape: IopsSource): IopsSource => ({
    fetchIops: async (q) => {
      const r = await scrape.fetchIops(q);
      if (r.ok) r.iops.set("pv-faulted", 3000);
      return r;
    },
  });
  const env = await startEnv({
    policies: [policy("p")],
    iops: hot,
    volumes: [{
      name: "pv-faulted",
      sizeBytes: MiB,
      pools: ["cold-1"],
      profile: { kind: "steady", iops: 3000 },
    }],
  });
  try {
    const uuid = env.cluster.volumes.get("pv-faulted")!;
    env.cluster.sim.faults.poolOffline("cold-1");
    await drive(env, async () => (await decision(env, "p", "pv-faulted"))?.reason === "Faulted");
    await runFor(env, 120_000); // many passes
    const d = await decision(env, "p", "pv-faulted");
    assert.equal(d?.reason, "Faulted");
    assert.match(d?.message ?? "", /Faulted/);
    const v = env.cluster.sim.cluster.volumes.get(uuid)!;
    assert.equal(v.replicas.size, 1, "no replica added to a Faulted volume");
    assert.equal(v.numReplicas, 1);
    assert.equal((await status(env, "p"))?.totalMigrations ?? 0, 0);
    const started = (await events(env)).filter((e) => e.reason === "MigrationStarted");
    assert.deepEqual(started, []);
    const gauge = await env.metrics.volumeDecisions.get();
    const faulted = gauge.values.find((x) => x.labels.reason === "Faulted");
    assert.equal(faulted?.value, 1);
  } finally {
    env.cluster.sim.faults.clear();
    await env.stop();
  }
});

/** A one-step move state of `pv`, as the planner would have written it, then edited. */
function edited(pv: string, uuid: string, replicas: string[], patch: Partial<MoveState>) {
  const s = planMove({
    id: `m-${pv}`,
    policy: "p",
    volume: pv,
    volumeUuid: uuid,
    from: "cold",
    to: "hot",
    steps: [{ old: replicas[0], oldPool: "cold-1", targetPools: ["hot-1"], targetNode: "node-1" }],
    replicas,
    replicaCount: 1,
    healthyReplicas: 1,
    triggerIOPS: 3000,
    now: Date.UTC(2026, 10, 26, 11),
    dryRun: false,
    preservation: false,
  });
  return encodeMoveState({ ...s, ...patch });
}

Deno.test("protocol: hand-edited move annotations (another volume's uuid; an existing replica claimed as added) are refused with an Event; nothing is removed", async () => {
  const env = await startEnv({
    noOperator: true,
    policies: [policy("p")],
    volumes: [
      { name: "pv-a", sizeBytes: MiB, pools: ["cold-1"], profile: { kind: "steady", iops: 3000 } },
      { name: "pv-b", sizeBytes: MiB, pools: ["cold-2"], profile: { kind: "steady", iops: 3000 } },
    ],
  });
  let started: StartedOperator | undefined;
  try {
    const sim = env.cluster.sim;
    const [a, b] = ["pv-a", "pv-b"].map((pv) => env.cluster.volumes.get(pv)!);
    const replicasOf = (uuid: string) => [...sim.cluster.volumes.get(uuid)!.replicas];
    const before = { a: await sim.replicaHashes(a), b: await sim.replicaHashes(b) };
    // pv-a's annotation names pv-b's Mayastor volume, in a phase that would detach its replica.
    const foreign = edited("pv-a", b, replicasOf(b), { phase: "Verified", scaleIssued: true });
    // pv-b's annotation claims its own (original) replica as the one the move added.
    const [own] = replicasOf(b);
    const claimed = edited("pv-b", b, ["r-other"], { phase: "Rebuilding", scaleIssued: true });
    const claimedState = JSON.parse(claimed) as MoveState;
    claimedState.steps[0] = { ...claimedState.steps[0], old: "r-other", newReplica: own };
    claimedState.replicasBefore = [own, "r-other"];
    for (const [pv, text] of [["pv-a", foreign], ["pv-b", JSON.stringify(claimedState)]]) {
      await env.cluster.client.patch(PERSISTENT_VOLUMES, pv, {
        metadata: { annotations: { [MIGRATION_ANNOTATION]: text } },
      });
    }
    started = await startOperator(env);
    await drive(
      env,
      async () =>
        (await events(env)).filter((e) => e.reason === "MigrationStateRefused").length >= 2,
    );
    await runFor(env, 30_000);
    const refused = (await events(env)).filter((e) => e.reason === "MigrationStateRefused");
    const on = (pv: string) =>
      refused.find((e) => (e.regarding as { name?: string })?.name === pv)?.note as string;
    assert.match(on("pv-a"), /acts on Mayastor volume .*volumeHandle is/);
    assert.match(on("pv-b"), /existed before this move added it/);
    assert.match(on("pv-a"), /kubectl annotate pv pv-a storage\.billyronks\.io\/migration-/);
    // Nothing was acted on: both volumes keep their replica and data; the annotations stay.
    assert.deepEqual(await sim.replicaHashes(a), before.a);
    assert.deepEqual(await sim.replicaHashes(b), before.b);
    for (const pv of ["pv-a", "pv-b"]) {
      const o = await env.cluster.client.get(PERSISTENT_VOLUMES, pv);
      assert.ok(o.metadata.annotations?.[MIGRATION_ANNOTATION], `${pv} annotation left alone`);
      const d = await decision(env, "p", pv);
      assert.equal(d?.reason, "MigrationInFlight");
      assert.match(d?.message ?? "", /refused and left alone/);
    }
    assert.equal(started.operator.inFlight.count(), 0);
  } finally {
    await started?.stop();
    await env.stop();
  }
});
