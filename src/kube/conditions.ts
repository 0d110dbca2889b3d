/**
 * Status conditions, kept one per type (a map by `type`) with the Kubernetes
 * rule that `lastTransitionTime` moves only when `status` changes. Pure: the
 * current time is passed in.
 */
import { z } from "zod";

/** A condition as it appears in `status.conditions` (metav1.Condition). */
export const ConditionSchema = z.object({
  type: z.string(),
  status: z.enum(["True", "False", "Unknown"]),
  reason: z.string().default(""),
  message: z.string().default(""),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().optional(),
});
/** One condition. */
export type Condition = z.infer<typeof ConditionSchema>;

/** What a controller states about a condition; the transition time is derived. */
export type ConditionUpdate = Omit<Condition, "lastTransitionTime">;

/** Conditions by type. */
export type ConditionMap = Map<string, Condition>;

/** Builds the map from a `status.conditions` list (later duplicates of a type win). */
export function conditionsToMap(list: readonly Condition[] | undefined): ConditionMap {
  const m: ConditionMap = new Map();
  for (const c of list ?? []) m.set(c.type, c);
  return m;
}

/** Renders the map as a list sorted by type, for a stable, diff-friendly `status.conditions`. */
export function mapToConditions(map: ConditionMap): Condition[] {
  return [...map.values()].sort((a, b) => a.type < b.type ? -1 : a.type > b.type ? 1 : 0);
}

/**
 * Sets one condition; `lastTransitionTime` is `now` when the status changed
 * (or the type is new) and kept otherwise. Returns a new list; the input is not changed.
 */
export function setCondition(
  list: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date,
): Condition[] {
  const map = conditionsToMap(list);
  const prev = map.get(update.type);
  const lastTransitionTime = prev && prev.status === update.status
    ? prev.lastTransitionTime
    : now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message,
    lastTransitionTime,
  };
  if (update.observedGeneration !== undefined) {
    next.observedGeneration = update.observedGeneration;
  }
  map.set(update.type, next);
  return mapToConditions(map);
}

/** Removes the condition of `type`. */
export function removeCondition(list: readonly Condition[] | undefined, type: string): Condition[] {
  const map = conditionsToMap(list);
  map.delete(type);
  return mapToConditions(map);
}

/** The condition of `type`, if present. */
export function findCondition(
  list: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditionsToMap(list).get(type);
}

/** True when the condition of `type` has status "True". */
export function isConditionTrue(list: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(list, type)?.status === "True";
}

/** True when both lists state the same conditions (ignores order). */
export function conditionsEqual(
  a: readonly Condition[] | undefined,
  b: readonly Condition[] | undefined,
): boolean {
  return JSON.stringify(mapToConditions(conditionsToMap(a))) ===
    JSON.stringify(mapToConditions(conditionsToMap(b)));
}
