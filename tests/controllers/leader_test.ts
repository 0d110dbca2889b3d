import assert from "node:assert/strict";
import type { StoragePolicyStatus } from "../../src/api/storage_policy.ts";
import { runRun } from "../../src/cli/run.ts";
import { OPERATOR_NAMESPACE } from "../../src/sandbox/local_cluster.ts";
import {
  drive,
  getPolicy,
  makeOperator,
  MiB,
  policy,
  replicaTiers,
  runFor,
  startEnv,
} from "./harness.ts";

Deno.test("controller: with leader election a follower reconciles nothing while the leader moves volumes", async () => {
  const env = await startEnv({
    noOperator: true,
    policies: [policy("p")],
    volumes: [{
      name: "pv-hot",
      sizeBytes: MiB,
      pools: ["cold-1"],
      profile: { kind: "steady", iops: 3000 },
    }],
  });
  const { clock, cluster } = env;
  const leader = { namespace: OPERATOR_NAMESPACE, name: "sp-leader" };
  const make = (identity: string) =>
    makeOperator({ clock, cluster, iops: env.scrape }, {
      identity,
      reconcile: { globalLimit: 4 },
      leader: {
        ...leader,
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
      },
    });
  const a = make("a"), b = make("b");
  const ac = new AbortController();
  const ca = a.component(), cb = b.component();
  try {
    await ca.start(ac.signal);
    await drive(env, () => a.leading, { maxSteps: 50 });
    await cb.start(ac.signal);
    await drive(env, async () => {
      const st = (await getPolicy(env, "p")).status as StoragePolicyStatus | undefined;
      return (st?.totalMigrations ?? 0) >= 1;
    });
    await runFor(env, 5000);
    assert.ok(a.leading && !b.leading);
    assert.ok(a.storagePolicies.reconciler.lastPass.size > 0);
    assert.equal(b.storagePolicies.reconciler.lastPass.size, 0, "the follower never reconciled");
    assert.equal(b.inFlight.count(), 0);
    assert.deepEqual(replicaTiers(env, "pv-hot"), ["hot"]);
  } finally {
    ac.abort();
    await ca.stop();
    await cb.stop();
    await env.stop();
  }
});

Deno.test("couchestor run: --mayastor-api (the removed legacy CRD adapter) is an unknown flag", async () => {
  let err = "";
  const code = await runRun(["--mayastor-api=crd"], { err: (t) => (err += t) });
  assert.equal(code, 2);
  assert.match(err, /mayastor-api/);
});
