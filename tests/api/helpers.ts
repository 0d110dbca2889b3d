/** Shared by the api tests: validators for every generated CRD and zod paths in Kubernetes form. */
import type { z } from "zod";
import {
  buildCrd,
  type CrdSource,
  CrdValidator,
  DISKPOOL_SOURCE,
  EC_POLICY_SOURCE,
  EC_STRIPE_SOURCE,
  formatFieldPath,
  STORAGE_POLICY_SOURCE,
} from "../../src/api/mod.ts";

/** Every CRD source by kind. */
export const SOURCES_BY_KIND: Record<string, CrdSource> = Object.fromEntries(
  [
    STORAGE_POLICY_SOURCE,
    EC_POLICY_SOURCE,
    EC_STRIPE_SOURCE,
    DISKPOOL_SOURCE,
  ].map((s) => [s.kind, s]),
);

const validators = new Map<string, CrdValidator>();

/** The CRD validator of a kind (compiled once per test process). */
export function validatorFor(kind: string): CrdValidator {
  let v = validators.get(kind);
  if (!v) {
    const source = SOURCES_BY_KIND[kind];
    if (!source) throw new Error(`no CRD for kind ${kind}`);
    v = new CrdValidator(buildCrd(source));
    validators.set(kind, v);
  }
  return v;
}

/** Field paths (Kubernetes form) of every zod issue, or [] when the object parses. */
export function zodFields(schema: z.ZodType, obj: unknown): string[] {
  const r = schema.safeParse(obj);
  return r.success ? [] : r.error.issues.map((i) => formatFieldPath(i.path));
}
