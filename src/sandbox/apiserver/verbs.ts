/**
 * The resource verbs over HTTP: get, list, watch, create, update, patch, delete and
 * deletecollection, each decoding its options (query.ts) and rendering its answer.
 */
import { z } from "zod";
import type { Clock } from "../../clock.ts";
import { readBody } from "./body.ts";
import type { ApiCore, WriteOptions, WriteResult } from "./api_core.ts";
import {
  badRequest,
  invalid,
  methodNotAllowed,
  notAcceptable,
  pathNotFound,
  success,
} from "./errors.ts";
import { jsonResponse, negotiate, parseAccept, type Wanted, withWarnings } from "./negotiation.ts";
import {
  dryRunErrors,
  parseListQuery,
  parseWriteQuery,
  queryBool,
  type WriteKind,
} from "./query.ts";
import { apiVersionOf, qualifiedResource, type ResourceDef } from "./resources.ts";
import { type ResourceRoute, verbOf } from "./routing.ts";
import { deploymentWithScale, patchScale, scaleOf } from "./scale.ts";
import type { KObj, Stored } from "./store.ts";
import { partialMetadata, toTable } from "./table.ts";
import { toCauses } from "./validation.ts";
import { objJson, type WatchContext, watchResponse } from "./watch_stream.ts";

/** What a verb needs from the server. */
export interface VerbContext extends WatchContext {
  core: ApiCore;
  clock: Clock;
}

/** A verb's answer plus what the audit logs record. */
export interface VerbResult {
  res: Response;
  /** The write verb, for the write log (absent for reads). */
  verb?: string;
  rv?: string;
  name?: string;
}

/** The parts of a `meta/v1 DeleteOptions` body the server honours. */
const DeleteOptionsSchema = z.looseObject({
  preconditions: z.object({
    uid: z.string().nullish(),
    resourceVersion: z.string().nullish(),
  }).nullish(),
  dryRun: z.array(z.string()).nullish(),
  propagationPolicy: z.string().nullish(),
  orphanDependents: z.boolean().nullish(),
  gracePeriodSeconds: z.number().nullish(),
});

/** One resource request as the verbs see it. */
interface Call {
  cx: VerbContext;
  req: Request;
  url: URL;
  def: ResourceDef;
  ns: string | undefined;
}

/** The write options of a request: its query plus the User-Agent that names its manager. */
function writeOptions(req: Request, url: URL, kind: WriteKind, patchType?: string): WriteOptions {
  const q = parseWriteQuery(url.searchParams, kind, patchType);
  return { ...q, userAgent: req.headers.get("user-agent") ?? undefined };
}

/** Subresources each definition serves beyond the object itself. */
function servesSubresource(def: ResourceDef, sub: string): boolean {
  if (sub === "") return true;
  if (sub === "status") return def.statusSubresource;
  return (def.subresources ?? []).includes(sub);
}

/** Serves one routed resource request. */
export async function serveResource(
  cx: VerbContext,
  req: Request,
  url: URL,
  r: ResourceRoute,
): Promise<VerbResult> {
  const { core } = cx;
  const def = core.lookup(r.group, r.version, r.resource);
  if (!def || !servesSubresource(def, r.subresource)) throw pathNotFound();
  if (r.namespace !== undefined && !def.namespaced) throw pathNotFound();
  const ns = def.namespaced ? r.namespace : undefined;
  const wanted = negotiate(parseAccept(req.headers.get("accept")));
  if (!wanted) {
    throw notAcceptable(
      `only the following media types are accepted: application/json, application/yaml`,
    );
  }
  const verb = verbOf(req.method, r, r.legacyWatch || queryBool(url.searchParams, "watch"));
  if (r.subresource === "" && !def.verbs.includes(verb)) throw methodNotAllowed();
  const call: Call = { cx, req, url, def, ns };
  if (r.subresource === "scale") return await serveScale(call, r.name!);
  const sub = r.subresource === "status" ? "status" : "";
  const m = req.method;
  if (m === "GET") return { res: get(cx, url, def, ns, r, wanted) };
  if (m === "POST") {
    if (r.name) throw methodNotAllowed();
    const opts = writeOptions(req, url, "CreateOptions");
    const w = core.create(def, ns, await readBody(req, true), opts);
    return written(cx, def, w, wanted, url, "create", 201);
  }
  if (!r.name) {
    if (m === "DELETE") return await deleteCollection(call);
    throw methodNotAllowed();
  }
  if (m === "PUT") {
    const opts = writeOptions(req, url, "UpdateOptions");
    const w = core.update(def, ns, r.name, await readBody(req, true), sub, opts);
    return written(cx, def, w, wanted, url, "update", w.created ? 201 : 200);
  }
  if (m === "PATCH") {
    const ct = req.headers.get("content-type") ?? "";
    const type = ct.split(";")[0].trim().toLowerCase();
    const opts = writeOptions(req, url, "PatchOptions", type);
    const body = await readBody(req, type === "application/apply-patch+yaml");
    const w = core.patch(def, ns, r.name, ct, body, sub, opts);
    return written(cx, def, w, wanted, url, "patch", w.created ? 201 : 200);
  }
  if (m === "DELETE") return await deleteOne(call, r.name, wanted);
  throw methodNotAllowed();
}

