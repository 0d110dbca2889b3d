/**
 * Crash safety: the operator process is SIGKILLed at every step of a move, through a proxy
 * between it and the API server that kills it when the PV annotation write of that phase
 * passes (after the write is stored, or before: the step's action done, its state not yet
 * persisted). A restarted operator must finish each move exactly once, losing no replica.
 */
import assert from "node:assert/strict";
import type { StoragePolicyStatus } from "../../src/api/storage_policy.ts";
import { STORAGE_POLICIES } from "../../src/controllers/storage-policy/resources.ts";
import type { KubeObject } from "../../src/kube/resource.ts";
import { decodeMoveState, MIGRATION_ANNOTATION } from "../../src/migration/state.ts";
import { startLocalCluster } from "../../src/sandbox/local_cluster.ts";
import type { SimPoolConfig } from "../../src/sandbox/mayastor/cluster.ts";
import {
  backfill,
  e2ePolicySpec,
  type OperatorProcess,
  startBackfilledPrometheus,
  startOperator,
  waitFor,
} from "./harness.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const POOLS: SimPoolConfig[] = [
  { id: "hot-1", node: "node-1", capacityBytes: GiB, tier: "hot" },
  { id: "hot-2", node: "node-2", capacityBytes: GiB, tier: "hot" },
  { id: "cold-1", node: "node-3", capacityBytes: GiB, tier: "cold" },
];

/** Kill the operator when the annotation write of `phase` arrives, before or after storing it. */
interface KillPoint {
  phase: string;
  when: "before" | "after";
}

/**
 * Every persisted step: "after" = the state is stored, its action not yet done; "before" = the
 * previous state's action is done (the increase with its uncordon, the detach, the decrease)
 * but its outcome never reached the PV.
 */
const POINTS: KillPoint[] = [
  { phase: "Planned", when: "after" },
  { phase: "Cordoning", when: "after" },
  { phase: "Scaling", when: "after" },
  // The increase and the uncordon right after it done, neither answer persisted: the nodes may
  // still carry the cordon until the restarted operator resumes.
  { phase: "Landing", when: "before" },
  { phase: "Landing", when: "after" },
  { phase: "Rebuilding", when: "after" },
  { phase: "Verified", when: "after" },
  { phase: "Detaching", when: "after" },
  { phase: "Trimming", when: "before" },
  { phase: "Trimming", when: "after" },
  { phase: "Done", when: "before" },
  { phase: "Done", when: "after" },
];
/** Kill points at which the old replica may already have left the volume. */
const PAST_DETACH = new Set(["Trimming", "Done"]);

