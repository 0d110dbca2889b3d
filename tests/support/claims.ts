/**
 * Provisioned-looking volumes in the sandbox: a PVC bound to a PV (the PV's claimRef pointing at
 * it), as the CSI external-provisioner leaves them; dynamically provisioned PVs carry no labels.
 */
import { PERSISTENT_VOLUMES } from "../../src/controllers/storage-policy/resources.ts";
import { BuiltinResources, type KubeObject } from "../../src/kube/resource.ts";
import type { LocalCluster } from "../../src/sandbox/local_cluster.ts";

/** A claim to create for a PV. */
export interface ClaimSpec {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Creates the PVC (bound to `pv`) when given, points the PV's claimRef at it, annotates the PV. */
export async function bindClaim(
  cluster: LocalCluster,
  pv: string,
  claim: ClaimSpec | undefined,
  pvAnnotations?: Record<string, string>,
): Promise<void> {
  const c = cluster.client;
  const patch: Record<string, unknown> = {};
  if (pvAnnotations) patch.metadata = { annotations: pvAnnotations };
  if (claim) {
    const pvc = await c.create<KubeObject>(BuiltinResources.persistentVolumeClaims, {
      metadata: {
        name: claim.name,
        namespace: claim.namespace,
        ...(claim.labels ? { labels: claim.labels } : {}),
        ...(claim.annotations ? { annotations: claim.annotations } : {}),
      },
      spec: {
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: "1Mi" } },
        storageClassName: "mayastor",
        volumeName: pv,
      },
    }, { namespace: claim.namespace });
    patch.spec = {
      claimRef: {
        kind: "PersistentVolumeClaim",
        namespace: claim.namespace,
        name: claim.name,
        uid: pvc.metadata.uid,
      },
    };
  }
  if (Object.keys(patch).length > 0) await c.patch(PERSISTENT_VOLUMES, pv, patch);
}

/** Creates a namespace with labels. */
export async function namespace(
  cluster: LocalCluster,
  name: string,
  labels: Record<string, string>,
): Promise<void> {
  await cluster.client.create(BuiltinResources.namespaces, { metadata: { name, labels } });
}
