/**
 * docs/api.md, generated from the same schemas as the CRDs: one table per
 * kind (field, type, default, bounds, description), the cross-field rules and
 * the printer columns. A test fails when docs/api.md drifts.
 */
import { buildCrd, COUCHESTOR_SOURCES, type CrdSource, THIRD_PARTY_SOURCES } from "./crd.ts";
import type { JSONSchemaProps } from "./openapi.ts";
import { TIER_LABEL_KEY } from "./meta.ts";

/** One documented field. */
export interface FieldDoc {
  path: string;
  type: string;
  required: boolean;
  default?: string;
  bounds: string;
  description: string;
}

/** Flattens a schema into one row per field, depth first, in declaration order. */
export function fieldDocs(schema: JSONSchemaProps, prefix: string): FieldDoc[] {
  const rows: FieldDoc[] = [];
  const required = new Set(schema.required ?? []);
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    rows.push({
      path,
      type: typeName(child),
      required: required.has(name),
      default: child.default === undefined ? undefined : JSON.stringify(child.default),
      bounds: bounds(child),
      description: child.description ?? "",
    });
    rows.push(...nested(child, path));
  }
  return rows;
}

function nested(s: JSONSchemaProps, path: string): FieldDoc[] {
  if (s.type === "object" && s.properties) return fieldDocs(s, path);
  if (s.type === "array" && s.items?.type === "object") return fieldDocs(s.items, `${path}[]`);
  return [];
}

function typeName(s: JSONSchemaProps): string {
  if (s.type === "array") return `[]${s.items ? typeName(s.items) : "any"}`;
  if (s.type === "object" && s.additionalProperties) {
    return `map[string]${typeName(s.additionalProperties)}`;
  }
  if (s.type === "string" && s.format === "date-time") return "string (date-time)";
  return s.type ?? "any";
}

function bounds(s: JSONSchemaProps): string {
  const parts: string[] = [];
  if (s.enum) parts.push(`one of ${s.enum.map((e) => `\`${e}\``).join(", ")}`);
  if (s.minimum !== undefined) parts.push(`${s.exclusiveMinimum ? ">" : "≥"} ${s.minimum}`);
  if (s.maximum !== undefined) parts.push(`${s.exclusiveMaximum ? "<" : "≤"} ${s.maximum}`);
  if (s.minLength !== undefined) parts.push(`length ≥ ${s.minLength}`);
  if (s.maxLength !== undefined) parts.push(`length ≤ ${s.maxLength}`);
  if (s.minItems !== undefined) parts.push(`items ≥ ${s.minItems}`);
  if (s.maxItems !== undefined) parts.push(`items ≤ ${s.maxItems}`);
  if (s.pattern) parts.push(`pattern \`${s.pattern}\``);
  if (s["x-kubernetes-list-type"] === "map") {
    parts.push(`unique by ${(s["x-kubernetes-list-map-keys"] ?? []).join(", ")}`);
  }
  return parts.join("; ");
}

const cell = (t: string) => t.replace(/\|/g, "\\|").replace(/\n/g, " ");

function rules(schema: JSONSchemaProps, path: string): string[] {
  const out: string[] = [];
  for (const v of schema["x-kubernetes-validations"] ?? []) {
    const at = `${path}${v.fieldPath ?? ""}`;
    out.push(`| \`${cell(at)}\` | ${cell(v.message)} | \`${cell(v.rule)}\` |`);
  }
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    out.push(...rules(child, path ? `${path}.${name}` : name));
  }
  if (schema.items) out.push(...rules(schema.items, `${path}[]`));
  return out;
}

function section(source: CrdSource): string {
  const crd = buildCrd(source);
  const schema = crd.spec.versions[0].schema.openAPIV3Schema;
  const lines = [
    `## ${source.kind}`,
    "",
    schema.description ?? "",
    "",
    `- apiVersion: \`${source.group}/${source.version}\``,
    `- scope: ${source.scope}; plural \`${source.plural}\`` +
    (source.shortNames.length
      ? `; short names ${source.shortNames.map((s) => `\`${s}\``).join(", ")}`
      : "") +
    (source.categories.length ? `; category \`${source.categories.join(", ")}\`` : ""),
    "",
    "| Field | Type | Required | Default | Bounds | Description |",
    "|---|---|---|---|---|---|",
  ];
  for (const part of ["spec", "status"]) {
    const s = schema.properties?.[part];
    if (!s) continue;
    lines.push(
      `| \`${part}\` | object | ${schema.required?.includes(part) ? "yes" : ""} | ${
        s.default === undefined ? "" : `\`${JSON.stringify(s.default)}\``
      } |  | ${cell(s.description ?? "")} |`,
    );
    for (const f of fieldDocs(s, part)) {
      lines.push(
        `| \`${f.path}\` | ${cell(f.type)} | ${f.required ? "yes" : ""} | ${
          f.default === undefined ? "" : `\`${cell(f.default)}\``
        } | ${cell(f.bounds)} | ${cell(f.description)} |`,
      );
    }
  }
  const ruleRows = rules(schema, "");
  if (ruleRows.length > 0) {
    lines.push("", "Cross-field rules (zod refinements and CEL `x-kubernetes-validations`):", "");
    lines.push("| Field | Message | CEL rule |", "|---|---|---|", ...ruleRows);
  }
  const cols = crd.spec.versions[0].additionalPrinterColumns ?? [];
  if (cols.length > 0) {
    lines.push(
      "",
      "`kubectl get` columns: " + cols.map((c) => `${c.name} (\`${c.jsonPath}\`)`).join(", ") + ".",
    );
  }
  return lines.join("\n");
}

/** The whole of docs/api.md. */
export function renderApiDocs(): string {
  const parts = [
    "# CoucheStor API reference",
    "",
    "<!-- Generated from the zod schemas in src/api by scripts/gen_api_docs.ts. Do not edit. -->",
    "",
    "Every field of CoucheStor's custom resources, as the CRDs in `crds/` define it. Durations are",
    "strings such as `90s`, `30m`, `1h30m`, `7d` (units ms, s, m, h, d). DiskPools are put in a tier",
    `by the label \`${TIER_LABEL_KEY}: hot|warm|cold\`, which the default pool selectors match.`,
    "",
    ...COUCHESTOR_SOURCES.flatMap((s) => [section(s), ""]),
    "# OpenEBS Mayastor resources CoucheStor reads",
    "",
    "OpenEBS's API, not CoucheStor's: shown for the fields CoucheStor uses. The sandbox serves these",
    "CRDs from `crds/thirdparty/`; a cluster gets them from Mayastor.",
    "",
    ...THIRD_PARTY_SOURCES.flatMap((s) => [section(s), ""]),
  ];
  return parts.join("\n").replace(/\n+$/, "\n");
}
