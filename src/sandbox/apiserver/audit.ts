/** Audit records of resource requests: the request log (reads too) and the write log. */
import type { Clock } from "../../clock.ts";
import { queryBool } from "./query.ts";
import { type ResourceRoute, verbOf } from "./routing.ts";
import type { WriteLog, WriteRecord } from "./writelog.ts";

/** The logs requests are recorded in. */
export interface AuditLogs {
  clock: Clock;
  writes: WriteLog;
  requests?: WriteLog;
}

/** The RBAC verb of a failed or read request, from its method and query. */
export function requestVerb(req: Request, r: ResourceRoute): string {
  const watch = r.legacyWatch || queryBool(new URL(req.url).searchParams, "watch");
  return verbOf(req.method, r, watch);
}

/** The audit record of one request (the write log and the request log share the shape). */
function auditRecord(
  clock: Clock,
  req: Request,
  remote: string,
  r: ResourceRoute,
  verb: string,
  code: number,
  resourceVersion: string,
): Omit<WriteRecord, "seq"> {
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
}

/** Records one request: always in the request log, and in the write log when it wrote. */
export function recordRequest(
  logs: AuditLogs,
  req: Request,
  remote: string,
  r: ResourceRoute,
  o: { writeVerb?: string; code: number; rv?: string },
): void {
  const verb = o.writeVerb ?? requestVerb(req, r);
  logs.requests?.add(auditRecord(logs.clock, req, remote, r, verb, o.code, ""));
  const wrote = o.writeVerb !== undefined || req.method !== "GET";
  if (wrote) logs.writes.add(auditRecord(logs.clock, req, remote, r, verb, o.code, o.rv ?? ""));
}
