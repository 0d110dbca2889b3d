/** Zod errors as one line per problem, naming the field the way Kubernetes does. */
import type { z } from "zod";
import { formatFieldPath } from "./rules.ts";

/** One problem of an object: the Kubernetes field path and what is wrong with it. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** Flattens a ZodError into field issues (`spec.lowWatermarkIOPS: ...`), in zod's order. */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ field: formatFieldPath(i.path), message: i.message }));
}

/** A one-line summary, e.g. for a condition message or an Event. */
export function summarizeIssues(error: z.ZodError): string {
  return fieldIssues(error).map((i) => `${i.field || "(object)"}: ${i.message}`).join("; ");
}
