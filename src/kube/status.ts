/** Status writes that survive concurrent writers: re-read and retry on 409 Conflict. */
import type { Clock } from "../clock.ts";
import type { KubeClient } from "./client.ts";
import { isConflict } from "./errors.ts";
import type { KubeObject, ResourceRef } from "./resource.ts";

/** Options of updateStatusWithRetry. */
export interface StatusRetryOptions {
  namespace?: string;
  clock: Clock;
  /** Attempts before the last Conflict is thrown (default 5). */
  attempts?: number;
  /** Pause between attempts, doubled each time (default 10 ms). */
  backoffMs?: number;
  signal?: AbortSignal;
}

/**
 * Reads the object, lets `mutate` compute its new status (return undefined to
 * skip the write when nothing changed) and writes it with the read
 * resourceVersion; a 409 repeats the read-mutate-write cycle.
 */
export async function updateStatusWithRetry<T extends KubeObject>(
  client: KubeClient,
  res: ResourceRef,
  name: string,
  mutate: (current: T) => T["status"] | undefined,
  opts: StatusRetryOptions,
): Promise<T> {
  const attempts = opts.attempts ?? 5;
  let delay = opts.backoffMs ?? 10;
  for (let i = 1;; i++) {
    const current = await client.get<T>(res, name, {
      namespace: opts.namespace,
      signal: opts.signal,
    });
    const status = mutate(current);
    if (status === undefined) return current;
    try {
      return await client.updateStatus<T>(res, { ...current, status }, {
        namespace: opts.namespace,
        signal: opts.signal,
      });
    } catch (e) {
      if (!isConflict(e) || i >= attempts) throw e;
      await opts.clock.sleep(delay, opts.signal);
      delay *= 2;
    }
  }
}
