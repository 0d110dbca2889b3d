/**
 * `/openapi/v2`: a Swagger 2.0 document with one definition per served kind (tagged with
 * `x-kubernetes-group-version-kind`, which kubectl's client-side validation looks kinds up by,
 * k8s.io/kubectl/pkg/util/openapi/openapi.go), in JSON or in the gnostic protobuf encoding that
 * kubectl asks for (message numbers from google/gnostic-models openapiv2/OpenAPIv2.proto).
 * Schemas follow what k8s.io/kube-openapi/pkg/util/proto/document.go can parse: a `$ref` only
 * to `#/definitions/`, no type on a reference, one item schema per array. Pure.
 */
import { OBJECT_META, objectMetaSchema, schemaName } from "./discovery.ts";
import type { ResourceDef } from "./resources.ts";
import type { SchemaProps } from "./validation.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** Keys handled apart from the plain keywords (nested schemas, v3-only `nullable`). */
const NESTED = new Set([
  "properties",
  "additionalProperties",
  "items",
  "allOf",
  "$ref",
  "nullable",
]);

/**
 * A structural v3 schema as v2 publishes it: `nullable` dropped, and a node that preserves
 * unknown fields or is int-or-string left untyped (an arbitrary value), as apiextensions'
 * ToStructuralOpenAPIV2 does, so client-side validation accepts what the server would.
 */
export function v2Schema(s: SchemaProps): Obj {
  if (typeof s.$ref === "string") {
    return { $ref: s.$ref.replace("#/components/schemas/", "#/definitions/") };
  }
  const ref = Array.isArray(s.allOf) && s.allOf.length === 1 && isObj(s.allOf[0])
    ? (s.allOf[0] as SchemaProps).$ref
    : undefined;
  if (typeof ref === "string") {
    return {
      $ref: ref.replace("#/components/schemas/", "#/definitions/"),
      ...(s.description ? { description: s.description } : {}),
    };
  }
  if (s["x-kubernetes-preserve-unknown-fields"] || s["x-kubernetes-int-or-string"]) {
    return s.description ? { description: s.description } : {};
  }
  // Keywords v2 keeps as they are; nested schemas are converted below, extensions dropped.
  const out: Obj = {};
  for (const [k, v] of Object.entries(s)) {
    if (!NESTED.has(k) && !k.startsWith("x-") && v !== undefined) out[k] = v;
  }
  if (s.properties) {
    out.properties = Object.fromEntries(
      Object.entries(s.properties).map(([k, v]) => [k, v2Schema(v)]),
    );
  }
  if (isObj(s.additionalProperties)) {
    out.additionalProperties = v2Schema(s.additionalProperties as SchemaProps);
  }
  if (s.items) out.items = v2Schema(s.items);
  if (s.type === "array" && !s.items) out.items = {};
  return out;
}

/** The Swagger 2.0 document of the served kinds. */
export function openapiV2Document(defs: ResourceDef[]): Obj {
  const definitions: Obj = { [OBJECT_META]: v2Schema(objectMetaSchema()) };
  for (const d of defs) {
    const name = schemaName(d);
    const base: SchemaProps = d.crd?.schema
      ? structuredClone(d.crd.schema)
      : { type: "object", "x-kubernetes-preserve-unknown-fields": true };
    const props = { ...(base.properties ?? {}) };
    props.metadata = { $ref: `#/definitions/${OBJECT_META}` };
    props.apiVersion = { type: "string" };
    props.kind = { type: "string" };
    // A built-in kind has no published schema here: an arbitrary value, which kubectl's
    // validation accepts (the server validates it).
    const schema = d.crd?.schema
      ? v2Schema({ ...base, properties: props })
      : { description: `${d.kind} (${d.group || "core"}/${d.version})` };
    const gvk = { group: d.group, kind: d.kind, version: d.version };
    const prev = definitions[name] as Obj | undefined;
    definitions[name] = {
      ...schema,
      "x-kubernetes-group-version-kind": [
        ...((prev?.["x-kubernetes-group-version-kind"] as unknown[] | undefined) ?? []),
        gvk,
      ],
    };
  }
  return {
    swagger: "2.0",
    info: { title: "Kubernetes", version: "v1.32.0" },
    paths: {},
    definitions,
  };
}

