/**
 * Zod schemas of the Mayastor control-plane REST API (api-rest, `/v0`), after
 * `control-plane/rest/openapi-specs/v0_api_spec.yaml` of openebs/mayastor-control-plane.
 * Field names are the spec's; only the fields CoucheStor reads are required, the
 * rest stay optional so a newer api-rest does not break us. The simulator
 * produces these same shapes.
 */
import { z } from "zod";

/** Pool/replica/child/volume states share this enum in the spec. */
export const HealthStateSchema = z.enum(["Unknown", "Online", "Degraded", "Faulted"]);
/** Online / Degraded / Faulted / Unknown. */
export type HealthState = z.infer<typeof HealthStateSchema>;

/** RestJsonError: the body of every 4xx/5xx answer. */
export const RestJsonErrorSchema = z.object({
  details: z.string(),
  message: z.string().optional(),
  kind: z.string(),
});
/** Mayastor's error body. */
export type RestJsonError = z.infer<typeof RestJsonErrorSchema>;

/** PoolSpec: what the user asked for (labels live here). */
export const PoolSpecSchema = z.object({
  id: z.string(),
  node: z.string(),
  disks: z.array(z.string()),
  labels: z.record(z.string(), z.string()).optional(),
  status: z.string().optional(),
});

/** PoolState: what io-engine reports; absent while the pool's node is unreachable. */
export const PoolStateSchema = z.object({
  id: z.string(),
  node: z.string(),
  capacity: z.number().int().nonnegative(),
  used: z.number().int().nonnegative(),
  committed: z.number().int().nonnegative().optional(),
  disks: z.array(z.string()),
  status: HealthStateSchema,
});

/** Pool: id plus spec and/or state. */
export const PoolSchema = z.object({
  id: z.string(),
  spec: PoolSpecSchema.optional(),
  state: PoolStateSchema.optional(),
});
/** A `/v0/pools` entry. */
export type RestPool = z.infer<typeof PoolSchema>;

/** Child: one nexus child (a replica seen from the nexus). */
export const ChildSchema = z.object({
  uri: z.string(),
  state: HealthStateSchema,
  state_reason: z.string().optional(),
  rebuildProgress: z.number().int().min(0).max(100).nullable().optional(),
});
/** A nexus child. */
export type RestChild = z.infer<typeof ChildSchema>;

/** Nexus: the volume target. */
export const NexusSchema = z.object({
  uuid: z.string(),
  node: z.string(),
  size: z.number().int().nonnegative(),
  state: z.enum(["Unknown", "Online", "Degraded", "Faulted", "ShuttingDown", "Shutdown"]),
  children: z.array(ChildSchema),
  deviceUri: z.string().optional(),
  rebuilds: z.number().int().nonnegative().optional(),
  protocol: z.string().optional(),
});
/** A nexus. */
export type RestNexus = z.infer<typeof NexusSchema>;

/** ReplicaTopology: one entry of `state.replica_topology` (keys are replica uuids). */
export const ReplicaTopologySchema = z.object({
  node: z.string().optional(),
  pool: z.string().optional(),
  state: HealthStateSchema,
  "child-status": HealthStateSchema.optional(),
  "child-status-reason": z.string().optional(),
  "rebuild-progress": z.number().int().min(0).max(100).nullable().optional(),
});
/** A replica_topology entry. */
export type RestReplicaTopology = z.infer<typeof ReplicaTopologySchema>;

/** VolumeTarget in the spec. */
export const VolumeTargetSchema = z.object({
  node: z.string(),
  protocol: z.string().optional(),
});

/** VolumeSpec (subset). */
export const VolumeSpecSchema = z.object({
  uuid: z.string(),
  size: z.number().int().nonnegative(),
  num_replicas: z.number().int().min(0).max(255),
  status: z.string(),
  thin: z.boolean().optional(),
  target: VolumeTargetSchema.optional(),
  labels: z.record(z.string(), z.string()).optional(),
  policy: z.object({ self_heal: z.boolean() }).optional(),
  num_snapshots: z.number().int().optional(),
  topology: z.unknown().optional(),
});

