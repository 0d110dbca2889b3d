/** Pure health rules over the port's Volume: which replicas can serve data. */
import type { Replica, Volume } from "./storage.ts";

/**
 * Whether a replica holds a complete, usable copy: the replica is Online and, when
 * the volume is published (has a nexus), its nexus child is Online and not rebuilding.
 * A replica outside the nexus of a published volume is not counted: it gets no writes.
 */
export function isHealthyReplica(volume: Volume, r: Replica): boolean {
  if (r.state !== "Online") return false;
  if (r.rebuildProgress !== undefined && r.rebuildProgress < 100) return false;
  if (volume.targetNode === undefined) return true;
  return r.childState === "Online";
}

/** The replicas of a volume that hold a complete copy. */
export function healthyReplicas(volume: Volume): Replica[] {
  return volume.replicas.filter((r) => isHealthyReplica(volume, r));
}

/**
 * Whether a replica was rebuilt through the volume's nexus and is in sync: the volume is
 * published, the replica and its child are Online and no rebuild is in progress. A replica
 * added while the volume is not published holds no data yet (Mayastor copies data only
 * through a nexus), so it never counts as a copy here.
 */
export function isRebuiltChild(volume: Volume, r: Replica): boolean {
  return volume.targetNode !== undefined && isHealthyReplica(volume, r);
}
