/**
 * A small Kubernetes REST client on `fetch`. It replaces
 * @kubernetes/client-node because importing that library alone costs ~90 MB
 * of RSS (FACTS.md), more than the operator's whole budget allows.
 */
import { type Clock, holdWhile, systemClock } from "../clock.ts";
import { ApiError } from "./errors.ts";
import type { WriteFence } from "./fence.ts";
import type { ConnectionConfig } from "./kubeconfig.ts";
import {
  apiVersionOf,
  type KubeObject,
  type ObjectList,
  resourcePath,
  type ResourceRef,
} from "./resource.ts";

/** Options shared by every call. */
export interface CallOptions {
  /** Namespace of the object (ignored for cluster-scoped resources). */
  namespace?: string;
  /** Cancels the request. */
  signal?: AbortSignal;
}

/** Options of list. */
export interface ListOptions extends CallOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size. */
  limit?: number;
  /** Continue token from the previous page. */
  continue?: string;
  /** "0" lets the server answer from its cache. */
  resourceVersion?: string;
}

/** Options of watch. */
export interface WatchOptions extends CallOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Version to start after (events newer than it are streamed). */
  resourceVersion?: string;
  /** Ask for BOOKMARK events carrying the current resourceVersion. */
  allowWatchBookmarks?: boolean;
  /** Server closes the watch after this many seconds. */
  timeoutSeconds?: number;
}

/** Options of writes. */
export interface WriteOptions extends CallOptions {
  /** Name recorded in managedFields. */
  fieldManager?: string;
  /** "All" runs admission and validation without persisting. */
  dryRun?: "All";
}

/** Patch flavours and their content types. */
export type PatchType = "merge" | "json" | "strategic" | "apply";

const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

/** Options of patch. */
export interface PatchOptions extends WriteOptions {
  /** Patch flavour (default merge). */
  type?: PatchType;
  /** Server-side apply: take ownership of conflicting fields. */
  force?: boolean;
  /** "status" to patch the status subresource. */
  subresource?: string;
}

/** Options of delete. */
export interface DeleteOptions extends CallOptions {
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  /** Delete only if the object still has this uid / resourceVersion. */
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
}

/** One event from a watch stream. */
export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
  object: T;
}

/** Options of the client itself. */
export interface KubeClientOptions {
  /** Where and how to connect. */
  connection: ConnectionConfig;
  /** For request timeouts and token re-reads (default the system clock). */
  clock?: Clock;
  /** User-Agent header (lets an audit/write log tell processes apart). */
  userAgent?: string;
  /** Timeout of non-watch requests in ms (default 30 s). */
  requestTimeoutMs?: number;
  /** How long a token read from `tokenFile` is reused (default 60 s). */
  tokenRefreshMs?: number;
  /** Reads a token file (default Deno.readTextFile). */
  readTextFile?: (path: string) => Promise<string>;
  /**
   * Retries of a request the server turned away unprocessed (429, or 5xx with
   * Retry-After), as client-go does (default 5; 0 disables).
   */
  maxRetries?: number;
  /** Cap on one Retry-After wait in ms (default 10 s). */
  maxRetryWaitMs?: number;
}

type Query = Record<string, string | number | boolean | undefined>;

/** How one request is sent. */
interface SendOptions {
  query?: Query;
  signal?: AbortSignal;
  body?: unknown;
  contentType?: string;
  stream?: boolean;
}

/** A non-stream answer's text, or a stream's body. */
interface SendResult {
  text: string;
  body?: ReadableStream<Uint8Array>;
}

/** Typed REST calls against one API server. */
export class KubeClient {
  readonly #conn: ConnectionConfig;
  readonly #clock: Clock;
  readonly #userAgent: string;
  readonly #timeoutMs: number;
  readonly #tokenRefreshMs: number;
  readonly #readTextFile: (path: string) => Promise<string>;
  readonly #http?: Deno.HttpClient;
  readonly #maxRetries: number;
  readonly #maxRetryWaitMs: number;
  #token?: { value: string; readAt: number };
  readonly #fences = new Set<WriteFence>();

  constructor(opts: KubeClientOptions) {
    this.#conn = opts.connection;
    this.#clock = opts.clock ?? systemClock;
    this.#userAgent = opts.userAgent ?? "couchestor";
    this.#timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.#tokenRefreshMs = opts.tokenRefreshMs ?? 60_000;
    this.#readTextFile = opts.readTextFile ?? Deno.readTextFile;
    this.#maxRetries = opts.maxRetries ?? 5;
    this.#maxRetryWaitMs = opts.maxRetryWaitMs ?? 10_000;
    const c = this.#conn;
    if (c.server.startsWith("https:") && (c.caData || c.clientCertData)) {
      const tls: Deno.CreateHttpClientOptions & Partial<Deno.TlsCertifiedKeyPem> = {};
      if (c.caData) tls.caCerts = [c.caData];
      if (c.clientCertData && c.clientKeyData) {
        tls.cert = c.clientCertData;
        tls.key = c.clientKeyData;
      }
      this.#http = Deno.createHttpClient(tls as Deno.CreateHttpClientOptions);
    }
  }

