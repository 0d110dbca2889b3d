/**
 * Zod schema → Kubernetes structural OpenAPI v3 schema (JSONSchemaProps).
 * zod's own JSON Schema output (OpenAPI 3.0 target, input side so defaults
 * count as optional) is reshaped into what apiextensions.k8s.io/v1 accepts.
 */
import { z } from "zod";

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps CoucheStor generates. */
export interface JSONSchemaProps {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  description?: string;
  format?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  required?: string[];
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps;
  items?: JSONSchemaProps;
  nullable?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-validations"?: {
    rule: string;
    message: string;
    fieldPath?: string;
    reason?: string;
  }[];
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
}

/** Keys kept from zod's output, in the order they are written (stable YAML diffs). */
const KEY_ORDER: (keyof JSONSchemaProps)[] = [
  "description",
  "type",
  "format",
  "default",
  "enum",
  "minimum",
  "exclusiveMinimum",
  "maximum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "nullable",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-preserve-unknown-fields",
  "items",
  "required",
  "properties",
  "additionalProperties",
  "x-kubernetes-validations",
];

const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean"]);

/** Converts a zod schema to a structural schema; throws naming the path of anything unsupported. */
export function toStructural(schema: z.ZodType): JSONSchemaProps {
  const raw = z.toJSONSchema(schema, {
    target: "openapi-3.0",
    io: "input",
    unrepresentable: "throw",
  }) as Record<string, unknown>;
  return reshape(raw, "");
}

function reshape(node: Record<string, unknown>, path: string): JSONSchemaProps {
  const src: Record<string, unknown> = { ...node };
  for (const k of ["$schema", "id", "$id", "propertyNames", "title"]) delete src[k];
  if (typeof src.type !== "string" || !TYPES.has(src.type)) {
    throw new Error(`schema at ${path || "/"} has no single type (structural schemas need one)`);
  }
  if (src.type === "integer") {
    // zod's int() adds the JS safe-integer range; Kubernetes integers are int64 anyway.
    if (src.minimum === Number.MIN_SAFE_INTEGER) delete src.minimum;
    if (src.maximum === Number.MAX_SAFE_INTEGER) delete src.maximum;
    src.format ??= "int64";
  }
  if (src.type === "string" && src.format === "date-time") {
    // zod adds its own long regex; the date-time format already says it for Kubernetes.
    delete src.pattern;
  }
  if (src.type === "object") {
    const ap = src.additionalProperties;
    if (ap === false) delete src.additionalProperties;
    else if (ap === true || (isRecord(ap) && Object.keys(ap).length === 0)) {
      // looseObject: keep the unknown fields instead of pruning them.
      delete src.additionalProperties;
      src["x-kubernetes-preserve-unknown-fields"] = true;
    }
    if (isRecord(src.properties) && Object.keys(src.properties).length === 0) delete src.properties;
    if (Array.isArray(src.required) && src.required.length === 0) delete src.required;
  }
  const out: Record<string, unknown> = {};
  for (const key of KEY_ORDER) {
    if (!(key in src)) continue;
    const v = src[key];
    if (key === "properties" && isRecord(v)) {
      const props: Record<string, JSONSchemaProps> = {};
      for (const [name, child] of Object.entries(v)) {
        props[name] = reshape(child as Record<string, unknown>, `${path}/${name}`);
      }
      out.properties = props;
    } else if ((key === "items" || key === "additionalProperties") && isRecord(v)) {
      out[key] = reshape(v, `${path}/${key === "items" ? "[]" : "*"}`);
    } else {
      out[key] = v;
    }
  }
  const unknownKeys = Object.keys(src).filter((k) =>
    !KEY_ORDER.includes(k as keyof JSONSchemaProps)
  );
  if (unknownKeys.length > 0) {
    throw new Error(`schema at ${path || "/"} uses unsupported keys: ${unknownKeys.join(", ")}`);
  }
  return out as JSONSchemaProps;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
