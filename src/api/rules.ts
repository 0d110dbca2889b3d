/**
 * Cross-field rules written once and used twice: as a zod refinement (with the
 * field path) and as a Kubernetes `x-kubernetes-validations` CEL rule on the
 * generated CRD, so the operator and the API server reject the same objects.
 */
import { z } from "zod";

/** The metadata key under which CEL rules travel from zod to the CRD generator. */
export const CEL_META_KEY = "x-kubernetes-validations";

/** One rule as the apiextensions.k8s.io/v1 ValidationRule shape holds it. */
export interface CelValidation {
  /** CEL expression over `self` (the object the rule sits on). */
  rule: string;
  /** What the user reads when the rule fails. */
  message: string;
  /** Field the failure is reported on, relative to `self` (e.g. `.lowWatermarkIOPS`; "" = self). */
  fieldPath: string;
  /** Kubernetes cause reason. */
  reason: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired";
}

/** A cross-field rule: the CEL text for the API server and the same check in TypeScript. */
export interface CrossFieldRule<T> extends CelValidation {
  /** True when `value` satisfies the rule; must agree with `rule` on every input. */
  check: (value: T) => boolean;
}

/** Turns a CEL fieldPath such as `.journal.sizeBytes` into a zod path. */
export function fieldPathToPath(fieldPath: string): string[] {
  return fieldPath.split(".").filter((p) => p.length > 0);
}

/**
 * Adds the rules to an object schema: zod reports each failed rule on its field
 * path, and the CRD generator finds the CEL text in the schema's metadata.
 */
export function withRules<S extends z.ZodType>(
  schema: S,
  rules: CrossFieldRule<z.output<S>>[],
): S {
  // refine/superRefine return a clone, so metadata must be attached last.
  const refined = schema.superRefine((value, ctx) => {
    for (const r of rules) {
      if (!r.check(value)) {
        ctx.addIssue({ code: "custom", message: r.message, path: fieldPathToPath(r.fieldPath) });
      }
    }
  }, {
    // A bad field is reported once, not again as a broken relation with its siblings
    // (CrdValidator likewise evaluates CEL rules only on schema-valid objects).
    when: (payload) => payload.issues.length === 0,
  });
  const prev = z.globalRegistry.get(schema) ?? {};
  return refined.meta({
    ...prev,
    // A rule about `self` itself has no fieldPath (Kubernetes reports it on the field).
    [CEL_META_KEY]: rules.map(({ rule, message, fieldPath, reason }) => ({
      rule,
      message,
      ...(fieldPath ? { fieldPath } : {}),
      reason,
    })),
  }) as S;
}

/** Formats a path as Kubernetes does: dots between fields, brackets around indexes. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}
