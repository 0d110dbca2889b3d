/**
 * `couchestor explain` against the sandbox, the Mayastor simulator and a real Prometheus: one
 * volume's story in each reason state, for provisioned-looking PVs (claimRefs, no labels)
 * selected through their claims and namespaces.
 */
import assert from "node:assert/strict";
import { runExplain } from "../../src/cli/explain.ts";
import type { VolumeStory } from "../../src/cli/explain_story.ts";
import { encodeMoveState, MIGRATION_ANNOTATION } from "../../src/migration/state.ts";
import { plannedMove } from "../migration/fixtures.ts";
import { BACKOFF_ANNOTATION, encodeBackoff, recordFailure } from "../../src/tiering/backoff.ts";
import { LAST_MIGRATION_ANNOTATION } from "../../src/tiering/cooldown.ts";
import { PIN_ANNOTATION, TIERING_ANNOTATION } from "../../src/tiering/overrides.ts";
import { DAY_NAMES } from "../../src/api/move_windows.ts";
import { type ExplainEnv, type ScenarioVolume, startExplainEnv } from "./_explain_env.ts";

const MIN = 60_000;
const now = Date.now();
const db = (name: string, extra: Record<string, string> = {}) => ({
  namespace: "shop",
  name,
  labels: { app: "db", ...extra },
});
const MOVING_UUID = "0f6c2a1e-5b3d-4c8e-9a7f-2d1e3c4b5a69";
const moving = encodeMoveState(
  plannedMove("pv-moving", {
    uuid: MOVING_UUID,
    policy: "dbs",
    triggerIOPS: 2,
    now: now - MIN,
    timeoutMs: 30 * MIN,
  }),
);

/** Each volume and the reason explain must give it. */
const VOLUMES: (ScenarioVolume & { reason: string })[] = [
  { pv: "pv-idle", pool: "hot-1", iops: 2, claim: db("idle"), reason: "Demote" },
  { pv: "pv-busy", pool: "hot-1", iops: 5000, claim: db("busy"), reason: "AlreadyOnTier" },
  {
    pv: "pv-cool",
    pool: "hot-1",
    iops: 2,
    claim: db("cool"),
    pvAnnotations: { [LAST_MIGRATION_ANNOTATION]: new Date(now - 10 * MIN).toISOString() },
    reason: "InCooldown",
  },
  {
    pv: "pv-fail",
    pool: "hot-1",
    iops: 2,
    claim: db("fail"),
    pvAnnotations: {
      [BACKOFF_ANNOTATION]: encodeBackoff(
        recordFailure(undefined, "RolledBack", now - MIN, "rebuild timed out"),
      ),
    },
    reason: "BackingOff",
  },
  {
    pv: "pv-pin",
    pool: "hot-1",
    iops: 2,
    claim: db("pin"),
    pvcAnnotations: { [PIN_ANNOTATION]: "hot" },
    reason: "Pinned",
  },
  {
    pv: "pv-out",
    pool: "hot-1",
    iops: 2,
    claim: db("out"),
    pvcAnnotations: { [TIERING_ANNOTATION]: "disabled" },
    reason: "OptedOut",
  },
  {
    pv: "pv-typo",
    pool: "hot-1",
    iops: 2,
    claim: db("typo"),
    pvcAnnotations: { [PIN_ANNOTATION]: "Hot" },
    reason: "InvalidOverride",
  },
  { pv: "pv-quiet", pool: "hot-1", claim: db("quiet"), reason: "NoMetrics" },
  {
    pv: "pv-shared",
    pool: "cold-1",
    iops: 5000,
    claim: db("shared", { team: "web" }),
    reason: "ConflictingPolicies",
  },
  {
    pv: "pv-moving",
    uuid: MOVING_UUID,
    pool: "hot-1",
    iops: 2,
    claim: db("moving"),
    pvAnnotations: { [MIGRATION_ANNOTATION]: moving },
    reason: "MigrationInFlight",
  },
  {
    pv: "pv-lab",
    pool: "hot-1",
    iops: 2,
    claim: { namespace: "lab", name: "notebook" },
    reason: "AwaitingApproval",
  },
  { pv: "pv-static", pool: "hot-1", iops: 2, reason: "" },
];

