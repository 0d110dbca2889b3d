/**
 * Structural-schema handling for custom resources, as the real API server does it:
 * prune unknown fields, apply defaults, validate (types, enums, bounds, lengths, patterns,
 * required, list types) and evaluate `x-kubernetes-validations` CEL rules with @bufbuild/cel.
 * Pure: no I/O, no clock.
 */
import { type CelEnv, celEnv, isCelError, parse, plan } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import type { StatusCause } from "./errors.ts";

/** One `x-kubernetes-validations` entry. */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
}

/** The subset of OpenAPI v3 JSONSchemaProps a structural CRD schema uses. */
export interface SchemaProps {
  type?: string;
  description?: string;
  format?: string;
  properties?: Record<string, SchemaProps>;
  additionalProperties?: SchemaProps | boolean;
  items?: SchemaProps;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-embedded-resource"?: boolean;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-validations"?: ValidationRule[];
  [k: string]: unknown;
}

/** Kinds of field error, named after apimachinery's `field.ErrorType`. */
export type FieldErrorType =
  | "Required"
  | "Invalid"
  | "TypeInvalid"
  | "NotSupported"
  | "Forbidden"
  | "TooLong"
  | "TooMany"
  | "Duplicate"
  | "NotFound";

/** One validation failure at a field path such as `spec.tiers[0].name`. */
export interface FieldError {
  type: FieldErrorType;
  field: string;
  value?: unknown;
  detail: string;
  /** The bad value as printed, when it is not printed the schema way (a Go slice: its JSON). */
  shown?: string;
}

const REASON: Record<FieldErrorType, string> = {
  Required: "FieldValueRequired",
  Invalid: "FieldValueInvalid",
  TypeInvalid: "FieldValueTypeInvalid",
  NotSupported: "FieldValueNotSupported",
  Forbidden: "FieldValueForbidden",
  TooLong: "FieldValueTooLong",
  TooMany: "FieldValueTooMany",
  Duplicate: "FieldValueDuplicate",
  NotFound: "FieldValueNotFound",
};

function showValue(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  return Array.isArray(v) ? '"array"' : '"object"';
}

/** The message part of a field error, as apimachinery prints it (without the field). */
export function errorMessage(e: FieldError): string {
  const show = (v: unknown) => e.shown ?? showValue(v);
  switch (e.type) {
    case "Required":
      return e.detail ? `Required value: ${e.detail}` : "Required value";
    case "Forbidden":
      return e.detail ? `Forbidden: ${e.detail}` : "Forbidden";
    case "NotSupported":
      return `Unsupported value: ${show(e.value)}${e.detail ? `: ${e.detail}` : ""}`;
    case "TooLong":
      return `Too long: ${e.detail}`;
    case "TooMany":
      return `Too many: ${e.detail}`;
    case "Duplicate":
      return `Duplicate value: ${show(e.value)}`;
    case "NotFound":
      return `Not found: ${show(e.value)}`;
    default:
      return `Invalid value: ${show(e.value)}: ${e.detail}`;
  }
}

