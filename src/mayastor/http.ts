/**
 * JSON-over-HTTP calls to Mayastor's api-rest with a per-attempt timeout,
 * retries with exponential backoff on 5xx/429/network errors, and errors that
 * carry the endpoint, the HTTP status and Mayastor's own RestJsonError text.
 * Time (timeouts and backoff) comes from the injected Clock.
 */
import type { z } from "zod";
import { type Clock, holdWhile } from "../clock.ts";
import type { Logger } from "../observability/log.ts";
import { BackendError } from "./port.ts";
import { RestJsonErrorSchema } from "./rest_schemas.ts";

/** A BackendError for an answer of api-rest, with Mayastor's error kind when it gave one. */
export class MayastorApiError extends BackendError {
  constructor(
    message: string,
    endpoint: string,
    status: number | undefined,
    retryable: boolean,
    /** RestJsonError.kind, e.g. NotFound, AlreadyExists, ResourceExhausted. */
    kind?: string,
  ) {
    super(message, endpoint, status, retryable, kind);
    this.name = "MayastorApiError";
  }
}

/** Settings of the HTTP client. */
export interface RestClientOptions {
  /** Base URL up to and including `/v0` (e.g. http://api-rest:8081/v0). */
  baseUrl: string;
  clock: Clock;
  logger: Logger;
  /** Per-attempt timeout; default 10 s. */
  timeoutMs?: number;
  /** Attempts in all (first try included); default 4. */
  maxAttempts?: number;
  /** First backoff; doubles each retry; default 200 ms. */
  backoffMs?: number;
  /** Backoff ceiling; default 5 s. */
  maxBackoffMs?: number;
  /** Extra headers, e.g. `authorization: Bearer <jwt>` (api-rest's JWT scheme). */
  headers?: Record<string, string>;
}

/** One request. */
export interface RestRequest<T> {
  method: "GET" | "PUT" | "DELETE" | "POST";
  /** Path below the base URL, already escaped (use `seg()` for path segments). */
  path: string;
  body?: unknown;
  /** Schema of a 200 body; omit for 204 answers. */
  schema?: z.ZodType<T>;
  signal?: AbortSignal;
  /** Attempts for this call (default the client's): 1 for calls that must not be repeated. */
  attempts?: number;
}

/** Escapes one path segment (child ids are URIs and must be percent-encoded). */
export function seg(s: string | number): string {
  return encodeURIComponent(String(s));
}

/** Whether an HTTP status deserves a retry. */
function retryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Performs api-rest calls; one instance per backend. */
export class RestClient {
  readonly #o: Required<Omit<RestClientOptions, "headers">> & { headers: Record<string, string> };

