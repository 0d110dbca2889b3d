/**
 * OpenEBS Mayastor's own resource, as CoucheStor reads it: DiskPool (`openebs.io/v1beta2`,
 * Mayastor 2.x). It describes OpenEBS's API, not ours; its CRD is generated only so the sandbox
 * can serve it. (Mayastor 1.x and MOAC's MayastorVolume are end of life and not supported.)
 */
import { z } from "zod";
import { count, ObjectMetaSchema } from "./meta.ts";

/** OpenEBS API group. */
export const OPENEBS_GROUP = "openebs.io";
/** DiskPool apiVersion. */
export const DISKPOOL_API_VERSION = "openebs.io/v1beta2";

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
