/**
 * api-rest's `/v0` routes (`control-plane/rest/service/src/v0/*.rs`, paths and bodies from
 * `v0_api_spec.yaml`): path parameters that do not parse (a volume id that is not a uuid, a
 * replica count that is not a u8) answer 400 Deserialize as api-rest's PathConfig does; an
 * unknown path answers an empty 404 and a known path with another method an empty 405, as
 * actix-web does.
 */
import {
  CreateReplicaBodySchema,
  CreateVolumeBodySchema,
  parseBody,
  PublishVolumeBodySchema,
} from "./bodies.ts";
import type { SimCluster } from "./cluster.ts";
import { deserializeError, restNotFound, Svc } from "./errors.ts";
import {
  renderChild,
  renderNexus,
  renderNode,
  renderPool,
  renderReplica,
  renderSpecs,
  renderVolume,
} from "./render.ts";

/** A matched request: path parameters plus the raw request. */
interface Ctx {
  p: Record<string, string>;
  req: Request;
  url: URL;
}

type Handler = (c: SimCluster, x: Ctx) => Promise<Response> | Response;

/** A JSON response. */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

const noContent = () => new Response(null, { status: 204 });

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A uuid path parameter, lower-cased, or 400 Deserialize. */
function uuid(v: string): string {
  if (!UUID.test(v)) throw deserializeError(`can not parse "${v}" to a Uuid`);
  return v.toLowerCase();
}

/** The child URI of a path: the decoded segment, plus the query if it was not encoded. */
function childOf(x: Ctx): string {
  const seg = x.p.child;
  const q = x.url.search.slice(1);
  try {
    new URL(seg);
    return q && !seg.includes("?") ? `${seg}?${q}` : seg;
  } catch {
    return seg;
  }
}

const liveReplicas = (c: SimCluster) => [...c.replicas.values()].filter((r) => c.replicaLive(r));

