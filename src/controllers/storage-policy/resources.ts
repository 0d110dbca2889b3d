/**
 * The Kubernetes resources the StoragePolicy controller reads and writes, and the
 * PersistentVolume shape it relies on (a Mayastor CSI volume: volumeHandle = volume uuid).
 */
import { API_GROUP, API_VERSION } from "../../api/meta.ts";
import { STORAGE_POLICY_KIND } from "../../api/storage_policy.ts";
import { BuiltinResources, type KubeObject, type ResourceRef } from "../../kube/resource.ts";

/** storagepolicies.storage.billyronks.io (cluster-scoped). */
export const STORAGE_POLICIES: ResourceRef = {
  group: API_GROUP,
  version: API_VERSION,
  plural: "storagepolicies",
  namespaced: false,
  kind: STORAGE_POLICY_KIND,
};

/** diskpools.openebs.io/v1beta2 (namespaced, Mayastor's CRD). */
export const DISK_POOLS: ResourceRef = {
  group: "openebs.io",
  version: "v1beta2",
  plural: "diskpools",
  namespaced: true,
  kind: "DiskPool",
};

/** PersistentVolumes (core/v1, cluster-scoped). */
export const PERSISTENT_VOLUMES: ResourceRef = BuiltinResources.persistentVolumes;

/** PersistentVolumeClaims (core/v1, namespaced; watched in every namespace). */
export const PERSISTENT_VOLUME_CLAIMS: ResourceRef = BuiltinResources.persistentVolumeClaims;

/** Namespaces (core/v1): their labels feed `namespaceSelector`. */
export const NAMESPACES: ResourceRef = BuiltinResources.namespaces;

/** The CSI driver name of Mayastor volumes. */
export const MAYASTOR_CSI_DRIVER = "io.openebs.csi-mayastor";

/** The part of a PersistentVolume the controller reads. */
export interface PersistentVolume extends KubeObject {
  spec?: {
    storageClassName?: string;
    claimRef?: { namespace?: string; name?: string; uid?: string };
    csi?: { driver?: string; volumeHandle?: string; [k: string]: unknown };
    capacity?: { storage?: string };
    [k: string]: unknown;
  };
}

/** The Mayastor volume uuid of a PV, or undefined when it is not a Mayastor CSI volume. */
export function mayastorVolumeUuid(pv: PersistentVolume): string | undefined {
  const csi = pv.spec?.csi;
  if (!csi || csi.driver !== MAYASTOR_CSI_DRIVER || !csi.volumeHandle) return undefined;
  return csi.volumeHandle;
}