/** A minimal protobuf writer (varint, fixed64, length-delimited). */
class Pb {
  readonly bytes: number[] = [];

  #varint(n: number): void {
    let v = BigInt.asUintN(64, BigInt(Math.trunc(n)));
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
  }

  #tag(no: number, wire: number): void {
    this.#varint((no << 3) | wire);
  }

  string(no: number, s: string | undefined): void {
    if (s === undefined || s === "") return;
    const b = new TextEncoder().encode(s);
    this.#tag(no, 2);
    this.#varint(b.length);
    for (const x of b) this.bytes.push(x);
  }

  int(no: number, n: unknown): void {
    if (typeof n !== "number" || n === 0) return;
    this.#tag(no, 0);
    this.#varint(n);
  }

  bool(no: number, b: unknown): void {
    if (b !== true) return;
    this.#tag(no, 0);
    this.#varint(1);
  }

  double(no: number, d: unknown): void {
    if (typeof d !== "number" || d === 0) return;
    this.#tag(no, 1);
    const buf = new DataView(new ArrayBuffer(8));
    buf.setFloat64(0, d, true);
    for (let i = 0; i < 8; i++) this.bytes.push(buf.getUint8(i));
  }

  message(no: number, fill: (w: Pb) => void): void {
    const w = new Pb();
    fill(w);
    this.#tag(no, 2);
    this.#varint(w.bytes.length);
    for (const x of w.bytes) this.bytes.push(x);
  }
}

/** `Any { yaml = 2 }` (JSON text is YAML). */
function anyValue(w: Pb, v: unknown): void {
  w.string(2, JSON.stringify(v));
}

/** `NamedAny` vendor extensions: every `x-` key. */
function vendorExtensions(w: Pb, no: number, o: Obj): void {
  for (const [k, v] of Object.entries(o)) {
    if (!k.startsWith("x-")) continue;
    w.message(no, (e) => {
      e.string(1, k);
      e.message(2, (a) => anyValue(a, v));
    });
  }
}

/** `openapi.v2.Schema`. */
function schemaPb(w: Pb, s: Obj): void {
  w.string(1, s.$ref as string | undefined);
  w.string(2, s.format as string | undefined);
  w.string(4, s.description as string | undefined);
  w.double(6, s.multipleOf);
  w.double(7, s.maximum);
  w.bool(8, s.exclusiveMaximum);
  w.double(9, s.minimum);
  w.bool(10, s.exclusiveMinimum);
  w.int(11, s.maxLength);
  w.int(12, s.minLength);
  w.string(13, s.pattern as string | undefined);
  w.int(14, s.maxItems);
  w.int(15, s.minItems);
  for (const r of (s.required as string[] | undefined) ?? []) w.string(19, r);
  for (const e of (s.enum as unknown[] | undefined) ?? []) w.message(20, (a) => anyValue(a, e));
  if (isObj(s.additionalProperties)) {
    w.message(21, (a) => a.message(1, (x) => schemaPb(x, s.additionalProperties as Obj)));
  }
  if (typeof s.type === "string") w.message(22, (t) => t.string(1, s.type as string));
  if (isObj(s.items)) w.message(23, (i) => i.message(1, (x) => schemaPb(x, s.items as Obj)));
  if (isObj(s.properties)) {
    w.message(25, (p) => {
      for (const [k, v] of Object.entries(s.properties as Obj)) {
        p.message(1, (n) => {
          n.string(1, k);
          n.message(2, (x) => schemaPb(x, v as Obj));
        });
      }
    });
  }
  vendorExtensions(w, 31, s);
}

/** The document in gnostic's protobuf encoding (`openapi.v2.Document`). */
export function encodeOpenapiV2(doc: Obj): Uint8Array<ArrayBuffer> {
  const w = new Pb();
  w.string(1, doc.swagger as string);
  const info = doc.info as Obj;
  w.message(2, (i) => {
    i.string(1, info.title as string);
    i.string(2, info.version as string);
  });
  w.message(8, () => {});
  w.message(9, (d) => {
    for (const [name, s] of Object.entries(doc.definitions as Obj)) {
      d.message(1, (n) => {
        n.string(1, name);
        n.message(2, (x) => schemaPb(x, s as Obj));
      });
    }
  });
  return new Uint8Array(w.bytes);
}