/** [method, path pattern, handler] in match order. */
const ROUTES: [string, string, Handler][] = [
  ["GET", "/specs", (c) => json(renderSpecs(c))],
  // nodes (v0/nodes.rs)
  ["GET", "/nodes", (c, x) => {
    const only = x.url.searchParams.get("node_id");
    return json(
      [...c.nodes.values()].filter((n) => !only || n.id === only).map((n) => renderNode(n)),
    );
  }],
  ["GET", "/nodes/{node}", (c, x) => {
    const n = c.nodes.get(x.p.node);
    if (!n) throw restNotFound("node", x.p.node);
    return json(renderNode(n));
  }],
  [
    "PUT",
    "/nodes/{node}/cordon/{label}",
    (c, x) => json(renderNode(c.resourceOps.cordon(x.p.node, x.p.label))),
  ],
  [
    "DELETE",
    "/nodes/{node}/cordon/{label}",
    (c, x) => json(renderNode(c.resourceOps.uncordon(x.p.node, x.p.label))),
  ],
  [
    "GET",
    "/nodes/{node}/pools",
    (c, x) =>
      json(
        [...c.pools.values()].filter((p) => p.node === x.p.node).map((p) => renderPool(c, p.id)),
      ),
  ],
  [
    "GET",
    "/nodes/{node}/replicas",
    (c, x) =>
      json(liveReplicas(c).filter((r) => c.nodeOf(r) === x.p.node).map((r) => renderReplica(c, r))),
  ],
  [
    "GET",
    "/nodes/{node}/nexuses",
    (c, x) =>
      json(
        [...c.nexuses.values()].filter((n) => n.live && n.node === x.p.node).map((n) =>
          renderNexus(c, n)
        ),
      ),
  ],
  [
    "GET",
    "/nodes/{node}/nexuses/{nexus}",
    (c, x) => json(renderNexus(c, c.resourceOps.nexus(uuid(x.p.nexus), x.p.node))),
  ],
  ["GET", "/nodes/{node}/nexuses/{nexus}/children", (c, x) => {
    const n = c.resourceOps.nexus(uuid(x.p.nexus), x.p.node);
    return json(n.children.filter((ch) => !ch.missing).map((ch) => renderChild(n, ch)));
  }],
  ["GET", "/nodes/{node}/nexuses/{nexus}/children/{child}", (c, x) => {
    const n = c.resourceOps.nexus(uuid(x.p.nexus), x.p.node);
    return json(renderChild(n, c.resourceOps.child(n, childOf(x))));
  }],
  ["PUT", "/nodes/{node}/nexuses/{nexus}/children/{child}", (c, x) => {
    const n = c.resourceOps.nexus(uuid(x.p.nexus), x.p.node);
    return json(renderChild(n, c.resourceOps.addChild(n.uuid, childOf(x), x.p.node)));
  }],
  ["DELETE", "/nodes/{node}/nexuses/{nexus}/children/{child}", (c, x) => {
    c.resourceOps.removeChild(uuid(x.p.nexus), childOf(x), x.p.node);
    return noContent();
  }],
  // pools (v0/pools.rs)
  ["GET", "/pools", (c) => json([...c.pools.keys()].sort().map((id) => renderPool(c, id)))],
  ["GET", "/pools/{pool}", (c, x) => {
    if (!c.pools.has(x.p.pool)) throw restNotFound("pool", x.p.pool);
    return json(renderPool(c, x.p.pool));
  }],
  ["PUT", "/pools/{pool}/label/{kv}", (c, x) => {
    const i = x.p.kv.indexOf("=");
    if (i < 0) throw deserializeError(`label "${x.p.kv}" is not key=value`);
    const overwrite = x.url.searchParams.get("overwrite") === "true";
    const p = c.resourceOps.label(x.p.pool, x.p.kv.slice(0, i), x.p.kv.slice(i + 1), overwrite);
    return json(renderPool(c, p.id));
  }],
  [
    "DELETE",
    "/pools/{pool}/label/{key}",
    (c, x) => json(renderPool(c, c.resourceOps.unlabel(x.p.pool, x.p.key).id)),
  ],
  ["PUT", "/pools/{pool}/replicas/{replica}", async (c, x) => {
    const body = await parseBody(x.req, CreateReplicaBodySchema);
    return json(
      renderReplica(c, await c.resourceOps.createReplica(x.p.pool, uuid(x.p.replica), body)),
    );
  }],
  ["DELETE", "/pools/{pool}/replicas/{replica}", async (c, x) => {
    await c.resourceOps.destroyReplica(x.p.pool, uuid(x.p.replica));
    return noContent();
  }],
  [
    "GET",
    "/nodes/{node}/pools/{pool}/replicas",
    (c, x) =>
      json(
        liveReplicas(c).filter((r) => r.pool === x.p.pool && c.nodeOf(r) === x.p.node).map((r) =>
          renderReplica(c, r)
        ),
      ),
  ],
  [
    "GET",
    "/nodes/{node}/pools/{pool}/replicas/{replica}",
    (c, x) =>
      json(renderReplica(c, c.resourceOps.replicaOn(x.p.pool, uuid(x.p.replica), x.p.node))),
  ],
  ["PUT", "/nodes/{node}/pools/{pool}/replicas/{replica}", async (c, x) => {
    const body = await parseBody(x.req, CreateReplicaBodySchema);
    const r = await c.resourceOps.createReplica(x.p.pool, uuid(x.p.replica), body, x.p.node);
    return json(renderReplica(c, r));
  }],
  ["DELETE", "/nodes/{node}/pools/{pool}/replicas/{replica}", async (c, x) => {
    await c.resourceOps.destroyReplica(x.p.pool, uuid(x.p.replica), x.p.node);
    return noContent();
  }],
  // replicas (v0/replicas.rs)
  ["GET", "/replicas", (c) => json(liveReplicas(c).map((r) => renderReplica(c, r)))],
  ["GET", "/replicas/{replica}", (c, x) => {
    const r = c.replicas.get(uuid(x.p.replica));
    if (!r || !c.replicaLive(r)) throw Svc.replicaNotFound(x.p.replica);
    return json(renderReplica(c, r));
  }],
  // nexuses and children (v0/nexuses.rs, v0/children.rs)
  [
    "GET",
    "/nexuses",
    (c) => json([...c.nexuses.values()].filter((n) => n.live).map((n) => renderNexus(c, n))),
  ],
  ["GET", "/nexuses/{nexus}", (c, x) => json(renderNexus(c, c.resourceOps.nexus(uuid(x.p.nexus))))],
  ["GET", "/nexuses/{nexus}/children", (c, x) => {
    const n = c.resourceOps.nexus(uuid(x.p.nexus));
    return json(n.children.filter((ch) => !ch.missing).map((ch) => renderChild(n, ch)));
  }],
  ["GET", "/nexuses/{nexus}/children/{child}", (c, x) => {
    const n = c.resourceOps.nexus(uuid(x.p.nexus));
    return json(renderChild(n, c.resourceOps.child(n, childOf(x))));
  }],
  ["PUT", "/nexuses/{nexus}/children/{child}", (c, x) => {
    const n = c.resourceOps.nexus(uuid(x.p.nexus));
    return json(renderChild(n, c.resourceOps.addChild(n.uuid, childOf(x))));
  }],
  ["DELETE", "/nexuses/{nexus}/children/{child}", (c, x) => {
    c.resourceOps.removeChild(uuid(x.p.nexus), childOf(x));
    return noContent();
  }],
  // volumes (v0/volumes.rs)
  ["GET", "/volumes", (c, x) => listVolumes(c, x.url)],
  ["GET", "/volumes/{volume}", (c, x) => {
    const v = c.volumes.get(uuid(x.p.volume));
    if (!v) throw Svc.volumeNotFound(x.p.volume);
    return json(renderVolume(c, v));
  }],
  ["PUT", "/volumes/{volume}", async (c, x) => {
    const body = await parseBody(x.req, CreateVolumeBodySchema);
    return json(renderVolume(c, await c.volumeOps.create(uuid(x.p.volume), body)));
  }],
  ["DELETE", "/volumes/{volume}", async (c, x) => {
    await c.volumeOps.destroy(uuid(x.p.volume));
    return noContent();
  }],
  ["PUT", "/volumes/{volume}/replica_count/{count}", async (c, x) => {
    const n = x.p.count;
    if (!/^\d{1,3}$/.test(n) || Number(n) > 255) {
      throw deserializeError(`can not parse "${n}" to a u8`);
    }
    return json(renderVolume(c, await c.volumeOps.setReplicaCount(uuid(x.p.volume), Number(n))));
  }],
  ["PUT", "/volumes/{volume}/target", async (c, x) => {
    const body = await parseBody(x.req, PublishVolumeBodySchema);
    return json(renderVolume(c, c.publish(uuid(x.p.volume), body)));
  }],
  ["DELETE", "/volumes/{volume}/target", (c, x) => {
    const force = x.url.searchParams.get("force") === "true";
    return json(renderVolume(c, c.volumeOps.unpublish(uuid(x.p.volume), force)));
  }],
];

