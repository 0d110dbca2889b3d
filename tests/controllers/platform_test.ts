/**
 * What platform teams use, through the whole operator in the sandbox (issue 16): selection of
 * provisioned PVs (no labels) by their claim's and namespace's labels, pins and opt-outs on the
 * PVC (an invalid value held with an Event on the PVC), manual approval (proposal shown and not
 * run; approved with `couchestor approve` → runs; unapproved → expires), move windows on the
 * injected clock, and the per-reason gauge agreeing with the status.
 */
import assert from "node:assert/strict";
import type { StoragePolicyStatus } from "../../src/api/storage_policy.ts";
import { runApprove } from "../../src/cli/approve.ts";
import { PERSISTENT_VOLUMES } from "../../src/controllers/storage-policy/resources.ts";
import type { KubeObject } from "../../src/kube/resource.ts";
import { MIGRATION_ANNOTATION } from "../../src/migration/state.ts";
import {
  INVALID_OVERRIDE_EVENT,
  PIN_ANNOTATION,
  TIERING_ANNOTATION,
} from "../../src/tiering/overrides.ts";
import { bindClaim, type ClaimSpec, namespace } from "../support/claims.ts";
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

const status = async (env: Env, name: string) =>
  (await getPolicy(env, name)).status as StoragePolicyStatus | undefined;
const decision = async (env: Env, name: string, pv: string) =>
  (await status(env, name))?.volumeDecisions?.find((d) => d.volume === pv);
const HOT = { kind: "steady" as const, iops: 3000 };
const IDLE = { kind: "idle" as const };

/** An Env with no operator yet, its volumes bound to claims; then the operator starts. */
async function withClaims(
  o: {
    volumes: { pv: string; pools: string[]; hot: boolean; claim?: ClaimSpec }[];
    namespaces?: Record<string, Record<string, string>>;
    policies: Parameters<typeof startEnv>[0]["policies"];
  },
  f: (env: Env, op: StartedOperator) => Promise<void>,
): Promise<void> {
  const env = await startEnv({
    noOperator: true,
    policies: o.policies,
    volumes: o.volumes.map((v) => ({
      name: v.pv,
      sizeBytes: MiB,
      pools: v.pools,
      profile: v.hot ? HOT : IDLE,
    })),
  });
  let op: StartedOperator | undefined;
  try {
    for (const [name, labels] of Object.entries(o.namespaces ?? {})) {
      await namespace(env.cluster, name, labels);
    }
    for (const v of o.volumes) await bindClaim(env.cluster, v.pv, v.claim);
    op = await startOperator(env);
    await f(env, op);
  } finally {
    await op?.stop();
    await env.stop();
  }
}

Deno.test("platform: claimSelector and namespaceSelector select unlabelled PVs; status and Events name the PVC", async () => {
  const db = { "app.kubernetes.io/component": "database" };
  await withClaims({
    namespaces: { shop: { "storage.billyronks.io/tiering": "enabled" }, lab: {} },
    policies: [policy("databases", {
      claimSelector: { matchLabels: db },
      namespaceSelector: { matchLabels: { "storage.billyronks.io/tiering": "enabled" } },
    })],
    volumes: [
      {
        pv: "pv-pg",
        pools: ["cold-1"],
        hot: true,
        claim: { namespace: "shop", name: "data-pg-0", labels: db },
      },
      {
        pv: "pv-cache",
        pools: ["cold-1"],
        hot: true,
        claim: { namespace: "shop", name: "cache", labels: {} },
      },
      {
        pv: "pv-lab",
        pools: ["cold-2"],
        hot: true,
        claim: { namespace: "lab", name: "data-pg-0", labels: db },
      },
    ],
  }, async (env) => {
    await drive(env, async () =>
      ((await status(env, "databases"))?.totalMigrations ?? 0) >= 1 &&
      await settled(env));
    await runFor(env, 10_000);
    assert.deepEqual(replicaTiers(env, "pv-pg"), ["hot"]);
    assert.deepEqual(replicaTiers(env, "pv-cache"), ["cold"], "claim labels do not match");
    assert.deepEqual(replicaTiers(env, "pv-lab"), ["cold"], "namespace labels do not match");
    const st = (await status(env, "databases"))!;
    assert.equal(st.totalMigrations, 1);
    assert.equal(st.migrationHistory![0].volume, "pv-pg");
    assert.equal(st.migrationHistory![0].claim, "shop/data-pg-0");
    const started = (await events(env)).find((e) =>
      e.reason === "MigrationStarted" &&
      (e.regarding as { kind?: string }).kind === "PersistentVolume"
    );
    assert.match(String(started?.note), /claim shop\/data-pg-0/);
  });
});

