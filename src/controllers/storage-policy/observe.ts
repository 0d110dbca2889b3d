/**
 * The read half of a StoragePolicy pass: the volumes it selects (each PV with its bound claim and
 * the claim's namespace labels; the ones another enabled policy selects too), one IOPS reading
 * for all of them, and Mayastor's pools and volumes. Every failure becomes a condition, never an
 * exception: nothing moves on missing data.
 */
import { type StoragePolicy, StoragePolicySchema } from "../../api/storage_policy.ts";
import { parseDuration } from "../../config/duration.ts";
import type { ConditionUpdate } from "../../kube/conditions.ts";
import type { KubeObject } from "../../kube/resource.ts";
import type { Store } from "../../kube/store.ts";
import type { VolumeBackend } from "../../mayastor/port.ts";
import { readPolicyIops } from "../../metrics/read.ts";
import type { IopsResult, IopsSource, Rejection } from "../../metrics/source.ts";
import type { Pool, Volume } from "../../model/storage.ts";
import type { Logger } from "../../observability/log.ts";
import type { Metrics } from "../../observability/metrics.ts";
import {
  type PolicySelection,
  policyVolumes,
  type VolumeSubject,
} from "../../tiering/selection.ts";
import { mayastorVolumeUuid, type PersistentVolume } from "./resources.ts";
import { CONDITION } from "./status.ts";

/** What the pass reads. */
export interface ObserveDeps {
  policies: Store<KubeObject>;
  pvs: Store<PersistentVolume>;
  /** Claims keyed `namespace/name`, namespaces by name (informer caches). */
  pvcs: Store<KubeObject>;
  namespaces: Store<KubeObject>;
  backend: VolumeBackend;
  iops: IopsSource;
  metrics: Metrics;
  logger: Logger;
}

/** What one pass saw. */
export interface Observation {
  /** The volumes the policy selects (contested ones included). */
  selected: VolumeSubject[];
  /** PV name → the other enabled policies that select it too (only those volumes are held). */
  contested: Map<string, string[]>;
  reading: IopsResult;
  /** Volumes whose reading the source rejected, and why (they have no reading). */
  rejected: ReadonlyMap<string, Rejection>;
  /** Undefined when Mayastor could not be listed. */
  mayastor?: { pools: Pool[]; volumes: Volume[] };
  conditions: ConditionUpdate[];
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Reads everything one pass of `sp` needs. */
export async function observePass(
  d: ObserveDeps,
  sp: StoragePolicy,
  signal: AbortSignal,
): Promise<Observation> {
  const name = sp.metadata.name!;
  const spec = sp.spec;
  const policies: PolicySelection[] = [];
  for (const o of d.policies.list()) {
    const p = o.metadata.name === name
      ? { success: true as const, data: sp }
      : StoragePolicySchema.safeParse(o);
    if (p.success) {
      policies.push({
        name: o.metadata.name ?? "",
        enabled: p.data.spec.enabled,
        spec: p.data.spec,
      });
    }
  }
  const mine = policies.find((p) => p.name === name) ??
    { name, enabled: spec.enabled, spec };
  const { selected, contested } = policyVolumes(mine, policies, subjectsOf(d));
  const [{ result: reading, condition, rejected }, mayastor] = await Promise.all([
    readPolicyIops(d.iops, {
      policy: name,
      windowMs: parseDuration(spec.samplingWindow),
      metricsQuery: spec.metricsQuery,
      signal,
    }, d.metrics),
    listMayastor(d.backend, signal),
  ]);
  const conditions: ConditionUpdate[] = [condition];
  if (!reading.ok) {
    d.logger.warn("IOPS unavailable; nothing moves", {
      policy: name,
      reason: reading.reason,
      error: reading.message,
    });
  }
  if ("error" in mayastor) {
    conditions.push({
      type: CONDITION.pools,
      status: "False",
      reason: "BackendUnavailable",
      message: `Mayastor: ${mayastor.error}`.slice(0, 1000),
    });
    d.logger.warn("cannot list Mayastor pools/volumes", { policy: name, error: mayastor.error });
    return { selected, contested, reading, rejected, conditions };
  }
  return { selected, contested, reading, rejected, mayastor, conditions };
}

/** Every Mayastor PV with its bound claim (when found) and the claim's namespace labels. */
export function subjectsOf(
  d: Pick<ObserveDeps, "pvs" | "pvcs" | "namespaces">,
): VolumeSubject[] {
  const out: VolumeSubject[] = [];
  for (const pv of d.pvs.list()) {
    if (mayastorVolumeUuid(pv) === undefined) continue;
    const ref = pv.spec?.claimRef;
    const pvc = ref?.namespace && ref.name ? d.pvcs.get(`${ref.namespace}/${ref.name}`) : undefined;
    const ns = pvc?.metadata.namespace ? d.namespaces.get(pvc.metadata.namespace) : undefined;
    out.push({
      pv,
      ...(pvc ? { pvc } : {}),
      ...(ns ? { namespaceLabels: ns.metadata.labels ?? {} } : {}),
    });
  }
  return out;
}

async function listMayastor(
  backend: VolumeBackend,
  signal: AbortSignal,
): Promise<{ pools: Pool[]; volumes: Volume[] } | { error: string }> {
  try {
    const [pools, volumes] = await Promise.all([
      backend.listPools(signal),
      backend.listVolumes(signal),
    ]);
    return { pools, volumes };
  } catch (e) {
    return { error: errText(e) };
  }
}
