/**
 * Validates an object the way the Kubernetes API server validates a custom
 * resource against its CRD: prune unknown fields, apply schema defaults,
 * check the structural schema (ajv), list-map key uniqueness, then the
 * `x-kubernetes-validations` CEL rules (@bufbuild/cel, with the strings extension library
 * Kubernetes enables: split, replace, …). Errors carry the field
 * path in Kubernetes form (`spec.shards[2].index`).
 */
import { Ajv } from "ajv";
import { celEnv, parse, plan } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import type { CustomResourceDefinition } from "./crd.ts";
import type { JSONSchemaProps } from "./openapi.ts";
import { formatFieldPath } from "./rules.ts";

/** One reason an object was rejected, as a Status cause. */
export interface FieldError {
  /** Kubernetes field path, e.g. `spec.lowWatermarkIOPS`. */
  field: string;
  /** The path as segments (string keys, numeric indexes). */
  path: (string | number)[];
  message: string;
  /** Which layer caught it. */
  source: "schema" | "list-map" | "cel";
  /** Kubernetes cause type (FieldValueInvalid, FieldValueRequired, ...). */
  reason: string;
}

/** Outcome of validating one object. */
export type ValidationResult =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; errors: FieldError[] };

/** Validates objects against one CRD version's openAPIV3Schema. */
export class CrdValidator {
  readonly schema: JSONSchemaProps;
  // Ajv's compiled function type is generic over the data; unknown is what we feed it.
  readonly #validate: ReturnType<Ajv["compile"]>;

  /** Compiles the schema of `version` (the storage version when omitted). */
  constructor(crd: CustomResourceDefinition, version?: string) {
    const v = crd.spec.versions.find((x) => version ? x.name === version : x.storage);
    if (!v) throw new Error(`CRD ${crd.metadata.name} has no version ${version ?? "(storage)"}`);
    this.schema = v.schema.openAPIV3Schema;
    const ajv = new Ajv({
      allErrors: true,
      strict: false,
      useDefaults: true,
      removeAdditional: true,
    });
    ajv.addFormat("int64", true);
    ajv.addFormat("int32", true);
    ajv.addFormat("date-time", isDateTime);
    this.#validate = ajv.compile(toAjvSchema(this.schema));
  }

  /**
   * Validates a copy of `obj`; on success returns it pruned and defaulted, as
   * the API server would store it.
   */
  validate(obj: unknown): ValidationResult {
    const value = structuredClone(obj) as Record<string, unknown>;
    if (!this.#validate(value)) {
      const errors = (this.#validate.errors ?? []).map((e): FieldError => {
        const path = pointerToPath(e.instancePath);
        let reason = "FieldValueInvalid";
        if (e.keyword === "required") {
          path.push((e.params as { missingProperty: string }).missingProperty);
          reason = "FieldValueRequired";
        } else if (e.keyword === "enum") reason = "FieldValueNotSupported";
        else if (e.keyword === "type") reason = "FieldValueTypeInvalid";
        return {
          field: formatFieldPath(path),
          path,
          message: e.message ?? e.keyword,
          source: "schema",
          reason,
        };
      });
      return { ok: false, errors };
    }
    const errors: FieldError[] = [];
    walk(this.schema, value, [], errors);
    return errors.length > 0 ? { ok: false, errors } : { ok: true, value };
  }
}

function isDateTime(s: string): boolean {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) &&
    !Number.isNaN(Date.parse(s));
}

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === "") return [];
  return pointer.slice(1).split("/").map((s) => {
    const k = s.replace(/~1/g, "/").replace(/~0/g, "~");
    return /^\d+$/.test(k) ? Number(k) : k;
  });
}

/**
 * The schema as ajv reads it: no x-kubernetes-* keys, OpenAPI 3.0 boolean
 * exclusive bounds turned into numbers, and `additionalProperties: false` on
 * objects with properties so ajv prunes unknown fields like the API server.
 */
