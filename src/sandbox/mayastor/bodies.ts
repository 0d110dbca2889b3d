/**
 * Request bodies api-rest accepts, written from `control-plane/rest/openapi-specs/v0_api_spec.yaml`
 * (CreateVolumeBody, PublishVolumeBody, CreateReplicaBody and the Topology they carry). A body
 * that does not match answers 400 Deserialize, as api-rest's JsonConfig error handler does.
 */
import { z } from "zod";
import { deserializeError } from "./errors.ts";

const labels = z.record(z.string(), z.string());

/** LabelledTopology (`exclusion` and `inclusion` are required). */
const LabelledTopologySchema = z.object({
  exclusion: labels,
  inclusion: labels,
  affinity_key: z.array(z.string()).optional(),
});

/** Topology: node_topology (explicit or labelled) and pool_topology (labelled). */
const TopologySchema = z.object({
  node_topology: z.union([
    z.object({
      explicit: z.object({
        allowed_nodes: z.array(z.string()),
        preferred_nodes: z.array(z.string()),
      }),
    }).strict(),
    z.object({ labelled: LabelledTopologySchema }).strict(),
  ]).optional(),
  pool_topology: z.object({ labelled: LabelledTopologySchema }).strict().optional(),
});

/** CreateVolumeBody: PUT /volumes/{volume_id}. */
export const CreateVolumeBodySchema = z.object({
  policy: z.object({ self_heal: z.boolean() }),
  replicas: z.number().int().min(0).max(255),
  size: z.number().int().nonnegative(),
  thin: z.boolean(),
  topology: TopologySchema.optional(),
  labels: labels.optional(),
  affinity_group: z.object({ id: z.string() }).optional(),
  max_snapshots: z.number().int().nonnegative().optional(),
});
/** A volume creation request. */
export type CreateVolumeBody = z.infer<typeof CreateVolumeBodySchema>;

/** PublishVolumeBody: PUT /volumes/{volume_id}/target (`publish_context`, `protocol` required). */
export const PublishVolumeBodySchema = z.object({
  publish_context: z.record(z.string(), z.string()),
  protocol: z.enum(["nvmf", "iscsi"]),
  node: z.string().optional(),
  reuse_existing: z.boolean().optional(),
  republish: z.boolean().optional(),
  frontend_node: z.string().optional(),
});
/** A publish request. */
export type PublishVolumeBody = z.infer<typeof PublishVolumeBodySchema>;

/** CreateReplicaBody: PUT /pools/{pool_id}/replicas/{replica_id}. */
export const CreateReplicaBodySchema = z.object({
  size: z.number().int().nonnegative(),
  thin: z.boolean(),
  share: z.enum(["nvmf"]).optional(),
  "allowed-hosts": z.array(z.string()).optional(),
});
/** A replica creation request. */
export type CreateReplicaBody = z.infer<typeof CreateReplicaBodySchema>;

/** Parses a JSON body against a schema, or throws api-rest's 400 Deserialize error. */
export async function parseBody<T>(req: Request, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await req.json();
  } catch (e) {
    throw deserializeError(`Json deserialize error: ${e instanceof Error ? e.message : e}`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw deserializeError(`Json deserialize error: ${i.path.join(".") || "body"}: ${i.message}`);
  }
  return r.data;
}