/** VolumeState (subset). */
export const VolumeStateSchema = z.object({
  uuid: z.string(),
  size: z.number().int().nonnegative(),
  status: z.enum(["Unknown", "Online", "Degraded", "Faulted", "Shutdown"]),
  target: NexusSchema.optional(),
  replica_topology: z.record(z.string(), ReplicaTopologySchema),
});

/** Volume: spec plus state. */
export const VolumeSchema = z.object({
  spec: VolumeSpecSchema,
  state: VolumeStateSchema,
});
/** A `/v0/volumes` entry. */
export type RestVolume = z.infer<typeof VolumeSchema>;

/** Volumes: one page of `/v0/volumes`. */
export const VolumesSchema = z.object({
  entries: z.array(VolumeSchema),
  next_token: z.number().int().nonnegative().optional(),
});
/** A page of volumes. */
export type RestVolumes = z.infer<typeof VolumesSchema>;

/** Replica: a replica as `/v0/replicas` and the pool replica endpoints return it. */
export const ReplicaSchema = z.object({
  uuid: z.string(),
  node: z.string(),
  pool: z.string(),
  poolUuid: z.string().optional(),
  share: z.enum(["none", "nvmf", "iscsi", "nbd"]),
  size: z.number().int().nonnegative(),
  state: HealthStateSchema,
  thin: z.boolean(),
  uri: z.string(),
  kind: z.string().optional(),
});
/** A replica. */
export type RestReplica = z.infer<typeof ReplicaSchema>;

/** CreateReplicaBody: PUT /pools/{pool_id}/replicas/{replica_id}. */
export const CreateReplicaBodySchema = z.object({
  size: z.number().int().nonnegative(),
  thin: z.boolean(),
  share: z.enum(["nvmf"]).optional(),
  "allowed-hosts": z.array(z.string()).optional(),
});
/** Body of a replica creation. */
export type CreateReplicaBody = z.infer<typeof CreateReplicaBodySchema>;

/** CreateVolumeBody: PUT /volumes/{volume_id}. */
export const CreateVolumeBodySchema = z.object({
  policy: z.object({ self_heal: z.boolean() }),
  replicas: z.number().int().min(0).max(255),
  size: z.number().int().nonnegative(),
  thin: z.boolean(),
  labels: z.record(z.string(), z.string()).optional(),
  topology: z.unknown().optional(),
});
/** Body of a volume creation. */
export type CreateVolumeBody = z.infer<typeof CreateVolumeBodySchema>;

/** PublishVolumeBody: PUT /volumes/{volume_id}/target. */
export const PublishVolumeBodySchema = z.object({
  publish_context: z.record(z.string(), z.string()),
  protocol: z.enum(["nvmf", "iscsi"]),
  node: z.string().optional(),
  reuse_existing: z.boolean().optional(),
  republish: z.boolean().optional(),
  frontend_node: z.string().optional(),
});
/** Body of a volume publish. */
export type PublishVolumeBody = z.infer<typeof PublishVolumeBodySchema>;

/** CordonedState / DrainState: the cordon labels of a node. */
const CordonLabelsSchema = z.object({ cordonlabels: z.array(z.string()) }).loose();

/** Node: an io-engine node with its cordon or drain state. */
export const NodeSchema = z.object({
  id: z.string(),
  spec: z.object({
    id: z.string(),
    grpcEndpoint: z.string(),
    labels: z.record(z.string(), z.string()).optional(),
    cordondrainstate: z.object({
      cordonedstate: CordonLabelsSchema.optional(),
      drainingstate: CordonLabelsSchema.optional(),
      drainedstate: CordonLabelsSchema.optional(),
    }).optional(),
  }).optional(),
  state: z.object({
    id: z.string(),
    grpcEndpoint: z.string(),
    status: z.enum(["Unknown", "Online", "Offline"]),
  }).optional(),
});
/** A `/v0/nodes` entry. */
export type RestNode = z.infer<typeof NodeSchema>;

/** The replica uuid inside a child/replica URI (`...:<uuid>` or `...?uuid=<uuid>`). */
export function replicaUuidOfUri(uri: string): string | undefined {
  const q = /[?&]uuid=([0-9a-fA-F-]{36})/.exec(uri);
  if (q) return q[1].toLowerCase();
  const m = /([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?:$|[?])/
    .exec(uri);
  return m?.[1].toLowerCase();
}
