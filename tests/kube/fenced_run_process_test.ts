/**
 * Fenced leadership of the shipped operator, as real processes: two `couchestor run
 * --leader-elect` against the sandbox API server. The leader is SIGSTOPped past its lease, the
 * other takes over, the policy changes meanwhile, SIGCONT: the sandbox's write log shows no
 * write from the stopped one after the takeover, on any resource (Events included). And two
 * processes started with one --pod-name: one leads.
 */
import assert from "node:assert/strict";
import { KubeClient } from "../../src/kube/client.ts";
import { loadKubeconfigFile } from "../../src/kube/kubeconfig.ts";
import { BuiltinResources, type ResourceRef } from "../../src/kube/resource.ts";
import { applyDirectory, type Sandbox, startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import type { WriteRecord } from "../../src/sandbox/apiserver/writelog.ts";
import { type Couchestor, startCouchestor } from "../cli/_process.ts";
import { eventually } from "../support/poll.ts";

const CRDS = new URL("../../crds", import.meta.url).pathname;
const POLICIES: ResourceRef = {
  group: "storage.billyronks.io",
  version: "v1",
  plural: "storagepolicies",
  namespaced: false,
  kind: "StoragePolicy",
};

/** A sandbox with the CRDs, the operator namespace and one StoragePolicy. */
async function sandbox(): Promise<{ sb: Sandbox; admin: KubeClient; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "fenced-run-" });
  const sb = await startSandbox({ tls: false, port: 0, dataDir: dir });
  await applyDirectory(sb.core, CRDS);
  await applyDirectory(sb.core, `${CRDS}/thirdparty`);
  const admin = new KubeClient({ connection: await loadKubeconfigFile(sb.kubeconfigPath) });
  await admin.create(BuiltinResources.namespaces, { metadata: { name: "couchestor-system" } });
  await admin.create(POLICIES, { metadata: { name: "fenced" }, spec: policySpec(100) } as never);
  return { sb, admin, dir };
}

function policySpec(lowWatermarkIOPS: number): Record<string, unknown> {
  return {
    highWatermarkIOPS: 2000,
    warmWatermarkIOPS: 1200,
    lowWatermarkIOPS,
    samplingWindow: "10s",
    cooldownPeriod: "1h",
  };
}

/**
 * A fake Prometheus whose first query is held until `release()` (so the test can stop the
 * leader in the middle of a reconcile, with the answer waiting in its socket); every other
 * query is answered at once. Each answer gives every volume 50 IOPS (there are none here).
 */
function fakePrometheus() {
  const ac = new AbortController();
  const held = Promise.withResolvers<void>();
  const first = Promise.withResolvers<void>();
  let queries = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    async (req) => {
      const time = Number(new URL(req.url).searchParams.get("time"));
      if (queries++ === 0) {
        first.resolve();
        await held.promise;
      }
      return Response.json({
        status: "success",
        data: {
          resultType: "vector",
          result: [{ metric: { pv_name: "pv-none" }, value: [time, "50"] }],
        },
      });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    firstQuery: first.promise,
    release: () => held.resolve(),
    close: async () => {
      held.resolve();
      ac.abort();
      await server.finished;
    },
  };
}

/** `couchestor run --leader-elect` with a short lease, against the sandbox. */
function operator(sb: Sandbox, podName: string, prometheusUrl = "http://127.0.0.1:9"): Couchestor {
  return startCouchestor([
    "run",
    "--leader-elect",
    `--pod-name=${podName}`,
    "--lease-duration=2s",
    "--lease-renew-deadline=1s",
    "--lease-retry-period=200ms",
    "--metrics-addr=127.0.0.1:0",
    "--health-addr=127.0.0.1:0",
    "--log-format=json",
    `--kubeconfig=${sb.kubeconfigPath}`,
    `--prometheus-url=${prometheusUrl}`,
    "--mayastor-rest-url=http://127.0.0.1:9",
  ]);
}

function by(sb: Sandbox, since: number, podName: string): WriteRecord[] {
  return sb.writes.list({ since }).filter((w) => w.userAgent === `couchestor/${podName}`);
}

