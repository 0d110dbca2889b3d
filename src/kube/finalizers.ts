/**
 * Finalizers: add/remove with an optimistic-concurrency patch, and the
 * reconcile shape "on deletionTimestamp run cleanup, then drop our finalizer".
 */
import type { KubeClient } from "./client.ts";
import type { KubeObject, ResourceRef } from "./resource.ts";

/** True when `obj` carries `finalizer`. */
export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata.finalizers?.includes(finalizer) ?? false;
}

/** True when deletion was requested (the object lingers only for its finalizers). */
export function isBeingDeleted(obj: KubeObject): boolean {
  return !!obj.metadata.deletionTimestamp;
}

async function setFinalizers<T extends KubeObject>(
  client: KubeClient,
  res: ResourceRef,
  obj: T,
  finalizers: string[],
  signal?: AbortSignal,
): Promise<T> {
  // resourceVersion in a merge patch makes the server reject it (409) if the list changed meanwhile.
  return await client.patch<T>(res, obj.metadata.name!, {
    metadata: { finalizers, resourceVersion: obj.metadata.resourceVersion },
  }, { namespace: obj.metadata.namespace, signal });
}

/** Adds `finalizer` if missing; returns the updated object (or `obj` unchanged). */
export async function addFinalizer<T extends KubeObject>(
  client: KubeClient,
  res: ResourceRef,
  obj: T,
  finalizer: string,
  signal?: AbortSignal,
): Promise<T> {
  if (hasFinalizer(obj, finalizer)) return obj;
  return await setFinalizers(
    client,
    res,
    obj,
    [...(obj.metadata.finalizers ?? []), finalizer],
    signal,
  );
}

/** Removes `finalizer` if present; returns the updated object (or `obj` unchanged). */
export async function removeFinalizer<T extends KubeObject>(
  client: KubeClient,
  res: ResourceRef,
  obj: T,
  finalizer: string,
  signal?: AbortSignal,
): Promise<T> {
  if (!hasFinalizer(obj, finalizer)) return obj;
  return await setFinalizers(
    client,
    res,
    obj,
    (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer),
    signal,
  );
}

/** What happened in `reconcileWithFinalizer`. */
export type FinalizerOutcome<R> =
  | { kind: "applied"; result: R }
  | { kind: "cleaned-up" }
  | { kind: "gone" };

/**
 * Runs `apply` on a live object after making sure it carries our finalizer, or,
 * once deletion was requested, runs `cleanup` and then removes the finalizer.
 * A cleanup that throws keeps the finalizer, so it is retried.
 */
export async function reconcileWithFinalizer<T extends KubeObject, R>(
  client: KubeClient,
  res: ResourceRef,
  obj: T,
  finalizer: string,
  handlers: { apply(obj: T): Promise<R>; cleanup(obj: T): Promise<void> },
  signal?: AbortSignal,
): Promise<FinalizerOutcome<R>> {
  if (isBeingDeleted(obj)) {
    if (!hasFinalizer(obj, finalizer)) return { kind: "gone" };
    await handlers.cleanup(obj);
    await removeFinalizer(client, res, obj, finalizer, signal);
    return { kind: "cleaned-up" };
  }
  const withFin = await addFinalizer(client, res, obj, finalizer, signal);
  return { kind: "applied", result: await handlers.apply(withFin) };
}
