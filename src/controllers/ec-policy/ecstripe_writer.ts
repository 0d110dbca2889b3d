/**
 * Keeps a volume's ECStripe objects equal to the desired records: creates missing ones, updates
 * changed specs (bumping spec.generation, so a reader can tell a rewritten extent from an old
 * copy) and statuses, deletes records whose stripes are gone.
 */
import { EC_STRIPE_SOURCE, type ECStripe } from "../../api/mod.ts";
import type { KubeClient } from "../../kube/client.ts";
import { isNotFound } from "../../kube/errors.ts";
import type { ResourceRef } from "../../kube/resource.ts";
import { DATA_BYTES_ANNOTATION, sameStatus } from "./aggregate.ts";
import { type DesiredRecord, POLICY_LABEL, VOLUME_LABEL } from "./ecstripe_records.ts";

/** The ECStripe resource. */
export const EC_STRIPES: ResourceRef = {
  group: EC_STRIPE_SOURCE.group,
  version: EC_STRIPE_SOURCE.version,
  plural: EC_STRIPE_SOURCE.plural,
  namespaced: false,
  kind: EC_STRIPE_SOURCE.kind,
};

/** What a sync changed. */
export interface SyncResult {
  created: number;
  updated: number;
  statusUpdated: number;
  deleted: number;
}

/** Lists the ECStripes of a policy (every volume and node). */
export async function listPolicyStripes(
  client: KubeClient,
  policy: string,
  signal?: AbortSignal,
): Promise<ECStripe[]> {
  const { items } = await client.listAll<ECStripe & { metadata: { name?: string } }>(EC_STRIPES, {
    labelSelector: `${POLICY_LABEL}=${policy}`,
    signal,
  });
  return items;
}

/** Brings the volume's ECStripes in line with `desired`. */
export async function syncRecords(
  client: KubeClient,
  volume: string,
  desired: readonly DesiredRecord[],
  signal?: AbortSignal,
): Promise<SyncResult> {
  const result: SyncResult = { created: 0, updated: 0, statusUpdated: 0, deleted: 0 };
  const { items } = await client.listAll<ECStripe>(EC_STRIPES, {
    labelSelector: `${VOLUME_LABEL}=${volume}`,
    signal,
  });
  const existing = new Map(items.map((o) => [o.metadata.name!, o]));
  for (const d of desired) {
    const meta = {
      name: d.name,
      labels: d.labels,
      annotations: { [DATA_BYTES_ANNOTATION]: String(d.dataBytes) },
      ...(d.ownerReferences ? { ownerReferences: d.ownerReferences } : {}),
    };
    let obj = existing.get(d.name);
    existing.delete(d.name);
    if (!obj) {
      obj = await client.create<ECStripe>(EC_STRIPES, {
        apiVersion: EC_STRIPE_SOURCE.group + "/" + EC_STRIPE_SOURCE.version,
        kind: "ECStripe",
        metadata: meta,
        spec: { ...d.spec, generation: 1 },
      } as ECStripe, { signal });
      result.created++;
    } else {
      const { generation, ...spec } = obj.spec;
      const metaSame = obj.metadata.annotations?.[DATA_BYTES_ANNOTATION] ===
          meta.annotations[DATA_BYTES_ANNOTATION] &&
        sameStatus(obj.metadata.labels, meta.labels);
      if (!sameStatus(spec, d.spec) || !metaSame) {
        obj = await client.update<ECStripe>(EC_STRIPES, {
          ...obj,
          metadata: {
            ...obj.metadata,
            labels: { ...obj.metadata.labels, ...meta.labels },
            annotations: { ...obj.metadata.annotations, ...meta.annotations },
          },
          spec: { ...d.spec, generation: sameStatus(spec, d.spec) ? generation : generation + 1 },
        }, { signal });
        result.updated++;
      }
    }
    const status = { ...d.status, observedGeneration: obj.metadata.generation };
    if (status.observedGeneration === undefined) delete status.observedGeneration;
    if (!sameStatus(obj.status ?? {}, status)) {
      await client.updateStatus<ECStripe>(EC_STRIPES, { ...obj, status }, { signal });
      result.statusUpdated++;
    }
  }
  for (const gone of existing.values()) {
    try {
      await client.delete(EC_STRIPES, gone.metadata.name!, { signal });
      result.deleted++;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  return result;
}