  constructor(opts: RestClientOptions) {
    this.#o = {
      clock: opts.clock,
      logger: opts.logger,
      timeoutMs: opts.timeoutMs ?? 10_000,
      maxAttempts: opts.maxAttempts ?? 4,
      backoffMs: opts.backoffMs ?? 200,
      maxBackoffMs: opts.maxBackoffMs ?? 5_000,
      headers: opts.headers ?? {},
      baseUrl: opts.baseUrl.replace(/\/+$/, ""),
    };
  }

  /** Sends the request, retrying transient failures; returns the parsed body. */
  async call<T>(req: RestRequest<T>): Promise<T> {
    const endpoint = `${req.method} ${req.path}`;
    let lastErr: BackendError | undefined;
    const attempts = req.attempts ?? this.#o.maxAttempts;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (req.signal?.aborted) {
        throw new BackendError(`${endpoint}: aborted`, endpoint, undefined, false);
      }
      try {
        return await this.#once(req, endpoint);
      } catch (e) {
        if (!(e instanceof BackendError) || !e.retryable) throw e;
        lastErr = e;
        if (attempt === attempts) break;
        const wait = Math.min(this.#o.maxBackoffMs, this.#o.backoffMs * 2 ** (attempt - 1));
        this.#o.logger.warn("mayastor api-rest call failed, retrying", {
          endpoint,
          status: e.status,
          attempt,
          waitMs: wait,
          error: e.message,
        });
        try {
          await this.#o.clock.sleep(wait, req.signal);
        } catch {
          throw new BackendError(`${endpoint}: aborted`, endpoint, undefined, false);
        }
      }
    }
    if (attempts === 1 && lastErr) throw lastErr;
    throw new MayastorApiError(
      `${lastErr?.message} (gave up after ${attempts} attempts)`,
      endpoint,
      lastErr?.status,
      true,
      lastErr?.kind,
    );
  }

  async #once<T>(req: RestRequest<T>, endpoint: string): Promise<T> {
    const ctrl = new AbortController();
    const timer = new AbortController();
    let timedOut = false;
    const onOuter = () => ctrl.abort(req.signal?.reason);
    req.signal?.addEventListener("abort", onOuter, { once: true });
    this.#o.clock.sleep(this.#o.timeoutMs, timer.signal).then(() => {
      timedOut = true;
      ctrl.abort(new Error("timeout"));
    }, () => {/* cancelled: the call ended first */});
    try {
      let res: Response;
      try {
        // Held on the clock: a test's manual clock lets the answer arrive before time moves.
        res = await holdWhile(
          this.#o.clock,
          fetch(this.#o.baseUrl + req.path, {
            method: req.method,
            headers: {
              accept: "application/json",
              ...(req.body !== undefined ? { "content-type": "application/json" } : {}),
              ...this.#o.headers,
            },
            body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
            signal: ctrl.signal,
          }),
        );
      } catch (e) {
        if (timedOut) {
          throw new MayastorApiError(
            `${endpoint}: no answer within ${this.#o.timeoutMs} ms`,
            endpoint,
            undefined,
            true,
            "Timeout",
          );
        }
        if (req.signal?.aborted) {
          throw new BackendError(`${endpoint}: aborted`, endpoint, undefined, false);
        }
        throw new MayastorApiError(
          `${endpoint}: ${e instanceof Error ? e.message : String(e)}`,
          endpoint,
          undefined,
          true,
        );
      }
      let text: string;
      try {
        text = await holdWhile(this.#o.clock, res.text());
      } catch (e) {
        throw new MayastorApiError(
          `${endpoint}: ${timedOut ? "body timed out" : String(e)}`,
          endpoint,
          res.status,
          true,
        );
      }
      if (!res.ok) throw errorOf(endpoint, res.status, text);
      if (!req.schema) return undefined as T;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new MayastorApiError(
          `${endpoint}: answer is not JSON: ${text.slice(0, 120)}`,
          endpoint,
          res.status,
          false,
        );
      }
      const parsed = req.schema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new MayastorApiError(
          `${endpoint}: unexpected answer shape at ${
            issue?.path.join(".") || "(root)"
          }: ${issue?.message}`,
          endpoint,
          res.status,
          false,
        );
      }
      return parsed.data;
    } finally {
      timer.abort();
      req.signal?.removeEventListener("abort", onOuter);
    }
  }
}

/** Builds the error for a non-2xx answer, quoting RestJsonError when the body is one. */
function errorOf(endpoint: string, status: number, text: string): MayastorApiError {
  let kind: string | undefined;
  let detail = text.slice(0, 200);
  try {
    const body = RestJsonErrorSchema.safeParse(JSON.parse(text));
    if (body.success) {
      kind = body.data.kind;
      const { kind: k, details, message } = body.data;
      detail = [k, details, message !== details ? message : undefined].filter((s) => s)
        .join(": ");
    }
  } catch { /* not JSON: keep the raw text */ }
  return new MayastorApiError(
    `${endpoint} → ${status}: ${detail || "(empty body)"}`,
    endpoint,
    status,
    retryableStatus(status),
    kind,
  );
}
