/**
 * The HTTP entry point: health endpoints, bearer authentication, fault injection, and dispatch
 * to discovery/OpenAPI (discovery_routes.ts), the admin endpoints (admin.ts), the authorization
 * reviews (access_review.ts) and the resource verbs (verbs.ts); every resource request is
 * recorded in the audit logs (audit.ts).
 */
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../observability/log.ts";
import { serveAccessReview } from "./access_review.ts";
import { serveAdmin } from "./admin.ts";
import { recordRequest } from "./audit.ts";
import type { ApiCore } from "./api_core.ts";
import { OpenApiDocs, serveDiscovery, VERSION_INFO } from "./discovery_routes.ts";
import { ApiError, injected, internal, pathNotFound, unauthorized } from "./errors.ts";
import type { Faults } from "./faults.ts";
import { jsonResponse, statusResponse } from "./negotiation.ts";
import { pathSegments, type ResourceRoute, routeApiPath } from "./routing.ts";
import { serveResource, type VerbContext } from "./verbs.ts";
import type { WriteLog } from "./writelog.ts";

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

/** Creates the handler. */
export function createApiHandler(o: HandlerOptions): ApiHandler {
  const { core, clock } = o;
  const watches = new Set<() => void>();
  const cx: VerbContext = { core, clock, watches, bookmarkMs: o.bookmarkIntervalMs ?? 60_000 };
  const openapi = new OpenApiDocs(core);
  core.onResourcesChanged = () => openapi.invalidate();
  const logs = { clock, writes: o.writes, requests: o.requests };
  const admin = { core, writes: o.writes, faults: o.faults, watchCount: () => watches.size };

  /** Everything but resource requests; undefined for a resource path. */
  const serveNonResource = async (req: Request, url: URL, segs: string[]) => {
    if (segs[0] === "sandbox") return await serveAdmin(admin, req, url, segs);
    const fault = o.faults().decide(req.method, url.pathname + url.search);
    if (fault.delayMs > 0) await clock.sleep(fault.delayMs);
    if (fault.status) return statusResponse(injected(fault.status).status);
    if (url.pathname === "/version") return jsonResponse(VERSION_INFO);
    if (segs[0] === "openapi") return openapi.serve(req, url, segs);
    if (segs[0] !== "api" && segs[0] !== "apis") throw pathNotFound();
    const review = await serveAccessReview(req, segs);
    return review ?? serveDiscovery(core, req, segs, o.serverAddress());
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
    if (req.headers.get("authorization") !== `Bearer ${o.token}`) {
      return statusResponse(unauthorized().status);
    }
    let route: ResourceRoute | undefined;
    try {
      const segs = pathSegments(path);
      const other = await serveNonResource(req, url, segs);
      if (other) return other;
      route = routeApiPath(segs);
      if (!route) throw pathNotFound();
      const out = await serveResource(cx, req, url, route);
      recordRequest(logs, req, remote, { ...route, name: route.name ?? out.name }, {
        writeVerb: out.verb,
        code: out.res.status,
        rv: out.rv,
      });
      return out.res;
    } catch (e) {
      const err = e instanceof ApiError ? e : internal((e as Error)?.message ?? String(e));
      if (!(e instanceof ApiError)) o.logger.error("request failed", { path, error: e });
      if (route) recordRequest(logs, req, remote, route, { code: err.code });
      return statusResponse(err.status);
    }
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