  /** The connection's default namespace, if any. */
  get defaultNamespace(): string | undefined {
    return this.#conn.namespace;
  }

  /** Releases the HTTP connection pool. */
  close(): void {
    this.#http?.close();
  }

  /**
   * Gates every mutating request (POST, PUT, PATCH, DELETE) on `fence`: a refused one throws
   * NotLeaderError without being sent. The LeaderElector installs itself here when it runs.
   * With several fences (several electors sharing one client, as tests do) a write goes out
   * when any of them leads. Returns the function that removes the fence.
   */
  fenceWrites(fence: WriteFence): () => void {
    this.#fences.add(fence);
    return () => void this.#fences.delete(fence);
  }

  /** True when writes are gated on leadership. */
  get fenced(): boolean {
    return this.#fences.size > 0;
  }

  /**
   * Gives leadership up at once (a conditional write on state this process owns failed with
   * 409). False when no fence is installed (no leader election: nothing to give up).
   */
  stepDown(reason: string): boolean {
    for (const f of this.#fences) f.stepDown(reason);
    return this.#fences.size > 0;
  }

  /**
   * Reads the Lease and tells whether this process still holds it, stepping down when not;
   * always true without leader election.
   */
  async confirmLeadership(signal?: AbortSignal): Promise<boolean> {
    if (this.#fences.size === 0) return true;
    for (const f of this.#fences) if (await f.confirm(signal)) return true;
    return false;
  }

  /** Throws the first fence's NotLeaderError unless some fence lets the write out. */
  #checkFences(method: string, path: string): void {
    let refused: unknown;
    for (const f of this.#fences) {
      try {
        return f.check(method, path);
      } catch (e) {
        refused ??= e;
      }
    }
    if (refused) throw refused;
  }

  /** Reads one object. */
  get<T extends KubeObject>(res: ResourceRef, name: string, opts: CallOptions = {}): Promise<T> {
    return this.#json<T>("GET", resourcePath(res, opts.namespace, name), opts.signal);
  }

  /** Reads one page of a collection (all namespaces when `namespace` is unset). */
  list<T extends KubeObject>(res: ResourceRef, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const q: Query = {
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      limit: opts.limit,
      continue: opts.continue,
      resourceVersion: opts.resourceVersion,
    };
    return this.#json<ObjectList<T>>("GET", resourcePath(res, opts.namespace), opts.signal, q);
  }

  /** Reads a whole collection page by page; returns the items and the list's resourceVersion. */
  async listAll<T extends KubeObject>(
    res: ResourceRef,
    opts: Omit<ListOptions, "continue"> = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = "";
    do {
      const page = await this.list<T>(res, { ...opts, limit: opts.limit ?? 500, continue: cont });
      for (const it of page.items) items.push(it);
      rv = page.metadata.resourceVersion ?? rv;
      cont = page.metadata.continue || undefined;
    } while (cont);
    return { items, resourceVersion: rv };
  }

  /**
   * Streams watch events. The iterator ends when the server closes the stream
   * (timeoutSeconds) and throws an ApiError on an ERROR event (410 Expired).
   */
  async *watch<T extends KubeObject>(
    res: ResourceRef,
    opts: WatchOptions = {},
  ): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const q: Query = {
      watch: true,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: opts.allowWatchBookmarks,
      timeoutSeconds: opts.timeoutSeconds,
    };
    const resp = await this.#send("GET", resourcePath(res, opts.namespace), {
      query: q,
      signal: opts.signal,
      stream: true,
    });
    if (!resp.body) return;
    const body = resp.body;
    // A BYOB reader refills one 64 KiB buffer: a default reader hands out a fresh
    // buffer per chunk, and at 1,000 events/s those pile up as tens of MB of
    // external memory before the GC reclaims them.
    const reader = body.getReader({ mode: "byob" });
    // Cancel the read ourselves on abort: once a garbage collection has run, Deno's fetch no
    // longer aborts a response body still being read (the watch then outlived shutdown by its
    // whole timeoutSeconds; tests/kube/watch_abort_test.ts).
    const signal = opts.signal;
    const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
    signal?.addEventListener("abort", onAbort, { once: true });
    const decoder = new TextDecoder();
    let chunk = new ArrayBuffer(64 * 1024);
    let buf = "";
    try {
      for (;;) {
        const { value, done } = await reader.read(new Uint8Array(chunk));
        if (signal?.aborted) throw signal.reason;
        if (done || !value) break;
        buf += decoder.decode(value, { stream: true });
        chunk = value.buffer as ArrayBuffer;
        let start = 0;
        let nl: number;
        while ((nl = buf.indexOf("\n", start)) >= 0) {
          const line = buf.slice(start, nl).trim();
          start = nl + 1;
          if (line) yield parseWatchLine<T>(line);
        }
        buf = buf.slice(start);
      }
      buf += decoder.decode();
      if (buf.trim()) yield parseWatchLine<T>(buf.trim());
    } finally {
      signal?.removeEventListener("abort", onAbort);
      reader.cancel().catch(() => {});
    }
  }

  /** Creates an object (fills apiVersion/kind when the resource names its kind). */
  create<T extends KubeObject>(res: ResourceRef, obj: T, opts: WriteOptions = {}): Promise<T> {
    const ns = opts.namespace ?? obj.metadata.namespace;
    return this.#json<T>("POST", resourcePath(res, ns), opts.signal, writeQuery(opts), {
      body: withTypeMeta(res, obj),
    });
  }

  /** Replaces an object (PUT); its metadata.resourceVersion makes it fail with 409 when stale. */
  update<T extends KubeObject>(res: ResourceRef, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.#put(res, obj, undefined, opts);
  }

  /** Replaces the status subresource (PUT …/status), with the same optimistic concurrency. */
  updateStatus<T extends KubeObject>(
    res: ResourceRef,
    obj: T,
    opts: WriteOptions = {},
  ): Promise<T> {
    return this.#put(res, obj, "status", opts);
  }

  /** Patches an object: merge (default), json, strategic, or server-side apply. */
  patch<T extends KubeObject>(
    res: ResourceRef,
    name: string,
    patch: unknown,
    opts: PatchOptions = {},
  ): Promise<T> {
    const type = opts.type ?? "merge";
    if (type === "apply" && !opts.fieldManager) {
      throw new Error("server-side apply needs a fieldManager");
    }
    const q: Query = { ...writeQuery(opts), force: type === "apply" ? opts.force : undefined };
    return this.#json<T>(
      "PATCH",
      resourcePath(res, opts.namespace, name, opts.subresource),
      opts.signal,
      q,
      { body: patch, contentType: PATCH_CONTENT_TYPE[type] },
    );
  }

  /** Patches the status subresource. */
  patchStatus<T extends KubeObject>(
    res: ResourceRef,
    name: string,
    patch: unknown,
    opts: Omit<PatchOptions, "subresource"> = {},
  ): Promise<T> {
    return this.patch<T>(res, name, patch, { ...opts, subresource: "status" });
  }

  /** Deletes an object; returns the object (still present when finalizers hold it) or a Status. */
  delete<T extends KubeObject>(
    res: ResourceRef,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<T> {
    const body: Record<string, unknown> = { apiVersion: "v1", kind: "DeleteOptions" };
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.preconditions) body.preconditions = opts.preconditions;
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    return this.#json<T>("DELETE", resourcePath(res, opts.namespace, name), opts.signal, {}, {
      body,
    });
  }

  /** Raw GET of any path (discovery, /version); answers parsed JSON. */
  raw<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.#json<T>("GET", path, signal);
  }

  #put<T extends KubeObject>(
    res: ResourceRef,
    obj: T,
    sub: string | undefined,
    opts: WriteOptions,
  ): Promise<T> {
    const ns = opts.namespace ?? obj.metadata.namespace;
    const name = obj.metadata.name;
    if (!name) throw new Error("update needs metadata.name");
    return this.#json<T>("PUT", resourcePath(res, ns, name, sub), opts.signal, writeQuery(opts), {
      body: withTypeMeta(res, obj),
    });
  }

  async #json<T>(
    method: string,
    path: string,
    signal?: AbortSignal,
    query?: Query,
    body?: { body: unknown; contentType?: string },
  ): Promise<T> {
    const resp = await this.#send(method, path, { query, signal, ...body });
    return JSON.parse(resp.text) as T;
  }

  async #bearer(): Promise<string | undefined> {
    if (this.#conn.token) return this.#conn.token;
    const file = this.#conn.tokenFile;
    if (!file) return undefined;
    const now = this.#clock.now();
    if (!this.#token || now - this.#token.readAt >= this.#tokenRefreshMs) {
      this.#token = { value: (await this.#readTextFile(file)).trim(), readAt: now };
    }
    return this.#token.value;
  }

  async #send(method: string, path: string, o: SendOptions): Promise<SendResult> {
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#sendOnce(method, path, o);
      } catch (e) {
        // Only answers that say "not processed, come back later" are retried.
        const retryable = e instanceof ApiError &&
          (e.code === 429 || (e.code >= 500 && e.retryAfterSeconds !== undefined));
        if (!retryable || attempt >= this.#maxRetries || o.signal?.aborted) throw e;
        const waitMs = Math.min((e.retryAfterSeconds ?? 1) * 1000, this.#maxRetryWaitMs);
        await this.#clock.sleep(waitMs, o.signal);
      }
    }
  }

  async #sendOnce(method: string, path: string, o: SendOptions): Promise<SendResult> {
    const url = new URL(this.#conn.server + path);
    for (const [k, v] of Object.entries(o.query ?? {})) {
      if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": this.#userAgent,
    };
    const token = await this.#bearer();
    if (token) headers.authorization = `Bearer ${token}`;
    // As late as possible before sending: the fence is judged at the instant the write leaves.
    if (method !== "GET") this.#checkFences(method, path);
    if (o.body !== undefined) headers["content-type"] = o.contentType ?? "application/json";
    // Watches are long-lived by design; only plain requests get the timeout.
    const timeout = new AbortController();
    const signals = [timeout.signal];
    if (o.signal) signals.push(o.signal);
    const stopTimer = new AbortController();
    if (!o.stream) {
      this.#clock.sleep(this.#timeoutMs, stopTimer.signal).then(
        () =>
          timeout.abort(
            new ApiError(0, "Timeout", `${method} ${path}: no answer in ${this.#timeoutMs} ms`),
          ),
        () => {},
      );
    }
    let resp: Response;
    try {
      const sent = fetch(url, {
        method,
        headers,
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
        signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals),
        client: this.#http,
      });
      // The request timeout above is a clock timer: a manual clock must let the answer arrive.
      resp = await (o.stream ? sent : holdWhile(this.#clock, sent));
    } catch (e) {
      stopTimer.abort();
      if (e instanceof ApiError) throw e;
      if (o.signal?.aborted) throw o.signal.reason ?? e;
      if (timeout.signal.aborted) throw timeout.signal.reason;
      throw new ApiError(0, "Transport", `${method} ${url}: ${transportHint(e, this.#conn)}`);
    }
    if (!resp.ok) {
      const text = await holdWhile(this.#clock, resp.text()).finally(() => stopTimer.abort());
      throw ApiError.fromResponse(resp.status, text, resp.headers.get("retry-after"));
    }
    if (o.stream) return { text: "", body: resp.body ?? undefined };
    // Read the body before the timer stops, so a stalled body also times out.
    return { text: await holdWhile(this.#clock, resp.text()).finally(() => stopTimer.abort()) };
  }
}

function transportHint(e: unknown, conn: ConnectionConfig): string {
  // fetch says only "fetch failed"; the cause says why (connection refused, TLS, DNS …).
  const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : "";
  const msg = (e instanceof Error ? e.message : String(e)) + cause;
  if (conn.insecureSkipTlsVerify && /certificate|tls|ssl/i.test(msg)) {
    // Deno's fetch has no per-client switch to skip verification.
    return `${msg} (kubeconfig asks insecure-skip-tls-verify: run Deno with ` +
      `--unsafely-ignore-certificate-errors=${new URL(conn.server).hostname} ` +
      `or give certificate-authority-data)`;
  }
  return msg;
}

function writeQuery(o: WriteOptions): Query {
  return { fieldManager: o.fieldManager, dryRun: o.dryRun };
}

function withTypeMeta<T extends KubeObject>(res: ResourceRef, obj: T): T {
  if (obj.apiVersion && obj.kind) return obj;
  return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(res), kind: obj.kind ?? res.kind };
}

function parseWatchLine<T extends KubeObject>(line: string): WatchEvent<T> {
  const ev = JSON.parse(line) as { type: string; object: unknown };
  if (ev.type === "ERROR") {
    const st = (ev.object ?? {}) as { code?: number };
    throw ApiError.fromResponse(st.code ?? 500, JSON.stringify(ev.object));
  }
  if (
    ev.type !== "ADDED" && ev.type !== "MODIFIED" && ev.type !== "DELETED" && ev.type !== "BOOKMARK"
  ) {
    throw new ApiError(0, "BadWatchEvent", `unknown watch event type ${ev.type}`);
  }
  return ev as WatchEvent<T>;
}