export function toAjvSchema(s: JSONSchemaProps): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith("x-kubernetes-") || k === "exclusiveMinimum" || k === "exclusiveMaximum") {
      continue;
    }
    if (k === "properties") {
      out.properties = Object.fromEntries(
        Object.entries(v as Record<string, JSONSchemaProps>).map(([n, c]) => [n, toAjvSchema(c)]),
      );
    } else if (k === "items" || k === "additionalProperties") {
      out[k] = toAjvSchema(v as JSONSchemaProps);
    } else out[k] = v;
  }
  if (s.exclusiveMinimum && s.minimum !== undefined) {
    delete out.minimum;
    out.exclusiveMinimum = s.minimum;
  }
  if (s.exclusiveMaximum && s.maximum !== undefined) {
    delete out.maximum;
    out.exclusiveMaximum = s.maximum;
  }
  if (
    s.type === "object" && s.properties && !s.additionalProperties &&
    !s["x-kubernetes-preserve-unknown-fields"]
  ) {
    out.additionalProperties = false;
  }
  return out;
}

/** The CEL environment of Kubernetes' CRD rules: the standard library plus the strings extension. */
const CEL_ENV = celEnv({ funcs: strings });

function runRule(rule: string, self: unknown): unknown {
  return plan(CEL_ENV, parse(rule))({ self } as never);
}

/** Depth-first: children first (as the API server reports), then this node's rules. */
function walk(
  schema: JSONSchemaProps,
  value: unknown,
  path: (string | number)[],
  errors: FieldError[],
): void {
  if (value === undefined || value === null) return;
  if (schema.type === "object" && typeof value === "object" && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const [name, child] of Object.entries(schema.properties ?? {})) {
      walk(child, obj[name], [...path, name], errors);
    }
    if (schema.additionalProperties) {
      for (const [name, child] of Object.entries(obj)) {
        walk(schema.additionalProperties, child, [...path, name], errors);
      }
    }
  } else if (schema.type === "array" && Array.isArray(value) && schema.items) {
    value.forEach((item, i) => walk(schema.items!, item, [...path, i], errors));
    checkListMap(schema, value, path, errors);
  }
  for (const v of schema["x-kubernetes-validations"] ?? []) {
    let result: unknown;
    try {
      result = runRule(v.rule, toCel(schema, value));
    } catch (e) {
      result = e;
    }
    if (result !== true) {
      const rel = (v.fieldPath ?? "").split(".").filter((p) => p !== "");
      const at = [...path, ...rel];
      const evalFailed = typeof result !== "boolean";
      errors.push({
        field: formatFieldPath(at),
        path: at,
        message: evalFailed ? `${v.message} (rule could not be evaluated: ${result})` : v.message,
        source: "cel",
        reason: v.reason ?? "FieldValueInvalid",
      });
    }
  }
}

function checkListMap(
  schema: JSONSchemaProps,
  list: unknown[],
  path: (string | number)[],
  errors: FieldError[],
): void {
  if (schema["x-kubernetes-list-type"] !== "map") return;
  const keys = schema["x-kubernetes-list-map-keys"] ?? [];
  const seen = new Set<string>();
  list.forEach((item, i) => {
    const k = JSON.stringify(keys.map((key) => (item as Record<string, unknown>)[key]));
    if (seen.has(k)) {
      errors.push({
        field: formatFieldPath([...path, i]),
        path: [...path, i],
        message: `Duplicate value: ${k}`,
        source: "list-map",
        reason: "FieldValueDuplicate",
      });
    }
    seen.add(k);
  });
}

/** JSON value → CEL value: integer-typed fields become CEL ints (bigint), as Kubernetes types them. */
export function toCel(schema: JSONSchemaProps | undefined, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (schema?.type === "integer" && typeof value === "number") return BigInt(value);
  if (Array.isArray(value)) return value.map((v) => toCel(schema?.items, v));
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = toCel(schema?.properties?.[k] ?? schema?.additionalProperties, v);
    }
    return out;
  }
  return value;
}
