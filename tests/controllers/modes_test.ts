import assert from "node:assert/strict";
import type { StoragePolicyStatus } from "../../src/api/storage_policy.ts";
import { couchestorCrds } from "../../src/api/crd.ts";
import {
  PERSISTENT_VOLUMES,
  STORAGE_POLICIES,
} from "../../src/controllers/storage-policy/resources.ts";
import type { KubeObject } from "../../src/kube/resource.ts";
import { applyObjects } from "../../src/sandbox/apiserver/mod.ts";
import { MIGRATION_ANNOTATION } from "../../src/migration/state.ts";
import { LAST_MIGRATION_ANNOTATION } from "../../src/tiering/cooldown.ts";
import {
  drive,
  events,
  getPolicy,
  MiB,
  migrationsCounted,
  policy,
  replicaTiers,
  runFor,
  settled,
  startEnv,
} from "./harness.ts";

const status = async (env: Parameters<typeof getPolicy>[0], name: string) =>
  (await getPolicy(env, name)).status as StoragePolicyStatus | undefined;

Deno.test("controller: dry-run plans, records and emits Events but changes no volume", async () => {
  const env = await startEnv({
    policies: [policy("dry", { dryRun: true })],
    volumes: [
      {
        name: "pv-hot",
        sizeBytes: MiB,
        pools: ["cold-1"],
        profile: { kind: "steady", iops: 3000 },
      },
      { name: "pv-cold", sizeBytes: MiB, pools: ["hot-1", "hot-2"], profile: { kind: "idle" } },
    ],
  });
  try {
    const before = new Map<string, Record<string, string>>();
    for (const [pv, uuid] of env.cluster.volumes) {
      before.set(pv, await env.cluster.sim.replicaHashes(uuid));
    }
    await drive(env, async () => ((await status(env, "dry"))?.totalMigrations ?? 0) >= 2);
    // Many more passes: the dry-run decision is recorded once per cooldown, not every pass.
    await runFor(env, 15000);
    const st = (await status(env, "dry"))!;
    assert.equal(st.totalMigrations, 2);
    assert.deepEqual(st.migrationHistory!.map((h) => `${h.volume}:${h.result}`).sort(), [
      "pv-cold:DryRun",
      "pv-hot:DryRun",
    ]);
    for (const [pv, uuid] of env.cluster.volumes) {
      assert.deepEqual(await env.cluster.sim.replicaHashes(uuid), before.get(pv), `${pv} replicas`);
      const o = await env.cluster.client.get(PERSISTENT_VOLUMES, pv);
      assert.equal(o.metadata.annotations?.[MIGRATION_ANNOTATION], undefined);
      assert.equal(o.metadata.annotations?.[LAST_MIGRATION_ANNOTATION], undefined);
    }
    assert.equal(await migrationsCounted(env.metrics, "dry_run"), 2);
    const dry = (await events(env)).filter((e) => e.reason === "MigrationDryRun");
    assert.equal(dry.length, 4, "one on each PV and one per move on the policy");
  } finally {
    await env.stop();
  }
});

Deno.test("controller: the --dry-run flag overrides every policy", async () => {
  const env = await startEnv({
    dryRun: true,
    policies: [policy("p")],
    volumes: [{
      name: "pv-hot",
      sizeBytes: MiB,
      pools: ["cold-1"],
      profile: { kind: "steady", iops: 3000 },
    }],
  });
  try {
    await drive(env, async () => ((await status(env, "p"))?.totalMigrations ?? 0) >= 1);
    assert.deepEqual(replicaTiers(env, "pv-hot"), ["cold"]);
    assert.equal((await status(env, "p"))!.migrationHistory![0].result, "DryRun");
  } finally {
    await env.stop();
  }
});

