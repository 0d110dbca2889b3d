/**
 * Building blocks every CoucheStor resource reuses: API group constants,
 * Kubernetes ObjectMeta, Condition and LabelSelector, duration and timestamp
 * strings, and the DiskPool tier label.
 */
import { z } from "zod";
import { isDuration } from "../config/duration.ts";
import { withRules } from "./rules.ts";

/** API group of CoucheStor's own resources. */
export const API_GROUP = "storage.billyronks.io";
/** The one served and stored version. */
export const API_VERSION = "v1";
/** `apiVersion` field value of CoucheStor resources. */
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;
/** `kubectl get couchestor` lists every CoucheStor resource. */
export const CATEGORY = "couchestor";

/** Label on a Mayastor DiskPool naming its storage tier; the default pool selectors match it. */
export const TIER_LABEL_KEY = "storage.billyronks.io/tier";
/** The storage tiers, fastest first. */
export const TIERS = ["hot", "warm", "cold"] as const;
/** A storage tier. */
export const TierSchema = z.enum(TIERS).describe(
  "Storage tier: hot (NVMe), warm (SSD), cold (HDD).",
);

/**
 * Pattern that accepts exactly what `isDuration` accepts; the CRD needs the
 * regex text, and a test checks the two agree.
 */
export const DURATION_PATTERN = "^(?:\\d+(?:\\.\\d+)?(?:ms|s|m|h|d))+$";

/** A Go-style duration string (`90s`, `30m`, `1h30m`, `7d`) checked by `isDuration`. */
export function durationString(): z.ZodString {
  return z.string().refine(isDuration, {
    message: "must be a duration such as 90s, 30m, 1h30m or 7d (units ms, s, m, h, d)",
  }).meta({ pattern: DURATION_PATTERN });
}

/** An RFC 3339 timestamp as Kubernetes writes it (`2026-11-26T23:00:00Z`). */
export function timestamp(): z.ZodISODateTime {
  return z.iso.datetime({ offset: true });
}

/**
 * A list of at most `max` items. zod's own `.max()` also runs on a value that is not a list
 * (a string's length), naming the field twice; this bound runs only on a real list.
 */
export function boundedList<T extends z.ZodType>(item: T, max: number, what: string) {
  return z.array(item).superRefine((list, ctx) => {
    if (list.length > max) {
      ctx.addIssue({ code: "custom", message: `at most ${max} ${what}, got ${list.length}` });
    }
  }, { when: (payload) => payload.issues.length === 0 }).meta({ maxItems: max });
}

/** A non-negative integer that fits in int64 and a JS number without loss. */
export function count(): z.ZodNumber {
  return z.number().int().min(0);
}

/** A Kubernetes object name (DNS subdomain, RFC 1123). */
export function objectName(): z.ZodString {
  return z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
}

/** Owner reference: enough of it for garbage collection and for tracing an object to its owner. */
export const OwnerReferenceSchema = z.looseObject({
  apiVersion: z.string().describe("API version of the owner."),
  kind: z.string().describe("Kind of the owner."),
  name: z.string().describe("Name of the owner."),
  uid: z.string().describe("UID of the owner."),
  controller: z.boolean().optional().describe("True when the owner is the managing controller."),
  blockOwnerDeletion: z.boolean().optional().describe("Foreground deletion waits for this object."),
}).describe("A reference to the object that owns this one.");

/**
 * Kubernetes ObjectMeta: the fields CoucheStor reads or writes; other fields
 * (managedFields and the like) pass through untouched.
 */
