/**
 * The HTTP layer: authentication, fault injection, routing of Kubernetes REST paths to
 * ApiCore, content negotiation (JSON, Table, PartialObjectMetadata), watch streaming
 * with bookmarks and timeouts, the write log and the `/sandbox/*` admin endpoints.
 */
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../observability/log.ts";
import { ApiCore } from "./core.ts";
import {
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  fnv64,
  groupVersions,
  openapiGroupVersion,
  openapiRoot,
} from "./discovery.ts";
import {
  ApiError,
  badRequest,
  injected,
  internal,
  methodNotAllowed,
  notAcceptable,
  pathNotFound,
  type Status,
  success,
  unauthorized,
  unsupportedMediaType,
} from "./errors.ts";
import { FaultRequestSchema, type Faults } from "./faults.ts";
import { decodeK8sProtobuf } from "./protobuf.ts";
import { apiVersionOf, qualifiedResource, type ResourceDef } from "./resources.ts";
import { jsonOf, type KObj, type Stored } from "./store.ts";
import { partialMetadata, toTable } from "./table.ts";
import type { WriteLog, WriteRecord } from "./writelog.ts";

/** Options for the handler. */
export interface HandlerOptions {
  core: ApiCore;
  token: string;
  clock: Clock;
  logger: Logger;
  faults: () => Faults;
  writes: WriteLog;
  /** Every resource request, reads included (verb get, list, watch …), for RBAC audits. */
  requests?: WriteLog;
  /** `host:port` reported in `/api` serverAddressByClientCIDRs. */
  serverAddress: () => string;
  /** Interval between watch BOOKMARK events (when the client allows them). */
  bookmarkIntervalMs?: number;
}

