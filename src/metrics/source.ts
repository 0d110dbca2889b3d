/**
 * IopsSource: the port through which tiering reads volume IOPS. Adapters: the
 * Prometheus HTTP API client (prometheus.ts) and the direct exporter scraper (scrape.ts).
 */

/** Why an IOPS read failed; no tiering decision is made on any of these. */
export type IopsFailureReason =
  | "Unreachable"
  | "Timeout"
  | "HttpError"
  | "QueryError"
  | "MalformedResponse"
  | "NoData";

/** IOPS per volume (PersistentVolume name), read at one instant over one window. */
export interface IopsReading {
  ok: true;
  /** pv_name → IOPS. A volume absent from the map is unknown, never 0. */
  iops: Map<string, number>;
  /** Milliseconds since the epoch of the evaluation instant. */
  at: number;
  /** The query (or source description) that produced the series. */
  query: string;
}

/** A failed IOPS read, with a machine-readable reason and a message for people. */
export interface IopsFailure {
  ok: false;
  reason: IopsFailureReason;
  message: string;
}

/** Result of one IOPS read: never thrown, never defaulted to 0. */
export type IopsResult = IopsReading | IopsFailure;

/** What one read asks for: one window, all volumes at once. */
export interface IopsQuery {
  /** Rate window (the policy's samplingWindow) in milliseconds. */
  windowMs: number;
  /**
   * PromQL templates tried in order until one returns series; `{{window}}` is replaced by
   * the window in Prometheus form. Ignored by sources that compute rates themselves.
   */
  templates?: readonly string[];
  /** Evaluation instant (ms since epoch); the source's clock when absent. */
  at?: number;
  signal?: AbortSignal;
}

/** A source of per-volume IOPS. Implementations never throw for remote failures. */
export interface IopsSource {
  /** Reads IOPS of every volume it can see, over `q.windowMs`. */
  fetchIops(q: IopsQuery): Promise<IopsResult>;
}

/** Builds a failure result. */
export function iopsFailure(reason: IopsFailureReason, message: string): IopsFailure {
  return { ok: false, reason, message };
}