Deno.test("controller: preservation mode keeps every old replica", async () => {
  const env = await startEnv({
    policies: [policy("keep", { preservationMode: true, cooldownPeriod: "30s" })],
    volumes: [
      {
        name: "pv-hot",
        sizeBytes: MiB,
        pools: ["cold-1"],
        profile: { kind: "steady", iops: 3000 },
      },
      { name: "pv-cold", sizeBytes: MiB, pools: ["hot-1"], profile: { kind: "idle" } },
    ],
  });
  try {
    const old = new Map<string, string[]>();
    for (const [pv, uuid] of env.cluster.volumes) {
      old.set(pv, Object.keys(await env.cluster.sim.replicaHashes(uuid)));
    }
    await drive(
      env,
      async () => ((await status(env, "keep"))?.totalMigrations ?? 0) >= 2 && await settled(env),
    );
    assert.deepEqual(replicaTiers(env, "pv-hot"), ["cold", "hot"]);
    assert.deepEqual(replicaTiers(env, "pv-cold"), ["cold", "hot"]);
    for (const [pv, uuid] of env.cluster.volumes) {
      const hashes = await env.cluster.sim.replicaHashes(uuid);
      for (const r of old.get(pv)!) assert.ok(r in hashes, `${pv}: old replica ${r} kept`);
      for (const h of Object.values(hashes)) assert.equal(h, env.cluster.sim.originalHash(uuid));
    }
    assert.equal(await migrationsCounted(env.metrics, "preserved"), 2);
    // Past the cooldown the volumes are not copied again: their target tier has a copy.
    await runFor(env, 50000);
    assert.deepEqual(replicaTiers(env, "pv-hot"), ["cold", "hot"]);
    assert.deepEqual(replicaTiers(env, "pv-cold"), ["cold", "hot"]);
    assert.equal(await migrationsCounted(env.metrics), 2);
    const st = (await status(env, "keep"))!;
    assert.ok(st.migrationHistory!.every((h) => h.result === "Succeeded"));
  } finally {
    await env.stop();
  }
});

Deno.test("controller: two policies selecting one volume hold only that volume (with the reason); the rest of each policy moves", async () => {
  const env = await startEnv({
    policies: [policy("a"), policy("b", { volumeSelector: { matchLabels: { team: "x" } } })],
    volumes: [
      {
        name: "pv-shared",
        sizeBytes: MiB,
        pools: ["cold-1"],
        profile: { kind: "steady", iops: 3000 },
        labels: { team: "x" },
      },
      // Only policy a selects this one: it moves as usual.
      {
        name: "pv-own",
        sizeBytes: MiB,
        pools: ["cold-2"],
        profile: { kind: "steady", iops: 3000 },
      },
    ],
  });
  try {
    await drive(env, async () => ((await status(env, "a"))?.totalMigrations ?? 0) >= 1);
    await runFor(env, 10000);
    for (const n of ["a", "b"]) {
      const st = (await status(env, n))!;
      const ready = st.conditions!.find((c) => c.type === "Ready")!;
      assert.equal(ready.status, "True", `${n}: ${ready.message}`);
      assert.match(ready.message, /1 volume\(s\) also selected by another policy are held/);
      const held = st.volumeDecisions?.find((d) => d.volume === "pv-shared");
      assert.equal(held?.reason, "ConflictingPolicies");
      assert.match(held?.message ?? "", new RegExp(`also selected by ${n === "a" ? "b" : "a"}`));
      assert.equal(st.decisionCounts?.ConflictingPolicies, 1);
    }
    assert.deepEqual(replicaTiers(env, "pv-shared"), ["cold"]);
    assert.deepEqual(replicaTiers(env, "pv-own"), ["hot"]);
    const gauge = await env.metrics.volumeDecisions.get();
    assert.ok(
      gauge.values.some((v) =>
        v.labels.policy === "a" && v.labels.reason === "ConflictingPolicies" && v.value === 1
      ),
    );
  } finally {
    await env.stop();
  }
});

Deno.test("controller: a disabled policy observes and moves nothing", async () => {
  const env = await startEnv({
    policies: [policy("off", { enabled: false })],
    volumes: [{
      name: "pv-hot",
      sizeBytes: MiB,
      pools: ["cold-1"],
      profile: { kind: "steady", iops: 3000 },
    }],
  });
  try {
    await drive(env, async () => (await status(env, "off"))?.phase === "Disabled");
    await runFor(env, 10000);
    assert.deepEqual(replicaTiers(env, "pv-hot"), ["cold"]);
    assert.equal((await status(env, "off"))!.coldVolumes, 1);
  } finally {
    await env.stop();
  }
});