/** A window that is closed today and tomorrow (it opens two days from now, in UTC). */
function closedWindow(): string {
  const today = (new Date(now).getUTCDay() + 6) % 7;
  return `${DAY_NAMES[(today + 2) % 7]} 01:00-02:00 UTC`;
}

async function withEnv(f: (env: ExplainEnv) => Promise<void>): Promise<void> {
  const env = await startExplainEnv(
    { shop: { tiering: "on" }, lab: { team: "lab" } },
    VOLUMES,
    now,
  );
  try {
    const base = {
      highWatermarkIOPS: 2000,
      warmWatermarkIOPS: 1200,
      lowWatermarkIOPS: 100,
      samplingWindow: "1m",
      cooldownPeriod: "1h",
      maxConcurrentMigrations: 4,
    };
    await env.createPolicy("dbs", {
      ...base,
      claimSelector: { matchLabels: { app: "db" } },
      namespaceSelector: { matchLabels: { tiering: "on" } },
    });
    await env.createPolicy("web", { ...base, claimSelector: { matchLabels: { team: "web" } } });
    await env.createPolicy("archive", {
      ...base,
      claimSelector: { matchLabels: { app: "archive" } },
    });
    await env.createPolicy("lab", {
      ...base,
      namespaceSelector: { matchLabels: { team: "lab" } },
      approval: "Manual",
      moveWindows: [closedWindow()],
    });
    await f(env);
  } finally {
    await env.close();
  }
}

async function explain(env: ExplainEnv, ...args: string[]) {
  let out = "", err = "";
  const code = await runExplain([...args, `--kubeconfig=${env.kubeconfig}`, ...env.urls], {
    clock: env.clock,
    out: (s) => (out += s + "\n"),
    err: (s) => (err += s + "\n"),
  });
  return { code, out, err };
}

Deno.test("explain: one volume's story in each reason state (sandbox, simulator, real Prometheus)", async () => {
  await withEnv(async (env) => {
    for (const v of VOLUMES) {
      const target = v.claim ? `${v.claim.namespace}/${v.claim.name}` : `pv/${v.pv}`;
      const r = await explain(env, target, "--json");
      assert.equal(r.code, 0, r.err);
      const s = JSON.parse(r.out) as VolumeStory;
      assert.equal(s.pv, v.pv);
      assert.equal(s.outcome?.reason ?? "", v.reason, `${v.pv}: ${JSON.stringify(s.outcome)}`);
    }
  });
});