/** Turns field errors into `Status.details.causes`. */
export function toCauses(errs: FieldError[]): StatusCause[] {
  return errs.map((e) => ({ reason: REASON[e.type], message: errorMessage(e), field: e.field }));
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function typeMatches(s: SchemaProps, v: unknown): boolean {
  if (s["x-kubernetes-int-or-string"]) {
    return typeof v === "string" || (typeof v === "number" && Number.isInteger(v));
  }
  switch (s.type) {
    case undefined:
      return true;
    case "object":
      return isObj(v);
    case "array":
      return Array.isArray(v);
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    default:
      return true;
  }
}

/** Result of pruning: the unknown fields dropped (for `fieldValidation=Strict`). */
export interface PruneResult {
  unknownFields: string[];
}

/** Plan function produced by @bufbuild/cel for one rule. */
type Planned = (ctx: Record<string, unknown>) => unknown;

/** A compiled CRD version schema: prune, default, validate. Caches CEL plans. */
export class SchemaValidator {
  readonly schema: SchemaProps;
  #env: CelEnv;
  #plans = new Map<string, Planned | Error>();

  constructor(schema: SchemaProps) {
    this.schema = schema;
    this.#env = celEnv({ funcs: strings });
  }

  /** Every CEL rule that fails to parse, with its path (used to reject a bad CRD). */
  compileErrors(): FieldError[] {
    const out: FieldError[] = [];
    const walk = (s: SchemaProps | undefined, path: string) => {
      if (!s || typeof s !== "object") return;
      (s["x-kubernetes-validations"] ?? []).forEach((r, i) => {
        for (const expr of [r.rule, r.messageExpression]) {
          if (!expr) continue;
          const p = this.#plan(expr);
          if (p instanceof Error) {
            out.push({
              type: "Invalid",
              field: `${path}.x-kubernetes-validations[${i}].rule`,
              value: expr,
              detail: `compilation failed: ${p.message}`,
            });
          }
        }
      });
      for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${path}.properties[${k}]`);
      if (isObj(s.additionalProperties)) {
        walk(s.additionalProperties as SchemaProps, `${path}.additionalProperties`);
      }
      if (s.items) walk(s.items, `${path}.items`);
    };
    walk(this.schema, "spec.validation.openAPIV3Schema");
    return out;
  }

  /** Drops fields the schema doesn't know (in place) and reports their paths. */
  prune(obj: Record<string, unknown>): PruneResult {
    const unknownFields: string[] = [];
    const walk = (v: unknown, s: SchemaProps | undefined, path: string, root: boolean) => {
      if (!s || s["x-kubernetes-preserve-unknown-fields"] && !s.properties) return;
      if (isObj(v)) {
        if (s.type !== undefined && s.type !== "object") return;
        const props = s.properties;
        const addl = s.additionalProperties;
        for (const k of Object.keys(v)) {
          if (root && (k === "apiVersion" || k === "kind" || k === "metadata")) continue;
          if (
            s["x-kubernetes-embedded-resource"] &&
            (k === "apiVersion" || k === "kind" || k === "metadata")
          ) continue;
          const child = props?.[k] ?? (isObj(addl) ? addl as SchemaProps : undefined);
          if (child) walk(v[k], child, join(path, k), false);
          else if (addl === true || s["x-kubernetes-preserve-unknown-fields"]) continue;
          else if (!props && !addl && s.type === undefined) continue;
          else {
            unknownFields.push(join(path, k));
            delete v[k];
          }
        }
      } else if (Array.isArray(v) && s.items) {
        v.forEach((item, i) => walk(item, s.items, `${path}[${i}]`, false));
      }
    };
    walk(obj, this.schema, "", true);
    return { unknownFields };
  }

  /** Fills absent (or null, non-nullable) fields from `default` (in place). */
  applyDefaults(obj: Record<string, unknown>): void {
    const walk = (v: unknown, s: SchemaProps | undefined) => {
      if (!s) return;
      if (isObj(v)) {
        for (const [k, ps] of Object.entries(s.properties ?? {})) {
          if ((v[k] === undefined || (v[k] === null && !ps.nullable)) && ps.default !== undefined) {
            v[k] = structuredClone(ps.default);
          }
          if (v[k] !== undefined) walk(v[k], ps);
        }
        if (isObj(s.additionalProperties)) {
          for (const k of Object.keys(v)) {
            if (!s.properties?.[k]) walk(v[k], s.additionalProperties as SchemaProps);
          }
        }
      } else if (Array.isArray(v) && s.items) {
        for (const item of v) walk(item, s.items);
      }
    };
    walk(obj, this.schema);
  }

  /** Validates an already pruned and defaulted object; `old` enables transition rules. */
  validate(obj: Record<string, unknown>, old?: Record<string, unknown>): FieldError[] {
    const errs: FieldError[] = [];
    this.#walk(obj, old, this.schema, "", errs, true);
    return errs;
  }

  #walk(
    v: unknown,
    old: unknown,
    s: SchemaProps,
    path: string,
    errs: FieldError[],
    root: boolean,
  ): void {
    const before = errs.length;
    this.#checkValue(v, s, path, errs);
    if (errs.length > before) return; // a type/bound error makes deeper checks noise
    if (isObj(v)) {
      for (const r of s.required ?? []) {
        if (v[r] === undefined) errs.push({ type: "Required", field: join(path, r), detail: "" });
      }
      const oldObj = isObj(old) ? old : undefined;
      for (const [k, child] of Object.entries(v)) {
        if (root && (k === "apiVersion" || k === "kind" || k === "metadata")) continue;
        const cs = s.properties?.[k] ??
          (isObj(s.additionalProperties) ? s.additionalProperties as SchemaProps : undefined);
        if (cs && child !== undefined) {
          this.#walk(child, oldObj?.[k], cs, join(path, k), errs, false);
        }
      }
    } else if (Array.isArray(v) && s.items) {
      const keys = s["x-kubernetes-list-map-keys"];
      const oldArr = Array.isArray(old) ? old : undefined;
      v.forEach((item, i) => {
        let oldItem: unknown = undefined;
        if (oldArr && s["x-kubernetes-list-type"] === "map" && keys && isObj(item)) {
          oldItem = oldArr.find((o) => isObj(o) && keys.every((k) => o[k] === item[k]));
        }
        this.#walk(item, oldItem, s.items!, `${path}[${i}]`, errs, false);
      });
    }
    if (errs.length === before) this.#rules(v, old, s, path, errs, root);
  }

  #checkValue(v: unknown, s: SchemaProps, path: string, errs: FieldError[]): void {
    const field = path || "<root>";
    if (v === null) {
      if (!s.nullable && s.type !== undefined) {
        errs.push({
          type: "TypeInvalid",
          field,
          value: "null",
          detail: `${field} in body must be of type ${s.type}: "null"`,
        });
      }
      return;
    }
    if (!typeMatches(s, v)) {
      const want = s["x-kubernetes-int-or-string"] ? "integer,string" : s.type;
      errs.push({
        type: "TypeInvalid",
        field,
        value: typeName(v),
        detail: `${field} in body must be of type ${want}: "${typeName(v)}"`,
      });
      return;
    }
    if (s.enum && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
      errs.push({
        type: "NotSupported",
        field,
        value: v,
        detail: `supported values: ${s.enum.map((e) => JSON.stringify(e)).join(", ")}`,
      });
    }
    if (typeof v === "number") {
      if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) {
        errs.push({
          type: "Invalid",
          field,
          value: v,
          detail: `${field} in body should be greater than ${
            s.exclusiveMinimum ? "" : "or equal to "
          }${s.minimum}`,
        });
      }
      if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) {
        errs.push({
          type: "Invalid",
          field,
          value: v,
          detail: `${field} in body should be less than ${
            s.exclusiveMaximum ? "" : "or equal to "
          }${s.maximum}`,
        });
      }
      if (
        s.multipleOf !== undefined && s.multipleOf > 0 &&
        Math.abs(v / s.multipleOf - Math.round(v / s.multipleOf)) > 1e-9
      ) {
        errs.push({
          type: "Invalid",
          field,
          value: v,
          detail: `${field} in body should be a multiple of ${s.multipleOf}`,
        });
      }
    }
    if (typeof v === "string") {
      const len = [...v].length;
      if (s.minLength !== undefined && len < s.minLength) {
        errs.push({
          type: "Invalid",
          field,
          value: v,
          detail: `${field} in body should be at least ${s.minLength} chars long`,
        });
      }
      if (s.maxLength !== undefined && len > s.maxLength) {
        errs.push({
          type: "TooLong",
          field,
          value: v,
          detail: `may not be more than ${s.maxLength} bytes`,
        });
      }
      if (s.pattern !== undefined && !new RegExp(s.pattern, "u").test(v)) {
        errs.push({
          type: "Invalid",
          field,
          value: v,
          detail: `${field} in body should match '${s.pattern}'`,
        });
      }
    }
    if (Array.isArray(v)) {
      if (s.minItems !== undefined && v.length < s.minItems) {
        errs.push({
          type: "Invalid",
          field,
          value: v,
          detail: `${field} in body should have at least ${s.minItems} items`,
        });
      }
      if (s.maxItems !== undefined && v.length > s.maxItems) {
        errs.push({
          type: "TooMany",
          field,
          value: v,
          detail: `${v.length}: must have at most ${s.maxItems} items`,
        });
      }
      const lt = s["x-kubernetes-list-type"];
      if (lt === "set" || lt === "map") {
        const seen = new Set<string>();
        v.forEach((item, i) => {
          const keys = s["x-kubernetes-list-map-keys"];
          const id = lt === "map" && keys && isObj(item)
            ? JSON.stringify(keys.map((k) => item[k]))
            : JSON.stringify(item);
          if (seen.has(id)) {
            errs.push({
              type: "Duplicate",
              field: `${field}[${i}]`,
              value: lt === "map" && keys && isObj(item)
                ? Object.fromEntries(keys.map((k) => [k, item[k]]))
                : item,
              detail: "",
            });
          }
          seen.add(id);
        });
      }
    }
    if (isObj(v)) {
      const n = Object.keys(v).length;
      if (s.minProperties !== undefined && n < s.minProperties) {
        errs.push({
          type: "Invalid",
          field,
          value: v,
          detail: `${field} in body should have at least ${s.minProperties} properties`,
        });
      }
      if (s.maxProperties !== undefined && n > s.maxProperties) {
        errs.push({
          type: "TooMany",
          field,
          value: v,
          detail: `${n}: must have at most ${s.maxProperties} items`,
        });
      }
    }
  }

  #plan(expr: string): Planned | Error {
    let p = this.#plans.get(expr);
    if (!p) {
      try {
        p = plan(this.#env, parse(expr)) as unknown as Planned;
      } catch (e) {
        p = e instanceof Error ? e : new Error(String(e));
      }
      this.#plans.set(expr, p);
    }
    return p;
  }

  #rules(
    v: unknown,
    old: unknown,
    s: SchemaProps,
    path: string,
    errs: FieldError[],
    root: boolean,
  ): void {
    const rules = s["x-kubernetes-validations"];
    if (!rules || rules.length === 0 || v === undefined) return;
    const self = toCel(root && isObj(v) ? rootView(v) : v, s);
    let oldSelf: unknown = undefined;
    for (const r of rules) {
      const transition = /\boldSelf\b/.test(r.rule);
      if (transition && old === undefined) continue;
      if (transition && oldSelf === undefined) {
        oldSelf = toCel(root && isObj(old) ? rootView(old) : old, s);
      }
      const p = this.#plan(r.rule);
      const fieldBase = path || "<root>";
      const field = r.fieldPath ? join(path, r.fieldPath.replace(/^\./, "")) : fieldBase;
      if (p instanceof Error) {
        errs.push({ type: "Invalid", field, value: v, detail: `compilation failed: ${p.message}` });
        continue;
      }
      const res = p(transition ? { self, oldSelf } : { self });
      if (res === true) continue;
      let detail: string;
      if (isCelError(res)) {
        detail = `${r.message ?? `failed rule: ${r.rule}`}: evaluation error: ${
          (res as Error).message
        }`;
      } else if (res !== false) detail = `rule did not evaluate to a bool: ${r.rule}`;
      else {
        detail = r.message ?? `failed rule: ${r.rule}`;
        if (r.messageExpression) {
          const mp = this.#plan(r.messageExpression);
          if (!(mp instanceof Error)) {
            const m = mp(transition ? { self, oldSelf } : { self });
            if (typeof m === "string" && m.trim() !== "") detail = m;
          }
        }
      }
      const type: FieldErrorType = r.reason === "FieldValueForbidden"
        ? "Forbidden"
        : r.reason === "FieldValueRequired"
        ? "Required"
        : r.reason === "FieldValueDuplicate"
        ? "Duplicate"
        : "Invalid";
      errs.push({ type, field, value: v, detail });
    }
  }

  /** Prune, default and validate in one step: what the server runs on every write. */
  admit(
    obj: Record<string, unknown>,
    old?: Record<string, unknown>,
  ): { errors: FieldError[]; unknownFields: string[] } {
    const { unknownFields } = this.prune(obj);
    this.applyDefaults(obj);
    return { errors: this.validate(obj, old), unknownFields };
  }
}

/** What CEL sees of the root object: apiVersion, kind, metadata.name/generateName, the rest. */
function rootView(v: Record<string, unknown>): Record<string, unknown> {
  const md = isObj(v.metadata) ? v.metadata : {};
  const meta: Record<string, unknown> = {};
  if (typeof md.name === "string") meta.name = md.name;
  if (typeof md.generateName === "string") meta.generateName = md.generateName;
  return { ...v, metadata: meta };
}

/** Converts JSON to CEL input using the schema: `integer` fields become `int` (bigint). */
export function toCel(v: unknown, s: SchemaProps | undefined): unknown {
  if (v === null || v === undefined) return v ?? null;
  if (typeof v === "number") {
    if (s?.type === "number") return v;
    return Number.isInteger(v) ? BigInt(v) : v;
  }
  if (Array.isArray(v)) return v.map((x) => toCel(x, s?.items));
  if (isObj(v)) {
    const out: Record<string, unknown> = {};
    const addl = s && isObj(s.additionalProperties)
      ? s.additionalProperties as SchemaProps
      : undefined;
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      out[k] = toCel(x, s?.properties?.[k] ?? addl);
    }
    return out;
  }
  return v;
}