/** The request handler plus the controls the fault layer needs. */
export interface ApiHandler {
  handle(req: Request, info?: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response>;
  /** Ends every open watch; returns how many were open. */
  closeWatches(): number;
  /** Open watch count. */
  watchCount(): number;
}

const JSON_TYPE = "application/json";

/** The parts of a `meta/v1 DeleteOptions` body the server honours. */
const DeleteOptionsSchema = z.looseObject({
  preconditions: z.object({
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
  }).nullish(),
  dryRun: z.array(z.string()).nullish(),
  propagationPolicy: z.string().nullish(),
  gracePeriodSeconds: z.number().nullish(),
});
const enc = new TextEncoder();
/** Events queued for one watch client before it is considered stuck and closed. */
const MAX_QUEUED_EVENTS = 100_000;

/** A parsed Accept entry. */
interface MediaType {
  type: string;
  params: Record<string, string>;
}

function parseAccept(h: string | null): MediaType[] {
  if (!h) return [{ type: "*/*", params: {} }];
  return h.split(",").map((part) => {
    const [type, ...ps] = part.split(";").map((x) => x.trim());
    const params: Record<string, string> = {};
    for (const p of ps) {
      const i = p.indexOf("=");
      if (i > 0) params[p.slice(0, i).trim()] = p.slice(i + 1).trim();
    }
    return { type: type.toLowerCase(), params };
  });
}

/** What representation the client wants. */
type Wanted = { as: "json" } | { as: "table" } | { as: "partial" } | { as: "aggregated" };

function negotiate(accept: MediaType[], allowAggregated = false): Wanted | undefined {
  for (const m of accept) {
    const jsonish = m.type === JSON_TYPE || m.type === "*/*" || m.type === "application/*";
    if (!jsonish) continue;
    const as = m.params.as;
    if (!as) return { as: "json" };
    if (
      as === "Table" && m.params.g === "meta.k8s.io" &&
      (m.params.v === "v1" || m.params.v === "v1beta1")
    ) return { as: "table" };
    if (
      (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") &&
      m.params.g === "meta.k8s.io"
    ) return { as: "partial" };
    if (
      allowAggregated && as === "APIGroupDiscoveryList" && m.params.g === "apidiscovery.k8s.io" &&
      m.params.v === "v2"
    ) {
      return { as: "aggregated" };
    }
  }
  return undefined;
}

function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(typeof body === "string" ? body : JSON.stringify(body), {
    status,
    headers: { "content-type": JSON_TYPE, ...headers },
  });
}

function statusResponse(s: Status): Response {
  const headers: Record<string, string> = {};
  if (s.details?.retryAfterSeconds) headers["retry-after"] = String(s.details.retryAfterSeconds);
  return jsonResponse(s, s.code, headers);
}

/** A resource request after routing. */
interface ResourceRoute {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource: string;
  legacyWatch: boolean;
}

/** Splits a resource path below `/api/v1` or `/apis/g/v`. */
function routeResource(group: string, version: string, segs: string[]): ResourceRoute | undefined {
  let legacyWatch = false;
  if (segs[0] === "watch") {
    legacyWatch = true;
    segs = segs.slice(1);
  }
  if (segs.length === 0) return undefined;
  if (
    segs[0] === "namespaces" && segs.length >= 3 && segs[2] !== "status" && segs[2] !== "finalize"
  ) {
    const [, namespace, resource, name, sub, ...rest] = segs;
    if (rest.length > 0) return undefined;
    return { group, version, namespace, resource, name, subresource: sub ?? "", legacyWatch };
  }
  const [resource, name, sub, ...rest] = segs;
  if (rest.length > 0) return undefined;
  return { group, version, resource, name, subresource: sub ?? "", legacyWatch };
}

function boolParam(v: string | null): boolean {
  return v === "true" || v === "1";
}

/** Creates the handler. */
export function createApiHandler(o: HandlerOptions): ApiHandler {
  const { core, clock, writes } = o;
  const log = o.logger;
  const watches = new Set<() => void>();
  const bookmarkMs = o.bookmarkIntervalMs ?? 60_000;
  let openapiCache: Map<string, { body: string; hash: string }> | undefined;
  core.onResourcesChanged = () => {
    openapiCache = undefined;
  };

  const openapiDocs = () => {
    if (!openapiCache) {
      openapiCache = new Map();
      const defs = core.definitions();
      for (const [g, versions] of groupVersions(defs)) {
        for (const v of versions) {
          const body = JSON.stringify(openapiGroupVersion(defs, g, v));
          openapiCache.set(g ? `apis/${g}/${v}` : `api/${v}`, { body, hash: fnv64(body) });
        }
      }
    }
    return openapiCache;
  };

  const listJson = (def: ResourceDef, items: Stored[], meta: KObj): string => {
    const av = apiVersionOf(def);
    const parts = items.map((
      s,
    ) => (s.obj.apiVersion === av ? jsonOf(s) : JSON.stringify(core.view(def, s))));
    return `{"kind":${JSON.stringify(def.listKind)},"apiVersion":${JSON.stringify(av)},"metadata":${
      JSON.stringify(meta)
    },"items":[${parts.join(",")}]}`;
  };

  const objJson = (def: ResourceDef, s: Stored): string =>
    s.obj.apiVersion === apiVersionOf(def) ? jsonOf(s) : JSON.stringify(core.view(def, s));

  const render = (def: ResourceDef, obj: KObj, wanted: Wanted, url: URL): string => {
    if (wanted.as === "table") {
      return JSON.stringify(toTable(def.columns, [obj], {
        now: clock.now(),
        resourceVersion: String((obj.metadata as KObj | undefined)?.resourceVersion ?? ""),
        includeObject: url.searchParams.get("includeObject") ?? undefined,
      }));
    }
    if (wanted.as === "partial") return JSON.stringify(partialMetadata(obj));
    return JSON.stringify(obj);
  };

  const writeOptions = (url: URL) => {
    const fv = url.searchParams.get("fieldValidation");
    return {
      dryRun: url.searchParams.getAll("dryRun").includes("All"),
      fieldManager: url.searchParams.get("fieldManager") ?? undefined,
      fieldValidation: (fv === "Strict" || fv === "Warn" || fv === "Ignore" ? fv : "Warn") as
        | "Strict"
        | "Warn"
        | "Ignore",
      force: boolParam(url.searchParams.get("force")),
    };
  };

  const readBody = async (req: Request, yamlOk: boolean): Promise<unknown> => {
    const ct = (req.headers.get("content-type") ?? "").toLowerCase();
    if (ct.includes("protobuf")) {
      // We speak JSON; the one protobuf body kubectl sends us in practice is `create namespace`.
      const obj = decodeK8sProtobuf(new Uint8Array(await req.arrayBuffer()));
      if (obj) return obj;
      throw unsupportedMediaType(
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
      );
    }
    const text = await req.text();
    if (text.trim() === "") return undefined;
    try {
      return JSON.parse(text);
    } catch {
      if (yamlOk) {
        try {
          return parseYaml(text);
        } catch (e) {
          throw badRequest(`error decoding YAML: ${(e as Error).message}`);
        }
      }
      throw badRequest("the body of the request could not be decoded as JSON");
    }
  };

  const withWarnings = (warnings: string[]): Record<string, string> =>
    warnings.length
      ? { warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(", ") }
      : {};

  const watchResponse = (
    url: URL,
    def: ResourceDef,
    ns: string | undefined,
    wanted: Wanted,
  ): Response => {
    const timeoutS = Number(url.searchParams.get("timeoutSeconds") ?? "0");
    const bookmarks = boolParam(url.searchParams.get("allowWatchBookmarks"));
    const abort = new AbortController();
    let first = true;
    let stop: () => void = () => {};
    let closed = false;
    let ctrl!: ReadableStreamDefaultController<Uint8Array>;
    const finish = () => {
      if (closed) return;
      closed = true;
      stop();
      abort.abort();
      watches.delete(finish);
      try {
        ctrl.close();
      } catch { /* already closed by the client */ }
    };
    const send = (type: string, objJsonText: string) => {
      if (closed) return;
      try {
        ctrl.enqueue(enc.encode(`{"type":"${type}","object":${objJsonText}}\n`));
        // A client that stopped reading is dropped (as the real server drops slow watchers)
        // rather than letting its queue grow without bound; it re-lists or re-watches.
        if ((ctrl.desiredSize ?? 0) < -MAX_QUEUED_EVENTS) finish();
      } catch {
        finish();
      }
    };
    const av = apiVersionOf(def);
    const bookmark = (rv: number, annotations?: Record<string, string>) => {
      const md = { resourceVersion: String(rv), ...(annotations ? { annotations } : {}) };
      send("BOOKMARK", JSON.stringify({ kind: def.kind, apiVersion: av, metadata: md }));
    };
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        ctrl = c;
        watches.add(finish);
        stop = core.watch(def, ns, {
          labelSelector: url.searchParams.get("labelSelector"),
          fieldSelector: url.searchParams.get("fieldSelector"),
          resourceVersion: url.searchParams.get("resourceVersion"),
          sendInitialEvents: boolParam(url.searchParams.get("sendInitialEvents")),
        }, {
          event(type, s) {
            if (wanted.as === "table") {
              const t = toTable(def.columns, [core.view(def, s)], {
                now: clock.now(),
                resourceVersion: String(s.rv),
                includeObject: url.searchParams.get("includeObject") ?? undefined,
                withColumns: first,
              });
              if (!first) delete t.columnDefinitions;
              first = false;
              send(type, JSON.stringify(t));
            } else if (wanted.as === "partial") {
              send(type, JSON.stringify(partialMetadata(core.view(def, s))));
            } else send(type, objJson(def, s));
          },
          initialEventsEnd(rv) {
            bookmark(rv, { "k8s.io/initial-events-end": "true" });
          },
          error(e) {
            send("ERROR", JSON.stringify(e.status));
            queueMicrotask(finish);
          },
        });
        if (closed) stop();
      },
      cancel() {
        finish();
      },
    });
    // A client that goes away cancels the body stream, which runs finish().
    if (timeoutS > 0) {
      clock.sleep(timeoutS * 1000, abort.signal).then(() => {
        if (bookmarks) bookmark(core.store.resourceVersion);
        finish();
      }, () => {});
    }
    if (bookmarks && bookmarkMs > 0) {
      (async () => {
        while (!closed) {
          await clock.sleep(bookmarkMs, abort.signal);
          if (!closed) bookmark(core.store.resourceVersion);
        }
      })().catch(() => {});
    }
    return new Response(body, {
      status: 200,
      headers: {
        "content-type": JSON_TYPE,
        "cache-control": "no-cache, private",
        "x-content-type-options": "nosniff",
      },
    });
  };

  const serveResource = async (
    req: Request,
    url: URL,
    r: ResourceRoute,
  ): Promise<{ res: Response; verb?: string; rv?: string; name?: string }> => {
    const def = core.lookup(r.group, r.version, r.resource);
    if (!def) throw pathNotFound();
    if (r.subresource && !(r.subresource === "status" && def.statusSubresource)) {
      throw pathNotFound();
    }
    if (r.namespace !== undefined && !def.namespaced) throw pathNotFound();
    const ns = def.namespaced ? r.namespace : undefined;
    const accept = parseAccept(req.headers.get("accept"));
    const wanted = negotiate(accept);
    if (!wanted) {
      throw notAcceptable(
        `only the following media types are accepted: application/json, application/yaml`,
      );
    }
    const sub = r.subresource === "status" ? "status" : "";
    const m = req.method;
    if (m === "GET") {
      if (!r.name) {
        if (r.legacyWatch || boolParam(url.searchParams.get("watch"))) {
          return { res: watchResponse(url, def, ns, wanted) };
        }
        const list = core.list(def, ns, {
          labelSelector: url.searchParams.get("labelSelector"),
          fieldSelector: url.searchParams.get("fieldSelector"),
          limit: Number(url.searchParams.get("limit") ?? "0") || undefined,
          continue: url.searchParams.get("continue"),
          resourceVersion: url.searchParams.get("resourceVersion"),
        });
        const meta: KObj = { resourceVersion: list.resourceVersion };
        if (list.continue) {
          meta.continue = list.continue;
          meta.remainingItemCount = list.remainingItemCount;
        }
        if (wanted.as === "table") {
          const t = toTable(def.columns, list.items.map((s) => core.view(def, s)), {
            now: clock.now(),
            resourceVersion: list.resourceVersion,
            continue: list.continue,
            includeObject: url.searchParams.get("includeObject") ?? undefined,
          });
          return { res: jsonResponse(t) };
        }
        if (wanted.as === "partial") {
          return {
            res: jsonResponse({
              kind: "PartialObjectMetadataList",
              apiVersion: "meta.k8s.io/v1",
              metadata: meta,
              items: list.items.map((s) => partialMetadata(s.obj)),
            }),
          };
        }
        return { res: jsonResponse(listJson(def, list.items, meta)) };
      }
      const s = core.get(def, ns, r.name);
      if (wanted.as === "json") return { res: jsonResponse(objJson(def, s)) };
      return { res: jsonResponse(render(def, core.view(def, s), wanted, url)) };
    }
    const opts = writeOptions(url);
    if (m === "POST") {
      if (r.name) throw methodNotAllowed();
      const body = await readBody(req, true);
      const w = core.create(def, ns, body, opts);
      return {
        res: jsonResponse(render(def, w.obj, wanted, url), 201, withWarnings(w.warnings)),
        verb: "create",
        rv: String((w.obj.metadata as KObj).resourceVersion ?? ""),
        name: String((w.obj.metadata as KObj).name ?? ""),
      };
    }
    if (!r.name) {
      if (m === "DELETE") {
        const deleted = core.deleteCollection(def, ns, {
          labelSelector: url.searchParams.get("labelSelector"),
          fieldSelector: url.searchParams.get("fieldSelector"),
        });
        return {
          res: jsonResponse({
            kind: def.listKind,
            apiVersion: apiVersionOf(def),
            metadata: {},
            items: deleted,
          }),
          verb: "deletecollection",
        };
      }
      throw methodNotAllowed();
    }
    if (m === "PUT") {
      const body = await readBody(req, true);
      const w = core.update(def, ns, r.name, body, sub, opts);
      return {
        res: jsonResponse(render(def, w.obj, wanted, url), 200, withWarnings(w.warnings)),
        verb: "update",
        rv: String((w.obj.metadata as KObj).resourceVersion ?? ""),
      };
    }
    if (m === "PATCH") {
      const ct = req.headers.get("content-type") ?? "";
      const body = await readBody(req, ct.startsWith("application/apply-patch+yaml"));
      const w = core.patch(def, ns, r.name, ct, body, sub, opts);
      return {
        res: jsonResponse(
          render(def, w.obj, wanted, url),
          w.created ? 201 : 200,
          withWarnings(w.warnings),
        ),
        verb: "patch",
        rv: String((w.obj.metadata as KObj).resourceVersion ?? ""),
      };
    }
    if (m === "DELETE") {
      const parsed = DeleteOptionsSchema.safeParse(await readBody(req, false) ?? {});
      if (!parsed.success) throw badRequest(`invalid DeleteOptions: ${parsed.error.message}`);
      const del = parsed.data;
      const d = core.delete(def, ns, r.name, {
        preconditions: del.preconditions ?? undefined,
        dryRun: opts.dryRun || (del.dryRun ?? []).includes("All"),
      });
      const rv = String((d.obj.metadata as KObj).resourceVersion ?? "");
      if (wanted.as !== "json" && wanted.as !== "table") {
        return { res: jsonResponse(render(def, d.obj, wanted, url)), verb: "delete", rv };
      }
      return {
        res: d.finalized && !def.crd
          ? jsonResponse(
            success({
              qualifiedResource: qualifiedResource(def),
              group: def.group,
              resource: def.resource,
              name: r.name,
            }, String((d.obj.metadata as KObj).uid)),
          )
          : jsonResponse(JSON.stringify(d.obj), 200),
        verb: "delete",
        rv,
      };
    }
    throw methodNotAllowed();
  };

  const serveDiscovery = (req: Request, segs: string[]): Response | undefined => {
    const defs = core.definitions();
    const accept = parseAccept(req.headers.get("accept"));
    if (segs[0] === "api" && segs.length === 1) {
      const w = negotiate(accept, true);
      if (w?.as === "aggregated") {
        return jsonResponse(aggregatedDiscovery(defs, true), 200, {
          "content-type": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        });
      }
      return jsonResponse(apiVersions(o.serverAddress()));
    }
    if (segs[0] === "apis" && segs.length === 1) {
      const w = negotiate(accept, true);
      if (w?.as === "aggregated") {
        return jsonResponse(aggregatedDiscovery(defs, false), 200, {
          "content-type": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        });
      }
      return jsonResponse(apiGroupList(defs));
    }
    if (segs[0] === "api" && segs.length === 2) {
      const l = apiResourceList(defs, "", segs[1]);
      return l ? jsonResponse(l) : undefined;
    }
    if (segs[0] === "apis" && segs.length === 2) {
      const versions = groupVersions(defs).get(segs[1]);
      return versions
        ? jsonResponse({ kind: "APIGroup", apiVersion: "v1", ...apiGroup(segs[1], versions) })
        : undefined;
    }
    if (segs[0] === "apis" && segs.length === 3) {
      const l = apiResourceList(defs, segs[1], segs[2]);
      return l ? jsonResponse(l) : undefined;
    }
    return undefined;
  };

  const serveAdmin = async (req: Request, url: URL, segs: string[]): Promise<Response> => {
    if (segs[1] === "writes" && req.method === "GET") {
      const q = url.searchParams;
      const since = q.get("since");
      return jsonResponse({
        lastSeq: writes.lastSeq,
        items: writes.list({
          since: since ? Number(since) : undefined,
          resource: q.get("resource") ?? undefined,
          namespace: q.get("namespace") ?? undefined,
          name: q.get("name") ?? undefined,
          verb: q.get("verb") ?? undefined,
        }),
      });
    }
    if (segs[1] === "writes" && req.method === "DELETE") {
      writes.clear();
      return jsonResponse({});
    }
    if (segs[1] === "faults") {
      const faults = o.faults();
      if (req.method === "GET") return jsonResponse(faults.list());
      if (req.method === "DELETE") {
        faults.clear();
        return jsonResponse({});
      }
      if (req.method === "POST") {
        const parsed = FaultRequestSchema.safeParse(await readBody(req, false));
        if (!parsed.success) throw badRequest(`invalid fault request: ${parsed.error.message}`);
        return jsonResponse(faults.apply(parsed.data));
      }
    }
    if (segs[1] === "state" && req.method === "GET") {
      return jsonResponse({
        resourceVersion: String(core.store.resourceVersion),
        compactedResourceVersion: String(core.store.compactedVersion),
        watches: watches.size,
      });
    }
    throw pathNotFound();
  };

  const handle = async (
    req: Request,
    info?: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Promise<Response> => {
    const remote = info ? `${info.remoteAddr.hostname}:${info.remoteAddr.port}` : "";
    const url = new URL(req.url);
    const path = url.pathname;
    if (path === "/healthz" || path === "/livez" || path === "/readyz") {
      return new Response("ok", { headers: { "content-type": "text/plain" } });
    }
    const auth = req.headers.get("authorization");
    if (auth !== `Bearer ${o.token}`) return statusResponse(unauthorized().status);
    let route: ResourceRoute | undefined;
    try {
      let segs: string[];
      try {
        segs = path.split("/").filter((s) => s.length > 0).map(decodeURIComponent);
      } catch {
        throw badRequest(`malformed path ${path}`);
      }
      if (segs[0] === "sandbox") return await serveAdmin(req, url, segs);
      const fault = o.faults().decide(req.method, path + url.search);
      if (fault.delayMs > 0) await clock.sleep(fault.delayMs);
      if (fault.status) return statusResponse(injected(fault.status).status);
      if (path === "/version") {
        return jsonResponse({
          major: "1",
          minor: "32",
          gitVersion: "v1.32.0-couchestor-sandbox",
          gitCommit: "0000000000000000000000000000000000000000",
          gitTreeState: "clean",
          buildDate: "2026-01-01T00:00:00Z",
          goVersion: "n/a",
          compiler: "deno",
          platform: "linux/amd64",
        });
      }
      if (segs[0] === "openapi") {
        if (segs[1] === "v3") {
          const docs = openapiDocs();
          if (segs.length === 2) {
            const hashes = new Map([...docs].map(([k, v]) => [k, v.hash]));
            return jsonResponse(openapiRoot(core.definitions(), (p) => hashes.get(p) ?? "0"));
          }
          const doc = docs.get(segs.slice(2).join("/"));
          if (!doc) throw pathNotFound();
          const immutable = url.searchParams.has("hash");
          return jsonResponse(doc.body, 200, {
            etag: `"${doc.hash}"`,
            "cache-control": immutable ? "public, immutable" : "no-cache, private",
          });
        }
        throw pathNotFound();
      }
      if (segs[0] === "api" || segs[0] === "apis") {
        const d = serveDiscovery(req, segs);
        if (d) return d;
        const [group, version, rest] = segs[0] === "api"
          ? ["", segs[1], segs.slice(2)]
          : [segs[1], segs[2], segs.slice(3)];
        route = routeResource(group, version ?? "", rest);
        if (!route) throw pathNotFound();
        const out = await serveResource(req, url, route);
        recordRequest(
          req,
          remote,
          { ...route, name: route.name ?? out.name },
          out.verb,
          out.res.status,
        );
        if (out.verb) {
          recordWrite(
            req,
            remote,
            { ...route, name: route.name ?? out.name },
            out.verb,
            out.res.status,
            out.rv ?? "",
          );
        }
        return out.res;
      }
      throw pathNotFound();
    } catch (e) {
      const err = e instanceof ApiError ? e : internal((e as Error)?.message ?? String(e));
      if (!(e instanceof ApiError)) log.error("request failed", { path, error: e });
      if (route && req.method !== "GET") {
        const verb = req.method === "POST"
          ? "create"
          : req.method === "PUT"
          ? "update"
          : req.method === "PATCH"
          ? "patch"
          : route.name
          ? "delete"
          : "deletecollection";
        recordWrite(req, remote, route, verb, err.code, "");
      }
      if (route) recordRequest(req, remote, route, undefined, err.code);
      return statusResponse(err.status);
    }
  };

  /** The Kubernetes verb of a request (as RBAC names it). */
  const verbOf = (req: Request, r: ResourceRoute): string => {
    const watch = r.legacyWatch ||
      /^(1|true)$/.test(new URL(req.url).searchParams.get("watch") ?? "");
    switch (req.method) {
      case "GET":
      case "HEAD":
        return watch ? "watch" : r.name ? "get" : "list";
      case "POST":
        return "create";
      case "PUT":
        return "update";
      case "PATCH":
        return "patch";
      default:
        return r.name ? "delete" : "deletecollection";
    }
  };

  /** The audit record of one request (the write log and the request log share the shape). */
  const auditRecord = (
    req: Request,
    remote: string,
    r: ResourceRoute,
    verb: string,
    code: number,
    resourceVersion: string,
  ): Omit<WriteRecord, "seq"> => {
    const now = clock.now();
    const ua = req.headers.get("user-agent") ?? "";
    return {
      timeMs: now,
      time: new Date(now).toISOString(),
      verb,
      group: r.group,
      version: r.version,
      resource: r.resource,
      subresource: r.subresource,
      namespace: r.namespace ?? "",
      name: r.name ?? "",
      userAgent: ua,
      identity: req.headers.get("x-sandbox-identity") ?? ua,
      remote,
      code,
      resourceVersion,
    };
  };

  const recordRequest = (
    req: Request,
    remote: string,
    r: ResourceRoute,
    verb: string | undefined,
    code: number,
  ) => {
    o.requests?.add(auditRecord(req, remote, r, verb ?? verbOf(req, r), code, ""));
  };

  const recordWrite = (
    req: Request,
    remote: string,
    r: ResourceRoute,
    verb: string,
    code: number,
    rv: string,
  ) => {
    writes.add(auditRecord(req, remote, r, verb, code, rv));
  };

  return {
    handle,
    closeWatches() {
      const n = watches.size;
      for (const f of [...watches]) f();
      return n;
    },
    watchCount: () => watches.size,
  };
}