const ok = (w: WriteRecord) => w.code < 300;

async function stopAll(procs: Couchestor[]): Promise<void> {
  for (const p of procs) {
    try {
      p.child.kill("SIGCONT");
    } catch { /* gone */ }
    p.kill();
    await p.exit(10_000).catch(() => {});
  }
}

Deno.test("couchestor run --leader-elect: a leader stopped past its lease writes nothing after the takeover", async () => {
  const { sb, admin, dir } = await sandbox();
  const prom = fakePrometheus();
  const procs: Couchestor[] = [];
  try {
    const one = operator(sb, "op-1", prom.url);
    procs.push(one);
    await one.waitForLine(/"msg":"became leader"/, 30_000);
    // op-1's first reconcile is now waiting for Prometheus' answer.
    await prom.firstQuery;
    const two = operator(sb, "op-2", prom.url);
    procs.push(two);
    await two.waitForLine(/"msg":"listening"/, 30_000);

    // Stop op-1 mid-reconcile; the answer it waits for arrives while it is stopped.
    const paused = sb.writes.lastSeq;
    one.child.kill("SIGSTOP");
    prom.release();
    await two.waitForLine(/"msg":"became leader"/, 30_000);
    const takeover = by(sb, paused, "op-2").find((w) => ok(w) && w.resource === "leases")!.seq;
    // While op-1 is stopped the policy changes: op-1's watch has the event waiting for it.
    await admin.patch(POLICIES, "fenced", { spec: policySpec(150) });
    await eventually("op-2 renews", () => by(sb, takeover, "op-2").filter(ok).length >= 5, {
      timeoutMs: 20_000,
    });

    one.child.kill("SIGCONT");
    await one.waitForLine(/stepping down|leadership lost/, 20_000);
    // Give op-1 every chance to misbehave: op-2 renews ten more times (1 s of lease time).
    const resumed = sb.writes.lastSeq;
    await eventually(
      "op-2 renews after op-1 resumed",
      () => by(sb, resumed, "op-2").filter((w) => ok(w) && w.resource === "leases").length >= 10,
      { timeoutMs: 20_000 },
    );

    const stale = by(sb, takeover, "op-1");
    assert.deepEqual(stale.filter(ok).map((w) => `${w.verb} ${w.resource}/${w.name}`), []);
    // Not even an attempt besides (at most) a Lease renewal already in flight when it stopped.
    assert.deepEqual(
      stale.filter((w) => w.resource !== "leases").map((w) => `${w.verb} ${w.resource}`),
      [],
    );
    // op-2 is the one acting now.
    assert.ok(
      by(sb, takeover, "op-2").some((w) => ok(w) && w.resource !== "leases"),
      "op-2 wrote policy status or Events after taking over",
    );
  } finally {
    await stopAll(procs);
    await prom.close();
    admin.close();
    await sb.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("couchestor run --leader-elect: two processes with one --pod-name — one leads", async () => {
  const { sb, admin, dir } = await sandbox();
  const procs: Couchestor[] = [];
  try {
    const a = operator(sb, "twin");
    procs.push(a);
    await a.waitForLine(/"msg":"became leader"/, 30_000);
    const b = operator(sb, "twin");
    procs.push(b);
    await b.waitForLine(/held under this identity by another process/, 30_000);
    // Ten renewals later (5 lease durations), still one leader.
    const mark = sb.writes.lastSeq;
    await eventually(
      "the leader renews",
      () => by(sb, mark, "twin").filter((w) => ok(w) && w.resource === "leases").length >= 10,
      { timeoutMs: 20_000 },
    );
    const leaders = procs.filter((p) => p.lines.some((l) => l.includes('"msg":"became leader"')));
    assert.equal(leaders.length, 1, "exactly one of the two leads");
    assert.equal(leaders[0], a);
  } finally {
    await stopAll(procs);
    admin.close();
    await sb.close();
    await Deno.remove(dir, { recursive: true });
  }
});
