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
