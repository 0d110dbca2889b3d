/**
 * IopsSource adapter for the Prometheus HTTP API: one instant query per policy and window
 * (`GET /api/v1/query?query=…&time=…`) answering for every volume at once.
 */
import { z } from "zod";
import { type Clock, holdWhile, systemClock } from "../clock.ts";
import { DEFAULT_IOPS_TEMPLATES, renderQuery } from "./promql.ts";
import { DEFAULT_MAX_PLAUSIBLE_IOPS, judgeSample, VolumeTally } from "./sample.ts";
import {
  iopsFailure,
  type IopsQuery,
  type IopsResult,
  type IopsSource,
  resultOfTally,
} from "./source.ts";

/**
 * One sample value as Prometheus encodes it: [unix seconds, "float as text"]. The text is kept
 * as received and parsed strictly later (sample.ts), so a bad value rejects one volume, not the
 * whole answer.
 */
const SampleValue = z.tuple([z.number(), z.string()]);

/** An instant-vector element. */
const VectorSample = z.object({
  metric: z.record(z.string(), z.string()),
  value: SampleValue,
});

/** The successful body of /api/v1/query. */
const QuerySuccess = z.object({
  status: z.literal("success"),
  data: z.discriminatedUnion("resultType", [
    z.object({ resultType: z.literal("vector"), result: z.array(VectorSample) }),
    z.object({ resultType: z.literal("scalar"), result: SampleValue }),
    z.object({ resultType: z.literal("string"), result: SampleValue }),
    z.object({ resultType: z.literal("matrix"), result: z.array(z.unknown()) }),
  ]),
  warnings: z.array(z.string()).optional(),
});

/** The error body of /api/v1/query (HTTP 400, 422, 503). */
const QueryError = z.object({
  status: z.literal("error"),
  errorType: z.string(),
  error: z.string(),
});

/** Body of /api/v1/query, success or error. */
export const PrometheusQueryResponse = z.union([QuerySuccess, QueryError]);
/** Type of a parsed /api/v1/query body. */
export type PrometheusQueryResponse = z.infer<typeof PrometheusQueryResponse>;

/** How to reach Prometheus. */
export interface PrometheusSourceOptions {
  /** Base URL, e.g. http://prometheus:9090 (a path prefix is kept). */
  baseUrl: string;
  /** Per-request timeout; the default is 10 s. */
  timeoutMs?: number;
  /** Label that names the PersistentVolume; `pv_name` by default. */
  volumeLabel?: string;
  /** Time source for the evaluation instant when the query names none. */
  clock?: Clock;
  /** HTTP client; the global fetch by default (injected for custom TLS/auth). */
  fetch?: typeof fetch;
  /** Values above this many IOPS are rejected as implausible (default 10,000,000). */
  maxPlausibleIops?: number;
}

/** Outcome of one template: series found, none, or a failure that stops the read. */
type TemplateOutcome =
  | { kind: "series"; tally: VolumeTally }
  | { kind: "empty" }
  | { kind: "failed"; result: IopsResult };

/** Reads volume IOPS from Prometheus. */
export class PrometheusIopsSource implements IopsSource {
  readonly #base: string;
  readonly #timeoutMs: number;
  readonly #label: string;
  readonly #clock: Clock;
  readonly #fetch: typeof fetch;
  readonly #maxIops: number;

  constructor(opts: PrometheusSourceOptions) {
    this.#base = opts.baseUrl.replace(/\/+$/, "");
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#label = opts.volumeLabel ?? "pv_name";
    this.#clock = opts.clock ?? systemClock;
    this.#fetch = opts.fetch ?? fetch;
    this.#maxIops = opts.maxPlausibleIops ?? DEFAULT_MAX_PLAUSIBLE_IOPS;
  }

  /** Tries each template in order; the first returning any series wins. */
  async fetchIops(q: IopsQuery): Promise<IopsResult> {
    const at = q.at ?? this.#clock.now();
    const templates = q.templates && q.templates.length > 0 ? q.templates : DEFAULT_IOPS_TEMPLATES;
    let lastQuery = "";
    for (const template of templates) {
      let query: string;
      try {
        query = renderQuery(template, q.windowMs);
      } catch (e) {
        return iopsFailure("QueryError", (e as Error).message);
      }
      lastQuery = query;
      const outcome = await this.#runQuery(query, at, q.windowMs, q.signal);
      if (outcome.kind === "failed") return outcome.result;
      if (outcome.kind === "series") return resultOfTally(outcome.tally, at, query);
    }
    // Every template answered with no series: no volume is known, which is not "all idle".
    return iopsFailure("NoData", `no series for any IOPS query (last: ${lastQuery})`);
  }

  async #runQuery(
    query: string,
    at: number,
    windowMs: number,
    signal?: AbortSignal,
  ): Promise<TemplateOutcome> {
    const url = `${this.#base}/api/v1/query?query=${encodeURIComponent(query)}&time=${
      (at / 1000).toFixed(3)
    }`;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let status: number;
    let text: string;
    try {
      const res = await holdWhile(
        this.#clock,
        this.#fetch(url, { signal: combined, headers: { accept: "application/json" } }),
      );
      status = res.status;
      text = await holdWhile(this.#clock, res.text());
    } catch (e) {
      if (timeout.aborted) {
        return fail("Timeout", `Prometheus did not answer within ${this.#timeoutMs}ms`);
      }
      if (signal?.aborted) return fail("Unreachable", "read aborted by the caller");
      return fail("Unreachable", `cannot reach Prometheus at ${this.#base}: ${errText(e)}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      if (status < 200 || status >= 300) return fail("HttpError", `HTTP ${status}: ${clip(text)}`);
      return fail("MalformedResponse", `HTTP ${status}: body is not JSON: ${clip(text)}`);
    }
    const parsed = PrometheusQueryResponse.safeParse(body);
    if (!parsed.success) {
      if (status < 200 || status >= 300) return fail("HttpError", `HTTP ${status}: ${clip(text)}`);
      return fail("MalformedResponse", `unexpected response shape: ${parsed.error.message}`);
    }
    const r = parsed.data;
    if (r.status === "error") {
      return fail("QueryError", `HTTP ${status}: ${r.errorType}: ${r.error} (query: ${query})`);
    }
    if (status < 200 || status >= 300) return fail("HttpError", `HTTP ${status}: ${clip(text)}`);
    if (r.data.resultType !== "vector") {
      return fail("QueryError", `query returned a ${r.data.resultType}, not a vector: ${query}`);
    }
    const tally = new VolumeTally(this.#maxIops);
    const limits = { maxValue: this.#maxIops, at, windowMs };
    for (const s of r.data.result) {
      const name = s.metric[this.#label];
      if (!name) continue;
      // NaN/Inf (e.g. a rate over a single sample), "", "0x0", 1e12, a 1970 stamp: no reading.
      tally.add(name, judgeSample(s.value[1], limits, s.value[0] * 1000));
    }
    return tally.empty ? { kind: "empty" } : { kind: "series", tally };
  }
}

function fail(reason: Parameters<typeof iopsFailure>[0], message: string): TemplateOutcome {
  return { kind: "failed", result: iopsFailure(reason, message) };
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function clip(s: string): string {
  return s.length > 200 ? s.slice(0, 200) + "…" : s;
}