/**
 * GET /volumes?max_entries=&starting_token=&volume_id= (`max_entries` is required; 0 turns
 * pagination off; `next_token` = starting_token + max_entries while more remain).
 */
function listVolumes(c: SimCluster, url: URL): Response {
  const maxRaw = url.searchParams.get("max_entries");
  const max = Number(maxRaw);
  const start = Number(url.searchParams.get("starting_token") ?? "0");
  if (maxRaw === null || !Number.isInteger(max) || !Number.isInteger(start)) {
    throw deserializeError(
      "Query deserialize error: missing or invalid max_entries/starting_token",
    );
  }
  const only = url.searchParams.get("volume_id");
  const ids = only ? (c.volumes.has(only) ? [only] : []) : c.sortedVolumeIds();
  const from = Math.min(Math.max(0, start), ids.length);
  const last = max <= 0 || from + max >= ids.length;
  const end = last ? ids.length : from + max;
  const entries = ids.slice(from, end).map((id) => renderVolume(c, c.volumes.get(id)!));
  return json(last ? { entries } : { entries, next_token: start + max });
}

interface Compiled {
  method: string;
  parts: string[];
  handler: Handler;
}

const COMPILED: Compiled[] = ROUTES.map(([method, pattern, handler]) => ({
  method,
  parts: pattern.split("/").filter(Boolean),
  handler,
}));

function match(parts: string[], pattern: string[]): Record<string, string> | undefined {
  if (parts.length !== pattern.length) return undefined;
  const p: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const want = pattern[i];
    if (want.startsWith("{")) p[want.slice(1, -1)] = parts[i];
    else if (want !== parts[i]) return undefined;
  }
  return p;
}

/** Answers one `/v0` call (`parts` are the decoded path segments after `/v0`). */
export async function route(c: SimCluster, req: Request, parts: string[], url: URL) {
  let known = false;
  for (const r of COMPILED) {
    const p = match(parts, r.parts);
    if (!p) continue;
    known = true;
    if (r.method === req.method) return await r.handler(c, { p, req, url });
  }
  return new Response(null, { status: known ? 405 : 404 });
}
