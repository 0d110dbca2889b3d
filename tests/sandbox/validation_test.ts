import assert from "node:assert/strict";
import { schemaShape } from "../../src/sandbox/apiserver/shape.ts";
import {
  errorMessage,
  type SchemaProps,
  SchemaValidator,
  toCauses,
} from "../../src/sandbox/apiserver/validation.ts";
import { validateObjectMeta } from "../../src/sandbox/apiserver/objectmeta.ts";

const schema: SchemaProps = {
  type: "object",
  properties: {
    spec: {
      type: "object",
      required: ["tier"],
      "x-kubernetes-validations": [
        {
          rule: "self.lowWatermarkIOPS <= self.highWatermarkIOPS",
          message: "low must not exceed high",
          fieldPath: ".lowWatermarkIOPS",
        },
      ],
      properties: {
        tier: { type: "string", enum: ["hot", "warm", "cold"] },
        lowWatermarkIOPS: { type: "integer", minimum: 0, default: 100 },
        highWatermarkIOPS: { type: "integer", minimum: 0, default: 5000 },
        ratio: { type: "number", maximum: 1, exclusiveMaximum: true },
        label: { type: "string", maxLength: 5, minLength: 2, pattern: "^[a-z]+$" },
        size: { "x-kubernetes-int-or-string": true },
        pools: {
          type: "array",
          maxItems: 2,
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["name"],
          items: {
            type: "object",
            required: ["name"],
            properties: { name: { type: "string" }, weight: { type: "integer", default: 1 } },
          },
        },
        immutableId: {
          type: "string",
          "x-kubernetes-validations": [{
            rule: "self == oldSelf",
            message: "immutableId is immutable",
          }],
        },
        extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        tags: { type: "object", additionalProperties: { type: "string", maxLength: 3 } },
      },
    },
  },
};

function admit(obj: Record<string, unknown>, old?: Record<string, unknown>) {
  return new SchemaValidator(schema).admit(obj, old);
}

const base = () => ({
  apiVersion: "x.io/v1",
  kind: "W",
  metadata: { name: "a" },
  spec: { tier: "hot" } as Record<string, unknown>,
});

Deno.test("validation: defaults fill absent fields, including list items", () => {
  const o = base();
  o.spec.pools = [{ name: "p1" }];
  const r = admit(o);
  assert.deepEqual(r.errors, []);
  assert.equal(o.spec.lowWatermarkIOPS, 100);
  assert.equal(o.spec.highWatermarkIOPS, 5000);
  assert.deepEqual(o.spec.pools, [{ name: "p1", weight: 1 }]);
});

Deno.test("validation: unknown fields are pruned and reported, preserve-unknown kept", () => {
  const o = base();
  o.spec.bogus = 1;
  o.spec.extra = { anything: { goes: true } };
  (o as Record<string, unknown>).topLevel = "x";
  const r = admit(o);
  assert.deepEqual(r.unknownFields.sort(), ["spec.bogus", "topLevel"]);
  assert.equal("bogus" in o.spec, false);
  assert.deepEqual(o.spec.extra, { anything: { goes: true } });
  assert.equal(o.metadata.name, "a");
});

Deno.test("validation: bounds, enum, types, lengths and pattern name the field", () => {
  const o = base();
  Object.assign(o.spec, {
    tier: "lukewarm",
    lowWatermarkIOPS: -1,
    ratio: 1,
    label: "ABCDEFG",
    size: 1.5,
  });
  const errs = admit(o).errors;
  const byField = new Map<string, string>();
  for (const e of errs) {
    byField.set(e.field, [byField.get(e.field), errorMessage(e)].filter(Boolean).join(" | "));
  }
  assert.equal(
    byField.get("spec.tier"),
    'Unsupported value: "lukewarm": supported values: "hot", "warm", "cold"',
  );
  assert.equal(
    byField.get("spec.lowWatermarkIOPS"),
    "Invalid value: -1: spec.lowWatermarkIOPS in body should be greater than or equal to 0",
  );
  assert.match(byField.get("spec.ratio")!, /should be less than 1/);
  assert.match(byField.get("spec.label")!, /Too long/);
  assert.match(byField.get("spec.size")!, /must be of type integer,string/);
});

