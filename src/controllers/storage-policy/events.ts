/**
 * The Events the StoragePolicy controller writes about moves (on the PV and on the policy), and
 * the object references they point at.
 */
import { GROUP_VERSION } from "../../api/meta.ts";
import { STORAGE_POLICY_KIND } from "../../api/storage_policy.ts";
import type { EventRecorder, ObjectReference } from "../../kube/events.ts";
import type { KubeObject } from "../../kube/resource.ts";
import type { Store } from "../../kube/store.ts";
import { describeSteps, type MoveState } from "../../migration/state.ts";
import type { PersistentVolume } from "./resources.ts";

/** A reference to a StoragePolicy object. */
export function policyRef(raw: KubeObject): ObjectReference {
  const ref: ObjectReference = {
    apiVersion: GROUP_VERSION,
    kind: STORAGE_POLICY_KIND,
    name: raw.metadata.name ?? "",
  };
  if (raw.metadata.uid) ref.uid = raw.metadata.uid;
  return ref;
}

/** A reference to the policy of that name (with its uid when cached). */
export function policyRefByName(name: string, policies: Store<KubeObject>): ObjectReference {
  const raw = policies.get(name);
  return raw ? policyRef(raw) : { apiVersion: GROUP_VERSION, kind: STORAGE_POLICY_KIND, name };
}

/** A reference to a PersistentVolume (with its uid when cached). */
export function pvRef(name: string, pvs: Store<PersistentVolume>): ObjectReference {
  const ref: ObjectReference = { apiVersion: "v1", kind: "PersistentVolume", name };
  const uid = pvs.get(name)?.metadata.uid;
  if (uid) ref.uid = uid;
  return ref;
}

/** A reference to a PersistentVolumeClaim (its Events live in its namespace). */
export function claimRef(
  pvc: { metadata: { name?: string; namespace?: string; uid?: string } },
): ObjectReference {
  const ref: ObjectReference = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    name: pvc.metadata.name ?? "",
  };
  if (pvc.metadata.namespace) ref.namespace = pvc.metadata.namespace;
  if (pvc.metadata.uid) ref.uid = pvc.metadata.uid;
  return ref;
}

/** Where move Events go, and about what. */
export interface MoveEventSinks {
  events: EventRecorder;
  policies: Store<KubeObject>;
  pvs: Store<PersistentVolume>;
}

/** One Event on the PV and the same (prefixed with the volume) on its policy. */
export async function recordOnPvAndPolicy(
  sinks: MoveEventSinks,
  volume: string,
  policy: string,
  ev: { type: "Normal" | "Warning"; reason: string; note: string; action: string },
): Promise<void> {
  await Promise.all([
    sinks.events.record({ regarding: pvRef(volume, sinks.pvs), ...ev }),
    sinks.events.record({
      regarding: policyRefByName(policy, sinks.policies),
      ...ev,
      note: `${volume}: ${ev.note}`,
    }),
  ]);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** The MigrationStarted note of a move. */
export function startedNote(s: MoveState): string {
  const n = s.steps.length;
  return `moving ${n === 1 ? "its replica" : `its ${n} replicas one at a time`} from ${s.from} ` +
    `to ${s.to} (${describeSteps(s)}) at ${round(s.triggerIOPS)} IOPS`;
}

/** The Event of a finished move. */
export function finishedEvent(
  s: MoveState,
): { type: "Normal" | "Warning"; reason: string; note: string } {
  const what = `${s.from} → ${s.to} (${describeSteps(s)})`;
  switch (s.result) {
    case "Succeeded":
      return { type: "Normal", reason: "MigrationSucceeded", note: `moved ${what}` };
    case "Preserved":
      return {
        type: "Normal",
        reason: "MigrationSucceeded",
        note: `copied ${what}; old replica kept (preservation mode)`,
      };
    case "DryRun":
      return {
        type: "Normal",
        reason: "MigrationDryRun",
        note: `dry run: would move ${what} at ${round(s.triggerIOPS)} IOPS`,
      };
    case "RolledBack":
      return {
        type: "Warning",
        reason: "MigrationRolledBack",
        note: `rolled back ${what}: ${s.error ?? ""}`,
      };
    default:
      return {
        type: "Warning",
        reason: "MigrationFailed",
        note: `failed ${what}: ${s.error ?? ""}`,
      };
  }
}
