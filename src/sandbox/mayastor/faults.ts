/**
 * API faults of the simulator (test fixtures): answer a status on chosen calls, or hang them.
 * A call is named "METHOD /path" without `/v0` (e.g. "PUT /volumes/<id>/replica_count/3");
 * a rule matches when that name contains `match` (and the method equals `method`, if given).
 * `nth` skips the first nth-1 matching calls; `count` then limits how many it hits.
 */
import { errorForStatus, type SimError } from "./errors.ts";

/** Which calls a rule hits. */
export interface FaultMatch {
  /** Substring of "METHOD /path". */
  match?: string;
  method?: string;
  /** Hit from the n-th matching call on (1-based); default the first. */
  nth?: number;
  /** How many calls to hit; default every one (or 1 when `nth` is given). */
  count?: number;
}

/**
 * Where a hang holds the call: before the control plane sees it, after it acted (the answer is
 * lost), or during the operation, holding the resources' operation guards: meanwhile other
 * calls on a resource it names answer 409 Conflict (`operation_guard_wait` gives up).
 */
export type HangMode = "before" | "after" | "during";

interface Rule extends FaultMatch {
  seen: number;
  hit: number;
}

interface ErrorRule extends Rule {
  status: number;
}

interface HangRule extends Rule {
  mode: HangMode;
}

/** What to do with one call. */
export interface FaultVerdict {
  error?: SimError;
  hang?: HangMode;
}

/** The active API fault rules. */
export class ApiFaults {
  #errors: ErrorRule[] = [];
  #hangs: HangRule[] = [];
  #release: () => void = () => {};
  #gate: Promise<void> = this.#newGate();
  #holding = 0;

  /** The next matching calls answer `status` with the RestJsonError kind api-rest uses for it. */
  addError(status: number, m: FaultMatch = {}): void {
    this.#errors.push({ ...m, status, seen: 0, hit: 0 });
  }

  /** Matching calls hang before the control plane sees them, or after it has acted. */
  addHang(mode: HangMode, m: FaultMatch = {}): void {
    this.#hangs.push({ ...m, mode, seen: 0, hit: 0 });
  }

  /** Stops hanging calls and releases the ones held. */
  clearHangs(): void {
    this.#hangs = [];
    this.#release();
    this.#gate = this.#newGate();
  }

  /** Drops every rule and releases held calls. */
  clear(): void {
    this.#errors = [];
    this.clearHangs();
  }

  /** Holds a hung call until hung calls are released. */
  async hold(): Promise<void> {
    this.#holding++;
    try {
      await this.#gate;
    } finally {
      this.#holding--;
    }
  }

  /** Calls held right now. */
  get holding(): number {
    return this.#holding;
  }

  /** The verdict for one call (rules that hit count it). */
  judge(method: string, path: string): FaultVerdict {
    const name = `${method} ${path}`;
    const out: FaultVerdict = {};
    const e = this.#errors.find((r) => take(r, method, name));
    if (e) out.error = errorForStatus(e.status, `simulated fault: ${e.status} on ${name}`);
    const h = this.#hangs.find((r) => take(r, method, name));
    if (h) out.hang = h.mode;
    this.#errors = this.#errors.filter((r) => !spent(r));
    this.#hangs = this.#hangs.filter((r) => !spent(r));
    return out;
  }

  #newGate(): Promise<void> {
    return new Promise<void>((r) => (this.#release = r));
  }
}

function limit(r: Rule): number {
  return r.count ?? (r.nth !== undefined ? 1 : Infinity);
}

function spent(r: Rule): boolean {
  return r.hit >= limit(r);
}

/** True when the rule hits this call (and records it). */
function take(r: Rule, method: string, name: string): boolean {
  if (spent(r)) return false;
  if (r.method !== undefined && r.method !== method) return false;
  if (r.match !== undefined && !name.includes(r.match)) return false;
  r.seen++;
  if (r.seen < (r.nth ?? 1)) return false;
  r.hit++;
  return true;
}