function render(cx: VerbContext, def: ResourceDef, obj: KObj, wanted: Wanted, url: URL): string {
  if (wanted.as === "table") {
    return JSON.stringify(toTable(def.columns, [obj], {
      now: cx.clock.now(),
      resourceVersion: String((obj.metadata as KObj | undefined)?.resourceVersion ?? ""),
      includeObject: url.searchParams.get("includeObject") ?? undefined,
    }));
  }
  if (wanted.as === "partial") return JSON.stringify(partialMetadata(obj));
  return JSON.stringify(obj);
}

function written(
  cx: VerbContext,
  def: ResourceDef,
  w: WriteResult,
  wanted: Wanted,
  url: URL,
  verb: string,
  code: number,
): VerbResult {
  const md = w.obj.metadata as KObj;
  return {
    res: jsonResponse(render(cx, def, w.obj, wanted, url), code, withWarnings(w.warnings)),
    verb,
    rv: String(md.resourceVersion ?? ""),
    name: String(md.name ?? ""),
  };
}

function listJson(cx: VerbContext, def: ResourceDef, items: Stored[], meta: KObj): string {
  const parts = items.map((s) => objJson(cx.core, def, s));
  return `{"kind":${JSON.stringify(def.listKind)},"apiVersion":${
    JSON.stringify(apiVersionOf(def))
  },"metadata":${JSON.stringify(meta)},"items":[${parts.join(",")}]}`;
}

function get(
  cx: VerbContext,
  url: URL,
  def: ResourceDef,
  ns: string | undefined,
  r: ResourceRoute,
  wanted: Wanted,
): Response {
  const { core } = cx;
  const includeObject = url.searchParams.get("includeObject") ?? undefined;
  if (r.name) {
    const s = core.get(def, ns, r.name);
    if (wanted.as === "json") return jsonResponse(objJson(core, def, s));
    return jsonResponse(render(cx, def, core.view(def, s), wanted, url));
  }
  const q = parseListQuery(url.searchParams, r.legacyWatch);
  if (q.watch) return watchResponse(cx, def, ns, q, wanted, includeObject);
  const list = core.list(def, ns, q);
  const meta: KObj = { resourceVersion: list.resourceVersion };
  if (list.continue) {
    meta.continue = list.continue;
    meta.remainingItemCount = list.remainingItemCount;
  }
  if (wanted.as === "table") {
    return jsonResponse(toTable(def.columns, list.items.map((s) => core.view(def, s)), {
      now: cx.clock.now(),
      resourceVersion: list.resourceVersion,
      continue: list.continue,
      includeObject,
    }));
  }
  if (wanted.as === "partial") {
    return jsonResponse({
      kind: "PartialObjectMetadataList",
      apiVersion: "meta.k8s.io/v1",
      metadata: meta,
      items: list.items.map((s) => partialMetadata(s.obj)),
    });
  }
  return jsonResponse(listJson(cx, def, list.items, meta));
}

/** An integer query parameter (absent or malformed: undefined). */
function queryInt(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  return v !== null && /^-?\d+$/.test(v) ? Number(v) : undefined;
}

