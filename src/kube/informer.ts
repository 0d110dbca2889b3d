/**
 * Informer = watcher + reflector (kube-runtime / client-go): list, then watch
 * from the list's resourceVersion with bookmarks; reconnect with backoff;
 * relist on 410 Gone, diffing the new list against the cache so handlers see
 * no missed and no duplicated update.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/log.ts";
import type { KubeClient } from "./client.ts";
import { isGone } from "./errors.ts";
import { type KubeObject, objectKey, type ResourceRef } from "./resource.ts";
import { type IndexFunc, Store } from "./store.ts";

/** Callbacks for cache changes. */
export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

/** Options of an Informer. */
export interface InformerOptions<T extends KubeObject> {
  client: KubeClient;
  resource: ResourceRef;
  clock: Clock;
  logger: Logger;
  /** Watch one namespace (default all). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Secondary indexes of the cache. */
  indexers?: Record<string, IndexFunc<T>>;
  /** Applied to each object before caching (e.g. drop managedFields to save memory). */
  transform?: (obj: T) => T;
  /** List page size (default 500). */
  pageSize?: number;
  /** Server-side watch timeout per connection (default 300 s). */
  watchTimeoutSeconds?: number;
  /** Reconnect backoff after errors: first delay (default 800 ms) and cap (default 30 s). */
  backoff?: { initialMs?: number; maxMs?: number };
}

/** Drops `metadata.managedFields`, which is large and never read by a controller. */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata.managedFields === undefined) return obj;
  const { managedFields: _drop, ...meta } = obj.metadata;
  return { ...obj, metadata: meta };
}

/** A cache of one resource kept in step with the API server. */
export class Informer<T extends KubeObject> {
  /** The indexed cache. */
  readonly store: Store<T>;
  readonly #o: InformerOptions<T>;
  readonly #handlers: InformerHandlers<T>[] = [];
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #rv: string | undefined;
  /** Counters, for tests and benchmarks. */
  readonly stats = { lists: 0, watches: 0, relistsOn410: 0, events: 0, errors: 0 };

  constructor(opts: InformerOptions<T>) {
    this.#o = opts;
    this.store = new Store<T>(opts.indexers);
  }

  /** Registers handlers; objects already cached are replayed to them as adds. */
  addHandler(h: InformerHandlers<T>): void {
    this.#handlers.push(h);
    if (h.onAdd) { for (const o of this.store.list()) h.onAdd(o); }
  }

  /** True once the first list has been applied to the cache. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves when the cache has synced (or the signal aborts, rejecting). */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      this.#syncWaiters.push(resolve);
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  }

  /** The last resourceVersion seen (list, event or bookmark). */
  get resourceVersion(): string | undefined {
    return this.#rv;
  }

  /** Lists and watches until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { clock, logger } = this.#o;
    const initial = this.#o.backoff?.initialMs ?? 800;
    const max = this.#o.backoff?.maxMs ?? 30_000;
    let delay = initial;
    const pause = async () => {
      await clock.sleep(delay, signal).catch(() => {});
      delay = Math.min(delay * 2, max);
    };
    while (!signal.aborted) {
      if (this.#rv === undefined) {
        try {
          await this.#relist(signal);
          delay = initial;
        } catch (e) {
          if (signal.aborted) break;
          this.stats.errors++;
          logger.warn("list failed; retrying", { resource: this.#o.resource.plural, error: e });
          await pause();
          continue;
        }
      }
      let received = 0;
      try {
        this.stats.watches++;
        for await (
          const ev of this.#o.client.watch<T>(this.#o.resource, {
            namespace: this.#o.namespace,
            labelSelector: this.#o.labelSelector,
            fieldSelector: this.#o.fieldSelector,
            resourceVersion: this.#rv,
            allowWatchBookmarks: true,
            timeoutSeconds: this.#o.watchTimeoutSeconds ?? 300,
            signal,
          })
        ) {
          received++;
          this.stats.events++;
          const rv = ev.object.metadata.resourceVersion;
          if (ev.type !== "BOOKMARK") this.#apply(ev.type, ev.object);
          if (rv) this.#rv = rv;
        }
        if (received > 0) delay = initial;
        else await pause(); // a watch that closes at once must not spin
      } catch (e) {
        if (signal.aborted) break;
        if (isGone(e)) {
          this.stats.relistsOn410++;
          logger.info("watch version expired; relisting", { resource: this.#o.resource.plural });
          this.#rv = undefined;
          continue;
        }
        this.stats.errors++;
        logger.warn("watch failed; reconnecting", { resource: this.#o.resource.plural, error: e });
        await pause();
      }
    }
  }

  async #relist(signal: AbortSignal): Promise<void> {
    this.stats.lists++;
    const { items, resourceVersion } = await this.#o.client.listAll<T>(this.#o.resource, {
      namespace: this.#o.namespace,
      labelSelector: this.#o.labelSelector,
      fieldSelector: this.#o.fieldSelector,
      limit: this.#o.pageSize ?? 500,
      signal,
    });
    const seen = new Set<string>();
    for (const raw of items) {
      seen.add(objectKey(raw));
      this.#apply("MODIFIED", raw);
    }
    for (const key of this.store.keys()) {
      if (seen.has(key)) continue;
      const gone = this.store.remove(key)!;
      this.#emit((h) => h.onDelete?.(gone));
    }
    this.#rv = resourceVersion;
    if (!this.#synced) {
      this.#synced = true;
      for (const w of this.#syncWaiters.splice(0)) w();
    }
  }

  #apply(type: "ADDED" | "MODIFIED" | "DELETED", raw: T): void {
    const obj = this.#o.transform ? this.#o.transform(raw) : raw;
    const key = objectKey(obj);
    const prev = this.store.get(key);
    if (type === "DELETED") {
      if (!prev) return;
      this.store.remove(key);
      this.#emit((h) => h.onDelete?.(obj));
      return;
    }
    // The same version seen again (replayed after a reconnect or a relist) is not an update.
    if (prev && prev.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    this.store.upsert(obj);
    if (prev) this.#emit((h) => h.onUpdate?.(prev, obj));
    else this.#emit((h) => h.onAdd?.(obj));
  }

  #emit(f: (h: InformerHandlers<T>) => void): void {
    for (const h of this.#handlers) {
      try {
        f(h);
      } catch (e) {
        this.#o.logger.error("informer handler threw", { error: e });
      }
    }
  }
}
