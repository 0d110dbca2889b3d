/**
 * `couchestor approve` against the sandbox: it finds the one live proposal of a volume in the
 * policies' status and writes the approval annotation the operator reads; clear errors when
 * the volume, the claim's binding or the proposal is missing, expired or ambiguous.
 */
import assert from "node:assert/strict";
import type { ProposalRecord } from "../../src/api/storage_policy.ts";
import { runApprove } from "../../src/cli/approve.ts";
import { runExplain } from "../../src/cli/explain.ts";
import type { VolumeStory } from "../../src/cli/explain_story.ts";
import { PERSISTENT_VOLUMES } from "../../src/controllers/storage-policy/resources.ts";
import { BuiltinResources, type KubeObject } from "../../src/kube/resource.ts";
import { APPROVE_ANNOTATION, proposalId } from "../../src/tiering/approval.ts";
import { DAY_NAMES } from "../../src/api/move_windows.ts";
import { type ExplainEnv, startExplainEnv } from "./_explain_env.ts";

const now = Date.now();
const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function proposal(policy: string, volume: string, over: Partial<ProposalRecord> = {}) {
  const created = now - H;
  return {
    id: proposalId(policy, volume, "cold", created),
    volume,
    from: "hot",
    to: "cold",
    targetPool: "cold-1",
    iops: 2,
    reason: "Demote",
    message: "2 IOPS <= lowWatermarkIOPS 100",
    created: iso(created),
    expires: iso(created + 24 * H),
    state: "Pending",
    ...over,
  } as ProposalRecord;
}

async function run(env: ExplainEnv, ...args: string[]) {
  let out = "", err = "";
  const code = await runApprove([...args, `--kubeconfig=${env.kubeconfig}`], {
    clock: env.clock,
    out: (s) => (out += s),
    err: (s) => (err += s),
  });
  return { code, out, err };
}

async function withEnv(f: (env: ExplainEnv) => Promise<void>) {
  const env = await startExplainEnv({ lab: { team: "lab" } }, [
    { pv: "pv-lab", pool: "hot-1", iops: 2, claim: { namespace: "lab", name: "notebook" } },
    { pv: "pv-static", pool: "hot-1", iops: 2 },
  ], now);
  try {
    const today = (new Date(now).getUTCDay() + 6) % 7;
    await env.createPolicy("lab", {
      highWatermarkIOPS: 2000,
      warmWatermarkIOPS: 1200,
      lowWatermarkIOPS: 100,
      samplingWindow: "1m",
      namespaceSelector: { matchLabels: { team: "lab" } },
      approval: "Manual",
      moveWindows: [`${DAY_NAMES[(today + 2) % 7]} 01:00-02:00 UTC`],
    });
    await env.createPolicy("other", { approval: "Manual", enabled: false });
    await f(env);
  } finally {
    await env.close();
  }
}

Deno.test("approve: writes the annotation the operator reads; explain then sees it approved", async () => {
  await withEnv(async (env) => {
    const none = await run(env, "lab/notebook");
    assert.equal(none.code, 1);
    assert.match(
      none.err,
      /no pending proposal for lab\/notebook \(volume pv-lab\): nothing to approve; `couchestor explain lab\/notebook` says why/,
    );
    const p = proposal("lab", "pv-lab");
    await env.setStatus("lab", { proposals: [p], pendingApprovals: 1 });
    const ok = await run(env, "notebook", "-n", "lab");
    assert.equal(ok.code, 0, ok.err);
    assert.match(
      ok.out,
      new RegExp(
        `approved proposal ${p.id} of policy lab for lab/notebook \\(volume pv-lab\\): hot → cold \\(pool cold-1\\)`,
      ),
    );
    const pvc = await env.cluster.client.get<KubeObject>(
      BuiltinResources.persistentVolumeClaims,
      "notebook",
      { namespace: "lab" },
    );
    assert.equal(pvc.metadata.annotations?.[APPROVE_ANNOTATION], `lab/${p.id}`);
    // The operator's rules (as explain runs them) now treat it as approved: the window waits.
    let out = "";
    await runExplain(
      ["lab/notebook", "--json", `--kubeconfig=${env.kubeconfig}`, ...env.urls],
      { clock: env.clock, out: (s) => (out += s) },
    );
    const story = JSON.parse(out) as VolumeStory;
    assert.deepEqual([story.outcome?.reason, story.outcome?.proposal], ["OutsideMoveWindow", p.id]);
  });
});

Deno.test("approve: expired, started, ambiguous and claimless volumes", async () => {
  await withEnv(async (env) => {
    await env.setStatus("lab", {
      proposals: [
        proposal("lab", "pv-lab", { expires: iso(now - 1000) }),
        proposal("lab", "pv-static", { id: "p-00000001", state: "Started" }),
      ],
    });
    const expired = await run(env, "lab/notebook");
    assert.equal(expired.code, 1);
    assert.match(expired.err, /no pending proposal/);
    assert.match((await run(env, "pv/pv-static")).err, /no pending proposal for pv\/pv-static/);

    await env.setStatus("lab", { proposals: [proposal("lab", "pv-static")] });
    await env.setStatus("other", { proposals: [proposal("other", "pv-static")] });
    const both = await run(env, "pv/pv-static");
    assert.equal(both.code, 1);
    assert.match(
      both.err,
      /has proposals in lab \(p-[0-9a-f]{8}\), other \(p-[0-9a-f]{8}\): choose one with --policy/,
    );
    const one = await run(env, "pv/pv-static", "--policy", "other");
    assert.equal(one.code, 0, one.err);
    const pv = await env.cluster.client.get<KubeObject>(PERSISTENT_VOLUMES, "pv-static");
    assert.equal(
      pv.metadata.annotations?.[APPROVE_ANNOTATION],
      `other/${proposalId("other", "pv-static", "cold", now - H)}`,
      "a volume without a claim is approved on its PV",
    );
    assert.match(
      (await run(env, "pv/pv-static", "--policy", "nope")).err,
      /StoragePolicy nope not found/,
    );
  });
});

Deno.test("approve: missing and unbound claims, usage", async () => {
  await withEnv(async (env) => {
    await env.cluster.client.create(BuiltinResources.persistentVolumeClaims, {
      metadata: { name: "pending", namespace: "lab" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Mi" } } },
    }, { namespace: "lab" });
    const unbound = await run(env, "lab/pending");
    assert.equal(unbound.code, 1);
    assert.match(unbound.err, /PersistentVolumeClaim lab\/pending is not bound to a volume yet/);
    assert.match((await run(env, "lab/none")).err, /PersistentVolumeClaim lab\/none not found;/);
    assert.match((await run(env, "pv/none")).err, /PersistentVolume none not found/);
    assert.equal((await run(env)).code, 2);
    assert.equal((await run(env, "a", "--bogus")).code, 2);
  });
});