Deno.test("explain: the text names the policy, why not the others, IOPS, band, tier and the next step", async () => {
  await withEnv(async (env) => {
    const idle = await explain(env, "idle", "-n", "shop");
    assert.equal(idle.code, 0, idle.err);
    const t = idle.out;
    assert.match(t, /^Volume\s+pv-idle \(claim shop\/idle\)$/m);
    assert.match(t, /^\s+dbs: selects it \(its rules apply\)$/m);
    assert.match(
      t,
      /archive: does not select it \(claimSelector: PVC shop\/idle labels do not match "app=archive"\)/,
    );
    assert.match(
      t,
      /lab: does not select it \(namespaceSelector: namespace shop labels do not match "team=lab"\)/,
    );
    assert.match(t, /^IOPS\s+2(\.\d+)? over 1m \(query: .*volume_num_read_ops\[1m\]/m);
    assert.match(t, /^Band\s+cold \(cold <= 100 < warm <= 1200 < stay < 2000 <= hot\)$/m);
    assert.match(
      t,
      /^Tier\s+hot: hot-1 \(hot, node-1, Online\); volume Online, published \(in use\)$/m,
    );
    assert.match(t, /^Control\s+none$/m);
    assert.match(t, /^Windows\s+none: moves may start at any time$/m);
    assert.match(t, /^Approval\s+Auto/m);
    assert.match(t, /^Now\s+Demote: 2(\.\d+)? IOPS <= lowWatermarkIOPS 100$/m);
    assert.match(t, /^Next\s+its next pass moves it from hot to cold \(pool cold-1\)$/m);

    const cool = await explain(env, "shop/cool");
    assert.match(cool.out, /^Cooldown\s+50m left of 1h \(last move /m);
    assert.match(cool.out, /^Next\s+it may move to cold in 50m \(/m);
    const fail = await explain(env, "shop/fail");
    assert.match(
      fail.out,
      /^Backoff\s+1 failed move\(s\) in a row, the last RolledBack at .* \(rebuild timed out\); retried in 4m/m,
    );
    const pin = await explain(env, "shop/pin");
    assert.match(
      pin.out,
      /^Control\s+pinned to hot \(storage\.billyronks\.io\/tier=hot on PVC shop\/pin\)$/m,
    );
    assert.match(pin.out, /^Next\s+nothing: it is where it should be$/m);
    const typo = await explain(env, "shop/typo");
    assert.match(
      typo.out,
      /^Now\s+InvalidOverride: PVC shop\/typo: storage\.billyronks\.io\/tier="Hot" is not one of hot, warm, cold \(did you mean "hot"\?\)/m,
    );
    const shared = await explain(env, "shop/shared");
    assert.match(shared.out, /^Now\s+ConflictingPolicies: also selected by web$/m);
    const movingOut = await explain(env, "shop/moving");
    assert.match(
      movingOut.out,
      /^In flight\s+Planned \(replica 1 of 1\): hot → cold \(hot-1 → cold-1\) since /m,
    );
    const lab = await explain(env, "lab/notebook");
    assert.match(lab.out, /^Windows\s+closed \(.* 01:00-02:00 UTC\); next opens .* UTC \(in \d/m);
    assert.match(
      lab.out,
      /^Approval\s+Manual \(approvalTTL 24h\): no proposal for this volume yet$/m,
    );
    assert.match(
      lab.out,
      /^Next\s+it moves to cold once approved: couchestor approve lab\/notebook --policy lab/m,
    );
    const stat = await explain(env, "pv/pv-static");
    assert.match(stat.out, /^Volume\s+pv-static \(no claim\)$/m);
    assert.match(stat.out, /dbs: does not select it \(claimSelector: the PV has no bound claim\)/);
    assert.match(stat.out, /^Next\s+nothing: no StoragePolicy selects this volume$/m);
  });
});

Deno.test("explain: unknown volumes, bad flags and unreachable Prometheus and Mayastor", async () => {
  await withEnv(async (env) => {
    const missing = await explain(env, "nope", "-n", "shop");
    assert.equal(missing.code, 1);
    assert.match(
      missing.err,
      /PersistentVolumeClaim shop\/nope not found \(and no PersistentVolume named nope\)/,
    );
    const usage = await explain(env);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /name one volume/);
    const bad = await explain(env, "shop/idle", "--max-concurrent-migrations=0");
    assert.equal(bad.code, 2);
    let out = "";
    const code = await runExplain(
      [
        "shop/idle",
        `--kubeconfig=${env.kubeconfig}`,
        "--prometheus-url=http://127.0.0.1:9",
        "--mayastor-rest-url=http://127.0.0.1:9",
      ],
      { clock: env.clock, out: (s) => (out += s) },
    );
    assert.equal(code, 0, "the story is still told");
    assert.match(out, /IOPS\s+unknown over 1m: Unreachable/);
    assert.match(out, /Mayastor\s+not read: http:\/\/127\.0\.0\.1:9/);
    assert.match(out, /Now\s+NoMetrics/);
  });
});
