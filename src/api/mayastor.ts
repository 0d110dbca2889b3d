/**
 * OpenEBS Mayastor's own resources, as CoucheStor reads them: DiskPool
 * (`openebs.io/v1beta2`, Mayastor 2.x) and the legacy MayastorVolume
 * (`openebs.io/v1alpha1`, the seed's model). These describe OpenEBS's API, not
 * ours; their CRDs are generated only so the sandbox can serve them.
 */
import { z } from "zod";
import { count, ObjectMetaSchema } from "./meta.ts";

/** OpenEBS API group. */
export const OPENEBS_GROUP = "openebs.io";
/** DiskPool apiVersion. */
export const DISKPOOL_API_VERSION = "openebs.io/v1beta2";
/** Legacy MayastorVolume apiVersion. */
export const MAYASTOR_VOLUME_API_VERSION = "openebs.io/v1alpha1";

/** DiskPool spec (openebs/mayastor-control-plane k8s/operators diskpool v1beta2). */
export const DiskPoolSpecSchema = z.object({
  node: z.string().min(1).describe("The node the pool is placed on."),
  disks: z.array(z.string().min(1)).min(1).describe(
    "The disk device(s) the pool is located on (aio://, uring://, /dev/...).",
  ),
  topology: z.object({
    labelled: z.record(z.string(), z.string()).prefault({}).describe("Labels for topology."),
  }).optional().describe("The topology for data placement."),
}).describe("The pool spec: the parameters used when creating the pool.");

/** Operator-side state of a DiskPool CR. */
export const CrPoolStateSchema = z.enum(["Creating", "Created", "Terminating"]).describe(
  "Operator state of the DiskPool CR: Creating, Created or Terminating.",
);

/** Control-plane status of the pool. */
export const PoolStatusSchema = z.enum(["Unknown", "Online", "Degraded", "Faulted"]).describe(
  "Control plane status of the pool: Unknown, Online, Degraded or Faulted.",
);

/** DiskPool status, written by Mayastor's diskpool operator. */
export const DiskPoolStatusSchema = z.object({
  cr_state: CrPoolStateSchema.default("Creating"),
  pool_status: PoolStatusSchema.optional(),
  capacity: count().describe("Capacity as number of bytes."),
  used: count().describe("Used number of bytes."),
  available: count().describe("Available number of bytes."),
}).describe("Status of the pool, driven by the diskpool operator.");

/** A Mayastor DiskPool (namespaced). Its labels carry the CoucheStor tier. */
export const DiskPoolSchema = z.object({
  apiVersion: z.literal(DISKPOOL_API_VERSION),
  kind: z.literal("DiskPool"),
  metadata: ObjectMetaSchema,
  spec: DiskPoolSpecSchema,
  status: DiskPoolStatusSchema.optional(),
}).describe("OpenEBS Mayastor disk pool.");

/** A Mayastor DiskPool. */
export type DiskPool = z.infer<typeof DiskPoolSchema>;

/** Replica state in the legacy MayastorVolume status. */
export const LegacyReplicaStateSchema = z.enum(["Online", "Degraded", "Faulted", "Unknown"])
  .describe("Replica state: Online, Degraded, Faulted or Unknown.");

/** One replica of a legacy MayastorVolume. */
export const LegacyReplicaSchema = z.object({
  uuid: z.string().optional().describe("Replica uuid."),
  node: z.string().optional().describe("Node with the replica."),
  pool: z.string().min(1).describe("Pool the replica was created on."),
  uri: z.string().optional().describe("URI of the replica used by the nexus."),
  state: LegacyReplicaStateSchema,
  synced: z.boolean().describe("True once the replica is fully rebuilt and in sync."),
}).describe("One replica of the volume.");

/** Legacy MayastorVolume spec (the seed's model). */
export const MayastorVolumeSpecSchema = z.object({
  numReplicas: z.number().int().min(1).max(16).describe("Number of replicas of the volume."),
  sizeBytes: count().optional().describe("Size of the volume in bytes."),
  topology: z.object({
    pool: z.object({
      labelled: z.record(z.string(), z.string()).prefault({}).describe(
        "Replicas go to pools carrying all these labels.",
      ),
    }).optional().describe("Pool placement."),
  }).optional().describe("Replica placement constraints."),
}).describe("Specification of the volume.");

/** Legacy MayastorVolume status. */
export const MayastorVolumeStatusSchema = z.object({
  state: LegacyReplicaStateSchema.optional().describe("Overall state of the volume."),
  size: count().optional().describe("Size of the volume once created."),
  targetNode: z.string().optional().describe("Node with the nexus."),
  replicas: z.array(LegacyReplicaSchema).optional().describe("Replicas of the volume."),
}).describe("Observed state of the volume.");

/** A legacy MayastorVolume (`openebs.io/v1alpha1`, namespaced). */
export const MayastorVolumeSchema = z.object({
  apiVersion: z.literal(MAYASTOR_VOLUME_API_VERSION),
  kind: z.literal("MayastorVolume"),
  metadata: ObjectMetaSchema,
  spec: MayastorVolumeSpecSchema,
  status: MayastorVolumeStatusSchema.optional(),
}).describe("Legacy (MOAC-era) Mayastor volume, the seed's replica model.");

/** A legacy MayastorVolume. */
export type MayastorVolume = z.infer<typeof MayastorVolumeSchema>;
