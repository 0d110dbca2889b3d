/**
 * A whole local "cluster" for the demo and the end-to-end tests: the sandbox API server with
 * CoucheStor's and Mayastor's CRDs installed, the Mayastor simulator with tiered pools and
 * volumes, a DiskPool CR per pool and a PersistentVolume per volume (CSI driver
 * io.openebs.csi-mayastor, volumeHandle = volume uuid), plus a KubeClient on it.
 */
import { couchestorCrds, thirdPartyCrds } from "../api/crd.ts";
import { type Clock, systemClock } from "../clock.ts";
import {
  MAYASTOR_CSI_DRIVER,
  PERSISTENT_VOLUMES,
  type PersistentVolume,
} from "../controllers/storage-policy/resources.ts";
import { KubeClient } from "../kube/client.ts";
import { BuiltinResources, type KubeObject, type ResourceRef } from "../kube/resource.ts";
import type { Logger } from "../observability/log.ts";
import { applyObjects, type Sandbox, startSandbox } from "./apiserver/mod.ts";
import type { SimPoolConfig } from "./mayastor/cluster.ts";
import type { WorkloadProfile } from "./mayastor/profiles.ts";
import { type MayastorSim, startMayastorSim } from "./mayastor/server.ts";

/** Namespace of the DiskPool CRs (as Mayastor installs them). */
export const POOL_NAMESPACE = "mayastor";
/** Namespace the operator records Events and holds its Lease in. */
export const OPERATOR_NAMESPACE = "couchestor-system";
/** StorageClass of the PVs created. */
export const STORAGE_CLASS = "mayastor";

/** One volume to create: a simulator volume and its PersistentVolume. */
export interface LocalVolume {
  /** PV name (its metric series are labelled `pvc-<uuid>`, as Mayastor's exporter does). */
  name: string;
  /** Mayastor volume uuid (the PV's volumeHandle); random by default. */
  uuid?: string;
  sizeBytes: number;
  /** Pools of its replicas. */
  pools: string[];
  profile?: WorkloadProfile;
  labels?: Record<string, string>;
}

/** Options of startLocalCluster. */
export interface LocalClusterOptions {
  pools: SimPoolConfig[];
  volumes: LocalVolume[];
  /** Simulator clock (rebuilds, IO counters); system clock by default. */
  simClock?: Clock;
  /** Clock of the client; system clock by default. */
  clock?: Clock;
  rebuildBytesPerSec?: number;
  /** Sandbox port (0 = any). */
  port?: number;
  /**
   * Serve HTTPS: "auto" when openssl exists (kubectl sends the token only over HTTPS);
   * default plain HTTP (faster set-up for tests; the client here uses plain HTTP anyway).
   */
  tls?: boolean | "auto";
  logger?: Logger;
  /** Where replica files go (a temp dir, removed on close, by default). */
  dataDir?: string;
}

/** The running parts. */
export interface LocalCluster {
  sandbox: Sandbox;
  sim: MayastorSim;
  client: KubeClient;
  /** PV name → Mayastor volume uuid. */
  volumes: Map<string, string>;
  /** Stops the servers and removes the temp dirs. */
  close(): Promise<void>;
}

/** A PersistentVolume object for a Mayastor volume. */
export function mayastorPv(v: LocalVolume, uuid: string): PersistentVolume {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: v.name, labels: v.labels ?? {} },
    spec: {
      capacity: { storage: String(v.sizeBytes) },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Delete",
      storageClassName: STORAGE_CLASS,
      csi: { driver: MAYASTOR_CSI_DRIVER, volumeHandle: uuid, fsType: "ext4" },
    },
  };
}

const DISKPOOLS: ResourceRef = {
  group: "openebs.io",
  version: "v1beta2",
  plural: "diskpools",
  namespaced: true,
  kind: "DiskPool",
};

/** Starts the sandbox and the simulator and fills both. */
export async function startLocalCluster(o: LocalClusterOptions): Promise<LocalCluster> {
  const clock = o.clock ?? systemClock;
  const dataDir = o.dataDir ?? await Deno.makeTempDir({ prefix: "couchestor-local-" });
  const ownDir = o.dataDir === undefined;
  const sandbox = await startSandbox({
    port: o.port,
    tls: o.tls === "auto" ? undefined : (o.tls ?? false),
    logger: o.logger,
  });
  let sim: MayastorSim | undefined;
  const client = new KubeClient({
    connection: { server: sandbox.httpUrl, token: sandbox.token },
    clock,
    userAgent: "couchestor-local-cluster",
  });
  try {
    applyObjects(
      sandbox.core,
      [...couchestorCrds(), ...thirdPartyCrds()] as unknown as Parameters<typeof applyObjects>[1],
    );
    for (const ns of [POOL_NAMESPACE, OPERATOR_NAMESPACE]) {
      await client.create(BuiltinResources.namespaces, { metadata: { name: ns } }).catch(
        () => {},
      );
    }
    sim = await startMayastorSim({
      dataDir: `${dataDir}/replicas`,
      clock: o.simClock ?? systemClock,
      pools: o.pools,
      rebuildBytesPerSec: o.rebuildBytesPerSec,
    });
    for (const cr of sim.diskPools()) {
      await client.create(DISKPOOLS, cr as unknown as KubeObject, { namespace: POOL_NAMESPACE });
    }
    const volumes = new Map<string, string>();
    for (const v of o.volumes) {
      const uuid = await sim.addVolume({
        ...(v.uuid ? { uuid: v.uuid } : {}),
        sizeBytes: v.sizeBytes,
        pools: v.pools,
        profile: v.profile,
      });
      volumes.set(v.name, uuid);
      await client.create(PERSISTENT_VOLUMES, mayastorPv(v, uuid));
    }
    const s = sim;
    return {
      sandbox,
      sim: s,
      client,
      volumes,
      close: async () => {
        client.close();
        await s.close();
        await sandbox.close();
        if (ownDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      },
    };
  } catch (e) {
    client.close();
    await sim?.close();
    await sandbox.close();
    if (ownDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    throw e;
  }
}
