/**
 * Least privilege, checked against what the operator really does: `couchestor run` with leader
 * election, the StoragePolicy controller (tiering scenario over a real Prometheus and the
 * Mayastor simulator) and the ErasureCodingPolicy controller, against the sandbox API server.
 * Every (verb, group, resource[/subresource], scope) it sent must be granted by deploy/rbac.yaml,
 * and every permission deploy/rbac.yaml grants must have been used.
 */
import assert from "node:assert/strict";
import { GROUP_VERSION } from "../../src/api/mod.ts";
import { runRun } from "../../src/cli/run.ts";
import { EC_POLICIES } from "../../src/controllers/ec-policy/reconcile.ts";
import { DATA_BYTES_ANNOTATION } from "../../src/controllers/ec-policy/aggregate.ts";
import { VOLUME_LABEL } from "../../src/controllers/ec-policy/ecstripe_records.ts";
import { EC_STRIPES } from "../../src/controllers/ec-policy/ecstripe_writer.ts";
import { STORAGE_POLICIES } from "../../src/controllers/storage-policy/resources.ts";
import type { KubeObject } from "../../src/kube/resource.ts";
import type { SignalSource } from "../../src/lifecycle.ts";
import { parseManifests } from "../../src/sandbox/apiserver/mod.ts";
import type { WriteRecord } from "../../src/sandbox/apiserver/writelog.ts";
import { OPERATOR_NAMESPACE, startLocalCluster } from "../../src/sandbox/local_cluster.ts";
import type { SimPoolConfig } from "../../src/sandbox/mayastor/cluster.ts";
import {
  backfill,
  e2ePolicySpec,
  requirePrometheus,
  startBackfilledPrometheus,
  waitFor,
} from "../e2e/harness.ts";

const RBAC = new URL("../../deploy/rbac.yaml", import.meta.url).pathname;
const DEPLOYMENT = new URL("../../deploy/deployment.yaml", import.meta.url).pathname;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const POOLS: SimPoolConfig[] = [
  { id: "hot-1", node: "node-1", capacityBytes: GiB, tier: "hot" },
  { id: "warm-1", node: "node-2", capacityBytes: GiB, tier: "warm" },
  { id: "cold-1", node: "node-3", capacityBytes: GiB, tier: "cold" },
  { id: "cold-2", node: "node-4", capacityBytes: GiB, tier: "cold" },
  { id: "cold-3", node: "node-5", capacityBytes: GiB, tier: "cold" },
];
/** The operator's pod name: its clients send `couchestor/<pod>` as User-Agent. */
const POD = "couchestor-operator-7d9f-x1";
const OPERATOR_AGENT = `couchestor/${POD}`;
/** User-Agent of startLocalCluster's client (the test's set-up and checks). */
const ADMIN_AGENT = "couchestor-local-cluster";

