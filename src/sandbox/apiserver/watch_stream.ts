/**
 * Watch responses: newline-delimited WatchEvents (JSON, Table or PartialObjectMetadata), BOOKMARK
 * events when the client allows them, the initial-events-end bookmark, and the timeout, following
 * k8s.io/apiserver/pkg/endpoints/handlers/watch.go.
 */
import type { Clock } from "../../clock.ts";
import type { ApiCore } from "./api_core.ts";
import { JSON_TYPE, type Wanted } from "./negotiation.ts";
import type { ListQuery } from "./query.ts";
import { apiVersionOf, type ResourceDef } from "./resources.ts";
import { jsonOf, type Stored } from "./store.ts";
import { partialMetadata, toTable } from "./table.ts";

const enc = new TextEncoder();
/** Events queued for one watch client before it is considered stuck and closed. */
const MAX_QUEUED_EVENTS = 100_000;

/** What a watch stream needs from the server. */
export interface WatchContext {
  core: ApiCore;
  clock: Clock;
  /** Open watches (their stop functions), so the server can end them all. */
  watches: Set<() => void>;
  /** Interval between BOOKMARK events when the client allows them (0 = none). */
  bookmarkMs: number;
}

/** The JSON of an object as served at `def`'s version (the stored encoding when it matches). */
export function objJson(core: ApiCore, def: ResourceDef, s: Stored): string {
  return s.obj.apiVersion === apiVersionOf(def) ? jsonOf(s) : JSON.stringify(core.view(def, s));
}

/** Starts a watch and answers its streaming response. */
export function watchResponse(
  cx: WatchContext,
  def: ResourceDef,
  ns: string | undefined,
  q: ListQuery,
  wanted: Wanted,
  includeObject: string | undefined,
): Response {
  const { core, clock } = cx;
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
    cx.watches.delete(finish);
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
  const render = (s: Stored): string => {
    if (wanted.as === "table") {
      const t = toTable(def.columns, [core.view(def, s)], {
        now: clock.now(),
        resourceVersion: String(s.rv),
        includeObject,
        withColumns: first,
      });
      if (!first) delete t.columnDefinitions;
      first = false;
      return JSON.stringify(t);
    }
    if (wanted.as === "partial") return JSON.stringify(partialMetadata(core.view(def, s)));
    return objJson(core, def, s);
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      ctrl = c;
      cx.watches.add(finish);
      stop = core.watch(def, ns, {
        labelSelector: q.labelSelector,
        fieldSelector: q.fieldSelector,
        resourceVersion: q.resourceVersion,
        sendInitialEvents: q.sendInitialEvents === true,
      }, {
        event: (type, s) => send(type, render(s)),
        // The initial-events-end bookmark is sent whether or not bookmarks were asked for
        // (the client asked for it with sendInitialEvents=true).
        initialEventsEnd: (rv) => bookmark(rv, { "k8s.io/initial-events-end": "true" }),
        error(e) {
          send("ERROR", JSON.stringify(e.status));
          queueMicrotask(finish);
        },
      });
      if (closed) stop();
    },
    // A client that goes away cancels the body stream.
    cancel: finish,
  });
  if (q.timeoutSeconds > 0) {
    clock.sleep(q.timeoutSeconds * 1000, abort.signal).then(() => {
      if (q.allowWatchBookmarks) bookmark(core.store.resourceVersion);
      finish();
    }, () => {});
  }
  if (q.allowWatchBookmarks && cx.bookmarkMs > 0) {
    (async () => {
      while (!closed) {
        await clock.sleep(cx.bookmarkMs, abort.signal);
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
}
