/**
 * Controller: informers feed keys into a WorkQueue; bounded workers run the
 * reconcile function, one key at a time per key; failures back off per key;
 * `requeueAfter` schedules the next run. A run is bound to an AbortSignal
 * (e.g. leadership): when it aborts no new reconcile starts and the running
 * ones see the signal.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/log.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Informer } from "./informer.ts";
import { type KubeObject, objectKey } from "./resource.ts";
import { WorkQueue } from "./workqueue.ts";

/** What a reconcile gets besides its key. */
export interface ReconcileContext {
  /** Aborted when the controller stops (shutdown or lost leadership): stop writing. */
  signal: AbortSignal;
  /** How many times this key failed in a row before this run. */
  retries: number;
  logger: Logger;
  clock: Clock;
}

/** What a reconcile returns: nothing, or when to look again. */
export type ReconcileResult = void | { requeueAfter?: number };

/** The reconcile function: converge the object named by `key`; throw to retry with backoff. */
export type ReconcileFn = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult>;

/** Options of a Controller. */
export interface ControllerOptions {
  /** Name used in logs and metric labels. */
  name: string;
  reconcile: ReconcileFn;
  clock: Clock;
  logger: Logger;
  /** Metric families to record into. */
  metrics?: Pick<Metrics, "reconcilesTotal" | "reconcileDuration">;
  /** Parallel workers (default 1). */
  concurrency?: number;
  /** Backoff bounds (defaults 5 ms and 1000 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** Maps a changed object to the keys to reconcile (default: its own key). */
export type KeyMapper<T> = (obj: T) => string[];

/** Decides whether a change is worth a reconcile (`oldObj` undefined for adds and deletes). */
export type ChangePredicate<T> = (oldObj: T | undefined, newObj: T) => boolean;

/** How a watched informer feeds the controller. */
export interface SourceOptions<T> {
  /** Keys to reconcile for a changed object (default: its own key). */
  map?: KeyMapper<T>;
  /** Filter of updates (default: every change). */
  predicate?: ChangePredicate<T>;
}

/**
 * Passes adds, deletes and updates that changed metadata.generation (spec) or
 * deletionTimestamp — so a controller's own status writes do not re-trigger it.
 */
export function generationChanged<T extends KubeObject>(oldObj: T | undefined, newObj: T): boolean {
  if (!oldObj) return true;
  return oldObj.metadata.generation !== newObj.metadata.generation ||
    oldObj.metadata.deletionTimestamp !== newObj.metadata.deletionTimestamp;
}

/** Runs a reconcile function over keys coming from informers. */
export class Controller {
  readonly #o: ControllerOptions;
  readonly #sources: { informer: Informer<KubeObject>; map: KeyMapper<KubeObject> }[] = [];
  #queue?: WorkQueue;

  constructor(opts: ControllerOptions) {
    this.#o = opts;
  }

  /** Feeds the keys of an informer's changes (mapped and filtered by `opts`) into this controller. */
  watch<T extends KubeObject>(informer: Informer<T>, opts: SourceOptions<T> = {}): this {
    const m = opts.map ?? ((o: T) => [objectKey(o)]);
    const pass = opts.predicate ?? (() => true);
    // Stored type-erased: the sources list holds informers of different kinds.
    const src = {
      informer: informer as unknown as Informer<KubeObject>,
      map: m as KeyMapper<KubeObject>,
    };
    this.#sources.push(src);
    const enqueue = (oldObj: T | undefined, o: T) => {
      if (!pass(oldObj, o)) return;
      for (const k of m(o)) this.#queue?.add(k);
    };
    informer.addHandler({
      onAdd: (o) => enqueue(undefined, o),
      onUpdate: (oldObj, o) => enqueue(oldObj, o),
      onDelete: (o) => enqueue(undefined, o),
    });
    return this;
  }

  /** Queues a key by hand (e.g. from a timer or another controller). */
  enqueue(key: string, afterMs = 0): void {
    this.#queue?.addAfter(key, afterMs);
  }

  /** The current run's queue (undefined when not running). */
  get queue(): WorkQueue | undefined {
    return this.#queue;
  }

  /**
   * Waits for the informers to sync, queues every cached key, then reconciles
   * until `signal` aborts; resolves once running reconciles have returned.
   */
  async run(signal: AbortSignal): Promise<void> {
    const { clock, logger, name } = this.#o;
    if (signal.aborted) return;
    const queue = new WorkQueue({
      clock,
      baseDelayMs: this.#o.baseDelayMs,
      maxDelayMs: this.#o.maxDelayMs,
    });
    this.#queue = queue;
    const stop = () => queue.shutDown();
    signal.addEventListener("abort", stop, { once: true });
    try {
      try {
        await Promise.all(this.#sources.map((s) => s.informer.waitForSync(signal)));
      } catch {
        return; // aborted before the caches synced
      }
      for (const s of this.#sources) {
        for (const o of s.informer.store.list()) for (const k of s.map(o)) queue.add(k);
      }
      logger.info("controller started", { controller: name });
      const workers = Array.from(
        { length: Math.max(1, this.#o.concurrency ?? 1) },
        () => this.#worker(queue, signal),
      );
      await Promise.all(workers);
      await queue.shutDownWithDrain();
      logger.info("controller stopped", { controller: name });
    } finally {
      signal.removeEventListener("abort", stop);
      queue.shutDown();
      if (this.#queue === queue) this.#queue = undefined;
    }
  }

  async #worker(queue: WorkQueue, signal: AbortSignal): Promise<void> {
    const { clock, logger, name, metrics } = this.#o;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      // Metric durations are real elapsed time, not the injected clock (which tests freeze).
      const started = performance.now();
      let result: "success" | "error" | "requeue" = "success";
      try {
        const out = await this.#o.reconcile(key, {
          signal,
          retries: queue.numRequeues(key),
          logger: logger.child(name, { key }),
          clock,
        });
        queue.forget(key);
        if (out && out.requeueAfter !== undefined && out.requeueAfter >= 0) {
          result = "requeue";
          queue.addAfter(key, out.requeueAfter);
        }
      } catch (e) {
        result = "error";
        if (!signal.aborted) {
          logger.warn("reconcile failed; retrying with backoff", {
            controller: name,
            key,
            retries: queue.numRequeues(key),
            error: e,
          });
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
        metrics?.reconcilesTotal.inc({ controller: name, result });
        metrics?.reconcileDuration.observe(
          { controller: name },
          (performance.now() - started) / 1000,
        );
      }
    }
  }
}