Deno.test("controller: a stalled rebuild times out and rolls back (only the new replica goes); the next move succeeds", async () => {
  const env = await startEnv({
    policies: [policy("slow", { migrationTimeout: "1m" })],
    volumes: [{
      name: "pv-hot",
      sizeBytes: MiB,
      pools: ["cold-1"],
      profile: { kind: "steady", iops: 3000 },
    }],
  });
  try {
    const sim = env.cluster.sim;
    const uuid = env.cluster.volumes.get("pv-hot")!;
    const [oldReplica] = Object.keys(await sim.replicaHashes(uuid));
    sim.faults.stallRebuilds(true);
    await drive(env, async () => ((await status(env, "slow"))?.failedMigrations ?? 0) >= 1);
    sim.faults.stallRebuilds(false);
    const st = (await status(env, "slow"))!;
    const rec = st.migrationHistory!.at(-1)!;
    assert.equal(rec.result, "RolledBack");
    assert.match(rec.error ?? "", /timed out/);
    const pv = await env.cluster.client.get(PERSISTENT_VOLUMES, "pv-hot");
    assert.equal(pv.metadata.annotations?.[LAST_MIGRATION_ANNOTATION], undefined);
    assert.equal(await migrationsCounted(env.metrics, "rolled_back"), 1);
    const rolled = (await events(env)).find((e) => e.reason === "MigrationRolledBack");
    assert.match(String(rolled?.note), /retried in 5m \(backoff\)/);
    // The volume kept its replica and backs off (5 min after one failure): it is held, visibly.
    await runFor(env, 60_000);
    const backing = (await status(env, "slow"))!.volumeDecisions!.find((d) =>
      d.volume === "pv-hot"
    );
    assert.equal(backing?.reason, "BackingOff");
    assert.match(backing?.timeLeft ?? "", /^[34]m/);
    assert.equal((await status(env, "slow"))!.totalMigrations, 1, "no retry during the backoff");
    // Once the backoff passed, the next pass moves it.
    await drive(
      env,
      async () => ((await status(env, "slow"))?.totalMigrations ?? 0) >= 2 && await settled(env),
      { maxSteps: 2_000 },
    );
    assert.deepEqual(replicaTiers(env, "pv-hot"), ["hot"]);
    const hashes = await sim.replicaHashes(uuid);
    assert.ok(!(oldReplica in hashes));
    assert.deepEqual(Object.values(hashes), [sim.originalHash(uuid)]);
  } finally {
    await env.stop();
  }
});

Deno.test("controller: --migration-timeout=2m applies to a policy that sets no migrationTimeout", async () => {
  const env = await startEnv({
    policies: [policy("default-timeout")], // no migrationTimeout of its own
    volumes: [{
      name: "pv-hot",
      sizeBytes: MiB,
      pools: ["cold-1"],
      profile: { kind: "steady", iops: 3000 },
    }],
    reconcile: { migrationTimeoutMs: 120_000 },
  });
  try {
    env.cluster.sim.faults.stallRebuilds(true);
    const pv = async () =>
      (await env.cluster.client.get(PERSISTENT_VOLUMES, "pv-hot")).metadata.annotations?.[
        MIGRATION_ANNOTATION
      ];
    await drive(env, async () => (await pv()) !== undefined);
    const started = JSON.parse((await pv())!) as { startedAt: number; deadline: number };
    assert.equal(started.deadline - started.startedAt, 120_000, "deadline = start + 2m");
    await drive(
      env,
      async () => ((await status(env, "default-timeout"))?.failedMigrations ?? 0) >= 1,
    );
    const rec = (await status(env, "default-timeout"))!.migrationHistory!.at(-1)!;
    assert.equal(rec.result, "RolledBack");
    assert.match(rec.error ?? "", /timed out after 12\ds/);
    const secs = Number(/timed out after (\d+)s/.exec(rec.error ?? "")?.[1]);
    assert.ok(secs >= 120 && secs < 125, `timed out after ${secs}s, not 30m`);
  } finally {
    env.cluster.sim.faults.stallRebuilds(false);
    await env.stop();
  }
});

Deno.test("controller: a policy the schema rejects gets Ready=False InvalidPolicy and moves nothing", async () => {
  const env = await startEnv({
    volumes: [{
      name: "pv-hot",
      sizeBytes: MiB,
      pools: ["cold-1"],
      profile: { kind: "steady", iops: 3000 },
    }],
  });
  try {
    // A cluster whose CRD does not validate (e.g. installed by hand without the schema).
    const crd = structuredClone(
      couchestorCrds().find((c) => c.spec.names.plural === "storagepolicies")!,
    );
    for (const v of crd.spec.versions) {
      v.schema = {
        openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      };
    }
    applyObjects(env.cluster.sandbox.core, [crd] as unknown as Parameters<typeof applyObjects>[1]);
    await env.cluster.client.create(
      STORAGE_POLICIES,
      policy("bad", { lowWatermarkIOPS: 5000, highWatermarkIOPS: 100 }) as unknown as KubeObject,
    );
    await drive(env, async () => (await status(env, "bad"))?.phase === "Error");
    await runFor(env, 5000);
    const ready = (await status(env, "bad"))!.conditions!.find((c) => c.type === "Ready")!;
    assert.equal(ready.status, "False");
    assert.equal(ready.reason, "InvalidPolicy");
    assert.match(ready.message, /lowWatermarkIOPS must be less than warmWatermarkIOPS/);
    assert.deepEqual(replicaTiers(env, "pv-hot"), ["cold"]);
    assert.equal(await migrationsCounted(env.metrics), 0);
  } finally {
    await env.stop();
  }
});
