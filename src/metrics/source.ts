/**
 * IopsSource: the port through which tiering reads volume IOPS. Adapters: the
 * Prometheus HTTP API client (prometheus.ts) and the direct exporter scraper (scrape.ts).
 */
import { type Rejection, summarizeRejections, type VolumeTally } from "./sample.ts";

export type { Rejection, RejectionReason } from "./sample.ts";

/** Why an IOPS read failed; no tiering decision is made on any of these. */
export type IopsFailureReason =
  | "Unreachable"
  | "Timeout"
  | "HttpError"
  | "QueryError"
  | "MalformedResponse"
  | "NoData"
  /** Series came back but every value was rejected (unparseable, non-finite, implausible…). */
  | "ImplausibleData";

/** IOPS per volume (PersistentVolume name), read at one instant over one window. */
export interface IopsReading {
  ok: true;
  /** pv_name → IOPS. A volume absent from the map is unknown, never 0. */
  iops: Map<string, number>;
  /** Milliseconds since the epoch of the evaluation instant. */
  at: number;
  /** The query (or source description) that produced the series. */
  query: string;
  /**
   * pv_name → why its value was not used. Such a volume is absent from `iops` (no reading,
   * never 0); the controller shows the reason on the volume. Both sources here always set it
   * (empty when nothing was rejected); absent means the same as empty.
   */
  rejected?: Map<string, Rejection>;
}

/** A failed IOPS read, with a machine-readable reason and a message for people. */
export interface IopsFailure {
  ok: false;
  reason: IopsFailureReason;
  message: string;
  /** With `ImplausibleData`: every volume whose value was rejected, and why. */
  rejected?: Map<string, Rejection>;
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
export function iopsFailure(
  reason: IopsFailureReason,
  message: string,
  rejected?: Map<string, Rejection>,
): IopsFailure {
  return rejected ? { ok: false, reason, message, rejected } : { ok: false, reason, message };
}

/**
 * The result of a tally: a reading of the accepted volumes (rejections beside them), or, when
 * every value was rejected, an `ImplausibleData` failure (nothing trustworthy to act on).
 */
export function resultOfTally(tally: VolumeTally, at: number, query: string): IopsResult {
  if (tally.iops.size === 0 && tally.rejected.size > 0) {
    return iopsFailure(
      "ImplausibleData",
      `every value was rejected: ${summarizeRejections(tally.rejected)} (query: ${query})`,
      tally.rejected,
    );
  }
  return { ok: true, iops: tally.iops, at, query, rejected: tally.rejected };
}
