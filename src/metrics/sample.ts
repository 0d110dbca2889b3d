/**
 * Distrust of metric samples: strict parsing of the value text and the checks a value must pass
 * before it may drive a tiering decision (finite, not negative, below a plausibility ceiling,
 * stamped inside the window). Pure: no I/O, no clock.
 */

import { DEFAULT_MAX_PLAUSIBLE_IOPS } from "../config/flags.ts";

export { DEFAULT_MAX_PLAUSIBLE_IOPS };

/** Why a volume's value was not used. */
export type RejectionReason =
  | "Unparseable"
  | "NotFinite"
  | "Negative"
  | "Implausible"
  | "Stale"
  | "FromFuture";

/** One volume's rejected value: the reason, the text as received, and a sentence for people. */
export interface Rejection {
  reason: RejectionReason;
  /** The value as the source sent it (or the computed rate), clipped. */
  value: string;
  message: string;
}

/**
 * The float grammar Prometheus' JSON API writes (`util/jsonutil/marshal.go` MarshalFloat:
 * `strconv.AppendFloat(f, 'f' or 'e', -1, 64)`, so `-12.5`, `1e+21`, `1.5e-07`) and its text
 * parser accepts without hex or `_` (`model/textparse/promparse.go` parseFloat rejects "pP_"):
 * an optional sign, digits with an optional fraction, an optional exponent. Nothing else: no
 * blanks, no empty string, no `0x0` — `Number()` would read "" and "  " as 0 and "0x0" as 0.
 */
const DECIMAL = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * The special values as Go's `strconv.FormatFloat` spells them (`NaN`, `+Inf`, `-Inf`), which
 * is what the JSON API sends; `Inf` is what the text format also accepts.
 */
const SPECIAL: Record<string, number> = {
  NaN: NaN,
  "+Inf": Infinity,
  Inf: Infinity,
  "-Inf": -Infinity,
};

/** Parses a sample value strictly; undefined when the text is neither decimal nor special. */
export function parseSampleValue(text: string): number | undefined {
  if (text in SPECIAL) return SPECIAL[text];
  return DECIMAL.test(text) ? Number(text) : undefined;
}

/** What a value is judged against. */
export interface SampleLimits {
  /** Values above this are implausible (IOPS). */
  maxValue: number;
  /** Evaluation instant of the read (ms since the epoch). */
  at: number;
  /** The read's window (ms): a sample stamped earlier than `at - windowMs` is stale. */
  windowMs: number;
}

/** A value that passed every check, or why it did not. */
export type Judged = { ok: true; value: number } | { ok: false; rejection: Rejection };

/** Checks a number (already parsed) and, when given, its timestamp. */
export function judgeValue(
  value: number,
  shown: string,
  limits: SampleLimits,
  atMs?: number,
): Judged {
  const no = (reason: RejectionReason, why: string): Judged => ({
    ok: false,
    rejection: { reason, value: clip(shown), message: `value ${clip(shown)} ${why}` },
  });
  if (Number.isNaN(value) || !Number.isFinite(value)) {
    return no("NotFinite", "is not a finite number");
  }
  if (value < 0) return no("Negative", "is negative");
  if (value > limits.maxValue) {
    return no("Implausible", `is above the plausible ceiling of ${limits.maxValue} IOPS`);
  }
  if (atMs !== undefined) {
    if (atMs < limits.at - limits.windowMs) {
      return no("Stale", `is stamped ${iso(atMs)}, older than the window ending ${iso(limits.at)}`);
    }
    if (atMs > limits.at + limits.windowMs) {
      return no("FromFuture", `is stamped ${iso(atMs)}, after the query time ${iso(limits.at)}`);
    }
  }
  return { ok: true, value };
}

/** Parses the value text strictly, then judges it (see judgeValue). */
export function judgeSample(text: string, limits: SampleLimits, atMs?: number): Judged {
  const value = parseSampleValue(text);
  if (value === undefined) {
    const shown = clip(text);
    return {
      ok: false,
      rejection: {
        reason: "Unparseable",
        value: shown,
        message: `value ${JSON.stringify(shown)} is not a decimal number`,
      },
    };
  }
  return judgeValue(value, text, limits, atMs);
}

/** One line naming how many volumes were rejected and the first few reasons. */
export function summarizeRejections(rejected: ReadonlyMap<string, Rejection>, max = 3): string {
  const parts = [...rejected].slice(0, max).map(([pv, r]) => `${pv}: ${r.message}`);
  const more = rejected.size > max ? `, and ${rejected.size - max} more` : "";
  return `${rejected.size} rejected (${parts.join("; ")}${more})`;
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 40) + "…" : s;
}

/**
 * Per-volume sums of judged values: a volume with any rejected series is rejected as a whole
 * (a partial sum would under-count it), and the sum itself must stay plausible.
 */
export class VolumeTally {
  readonly iops = new Map<string, number>();
  readonly rejected = new Map<string, Rejection>();
  readonly #maxValue: number;

  constructor(maxValue: number) {
    this.#maxValue = maxValue;
  }

  /** Adds one series' judged value to its volume. */
  add(pv: string, judged: Judged): void {
    if (this.rejected.has(pv)) return;
    if (!judged.ok) {
      this.iops.delete(pv);
      this.rejected.set(pv, judged.rejection);
      return;
    }
    const sum = (this.iops.get(pv) ?? 0) + judged.value;
    if (sum > this.#maxValue) {
      this.iops.delete(pv);
      this.rejected.set(pv, {
        reason: "Implausible",
        value: clip(String(sum)),
        message: `summed value ${
          clip(String(sum))
        } is above the plausible ceiling of ${this.#maxValue} IOPS`,
      });
      return;
    }
    this.iops.set(pv, sum);
  }

  /** True when no series was added. */
  get empty(): boolean {
    return this.iops.size === 0 && this.rejected.size === 0;
  }
}