Deno.test("validation: wrong type and required report like the real server", () => {
  const o = base();
  o.spec = { lowWatermarkIOPS: "ten" };
  const errs = admit(o).errors;
  const causes = toCauses(errs);
  assert.deepEqual(causes.find((c) => c.field === "spec.tier"), {
    reason: "FieldValueRequired",
    message: "Required value",
    field: "spec.tier",
  });
  const t = causes.find((c) => c.field === "spec.lowWatermarkIOPS")!;
  assert.equal(t.reason, "FieldValueTypeInvalid");
  assert.match(t.message, /must be of type integer: "string"/);
});

Deno.test("validation: CEL rule with fieldPath and message", () => {
  const o = base();
  Object.assign(o.spec, { lowWatermarkIOPS: 10, highWatermarkIOPS: 5 });
  const errs = admit(o).errors;
  assert.equal(errs.length, 1);
  assert.equal(errs[0].field, "spec.lowWatermarkIOPS");
  assert.equal(errorMessage(errs[0]), 'Invalid value: "object": low must not exceed high');
});

Deno.test("validation: CEL transition rule runs only with an old object", () => {
  const o = base();
  o.spec.immutableId = "one";
  assert.deepEqual(admit(o).errors, []);
  const old = base();
  old.spec.immutableId = "two";
  const errs = admit(base() as Record<string, unknown> & { spec: Record<string, unknown> }, old)
    .errors;
  assert.deepEqual(errs, []); // absent now: nothing to compare at that node
  const now = base();
  now.spec.immutableId = "one";
  const errs2 = admit(now, old).errors;
  assert.equal(errs2.length, 1);
  assert.equal(errs2[0].field, "spec.immutableId");
  assert.match(errorMessage(errs2[0]), /immutableId is immutable/);
});

Deno.test("validation: list-map duplicates, maxItems and map values", () => {
  const o = base();
  o.spec.pools = [{ name: "a" }, { name: "a" }, { name: "b" }];
  o.spec.tags = { k: "toolong" };
  const errs = admit(o).errors;
  const fields = errs.map((e) => e.field).sort();
  assert.deepEqual(fields, ["spec.pools", "spec.pools[1]", "spec.tags.k"]);
  const o2 = base();
  o2.spec.pools = [{ name: "a" }, { name: "a" }];
  const e2 = admit(o2).errors;
  assert.equal(e2[0].type, "Duplicate");
  assert.equal(e2[0].field, "spec.pools[1]");
});

Deno.test("validation: bad CEL rules are reported as compile errors", () => {
  const v = new SchemaValidator({
    type: "object",
    properties: {
      spec: { type: "object", "x-kubernetes-validations": [{ rule: "self.a <=" }] },
    },
  });
  const errs = v.compileErrors();
  assert.equal(errs.length, 1);
  assert.match(errs[0].field, /properties\[spec\]\.x-kubernetes-validations\[0\]\.rule/);
});

Deno.test("shape: a CRD schema's list-map keys and list types drive apply merges", () => {
  const spec = schemaShape(schema).field("spec");
  assert.deepEqual(spec.field("pools").list, { listType: "map", mapKeys: ["name"] });
  assert.equal(spec.field("tier").list?.listType, "atomic");
});

Deno.test("objectmeta: names, label keys/values and annotation keys", () => {
  assert.deepEqual(validateObjectMeta({ name: "a.b-c", labels: { "x.io/k": "v_1" } }), []);
  assert.deepEqual(
    validateObjectMeta({ name: "Bad_Name" }).map((e) => e.field),
    ["metadata.name"],
  );
  assert.equal(validateObjectMeta({ name: "a.b" }, { nameIsLabel: true }).length, 1);
  const errs = validateObjectMeta({
    name: "ok",
    labels: { "bad key": "v", good: "bad value!" },
    annotations: { "x/y/z": "v" },
  });
  assert.deepEqual(errs.map((e) => e.field), [
    "metadata.labels",
    "metadata.labels",
    "metadata.annotations",
  ]);
});
