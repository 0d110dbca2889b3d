/**
 * IopsSource adapter for clusters without Prometheus: scrapes exporters' `/metrics` itself,
 * keeps each counter's samples over a retention window and computes rates like `rate()`
 * does (without extrapolation), treating a drop as a counter reset (an io-engine restart).
 */
import { type Clock, holdWhile } from "../clock.ts";
import type { Logger } from "../observability/log.ts";
import { parseExposition } from "./exposition.ts";
import { DEFAULT_MAX_PLAUSIBLE_IOPS, judgeValue, type Rejection, VolumeTally } from "./sample.ts";
import {
  iopsFailure,
  type IopsQuery,
  type IopsResult,
  type IopsSource,
  resultOfTally,
} from "./source.ts";

/** How to scrape and what to count. */
export interface ScrapeSourceOptions {
  /** Full URLs of the exporters' metrics pages, e.g. http://node-1:9502/metrics. */
  targets: readonly string[];
  clock: Clock;
  /** Cumulative op counters summed into IOPS; Mayastor's read and write op counts by default. */
  counters?: readonly string[];
  /** Label naming the PersistentVolume; `pv_name` by default. */
  volumeLabel?: string;
  /** Per-scrape timeout; 5 s by default. */
  timeoutMs?: number;
  /** How long samples are kept; at least the longest window asked for. 1 h by default. */
  retentionMs?: number;
  logger?: Logger;
  /** HTTP client; the global fetch by default. */
  fetch?: typeof fetch;
  /** A rate above this many IOPS is rejected as implausible (default 10,000,000). */
  maxPlausibleIops?: number;
}

/** What one scrape of one target produced. */
export interface TargetScrape {
  url: string;
  ok: boolean;
  /** Samples of the watched counters that were kept. */
  samples: number;
  /** Malformed lines skipped. */
  skipped: number;
  error?: string;
}

/** Result of one scrape round over all targets. */
export interface ScrapeReport {
  at: number;
  targets: TargetScrape[];
}

interface Series {
  target: string;
  pv: string;
  /** [ms, value] pairs, oldest first. */
  samples: [number, number][];
  /** Why the latest scraped value was not kept (NaN, negative); cleared by a good one. */
  rejection?: Rejection;
  /** When that value was scraped (a rejection is forgotten after the retention, too). */
  rejectedAt?: number;
  /** The exporter's own timestamp on the latest sample, when it sent one. */
  stampedAt?: number;
}

interface TargetState {
  lastAttemptAt: number;
  lastOk: boolean;
  lastSuccessAt?: number;
}

/** Computes the average per-second increase of a counter's samples, reset-aware. */
export function counterRate(samples: readonly (readonly [number, number])[]): number | undefined {
  if (samples.length < 2) return undefined;
  let increase = 0;
  for (let i = 1; i < samples.length; i++) {
    const prev = samples[i - 1][1];
    const cur = samples[i][1];
    // A counter that went down restarted from zero: everything it now holds is new.
    increase += cur >= prev ? cur - prev : cur;
  }
  const seconds = (samples[samples.length - 1][0] - samples[0][0]) / 1000;
  if (seconds <= 0) return undefined;
  return increase / seconds;
}

/** Scrapes exporters directly and serves IOPS computed from the kept samples. */
export class ScrapeIopsSource implements IopsSource {
  readonly #opts: ScrapeSourceOptions;
  readonly #counters: ReadonlySet<string>;
  readonly #label: string;
  readonly #series = new Map<string, Series>();
  readonly #targets = new Map<string, TargetState>();
  /** Malformed lines skipped since start (all targets). */
  skippedLines = 0;
  /** Scrape rounds completed since start. */
  rounds = 0;

  constructor(opts: ScrapeSourceOptions) {
    this.#opts = opts;
    this.#counters = new Set(opts.counters ?? ["volume_num_read_ops", "volume_num_write_ops"]);
    this.#label = opts.volumeLabel ?? "pv_name";
  }

  /** Scrapes every target once, concurrently, stamping samples with the clock's time. */
  async scrapeOnce(signal?: AbortSignal): Promise<ScrapeReport> {
    const at = this.#opts.clock.now();
    const targets = await Promise.all(
      this.#opts.targets.map((url) => this.#scrape(url, at, signal)),
    );
    this.#prune(at);
    this.rounds++;
    return { at, targets };
  }