/** Parsed and validated DeleteOptions (body and query), per `ValidateDeleteOptions`. */
async function deleteOptions(req: Request, url: URL) {
  const parsed = DeleteOptionsSchema.safeParse(await readBody(req, false) ?? {});
  if (!parsed.success) throw badRequest(`invalid DeleteOptions: ${parsed.error.message}`);
  const del = parsed.data;
  parseWriteQuery(url.searchParams, "DeleteOptions");
  const dryRun = [...url.searchParams.getAll("dryRun"), ...(del.dryRun ?? [])];
  const errs = dryRunErrors(dryRun);
  const policy = del.propagationPolicy ?? url.searchParams.get("propagationPolicy") ?? undefined;
  const orphan = del.orphanDependents ?? undefined;
  if (policy !== undefined && orphan !== undefined) {
    errs.push({
      type: "Invalid",
      field: "propagationPolicy",
      value: policy,
      detail: "orphanDependents and deletionPropagation cannot be both set",
    });
  }
  if (policy !== undefined && !["Foreground", "Background", "Orphan"].includes(policy)) {
    errs.push({
      type: "NotSupported",
      field: "propagationPolicy",
      value: policy,
      detail: 'supported values: "Foreground", "Background", "Orphan", "nil"',
    });
  }
  if (errs.length > 0) throw invalid("DeleteOptions", "meta.k8s.io", "", toCauses(errs));
  return {
    preconditions: {
      uid: del.preconditions?.uid ?? undefined,
      resourceVersion: del.preconditions?.resourceVersion ?? undefined,
    },
    dryRun: dryRun.length > 0,
    gracePeriodSeconds: del.gracePeriodSeconds ?? queryInt(url, "gracePeriodSeconds"),
    propagationPolicy:
      (policy ?? (orphan === true ? "Orphan" : orphan === false ? "Background" : undefined)) as
        | "Foreground"
        | "Background"
        | "Orphan"
        | undefined,
  };
}

async function deleteOne(call: Call, name: string, wanted: Wanted): Promise<VerbResult> {
  const { cx, req, url, def, ns } = call;
  const d = cx.core.delete(def, ns, name, await deleteOptions(req, url));
  const md = d.obj.metadata as KObj;
  const rv = String(md.resourceVersion ?? "");
  if (wanted.as !== "json" && wanted.as !== "table") {
    return { res: jsonResponse(render(cx, def, d.obj, wanted, url)), verb: "delete", rv };
  }
  // Built-in kinds answer a Status once the object is gone; custom resources the object
  // (k8s.io/apiserver/pkg/registry/generic/registry/store.go, ReturnDeletedObject).
  const body = d.finalized && !def.crd
    ? success({
      qualifiedResource: qualifiedResource(def),
      group: def.group,
      resource: def.resource,
      name,
    }, String(md.uid))
    : d.obj;
  return { res: jsonResponse(body, 200), verb: "delete", rv };
}

async function deleteCollection(call: Call): Promise<VerbResult> {
  const { cx, req, url, def, ns } = call;
  const opts = await deleteOptions(req, url);
  const deleted = cx.core.deleteCollection(def, ns, parseListQuery(url.searchParams), opts);
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

/** `/scale` of a Deployment: an `autoscaling/v1 Scale` over spec.replicas (scale.ts). */
async function serveScale(call: Call, name: string): Promise<VerbResult> {
  const { req, url, def, ns } = call;
  const { core } = call.cx;
  const cur = core.view(def, core.get(def, ns, name));
  if (req.method === "GET") return { res: jsonResponse(scaleOf(cur)) };
  let next: unknown;
  let verb: string;
  let opts: WriteOptions;
  if (req.method === "PUT") {
    opts = writeOptions(req, url, "UpdateOptions");
    next = await readBody(req, true);
    verb = "update";
  } else if (req.method === "PATCH") {
    const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
    opts = writeOptions(req, url, "PatchOptions", type);
    next = patchScale(scaleOf(cur), type, await readBody(req, false));
    verb = "patch";
  } else throw methodNotAllowed();
  const w = core.update(def, ns, name, deploymentWithScale(def, cur, next), "", opts);
  const scale = scaleOf(w.obj);
  return {
    res: jsonResponse(scale),
    verb,
    rv: String((scale.metadata as KObj).resourceVersion ?? ""),
    name,
  };
}
