/**
 * The read half of a StoragePolicy pass: the PersistentVolumes it selects (and whether another
 * policy selects them too), one IOPS reading for all of them, and Mayastor's pools and volumes.
 * Every failure becomes a condition, never an exception: nothing moves on missing data.
 */
import { type StoragePolicy, StoragePolicySchema } from "../../api/storage_policy.ts";
import { parseDuration } from "../../config/duration.ts";
import type { ConditionUpdate } from "../../kube/conditions.ts";
import type { KubeObject } from "../../kube/resource.ts";
import type { Store } from "../../kube/store.ts";
import type { VolumeBackend } from "../../mayastor/port.ts";
import { readPolicyIops } from "../../metrics/read.ts";
import type { IopsResult, IopsSource } from "../../metrics/source.ts";
import type { Pool, Volume } from "../../model/storage.ts";
import type { Logger } from "../../observability/log.ts";
import type { Metrics } from "../../observability/metrics.ts";
import type { PersistentVolume } from "./resources.ts";
import { conflicts, type OtherPolicy, selectsPv } from "./selection.ts";
import { CONDITION } from "./status.ts";

/** What the pass reads. */
export interface ObserveDeps {
  policies: Store<KubeObject>;
  pvs: Store<PersistentVolume>;
  backend: VolumeBackend;
  iops: IopsSource;
  metrics: Metrics;
  logger: Logger;
}

/** What one pass saw. */
export interface Observation {
  selected: PersistentVolume[];
  /** Other enabled policies selecting some of the same volumes. */
  clash: { policies: string[]; example?: string };
  reading: IopsResult;
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
  const selected = d.pvs.list().filter((pv) => selectsPv(spec, pv));
  const others: OtherPolicy[] = [];
  for (const o of d.policies.list()) {
    if (o.metadata.name === name) continue;
    const p = StoragePolicySchema.safeParse(o);
    if (p.success) others.push({ name: o.metadata.name ?? "", spec: p.data.spec });
  }
  const clash = spec.enabled ? conflicts(selected, others) : { policies: [] };
  const [{ result: reading, condition }, mayastor] = await Promise.all([
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
    return { selected, clash, reading, conditions };
  }
  return { selected, clash, reading, mayastor, conditions };
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
