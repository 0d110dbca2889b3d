/**
 * Process lifecycle: components start with one AbortSignal; on SIGTERM/SIGINT the signal
 * aborts (stop taking work), stop hooks run in phases — drain (in-flight work reaches a safe
 * point), release (leadership), close (servers) — and the process exits 0, or 1 when the
 * deadline passes, a hook fails, or a component reported a fatal error.
 */
import type { Clock } from "./clock.ts";
import { formatDuration } from "./config/duration.ts";
import type { Logger } from "./observability/log.ts";

/** A long-running part of the operator (controller, leader elector, readiness check …). */
export interface Component {
  /** Unique name, used in logs and as the readiness entry when it registers one. */
  name: string;
  /** Starts the work and resolves once running; stop taking new work when `signal` aborts. */
  start(signal: AbortSignal): Promise<void>;
  /** Called after the signal aborted; resolves when in-flight work reached a safe point. */
  stop(): Promise<void>;
  /** When its stop hook runs; "drain" unless it holds leadership ("release"). */
  stopPhase?: StopPhase;
}

/** A long-running part of the operator as the manager (src/app/manager.ts) runs it. */
export interface Runnable {
  name: string;
  /** True: runs only while this process leads; false: always (caches that only read). */
  leaderOnly: boolean;
  /** Runs until `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
}

/** Stop hooks run phase by phase, hooks of one phase concurrently. */
export type StopPhase = "drain" | "release" | "close";

const PHASES: StopPhase[] = ["drain", "release", "close"];

/** Options for Lifecycle. */
export interface LifecycleOptions {
  clock: Clock;
  logger: Logger;
  /** Hard deadline for the whole shutdown; exit status 1 when it passes. */
  deadlineMs: number;
}

interface Hook {
  name: string;
  phase: StopPhase;
  run: () => Promise<void>;
}

/** Owns the stop signal, the stop hooks and the exit status. */
export class Lifecycle {
  readonly #opts: LifecycleOptions;
  readonly #abort = new AbortController();
  #hooks: Hook[] = [];
  #shutdown?: Promise<number>;
  #fatal = false;
  #resolveDone!: (code: number) => void;
  /** Resolves with the exit status once shutdown finished (or was abandoned). */
  readonly done: Promise<number>;

  constructor(opts: LifecycleOptions) {
    this.#opts = opts;
    this.done = new Promise((r) => (this.#resolveDone = r));
  }

  /** Aborts when shutdown begins: stop taking new work. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Registers an async hook to run at shutdown in the given phase. */
  onStop(name: string, run: () => Promise<void>, phase: StopPhase = "drain"): void {
    this.#hooks.push({ name, phase, run });
  }

  /** A component failed beyond recovery: shut down and exit 1. */
  fatal(name: string, err: unknown): Promise<number> {
    this.#opts.logger.error("component failed; shutting down", { component: name, err });
    this.#fatal = true;
    return this.shutdown(`${name} failed`);
  }

  /** Begins shutdown (once; later calls return the same promise) and resolves with the status. */
  shutdown(reason: string): Promise<number> {
    this.#shutdown ??= this.#runShutdown(reason).then((code) => {
      this.#resolveDone(code);
      return code;
    });
    return this.#shutdown;
  }

  /** Gives up waiting (e.g. a second SIGTERM): `done` resolves with 1 at once. */
  abandon(reason: string): void {
    this.#opts.logger.error("shutdown abandoned", { reason });
    this.#resolveDone(1);
  }

  async #runShutdown(reason: string): Promise<number> {
    const { clock, logger, deadlineMs } = this.#opts;
    logger.info("shutting down", { reason, deadline: formatDuration(deadlineMs) });
    this.#abort.abort(new Error(`shutdown: ${reason}`));
    const pending = new Set<string>();
    let failed = false;
    const work = (async () => {
      for (const phase of PHASES) {
        const hooks = this.#hooks.filter((h) => h.phase === phase);
        await Promise.all(hooks.map(async (h) => {
          pending.add(h.name);
          try {
            await h.run();
          } catch (err) {
            failed = true;
            logger.error("stop hook failed", { hook: h.name, phase, err });
          } finally {
            pending.delete(h.name);
          }
        }));
      }
    })();
    const timer = new AbortController();
    const deadline = clock.sleep(deadlineMs, timer.signal).then(
      () => "deadline" as const,
      () => {},
    );
    const winner = await Promise.race([work.then(() => "done" as const), deadline]);
    timer.abort();
    if (winner === "deadline") {
      logger.error("shutdown deadline exceeded; exiting 1", {
        deadline: formatDuration(deadlineMs),
        waitingFor: [...pending],
      });
      return 1;
    }
    const code = failed || this.#fatal ? 1 : 0;
    logger.info("stopped", { exitCode: code });
    return code;
  }
}

/**
 * Starts components in order; a start failure is fatal. Each stop hook is registered before
 * its start so a signal arriving mid-start still stops the component, after the start settles.
 */
export async function startComponents(
  components: Component[],
  lifecycle: Lifecycle,
  logger: Logger,
): Promise<boolean> {
  for (const c of components) {
    if (lifecycle.signal.aborted) return false;
    const started = c.start(lifecycle.signal);
    lifecycle.onStop(c.name, async () => {
      if (await started.then(() => true, () => false)) await c.stop();
    }, c.stopPhase ?? "drain");
    try {
      await started;
    } catch (err) {
      await lifecycle.fatal(c.name, err);
      return false;
    }
    logger.debug("component started", { name: c.name });
  }
  return true;
}

/** Adds and removes OS signal listeners (Deno's by default; injectable for tests). */
export interface SignalSource {
  add(sig: Deno.Signal, fn: () => void): void;
  remove(sig: Deno.Signal, fn: () => void): void;
}

/** The real process signals. */
export const denoSignals: SignalSource = {
  add: (sig, fn) => Deno.addSignalListener(sig, fn),
  remove: (sig, fn) => Deno.removeSignalListener(sig, fn),
};

/** SIGTERM/SIGINT begin shutdown; a second one abandons it. Returns a function removing them. */
export function handleSignals(
  lifecycle: Lifecycle,
  logger: Logger,
  signals: SignalSource = denoSignals,
): () => void {
  let seen = 0;
  const on = (sig: Deno.Signal) => () => {
    seen++;
    if (seen === 1) void lifecycle.shutdown(`received ${sig}`);
    else lifecycle.abandon(`received ${sig} again`);
  };
  const listeners = (["SIGTERM", "SIGINT"] as const).map((sig) => [sig, on(sig)] as const);
  for (const [sig, fn] of listeners) signals.add(sig, fn);
  logger.debug("signal handlers installed");
  return () => {
    for (const [sig, fn] of listeners) signals.remove(sig, fn);
  };
}
