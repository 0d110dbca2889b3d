/**
 * A cluster for the explain / approve tests: the sandbox API server and the Mayastor simulator
 * (startLocalCluster), provisioned-looking PVs (claimRefs, no labels) bound to labelled PVCs in
 * labelled namespaces, and a real Prometheus over backfilled IOPS history ending now.
 */
import type { StoragePolicyInput } from "../../src/api/storage_policy.ts";
import { ManualClock } from "../../src/clock.ts";
import { STORAGE_POLICIES } from "../../src/controllers/storage-policy/resources.ts";
import type { KubeObject } from "../../src/kube/resource.ts";
import { type LocalCluster, startLocalCluster } from "../../src/sandbox/local_cluster.ts";
import type { LocalPrometheus } from "../../src/sandbox/prometheus.ts";
import { backfill, startBackfilledPrometheus } from "../e2e/harness.ts";
import { bindClaim, namespace } from "../support/claims.ts";

const MiB = 1024 * 1024;

/** One volume of the scenario: PV name, the pool of its replica, IOPS (none = no series). */
export interface ScenarioVolume {
  pv: string;
  /** Mayastor volume uuid (random by default). */
  uuid?: string;
  pool: string;
  iops?: number;
  /** Its claim, when it has one. */
  claim?: { namespace: string; name: string; labels?: Record<string, string> };
  pvAnnotations?: Record<string, string>;
  pvcAnnotations?: Record<string, string>;
}

/** The running scenario. */
export interface ExplainEnv {
  cluster: LocalCluster;
  prometheus: LocalPrometheus;
  /** A clock at the end of the backfilled history. */
  clock: ManualClock;
  kubeconfig: string;
  /** Flags pointing explain at this Prometheus and simulator. */
  urls: string[];
  createPolicy(name: string, spec: StoragePolicyInput["spec"]): Promise<void>;
  /** Replaces a policy's status (as the operator would write it). */
  setStatus(name: string, status: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/** Starts the scenario: namespaces with labels, then the volumes; history ends at `now`. */
export async function startExplainEnv(
  namespaces: Record<string, Record<string, string>>,
  volumes: ScenarioVolume[],
  now = Date.now(),
): Promise<ExplainEnv> {
  const series = volumes.filter((v) => v.iops !== undefined);
  const history = backfill(
    series.map((v) => v.pv),
    (pv) => series.find((v) => v.pv === pv)!.iops!,
    now - 10 * 60_000,
    now,
  );
  const prometheus = await startBackfilledPrometheus(history);
  let cluster: LocalCluster | undefined;
  try {
    cluster = await startLocalCluster({
      pools: [
        { id: "hot-1", node: "node-1", capacityBytes: 64 * MiB, tier: "hot" },
        { id: "warm-1", node: "node-2", capacityBytes: 64 * MiB, tier: "warm" },
        { id: "cold-1", node: "node-3", capacityBytes: 64 * MiB, tier: "cold" },
      ],
      volumes: volumes.map((v) => ({
        name: v.pv,
        ...(v.uuid ? { uuid: v.uuid } : {}),
        sizeBytes: MiB,
        pools: [v.pool],
      })),
    });
    const c = cluster.client;
    for (const [name, labels] of Object.entries(namespaces)) {
      await namespace(cluster, name, labels);
    }
    for (const v of volumes) await bind(cluster, v);
    const env: ExplainEnv = {
      cluster,
      prometheus,
      clock: new ManualClock(now),
      kubeconfig: cluster.sandbox.kubeconfigPath,
      urls: [`--prometheus-url=${prometheus.url}`, `--mayastor-rest-url=${cluster.sim.url}`],
      createPolicy: async (name, spec) => {
        await c.create(STORAGE_POLICIES, {
          apiVersion: "storage.billyronks.io/v1",
          kind: "StoragePolicy",
          metadata: { name },
          spec,
        } as KubeObject);
      },
      setStatus: async (name, status) => {
        const cur = await c.get<KubeObject>(STORAGE_POLICIES, name);
        await c.updateStatus(STORAGE_POLICIES, { ...cur, status });
      },
      close: async () => {
        await cluster!.close();
        await prometheus.stop();
      },
    };
    return env;
  } catch (e) {
    await cluster?.close();
    await prometheus.stop();
    throw e;
  }
}

/** Creates the volume's PVC (bound to it) and points the PV's claimRef at it. */
function bind(cluster: LocalCluster, v: ScenarioVolume): Promise<void> {
  const claim = v.claim && {
    ...v.claim,
    ...(v.pvcAnnotations ? { annotations: v.pvcAnnotations } : {}),
  };
  return bindClaim(cluster, v.pv, claim, v.pvAnnotations);
}
