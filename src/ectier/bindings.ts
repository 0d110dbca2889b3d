/**
 * Bindings of erasure-coded volumes to their ErasureCodingPolicy: what the EC tier tells the
 * ErasureCodingPolicy controller about the stores it must keep healthy and publish.
 */

/** A volume this node stores erasure-coded, bound to a policy (from the operator's config). */
export interface EcVolumeBinding {
  /** Volume (PersistentVolume) name; names its ECStripes. */
  volume: string;
  /** ErasureCodingPolicy it is written with. */
  policy: string;
  /** Store directory (created with the policy's code when absent). */
  dir: string;
  /** Shard targets of a new store (default: one per shard; more gives spares for rebuilds). */
  targets?: number;
  /** Re-create a missing target directory (a replaced disk) when no spare target is free. */
  reprovision?: boolean;
  /** DiskPool (or other pool name) of a target id; default the target id itself. */
  poolOf?: (target: string) => string;
  /** Stripes per ECStripe (default recordStripesFor(stripeSizeBytes): 256 MiB of data). */
  stripesPerRecord?: number;
  /** Explicit shard target directories of a new store (the EC cold tier: one per cold pool). */
  targetDirs?: { id: string; path: string }[];
  /**
   * Open only an existing store (default false: create one when absent). The EC tier sets it
   * on every binding but its first write, so a store it deleted is never silently re-created.
   */
  existingOnly?: boolean;
}

/** Bindings that change at run time (volumes become EC-tiered and come back). */
export interface EcBindingSource {
  /** The bindings now. */
  bindings(): readonly EcVolumeBinding[];
}

/** Static bindings or a source of changing ones, as the controller accepts them. */
export type EcBindings = readonly EcVolumeBinding[] | EcBindingSource;

/** The bindings now, whichever form they come in. */
export function currentBindings(b: EcBindings): readonly EcVolumeBinding[] {
  return "bindings" in b ? b.bindings() : b;
}
