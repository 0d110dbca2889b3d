/**
 * Events (events.k8s.io/v1) with de-duplication: an event repeated for the
 * same object, reason and note patches `series.count` of the first one
 * instead of creating another object, as client-go's recorder does.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/log.ts";
import type { KubeClient } from "./client.ts";
import { isNotFound } from "./errors.ts";
import { BuiltinResources, type KubeObject, microTime } from "./resource.ts";

/** The object an event is about. */
export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

/** An events.k8s.io/v1 Event. */
export interface KubeEvent extends KubeObject {
  eventTime: string;
  series?: { count: number; lastObservedTime: string };
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  regarding: ObjectReference;
  note?: string;
  type: "Normal" | "Warning";
}

/** Options of an EventRecorder. */
export interface EventRecorderOptions {
  client: KubeClient;
  clock: Clock;
  logger: Logger;
  /** e.g. "couchestor.io/storage-policy-controller". */
  reportingController: string;
  /** e.g. the pod name. */
  reportingInstance: string;
  /** Namespace for events about cluster-scoped objects (default "default"). */
  defaultNamespace?: string;
  /** How many distinct events are remembered for de-duplication (default 4096). */
  cacheSize?: number;
}

/** What to record. */
export interface EventInput {
  regarding: ObjectReference;
  type: "Normal" | "Warning";
  reason: string;
  action: string;
  note?: string;
}

/** Builds a reference to an object for `regarding`. */
export function referenceTo(obj: KubeObject): ObjectReference {
  const ref: ObjectReference = { name: obj.metadata.name ?? "" };
  if (obj.apiVersion) ref.apiVersion = obj.apiVersion;
  if (obj.kind) ref.kind = obj.kind;
  if (obj.metadata.namespace) ref.namespace = obj.metadata.namespace;
  if (obj.metadata.uid) ref.uid = obj.metadata.uid;
  return ref;
}

/** Writes Events, counting repeats on the existing object. */
export class EventRecorder {
  readonly #o: EventRecorderOptions;
  /** Dedup key → the event we created (insertion order = age, for a cheap LRU). */
  readonly #seen = new Map<string, { namespace: string; name: string; count: number }>();

  constructor(opts: EventRecorderOptions) {
    this.#o = opts;
  }

  /** Records an event; never throws (events are best effort), returns the stored Event if any. */
  async record(ev: EventInput): Promise<KubeEvent | undefined> {
    const { client, clock, logger } = this.#o;
    const r = ev.regarding;
    const key = [r.kind, r.namespace, r.name, r.uid, ev.type, ev.reason, ev.action, ev.note].join(
      "\u0000",
    );
    const namespace = r.namespace || this.#o.defaultNamespace || "default";
    const now = microTime(clock.now());
    const prev = this.#seen.get(key);
    try {
      if (prev) {
        const count = prev.count + 1;
        try {
          const out = await client.patch<KubeEvent>(BuiltinResources.events, prev.name, {
            series: { count, lastObservedTime: now },
          }, { namespace: prev.namespace });
          this.#remember(key, { ...prev, count });
          return out;
        } catch (e) {
          if (!isNotFound(e)) throw e;
          this.#seen.delete(key); // expired by the server: start a new series
        }
      }
      const name = `${r.name}.${clock.now().toString(16)}${randomHex(4)}`;
      const created = await client.create<KubeEvent>(BuiltinResources.events, {
        metadata: { name, namespace },
        eventTime: now,
        reportingController: this.#o.reportingController,
        reportingInstance: this.#o.reportingInstance,
        action: ev.action,
        reason: ev.reason,
        regarding: r,
        note: ev.note?.slice(0, 1024),
        type: ev.type,
      });
      this.#remember(key, { namespace, name, count: 1 });
      return created;
    } catch (e) {
      logger.warn("event not recorded", { reason: ev.reason, error: e });
      return undefined;
    }
  }

  #remember(key: string, v: { namespace: string; name: string; count: number }): void {
    this.#seen.delete(key);
    this.#seen.set(key, v);
    const max = this.#o.cacheSize ?? 4096;
    while (this.#seen.size > max) this.#seen.delete(this.#seen.keys().next().value!);
  }
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}