Deno.test("e2e crash safety: SIGKILL at every migration step; a restarted operator completes each move once with no replica lost", async () => {
  const pvs = POINTS.map((_, i) => `pv-crash-${i}`);
  const t0 = Date.now();
  // Hottest first: with one move at a time they move in order pv-crash-0, 1, …
  const prom = await startBackfilledPrometheus(
    backfill(pvs, (pv) => 3000 + 100 * (pvs.length - pvs.indexOf(pv)), t0 - 300_000, t0 + 600_000),
  );
  const cluster = await startLocalCluster({
    pools: POOLS,
    volumes: pvs.map((name) => ({ name, sizeBytes: MiB, pools: ["cold-1"] })),
    rebuildBytesPerSec: MiB,
  });
  const sim = cluster.sim;
  const original = new Map<string, string[]>();
  for (const [pv, uuid] of cluster.volumes) {
    original.set(pv, Object.keys(await sim.replicaHashes(uuid)));
  }

  // The proxy in front of the sandbox.
  let armed: { pv: string; point: KillPoint; hit?: () => void } | undefined;
  let op: OperatorProcess | undefined;
  const killNow = async () => {
    const victim = op;
    await victim?.kill();
  };
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const body = req.method === "GET" || req.method === "HEAD"
      ? undefined
      : new Uint8Array(await req.arrayBuffer());
    let trigger = false;
    const a = armed;
    if (a && req.method === "PATCH" && url.pathname === `/api/v1/persistentvolumes/${a.pv}`) {
      const patch = JSON.parse(new TextDecoder().decode(body)) as {
        metadata?: { annotations?: Record<string, string | null> };
      };
      const text = patch.metadata?.annotations?.[MIGRATION_ANNOTATION];
      const st = typeof text === "string" ? decodeMoveState(text) : undefined;
      trigger = !!st?.ok && st.state.phase === a.point.phase;
    }
    if (trigger && a!.point.when === "before") {
      armed = undefined;
      await killNow();
      a!.hit?.();
      return new Response("killed", { status: 503 });
    }
    const headers = new Headers(req.headers);
    headers.delete("host");
    const resp = await fetch(`${cluster.sandbox.httpUrl}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body,
      signal: req.signal,
    });
    if (trigger) {
      armed = undefined;
      await resp.body?.cancel();
      await killNow();
      a!.hit?.();
      return new Response("killed", { status: 503 });
    }
    return new Response(resp.body, { status: resp.status, headers: resp.headers });
  });
  const dir = await Deno.makeTempDir({ prefix: "couchestor-crash-" });
  const kubeconfig = `${dir}/kubeconfig`;
  await Deno.writeTextFile(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `- name: proxy`,
      `  cluster: {server: "http://127.0.0.1:${proxy.addr.port}"}`,
      "users:",
      `- name: u`,
      `  user: {token: "${cluster.sandbox.token}"}`,
      "contexts:",
      "- name: c",
      "  context: {cluster: proxy, user: u}",
      "current-context: c",
      "",
    ].join("\n"),
  );
  await cluster.client.create(STORAGE_POLICIES, {
    apiVersion: "storage.billyronks.io/v1",
    kind: "StoragePolicy",
    metadata: { name: "crash" },
    spec: e2ePolicySpec(1),
  } as KubeObject);
  const start = () =>
    startOperator({
      kubeconfig,
      prometheusUrl: prom.url,
      mayastorUrl: sim.url,
      extra: ["--leader-elect", "--lease-duration=4s", "--lease-renew-deadline=3s"],
    });
  const status = async () =>
    (await cluster.client.get(STORAGE_POLICIES, "crash")).status as
      | StoragePolicyStatus
      | undefined;
  const replicasOf = (
    pv: string,
  ) => [...sim.cluster.volumes.get(cluster.volumes.get(pv)!)!.replicas];
  const poolOf = (r: string) => sim.cluster.replicas.get(r)!.pool;
  const allLogs: string[] = [];
  try {
    // Arm the kill for the next volume before each (re)start: the restarted operator first
    // finishes the interrupted move, then starts the next one, which is killed in turn.
    const arm = (i: number) =>
      new Promise<void>((resolve) => (armed = { pv: pvs[i], point: POINTS[i], hit: resolve }));
    let hit = arm(0);
    op = start();
    /** The restarted operator found the interrupted move on the PV (resumed or recorded). */
    const resumedIn = (logs: string, i: number) =>
      POINTS[i].phase === "Done" && POINTS[i].when === "after"
        ? /"msg":"moves found on PVs".*"recorded":1/.test(logs)
        : new RegExp(`"msg":"resuming move found in flight".*"volume":"${pvs[i]}"`).test(logs);
    for (const [i, point] of POINTS.entries()) {
      const pv = pvs[i];
      await waitFor(`kill at ${point.phase} (${point.when}) of ${pv}`, () =>
        Promise.race([
          hit.then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), 50)),
        ]), 40_000);
      allLogs.push(op.logs());
      if (i > 0) assert.ok(resumedIn(op.logs(), i - 1), `${pvs[i - 1]} resumed after restart`);
      // Right after the kill: the original replica is still there unless it was retired.
      const now = replicasOf(pv);
      if (!PAST_DETACH.has(point.phase)) {
        assert.ok(now.includes(original.get(pv)![0]), `${pv}: old replica kept at ${point.phase}`);
      }
      assert.ok(now.length >= 1 && now.length <= 2, `${pv}: ${now.length} replicas`);
      if (i + 1 < POINTS.length) hit = arm(i + 1);
      // Restart: the interrupted move completes (and the next one begins).
      op = start();
      await waitFor(
        `${pv} recorded`,
        async () => (await status())?.migrationHistory?.some((h) => h.volume === pv),
        40_000,
      );
      await waitFor(`${pv} on hot`, () => {
        const r = replicasOf(pv);
        return r.length === 1 && poolOf(r[0]).startsWith("hot");
      }, 20_000);
    }
    // The restarted process has the killed one's --pod-name but not its Lease nonce: it leads
    // (and finds the last move) once that Lease expired (src/kube/leader.ts).
    const last = op;
    await waitFor(
      "the last move found after restart",
      () => resumedIn(last.logs(), POINTS.length - 1),
      20_000,
    );
    assert.equal(await op.stop(), 0);
    allLogs.push(op.logs());
    assert.ok(resumedIn(op.logs(), POINTS.length - 1), "last move resumed after restart");
    op = undefined;
    // Every move exactly once, each volume one complete replica on hot, same bytes.
    const st = (await status())!;
    assert.equal(st.totalMigrations, POINTS.length, JSON.stringify(st.migrationHistory));
    assert.equal(st.failedMigrations, 0);
    for (const pv of pvs) {
      const recs = st.migrationHistory!.filter((h) => h.volume === pv);
      assert.equal(recs.length, 1, `${pv}: ${recs.length} history records`);
      assert.equal(recs[0].result, "Succeeded");
      const uuid = cluster.volumes.get(pv)!;
      const hashes = await sim.replicaHashes(uuid);
      assert.equal(Object.keys(hashes).length, 1);
      assert.equal(Object.values(hashes)[0], sim.originalHash(uuid), `${pv} content`);
    }
    // No node keeps CoucheStor's cordon; no replica is left without an owner (each detached
    // old replica stays owned by its nexus until the nexus is recreated, MAYASTOR.md).
    const cordoned = [...sim.cluster.nodes.values()].filter((n) => n.cordonLabels.length > 0);
    assert.deepEqual(cordoned.map((n) => n.id), [], "no node cordoned");
    const orphans = [...sim.cluster.replicas.values()].filter((r) =>
      r.owners.volume === undefined && r.owners.nexuses.length === 0
    );
    assert.deepEqual(orphans.map((r) => r.uuid), [], "no replica without an owner");
  } catch (e) {
    if (op) allLogs.push(op.logs());
    console.error(allLogs.join("\n----\n").slice(-8000));
    throw e;
  } finally {
    await op?.kill();
    await proxy.shutdown();
    await prom.stop();
    await cluster.close();
    await Deno.remove(dir, { recursive: true });
  }
});
