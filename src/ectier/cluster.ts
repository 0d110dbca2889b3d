/**
 * The EC tier's ports in a real cluster: a data-mover Job attaches the volume through a PVC and
 * the shard targets through hostPath volumes on cold-pool nodes (docs/ec-tier.md). That Job is
 * not part of this build, so every call fails with EcTierUnavailable naming what is missing.
 */
import type { EcReplicaLifecycle, EcTierPorts, ShardTargets, VolumeData } from "./ports.ts";

/** Thrown by the cluster adapter: the data mover is not available in this build. */
export class EcTierUnavailable extends Error {
  constructor(op: string) {
    super(
      `ec tier: ${op} needs the data-mover Job (docs/ec-tier.md), which is not available in ` +
        `this build; only the Mayastor simulator adapter can move data`,
    );
    this.name = "EcTierUnavailable";
  }
}

/** The interface-only cluster adapter: every operation throws EcTierUnavailable. */
export class ClusterEcTierPorts implements VolumeData, EcReplicaLifecycle, ShardTargets {
  /** The three ports. */
  ports(): EcTierPorts {
    return { data: this, replicas: this, targets: this };
  }
  /** Not available: throws. */
  read(): Promise<Uint8Array> {
    return Promise.reject(new EcTierUnavailable("reading a volume"));
  }
  /** Not available: throws. */
  write(): Promise<void> {
    return Promise.reject(new EcTierUnavailable("writing a replica"));
  }
  /** Not available: throws. */
  releaseReplicas(): Promise<void> {
    return Promise.reject(new EcTierUnavailable("releasing replicas"));
  }
  /** Not available: throws. */
  createReplica(): Promise<string> {
    return Promise.reject(new EcTierUnavailable("creating a replica"));
  }
  /** Not available: throws. */
  removeReplica(): Promise<void> {
    return Promise.reject(new EcTierUnavailable("removing a replica"));
  }
  /** Not available: throws. */
  ensure(): Promise<string> {
    return Promise.reject(new EcTierUnavailable("attaching a shard target"));
  }
  /** Not available: throws. */
  remove(): Promise<void> {
    return Promise.reject(new EcTierUnavailable("removing a shard target"));
  }
}