/** One permission: `verb group resource[/subresource]`, plus the namespace for a Role's grant. */
type Perm = string;

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** What rbac.yaml grants: cluster-wide permissions and per-namespace ones. */
function grants(): {
  cluster: Set<Perm>;
  namespaced: Map<string, Set<Perm>>;
  bindings: KubeObject[];
} {
  const objs = parseManifests(Deno.readTextFileSync(RBAC)) as unknown as (KubeObject & {
    rules?: Rule[];
  })[];
  const expand = (rules: Rule[]) => {
    const out = new Set<Perm>();
    for (const r of rules) {
      for (const x of [...r.apiGroups, ...r.resources, ...r.verbs]) {
        assert.ok(!x.includes("*"), `no wildcards in rbac.yaml (${x})`);
      }
      assert.equal(r.resourceNames, undefined);
      assert.equal(r.nonResourceURLs, undefined);
      for (const g of r.apiGroups) {
        for (const res of r.resources) for (const v of r.verbs) out.add(`${v} ${g} ${res}`);
      }
    }
    return out;
  };
  const cluster = new Set<Perm>();
  const namespaced = new Map<string, Set<Perm>>();
  for (const o of objs) {
    if (o.kind === "ClusterRole") { for (const p of expand(o.rules ?? [])) cluster.add(p); }
    if (o.kind === "Role") namespaced.set(o.metadata.namespace!, expand(o.rules ?? []));
  }
  return {
    cluster,
    namespaced,
    bindings: objs.filter((o) => o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding"),
  };
}

const permOf = (r: WriteRecord): Perm =>
  `${r.verb} ${r.group} ${r.resource}${r.subresource ? `/${r.subresource}` : ""}`;

Deno.test("rbac: deploy/rbac.yaml grants exactly what the operator used (tiering + erasure coding + leader election)", async () => {
  requirePrometheus();
  const t0 = Date.now();
  const rates: Record<string, number> = {
    "pv-hot": 3000,
    "pv-warm": 800,
    "pv-cold": 0,
    "pv-ec": 0,
  };
  const prom = await startBackfilledPrometheus(
    backfill(Object.keys(rates), (pv) => rates[pv], t0 - 5 * 60_000, t0 + 5 * 60_000),
  );
  const cluster = await startLocalCluster({
    pools: POOLS,
    volumes: [
      { name: "pv-hot", sizeBytes: MiB, pools: ["cold-1"] },
      { name: "pv-warm", sizeBytes: MiB, pools: ["cold-1"] },
      { name: "pv-cold", sizeBytes: MiB, pools: ["hot-1"] },
      // Big enough for the erasure-coded tier: archived into 2+1 stripes.
      { name: "pv-ec", sizeBytes: 2 * MiB, pools: ["hot-1"] },
    ],
    rebuildBytesPerSec: 8 * MiB,
  });
  const dir = await Deno.makeTempDir({ prefix: "couchestor-rbac-" });
  const listeners = new Map<string, () => void>();
  const signals: SignalSource = {
    add: (sig, fn) => void listeners.set(sig, fn),
    remove: (sig) => void listeners.delete(sig),
  };
  const sb = cluster.sandbox;
  const admin = cluster.client;
  let code: Promise<number> | undefined;
  let logs = "";
  try {
    await admin.create(STORAGE_POLICIES, {
      apiVersion: GROUP_VERSION,
      kind: "StoragePolicy",
      metadata: { name: "audit" },
      spec: { ...e2ePolicySpec(), ecPolicyRef: "cold", ecMinVolumeSizeBytes: 2 * MiB },
    } as KubeObject);
    await admin.create(EC_POLICIES, {
      apiVersion: GROUP_VERSION,
      kind: "ErasureCodingPolicy",
      metadata: { name: "cold" },
      // Scrubs every second: the repeated ScrubCompleted Event is counted on the first one.
      spec: {
        dataShards: 2,
        parityShards: 1,
        stripeSizeBytes: 64 * 1024,
        scrub: { interval: "1s" },
      },
    } as KubeObject);
    code = runRun([
      `--kubeconfig=${sb.kubeconfigPath}`,
      `--prometheus-url=${prom.url}`,
      `--mayastor-rest-url=${cluster.sim.url}`,
      "--metrics-addr=127.0.0.1:0",
      "--health-addr=127.0.0.1:0",
      "--sync-poll-interval=200ms",
      "--leader-elect",
      "--lease-duration=4s",
      "--lease-renew-deadline=3s",
      "--lease-retry-period=500ms",
      `--namespace=${OPERATOR_NAMESPACE}`,
      `--lease-namespace=${OPERATOR_NAMESPACE}`,
      `--pod-name=${POD}`,
      "--shutdown-timeout=5s",
      "--log-format=json",
      `--ec-simulator-url=${cluster.sim.adminUrl}`,
      `--ec-store-dir=${dir}`,
    ], {
      env: {},
      signals,
      log: (line) => void (logs += line + "\n"),
    });
    const status = async () =>
      (await admin.get(STORAGE_POLICIES, "audit")).status as
        | { totalMigrations?: number }
        | undefined;
    await waitFor("three moves", async () => (await status())?.totalMigrations === 3, 25_000);

    // Erasure coding: pv-ec archived, its stripes recorded; a tampered record is corrected and
    // a stale one removed (a change of the policy's annotations queues a reconcile at once).
    const kick = (n: number) =>
      admin.patch(EC_POLICIES, "cold", { metadata: { annotations: { kick: `${n}` } } });
    const stripes = async () =>
      (await admin.listAll(EC_STRIPES, { labelSelector: `${VOLUME_LABEL}=pv-ec` })).items;
    const first = await waitFor("stripes recorded", async () => {
      const items = await stripes();
      return items.length > 0 && items.every((s) => s.status) ? items : undefined;
    });
    const tampered = first[0];
    await admin.update(EC_STRIPES, {
      ...tampered,
      metadata: {
        ...tampered.metadata,
        annotations: { ...tampered.metadata.annotations, [DATA_BYTES_ANNOTATION]: "1" },
      },
    });
    await admin.create(EC_STRIPES, {
      ...first[0],
      metadata: { name: "pv-ec-stale", labels: first[0].metadata.labels },
    } as KubeObject);
    await kick(1);
    await waitFor("records corrected", async () => {
      const items = await stripes();
      return items.length === first.length &&
        items.find((s) => s.metadata.name === tampered.metadata.name)?.metadata
            .annotations?.[DATA_BYTES_ANNOTATION] !== "1";
    });

    await waitFor("a repeated scrub Event", async () => {
      const { items } = await admin.listAll({
        group: "events.k8s.io",
        version: "v1",
        plural: "events",
        namespaced: true,
      });
      return items.some((e) =>
        e.reason === "ScrubCompleted" && ((e.series as { count: number })?.count ?? 0) >= 2
      );
    });

    listeners.get("SIGTERM")!();
    assert.equal(await code, 0, logs.slice(-3000));
    code = undefined;

    // Everything but the test's own set-up client is the operator's, whatever client sent it.
    const used = sb.requests.list().filter((r) => r.userAgent !== ADMIN_AGENT);
    assert.ok(used.some((r) => r.userAgent === OPERATOR_AGENT), "the operator's calls were logged");
    const { cluster: clusterPerms, namespaced, bindings } = grants();
    const usedPerms = new Map<Perm, string>();
    for (const r of used) usedPerms.set(`${permOf(r)}@${r.namespace}`, permOf(r));
    // 1. Everything used is granted: cluster-wide, or by the Role in that namespace.
    const notGranted = [...usedPerms].filter(([key, p]) => {
      const ns = key.slice(key.indexOf("@") + 1);
      return !clusterPerms.has(p) && !(ns && namespaced.get(ns)?.has(p));
    }).map(([k]) => k);
    assert.deepEqual(notGranted, [], "used but not granted");
    // 2. Everything granted was used (in the Role's namespace for namespaced grants).
    const usedSet = new Set(usedPerms.values());
    assert.deepEqual([...clusterPerms].filter((p) => !usedSet.has(p)), [], "granted, never used");
    for (const [ns, perms] of namespaced) {
      const unused = [...perms].filter((p) => !usedPerms.has(`${p}@${ns}`));
      assert.deepEqual(unused, [], `granted in ${ns}, never used there`);
      // And a namespaced grant must not be needed cluster-wide too.
      for (const p of perms) assert.ok(!clusterPerms.has(p), `${p} granted twice`);
    }
    // 3. The bindings give these roles to the Deployment's service account.
    const dep = parseManifests(Deno.readTextFileSync(DEPLOYMENT))[0] as unknown as {
      metadata: { namespace: string };
      spec: { template: { spec: { serviceAccountName: string } } };
    };
    // The leader-election Role lives where the Deployment runs (its Lease namespace).
    assert.deepEqual([...namespaced.keys()], [dep.metadata.namespace]);
    assert.equal(dep.metadata.namespace, OPERATOR_NAMESPACE);
    for (const b of bindings as unknown as { subjects: { name: string; namespace: string }[] }[]) {
      assert.deepEqual(b.subjects, [{
        kind: "ServiceAccount",
        name: dep.spec.template.spec.serviceAccountName,
        namespace: dep.metadata.namespace,
      }]);
    }
  } catch (e) {
    console.error(logs.slice(-6000));
    throw e;
  } finally {
    if (code) {
      listeners.get("SIGTERM")?.();
      await code.catch(() => {});
    }
    await prom.stop();
    await cluster.close();
    await Deno.remove(dir, { recursive: true });
  }
});