export const ObjectMetaSchema = z.looseObject({
  name: z.string().optional().describe("Object name, unique per kind (and namespace)."),
  generateName: z.string().optional().describe("Prefix for a server-generated name."),
  namespace: z.string().optional().describe("Namespace; absent for cluster-scoped objects."),
  uid: z.string().optional().describe("Server-assigned unique id."),
  resourceVersion: z.string().optional().describe("Opaque version for optimistic concurrency."),
  generation: count().optional().describe("Bumped by the server on every spec change."),
  creationTimestamp: timestamp().optional().describe("When the object was created."),
  deletionTimestamp: timestamp().optional().describe("When deletion was requested."),
  labels: z.record(z.string(), z.string()).optional().describe("Labels, matched by selectors."),
  annotations: z.record(z.string(), z.string()).optional().describe("Non-identifying metadata."),
  finalizers: z.array(z.string()).optional().describe("Must be empty before the object goes."),
  ownerReferences: z.array(OwnerReferenceSchema).optional().describe("Owners of this object."),
}).describe("Standard Kubernetes object metadata.");

/** Kubernetes ObjectMeta. */
export type ObjectMeta = z.infer<typeof ObjectMetaSchema>;

/** Status of a condition, as metav1.Condition defines it. */
export const ConditionStatusSchema = z.enum(["True", "False", "Unknown"]).describe(
  "Whether the condition holds: True, False or Unknown.",
);

/** One metav1.Condition (type, status, reason, message, lastTransitionTime, observedGeneration). */
export const ConditionSchema = z.object({
  type: z.string().min(1).max(316).regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/,
  ).describe("Condition type in CamelCase, e.g. Ready."),
  status: ConditionStatusSchema,
  reason: z.string().min(1).max(1024).regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
    .describe("Machine-readable CamelCase reason for the last transition."),
  message: z.string().max(32768).describe("Human-readable details of the last transition."),
  lastTransitionTime: timestamp().describe("When the status last changed."),
  observedGeneration: count().optional().describe(
    "The metadata.generation the condition was computed from.",
  ),
}).describe("A condition of the object, as metav1.Condition.");

/** One metav1.Condition. */
export type Condition = z.infer<typeof ConditionSchema>;

/** Conditions kept as a list keyed by type (at most one entry per type). */
export function conditionList() {
  return z.array(ConditionSchema).max(32).meta({
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
  }).describe("Latest observations of the object's state, one per condition type.");
}

/** Operators of a label selector requirement. */
export const SelectorOperatorSchema = z.enum(["In", "NotIn", "Exists", "DoesNotExist"])
  .describe("How the key relates to the values: In, NotIn, Exists or DoesNotExist.");

const requirementBase = z.object({
  key: z.string().min(1).max(317).describe("The label key the requirement applies to."),
  operator: SelectorOperatorSchema,
  values: z.array(z.string().max(63)).max(256).optional().describe(
    "Values for In and NotIn (non-empty); must be empty for Exists and DoesNotExist.",
  ),
}).describe("One requirement of a label selector.");

/** A LabelSelectorRequirement; values are required for In/NotIn and forbidden otherwise. */
export const LabelSelectorRequirementSchema = withRules(requirementBase, [{
  rule: "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : " +
    "(!has(self.values) || size(self.values) == 0)",
  message: "values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist",
  fieldPath: ".values",
  reason: "FieldValueInvalid",
  check: (r) =>
    r.operator === "In" || r.operator === "NotIn"
      ? (r.values?.length ?? 0) > 0
      : (r.values?.length ?? 0) === 0,
}]);

/** A Kubernetes LabelSelector (matchLabels AND matchExpressions; empty matches everything). */
export const LabelSelectorSchema = z.object({
  matchLabels: z.record(z.string(), z.string().max(63)).optional().describe(
    "Labels that must all be present with exactly these values.",
  ),
  matchExpressions: z.array(LabelSelectorRequirementSchema).max(64).optional().describe(
    "Requirements that must all hold.",
  ),
}).describe("A Kubernetes label selector; the requirements are ANDed.");

/** A Kubernetes LabelSelector. */
export type LabelSelector = z.infer<typeof LabelSelectorSchema>;
/** One LabelSelectorRequirement. */
export type LabelSelectorRequirement = z.infer<typeof LabelSelectorRequirementSchema>;

/** The LabelSelector that picks DiskPools labelled with the given tier. */
export function tierSelector(tier: (typeof TIERS)[number]): LabelSelector {
  return { matchLabels: { [TIER_LABEL_KEY]: tier } };
}
