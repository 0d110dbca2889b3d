/** Fault injection for tests: failing requests, latency, dropped watches, forced compaction. */
import { z } from "zod";

/** A rule that answers matching requests with an error status. */
export interface FailRule {
  id: number;
  status: 429 | 500 | 503 | 504;
  /** Requests left to fail; `undefined` fails until cleared. */
  remaining?: number;
  /** A RegExp source matched against the request path plus query (absent = every request). */
  pathPattern?: string;
  /** HTTP methods this applies to (upper case); empty = all. */
  methods?: string[];
}

/** A rule that delays matching requests. */
export interface LatencyRule {
  id: number;
  ms: number;
  pathPattern?: string;
  methods?: string[];
}

/** Body of `POST /sandbox/faults`. */
export const FaultRequestSchema = z.discriminatedUnion("action", [
  z.object({
    action: z.literal("fail"),
    status: z.union([z.literal(429), z.literal(500), z.literal(503), z.literal(504)]),
    count: z.number().int().positive().optional(),
    pathPattern: z.string().optional(),
    methods: z.array(z.string()).optional(),
  }),
  z.object({
    action: z.literal("latency"),
    ms: z.number().int().nonnegative(),
    pathPattern: z.string().optional(),
    methods: z.array(z.string()).optional(),
  }),
  z.object({ action: z.literal("closeWatches") }),
  z.object({ action: z.literal("compact"), resourceVersion: z.number().int().optional() }),
  z.object({ action: z.literal("clear") }),
]);

/** A parsed fault request. */
export type FaultRequest = z.infer<typeof FaultRequestSchema>;

/** What the server must do to one request. */
export interface FaultDecision {
  status?: number;
  delayMs: number;
}

/** The live fault configuration, shared by the HTTP layer and tests. */
export class Faults {
  #seq = 0;
  #fail: FailRule[] = [];
  #latency: LatencyRule[] = [];
  #closeWatches: () => number;
  #compact: (rv?: number) => number;

  constructor(hooks: { closeWatches: () => number; compact: (rv?: number) => number }) {
    this.#closeWatches = hooks.closeWatches;
    this.#compact = hooks.compact;
  }

  /** Fails the next `count` matching requests (all of them while set, without count). */
  fail(
    status: FailRule["status"],
    opts: { count?: number; pathPattern?: string; methods?: string[] } = {},
  ): number {
    const id = ++this.#seq;
    this.#fail.push({
      id,
      status,
      remaining: opts.count,
      pathPattern: opts.pathPattern,
      methods: opts.methods?.map((m) => m.toUpperCase()),
    });
    return id;
  }

  /** Adds `ms` of latency to matching requests. */
  latency(ms: number, opts: { pathPattern?: string; methods?: string[] } = {}): number {
    const id = ++this.#seq;
    this.#latency.push({
      id,
      ms,
      pathPattern: opts.pathPattern,
      methods: opts.methods?.map((m) => m.toUpperCase()),
    });
    return id;
  }

  /** Ends every open watch stream (clients see a normal end of stream); returns how many. */
  closeWatches(): number {
    return this.#closeWatches();
  }

  /** Forgets watch history up to `rv` (default: now) so older resourceVersions get 410 Gone. */
  compact(rv?: number): number {
    return this.#compact(rv);
  }

  /** Removes every rule. */
  clear(): void {
    this.#fail = [];
    this.#latency = [];
  }

  /** The active rules. */
  list(): { fail: FailRule[]; latency: LatencyRule[] } {
    return {
      fail: this.#fail.map((r) => ({ ...r })),
      latency: this.#latency.map((r) => ({ ...r })),
    };
  }

  /** Applies a request from the admin endpoint. */
  apply(req: FaultRequest): Record<string, unknown> {
    switch (req.action) {
      case "fail":
        return {
          id: this.fail(req.status, {
            count: req.count,
            pathPattern: req.pathPattern,
            methods: req.methods,
          }),
        };
      case "latency":
        return { id: this.latency(req.ms, { pathPattern: req.pathPattern, methods: req.methods }) };
      case "closeWatches":
        return { closed: this.closeWatches() };
      case "compact":
        return { compactedResourceVersion: String(this.compact(req.resourceVersion)) };
      case "clear":
        this.clear();
        return {};
    }
  }

  /** Decides the fault for one request (consumes one count of a matching fail rule). */
  decide(method: string, path: string): FaultDecision {
    const hit = (r: { pathPattern?: string; methods?: string[] }) =>
      (!r.methods || r.methods.length === 0 || r.methods.includes(method)) &&
      (!r.pathPattern || new RegExp(r.pathPattern).test(path));
    let delayMs = 0;
    for (const r of this.#latency) if (hit(r)) delayMs = Math.max(delayMs, r.ms);
    for (const r of this.#fail) {
      if (!hit(r)) continue;
      if (r.remaining !== undefined) {
        r.remaining--;
        if (r.remaining <= 0) this.#fail = this.#fail.filter((x) => x !== r);
      }
      return { status: r.status, delayMs };
    }
    return { delayMs };
  }
}
