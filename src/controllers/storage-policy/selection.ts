/** Which PersistentVolumes a StoragePolicy manages, and which policies overlap. Pure. */
import { matchesLabelSelector } from "../../api/selector.ts";
import type { StoragePolicySpec } from "../../api/storage_policy.ts";
import { mayastorVolumeUuid, type PersistentVolume } from "./resources.ts";

/** True when the policy manages this PV: a Mayastor CSI volume of its class and labels. */
export function selectsPv(spec: StoragePolicySpec, pv: PersistentVolume): boolean {
  if (mayastorVolumeUuid(pv) === undefined) return false;
  if (spec.storageClassName && pv.spec?.storageClassName !== spec.storageClassName) return false;
  if (spec.volumeSelector && !matchesLabelSelector(spec.volumeSelector, pv.metadata.labels)) {
    return false;
  }
  return true;
}

/** Another policy, as conflict detection needs it. */
export interface OtherPolicy {
  name: string;
  spec: StoragePolicySpec;
}

/**
 * Names of the other enabled policies that select at least one of `selected` (sorted), and
 * one example volume. Two policies selecting one volume would fight over it: both stop.
 */
export function conflicts(
  selected: readonly PersistentVolume[],
  others: readonly OtherPolicy[],
): { policies: string[]; example?: string } {
  const names = new Set<string>();
  let example: string | undefined;
  for (const o of others) {
    if (!o.spec.enabled) continue;
    const hit = selected.find((pv) => selectsPv(o.spec, pv));
    if (hit) {
      names.add(o.name);
      example ??= hit.metadata.name;
    }
  }
  return { policies: [...names].sort(), example };
}
