/**
 * Shared by the bench scripts: a log of the Mayastor REST calls a process makes, taken by
 * wrapping `globalThis.fetch` (the product's RestClient calls the global `fetch`, so no product
 * code changes), each call tagged with the task that made it (an AsyncLocalStorage run), and
 * the cordon windows read off one task's calls. Not a benchmark.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** One REST call as seen on the wire; times are `performance.now()` ms. */
export interface RestCall {
  /** The task (`CallLog.run`) that made it; undefined outside any. */
  task?: string;
  /** `METHOD /path/{shape}`: the endpoint kind (see `endpointKind`). */
  kind: string;
  status: number;
  startMs: number;
  /** When the answer's headers arrived (the simulator sends small bodies with them). */
  endMs: number;
}

/** api-rest path shapes, most specific first: ids become `{id}`, labels `{label}`. */
const SHAPES: [RegExp, string][] = [
  [/^\/nodes\/[^/]+\/cordon\/[^/]+$/, "/nodes/{id}/cordon/{label}"],
  [/^\/volumes\/[^/]+\/replica_count\/[^/]+$/, "/volumes/{id}/replica_count/{n}"],
  [/^\/nexuses\/[^/]+\/children\/[^/]+$/, "/nexuses/{id}/children/{uri}"],
  [/^\/pools\/[^/]+\/label\/[^/]+$/, "/pools/{id}/label/{label}"],
  [/^\/(volumes|nodes|pools|nexuses|replicas)\/[^/]+$/, "/$1/{id}"],
  [/^\/(volumes|nodes|pools|nexuses|replicas)$/, "/$1"],
];

/** `GET /volumes/{id}` for `GET /volumes/3f…`: the path relative to the `/v0` base, shaped. */
export function endpointKind(method: string, path: string): string {
  const p = path.split("?")[0];
  for (const [re, shape] of SHAPES) {
    if (re.test(p)) return `${method} ${p.replace(re, shape)}`;
  }
  return `${method} ${p}`;
}

/** Records every `fetch` to `baseUrl` while installed. */
export class CallLog {
  readonly calls: RestCall[] = [];
  readonly #task = new AsyncLocalStorage<string>();
  #original?: typeof fetch;

  constructor(readonly baseUrl: string) {}

  /** Wraps `globalThis.fetch`; `uninstall` puts the original back. */
  install(): void {
    const original = (this.#original = globalThis.fetch);
    globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      if (!url.startsWith(this.baseUrl)) return await original(input, init);
      const method = init?.method ?? (input instanceof Request ? input.method : "GET");
      const call = { task: this.#task.getStore(), startMs: performance.now() };
      const res = await original(input, init);
      const kind = endpointKind(method, url.slice(this.baseUrl.length));
      this.calls.push({ ...call, kind, status: res.status, endMs: performance.now() });
      return res;
    };
  }

  /** Restores the original `fetch`. */
  uninstall(): void {
    if (this.#original) globalThis.fetch = this.#original;
    this.#original = undefined;
  }

  /** Runs `f` as task `id`: the calls it makes (awaits and timers included) carry that id. */
  run<T>(id: string, f: () => Promise<T>): Promise<T> {
    return this.#task.run(id, f);
  }

  /** The calls task `id` made, in the order they were answered. */
  of(id: string): RestCall[] {
    return this.calls.filter((c) => c.task === id);
  }
}

/** One cordon window of a replica step, read off the wire. */
export interface WireWindow {
  /** First cordon call sent → last uncordon answered: some node carries our cordon. */
  span: { startMs: number; endMs: number };
  /** Last cordon answered → first uncordon sent: every node but the target is cordoned. */
  fullMs: number;
  /** The task's calls sent in the full window (the protocol wants one: `replica_count`). */
  callsInside: string[];
}

const CORDON = "PUT /nodes/{id}/cordon/{label}";
const UNCORDON = "DELETE /nodes/{id}/cordon/{label}";

/**
 * The cordon windows in one task's calls: a run of cordons, the calls in between, then a run of
 * uncordons. An uncordon before any cordon (clearing a stale label) opens no window.
 */
export function wireWindows(calls: readonly RestCall[]): WireWindow[] {
  const out: WireWindow[] = [];
  let open: { start: number; full: number; inside: string[]; closing?: WireWindow } | undefined;
  for (const c of [...calls].sort((a, b) => a.startMs - b.startMs)) {
    if (c.kind === CORDON && !open?.closing) {
      open = { start: open?.start ?? c.startMs, full: c.endMs, inside: [] };
    } else if (c.kind === UNCORDON && open) {
      open.closing ??= {
        span: { startMs: open.start, endMs: c.endMs },
        fullMs: c.startMs - open.full,
        callsInside: open.inside,
      };
      open.closing.span.endMs = c.endMs;
    } else if (open?.closing) {
      out.push(open.closing);
      open = undefined;
    } else if (open) {
      open.inside.push(c.kind);
    }
  }
  if (open?.closing) out.push(open.closing);
  return out;
}

/** Pairs of spans (of different tasks' windows) that overlap in time. */
export function overlaps(spans: readonly { startMs: number; endMs: number }[]): number {
  const s = [...spans].sort((a, b) => a.startMs - b.startMs);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    for (let j = i + 1; j < s.length && s[j].startMs < s[i].endMs; j++) n++;
  }
  return n;
}
