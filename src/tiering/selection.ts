/**
 * Which volumes a StoragePolicy selects, and who owns a volume two policies select. Pure.
 *
 * A policy selects a PersistentVolume when every selector it gives matches (an absent one
 * matches everything): `storageClassName` and `volumeSelector` (PV labels) on the PV,
 * `claimSelector` on the labels of the PVC bound to it, `namespaceSelector` on the labels of
 * that PVC's namespace. A PV without a bound claim never matches a claim or namespace
 * selector. Whether the PV is a Mayastor CSI volume at all is the caller's check.
 */
import type { LabelSelector } from "../api/meta.ts";
import { labelSelectorToString, matchesLabelSelector } from "../api/selector.ts";

/** The selector fields of a StoragePolicy spec. */
export interface SelectorFields {
  storageClassName?: string;
  volumeSelector?: LabelSelector;
  claimSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
}

/** The parts of a PersistentVolume selection reads (a Kubernetes PV object fits). */
export interface PvObject {
  metadata: {
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    storageClassName?: string;
    claimRef?: { namespace?: string; name?: string; uid?: string };
  };
}

/** The parts of a PersistentVolumeClaim selection reads (a Kubernetes PVC object fits). */
export interface PvcObject {
  metadata: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: { volumeName?: string };
}

/** A PV with its bound claim (when there is one) and the labels of the claim's namespace. */
export interface VolumeSubject {
  pv: PvObject;
  /** The PVC the PV's claimRef names, when it exists and is bound to this PV. */
  pvc?: PvcObject;
  /** Labels of the PVC's namespace (undefined when the namespace is unknown). */
  namespaceLabels?: Record<string, string>;
}

/** Which selector field excluded a volume. */
export type SelectorField = keyof SelectorFields;

/** Whether a policy selects a volume; when not, the first selector that failed and why. */
export type SelectionVerdict =
  | { selected: true }
  | { selected: false; field: SelectorField; reason: string };

/** The claim of a PV as `namespace/name`, from its claimRef; undefined when unclaimed. */
export function claimKey(pv: PvObject): string | undefined {
  const ref = pv.spec?.claimRef;
  return ref?.namespace && ref.name ? `${ref.namespace}/${ref.name}` : undefined;
}

/**
 * The PVC of a subject when it really is the PV's bound claim: the claimRef names it (and its
 * uid, when both carry one) and the PVC's volumeName is the PV. A claim recreated under the
 * same name (another uid), or one bound elsewhere, is not this volume's claim.
 */
export function boundClaim(s: VolumeSubject): PvcObject | undefined {
  const ref = s.pv.spec?.claimRef;
  const pvc = s.pvc;
  if (!ref || !pvc) return undefined;
  if (ref.namespace !== pvc.metadata.namespace || ref.name !== pvc.metadata.name) return undefined;
  if (ref.uid && pvc.metadata.uid && ref.uid !== pvc.metadata.uid) return undefined;
  if (pvc.spec?.volumeName !== undefined && pvc.spec.volumeName !== s.pv.metadata.name) {
    return undefined;
  }
  return pvc;
}

/** Does the policy select this volume? Every selector given must match. */
export function selectVolume(spec: SelectorFields, s: VolumeSubject): SelectionVerdict {
  const no = (field: SelectorField, reason: string): SelectionVerdict => ({
    selected: false,
    field,
    reason,
  });
  const pvClass = s.pv.spec?.storageClassName;
  if (spec.storageClassName !== undefined && pvClass !== spec.storageClassName) {
    return no(
      "storageClassName",
      `storage class is ${pvClass ? `"${pvClass}"` : "unset"}, not "${spec.storageClassName}"`,
    );
  }
  if (spec.volumeSelector && !matchesLabelSelector(spec.volumeSelector, s.pv.metadata.labels)) {
    return no("volumeSelector", `PV labels do not match ${describe(spec.volumeSelector)}`);
  }
  if (!spec.claimSelector && !spec.namespaceSelector) return { selected: true };
  const pvc = boundClaim(s);
  const claim = claimKey(s.pv);
  const field: SelectorField = spec.claimSelector ? "claimSelector" : "namespaceSelector";
  if (!pvc) {
    return no(
      field,
      claim ? `its claim ${claim} is not found or not bound to it` : "the PV has no bound claim",
    );
  }
  if (spec.claimSelector && !matchesLabelSelector(spec.claimSelector, pvc.metadata.labels)) {
    return no("claimSelector", `PVC ${claim} labels do not match ${describe(spec.claimSelector)}`);
  }
  if (spec.namespaceSelector) {
    const ns = pvc.metadata.namespace;
    if (s.namespaceLabels === undefined) {
      return no("namespaceSelector", `namespace ${ns} is not found`);
    }
    if (!matchesLabelSelector(spec.namespaceSelector, s.namespaceLabels)) {
      return no(
        "namespaceSelector",
        `namespace ${ns} labels do not match ${describe(spec.namespaceSelector)}`,
      );
    }
  }
  return { selected: true };
}

function describe(sel: LabelSelector): string {
  const text = labelSelectorToString(sel);
  return text === "" ? "{} (everything)" : `"${text}"`;
}

/** A policy as ownership needs it. */
export interface PolicySelection {
  name: string;
  /** A disabled policy observes but never moves, so it contests no volume. */
  enabled: boolean;
  spec: SelectorFields;
}

/** The volumes a policy selects, and the ones another enabled policy selects too. */
export interface PolicyVolumes {
  /** Every subject the policy selects (contested ones included), in input order. */
  selected: VolumeSubject[];
  /** PV name → the other enabled policies that select it too (sorted). */
  contested: Map<string, string[]>;
}

/**
 * Splits the volumes of one policy: which it selects and which of those another enabled policy
 * selects too. Only a contested volume is held (reason ConflictingPolicies); the rest of each
 * policy goes on as usual.
 */
export function policyVolumes(
  policy: PolicySelection,
  others: readonly PolicySelection[],
  subjects: readonly VolumeSubject[],
): PolicyVolumes {
  const rivals = others.filter((o) => o.enabled && o.name !== policy.name);
  const selected: VolumeSubject[] = [];
  const contested = new Map<string, string[]>();
  for (const s of subjects) {
    if (!selectVolume(policy.spec, s).selected) continue;
    selected.push(s);
    const also = rivals.filter((o) => selectVolume(o.spec, s).selected).map((o) => o.name);
    if (also.length > 0) contested.set(s.pv.metadata.name ?? "", also.sort());
  }
  return { selected, contested };
}