  /** Scrapes every `intervalMs` until the signal aborts. */
  async run(intervalMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.scrapeOnce(signal);
      try {
        await this.#opts.clock.sleep(intervalMs, signal);
      } catch {
        return;
      }
    }
  }

  /** IOPS per volume over the window ending at `q.at` (default now) from the kept samples. */
  fetchIops(q: IopsQuery): Promise<IopsResult> {
    return Promise.resolve(this.#compute(q));
  }

  #compute(q: IopsQuery): IopsResult {
    const at = q.at ?? this.#opts.clock.now();
    const from = at - q.windowMs;
    const reachable = [...this.#targets.values()].some((t) => t.lastOk);
    if (!reachable) {
      return iopsFailure(
        "Unreachable",
        this.#targets.size === 0
          ? "no scrape has run yet"
          : `every exporter failed its last scrape (${this.#opts.targets.join(", ")})`,
      );
    }
    const maxValue = this.#opts.maxPlausibleIops ?? DEFAULT_MAX_PLAUSIBLE_IOPS;
    const limits = { maxValue, at, windowMs: q.windowMs };
    const tally = new VolumeTally(maxValue);
    const unknown = new Set<string>();
    for (const s of this.#series.values()) {
      const inWindow = s.samples.filter(([t]) => t >= from && t <= at);
      if (inWindow.length === 0 && !s.rejection) continue;
      if (s.rejection) {
        tally.add(s.pv, { ok: false, rejection: s.rejection });
        continue;
      }
      const t = this.#targets.get(s.target);
      const last = s.samples[s.samples.length - 1][0];
      // A series its target no longer serves (or a target that failed) leaves the sum
      // incomplete: the volume is unknown rather than under-counted.
      const fresh = t !== undefined && t.lastOk && t.lastSuccessAt === last;
      const rate = fresh ? counterRate(inWindow) : undefined;
      if (rate === undefined) {
        unknown.add(s.pv);
        continue;
      }
      tally.add(s.pv, judgeValue(rate, rate.toFixed(2), limits, s.stampedAt));
    }
    for (const pv of unknown) tally.iops.delete(pv);
    if (tally.empty) {
      return iopsFailure("NoData", "no volume has two fresh samples in the window yet");
    }
    return resultOfTally(tally, at, `scrape:${[...this.#counters].join("+")}`);
  }

  async #scrape(url: string, at: number, signal?: AbortSignal): Promise<TargetScrape> {
    const state: TargetState = this.#targets.get(url) ?? { lastAttemptAt: at, lastOk: false };
    state.lastAttemptAt = at;
    this.#targets.set(url, state);
    const timeout = AbortSignal.timeout(this.#opts.timeoutMs ?? 5000);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let text: string;
    try {
      const res = await holdWhile(
        this.#opts.clock,
        (this.#opts.fetch ?? fetch)(url, { signal: combined }),
      );
      text = await holdWhile(this.#opts.clock, res.text());
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (e) {
      state.lastOk = false;
      const error = timeout.aborted ? "timeout" : e instanceof Error ? e.message : String(e);
      this.#opts.logger?.warn("exporter scrape failed", { url, error });
      return { url, ok: false, samples: 0, skipped: 0, error };
    }
    const parsed = parseExposition(text);
    this.skippedLines += parsed.skipped;
    if (parsed.skipped > 0) {
      this.#opts.logger?.debug("skipped malformed exposition lines", {
        url,
        skipped: parsed.skipped,
        examples: parsed.skippedExamples,
      });
    }
    let kept = 0;
    for (const s of parsed.samples) {
      if (!this.#counters.has(s.name)) continue;
      const pv = s.labels[this.#label];
      if (!pv) continue;
      const key = seriesKey(url, s.name, s.labels);
      let series = this.#series.get(key);
      if (!series) {
        series = { target: url, pv, samples: [] };
        this.#series.set(key, series);
      }
      const lastT = series.samples.at(-1)?.[0];
      if (lastT !== undefined && lastT >= at) continue; // one sample per series per instant
      // A counter is finite and never negative; one that is not says nothing about the volume.
      const judged = judgeValue(s.value, String(s.value), { maxValue: Infinity, at, windowMs: 0 });
      if (!judged.ok) {
        series.rejection = judged.rejection;
        series.rejectedAt = at;
        continue;
      }
      series.rejection = undefined;
      series.stampedAt = s.timestampMs;
      series.samples.push([at, s.value]);
      kept++;
    }
    state.lastOk = true;
    state.lastSuccessAt = at;
    return { url, ok: true, samples: kept, skipped: parsed.skipped };
  }

  #prune(now: number): void {
    const oldest = now - (this.#opts.retentionMs ?? 3_600_000);
    for (const [key, s] of this.#series) {
      let i = 0;
      while (i < s.samples.length && s.samples[i][0] < oldest) i++;
      if (i > 0) s.samples.splice(0, i);
      if ((s.rejectedAt ?? -Infinity) < oldest) s.rejection = undefined;
      if (s.samples.length === 0 && !s.rejection) this.#series.delete(key);
    }
  }
}

function seriesKey(target: string, name: string, labels: Record<string, string>): string {
  const parts = Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${target}|${name}{${parts.join(",")}}`;
}
