/** The `/sandbox/*` admin endpoints: the write log, fault injection and the store's state. */
import { readBody } from "./body.ts";
import type { ApiCore } from "./api_core.ts";
import { badRequest, pathNotFound } from "./errors.ts";
import { FaultRequestSchema, type Faults } from "./faults.ts";
import { jsonResponse } from "./negotiation.ts";
import type { WriteLog } from "./writelog.ts";

/** What the admin endpoints reach. */
export interface AdminContext {
  core: ApiCore;
  writes: WriteLog;
  faults: () => Faults;
  watchCount: () => number;
}

/** Serves `/sandbox/writes`, `/sandbox/faults` and `/sandbox/state`. */
export async function serveAdmin(
  cx: AdminContext,
  req: Request,
  url: URL,
  segs: string[],
): Promise<Response> {
  const { writes, core } = cx;
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
    const faults = cx.faults();
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
      watches: cx.watchCount(),
    });
  }
  throw pathNotFound();
}