Deno.test("platform: a pin moves a volume and keeps it there; an opt-out is never moved; an invalid value is held with an Event on the PVC", async () => {
  await withClaims({
    namespaces: { apps: {} },
    policies: [policy("p")],
    volumes: [
      // Idle, so the bands say cold; the pin says hot.
      {
        pv: "pv-pinned",
        pools: ["cold-1"],
        hot: false,
        claim: { namespace: "apps", name: "pinned", annotations: { [PIN_ANNOTATION]: "hot" } },
      },
      // Busy, so the bands say hot; it opted out.
      {
        pv: "pv-out",
        pools: ["cold-2"],
        hot: true,
        claim: {
          namespace: "apps",
          name: "out",
          annotations: { [TIERING_ANNOTATION]: "disabled" },
        },
      },
      {
        pv: "pv-typo",
        pools: ["cold-1"],
        hot: true,
        claim: { namespace: "apps", name: "typo", annotations: { [PIN_ANNOTATION]: "fast" } },
      },
    ],
  }, async (env) => {
    await drive(env, async () => replicaTiers(env, "pv-pinned")[0] === "hot" && await settled(env));
    await runFor(env, 30_000);
    assert.deepEqual(replicaTiers(env, "pv-pinned"), ["hot"], "kept on hot although idle");
    assert.equal((await decision(env, "p", "pv-pinned"))?.reason, "Pinned");
    assert.deepEqual(replicaTiers(env, "pv-out"), ["cold"]);
    assert.equal((await decision(env, "p", "pv-out"))?.reason, "OptedOut");
    assert.deepEqual(replicaTiers(env, "pv-typo"), ["cold"], "an invalid value moves nothing");
    const typo = await decision(env, "p", "pv-typo");
    assert.equal(typo?.reason, "InvalidOverride");
    assert.match(typo?.message ?? "", /fast/);
    const { items } = await env.cluster.client.listAll({
      group: "events.k8s.io",
      version: "v1",
      plural: "events",
      namespaced: true,
    }, { namespace: "apps" });
    const onPvc = items.find((e) => e.reason === INVALID_OVERRIDE_EVENT) as KubeObject | undefined;
    assert.ok(onPvc, "a Warning Event in the PVC's namespace");
    assert.equal((onPvc.regarding as { name?: string }).name, "typo");
    assert.match(String(onPvc.note), /"fast" is not one of hot, warm, cold/);
    assert.equal((await status(env, "p"))!.totalMigrations, 1, "only the pinned volume moved");
  });
});

Deno.test("platform: approval Manual — a proposal waits; approved it runs; unapproved it expires", async () => {
  await withClaims({
    namespaces: { apps: {} },
    policies: [policy("manual", { approval: "Manual", approvalTTL: "10m" })],
    volumes: [
      { pv: "pv-a", pools: ["cold-1"], hot: true, claim: { namespace: "apps", name: "a" } },
      { pv: "pv-b", pools: ["cold-2"], hot: true, claim: { namespace: "apps", name: "b" } },
    ],
  }, async (env) => {
    await drive(env, async () => ((await status(env, "manual"))?.proposals?.length ?? 0) >= 2);
    await runFor(env, 30_000);
    const st = (await status(env, "manual"))!;
    assert.equal(st.totalMigrations ?? 0, 0, "nothing runs unapproved");
    assert.deepEqual(st.proposals!.map((p) => p.volume).sort(), ["pv-a", "pv-b"]);
    assert.equal((await decision(env, "manual", "pv-a"))?.reason, "AwaitingApproval");
    const proposed = (await events(env)).filter((e) => e.reason === "MoveProposed");
    assert.ok(proposed.length >= 2, "an Event per proposal");
    // `couchestor approve apps/a` writes the annotation the operator reads.
    const out: string[] = [];
    const code = await runApprove([
      "a",
      "-n",
      "apps",
      "--kubeconfig",
      env.cluster.sandbox.kubeconfigPath,
    ], {
      clock: env.clock,
      out: (s) => out.push(s),
      err: (s) => out.push(s),
    });
    assert.equal(code, 0, out.join(""));
    await drive(env, async () => replicaTiers(env, "pv-a")[0] === "hot" && await settled(env));
    assert.deepEqual(replicaTiers(env, "pv-b"), ["cold"], "b was not approved");
    // Past the TTL the unapproved proposal is dropped (and proposed again as a new one).
    const firstB = st.proposals!.find((p) => p.volume === "pv-b")!;
    await drive(
      env,
      async () => !((await status(env, "manual"))?.proposals ?? []).some((p) => p.id === firstB.id),
      {
        maxSteps: 4_000,
      },
    );
    assert.deepEqual(replicaTiers(env, "pv-b"), ["cold"], "an expired proposal never runs");
    assert.equal((await status(env, "manual"))!.totalMigrations, 1);
  });
});

Deno.test("platform: no move starts outside spec.moveWindows; the next window opening starts it", async () => {
  // The harness clock starts Thursday 2026-11-26 12:00 UTC: the window opens ten minutes later.
  await withClaims({
    policies: [policy("windowed", { moveWindows: ["Thu 12:10-13:00 UTC"] })],
    volumes: [{ pv: "pv-hot", pools: ["cold-1"], hot: true }],
  }, async (env) => {
    const opens = Date.UTC(2026, 10, 26, 12, 10);
    await drive(
      env,
      async () => (await decision(env, "windowed", "pv-hot"))?.reason === "OutsideMoveWindow",
    );
    await runFor(env, 5 * 60_000);
    assert.ok(env.clock.now() < opens);
    assert.equal((await decision(env, "windowed", "pv-hot"))?.reason, "OutsideMoveWindow");
    assert.deepEqual(replicaTiers(env, "pv-hot"), ["cold"]);
    let startedAt: number | undefined;
    await drive(env, async () => replicaTiers(env, "pv-hot")[0] === "hot" && await settled(env), {
      maxSteps: 4_000,
      onStep: async () => {
        const pv = await env.cluster.client.get(PERSISTENT_VOLUMES, "pv-hot");
        if (startedAt === undefined && pv.metadata.annotations?.[MIGRATION_ANNOTATION]) {
          startedAt = env.clock.now();
        }
      },
    });
    assert.ok(startedAt !== undefined && startedAt >= opens, "started once the window opened");
  });
});

Deno.test("platform: couchestor_volume_decisions{policy,reason} agrees with status.decisionCounts", async () => {
  await withClaims({
    namespaces: { apps: {} },
    policies: [policy("p", { maxConcurrentMigrations: 1 })],
    volumes: [
      { pv: "pv-1", pools: ["cold-1"], hot: true },
      { pv: "pv-2", pools: ["cold-2"], hot: true },
      { pv: "pv-3", pools: ["hot-1"], hot: true },
      {
        pv: "pv-4",
        pools: ["cold-1"],
        hot: true,
        claim: {
          namespace: "apps",
          name: "out",
          annotations: { [TIERING_ANNOTATION]: "disabled" },
        },
      },
    ],
  }, async (env) => {
    await drive(
      env,
      async () => ((await status(env, "p"))?.decisionCounts?.ConcurrencyLimit ?? 0) >= 1,
    );
    const st = (await status(env, "p"))!;
    const gauge = await env.metrics.volumeDecisions.get();
    const counts = Object.fromEntries(
      gauge.values.filter((v) => v.labels.policy === "p" && v.value > 0).map((
        v,
      ) => [v.labels.reason, v.value]),
    );
    const fromStatus = Object.fromEntries(
      Object.entries(st.decisionCounts ?? {}).filter(([, n]) => n > 0),
    );
    assert.deepEqual(counts, fromStatus);
    assert.equal(counts.OptedOut, 1);
    assert.equal(counts.AlreadyOnTier, 1);
    assert.equal(counts.ConcurrencyLimit, 1);
  });
});
