/**
 * The generated CRDs follow the apiextensions.k8s.io/v1 rules the API server
 * enforces: structural schemas, valid CEL and fieldPaths, list-map keys that
 * are required, descriptions everywhere (kubectl explain), names and columns.
 */
import assert from "node:assert/strict";
import { parse } from "@bufbuild/cel";
import {
  CATEGORY,
  couchestorCrds,
  type CustomResourceDefinition,
  type JSONSchemaProps,
  thirdPartyCrds,
} from "../../src/api/mod.ts";

type Visit = (s: JSONSchemaProps, path: string) => void;

function visit(s: JSONSchemaProps, path: string, f: Visit): void {
  f(s, path);
  for (const [n, c] of Object.entries(s.properties ?? {})) visit(c, `${path}.${n}`, f);
  if (s.items) visit(s.items, `${path}[]`, f);
  if (s.additionalProperties) visit(s.additionalProperties, `${path}.*`, f);
}

const schemaOf = (crd: CustomResourceDefinition) => crd.spec.versions[0].schema.openAPIV3Schema;

function resolve(s: JSONSchemaProps, fieldPath: string): JSONSchemaProps | undefined {
  let cur: JSONSchemaProps | undefined = s;
  for (const p of fieldPath.split(".").filter((x) => x)) cur = cur?.properties?.[p];
  return cur;
}

for (const crd of [...couchestorCrds(), ...thirdPartyCrds()]) {
  const name = crd.metadata.name;

  Deno.test(`${name}: structural schema`, () => {
    visit(schemaOf(crd), "", (s, path) => {
      assert.ok(s.type, `${path} has a type`);
      assert.ok(
        !(s.properties && s.additionalProperties),
        `${path}: properties xor additionalProperties`,
      );
      if (path.startsWith(".metadata")) return;
      assert.ok(!s["x-kubernetes-preserve-unknown-fields"], `${path} prunes unknown fields`);
    });
    assert.deepEqual(schemaOf(crd).properties?.metadata, { type: "object" });
  });

  Deno.test(`${name}: every field below spec/status has a description`, () => {
    for (const part of ["spec", "status"]) {
      const s = schemaOf(crd).properties?.[part];
      if (!s) continue;
      visit(s, `.${part}`, (n, path) => {
        if (path.endsWith("[]") || path.endsWith(".*")) return; // items/values inherit the list's text
        assert.ok(n.description && n.description.length > 3, `${path} has a description`);
      });
    }
  });

  Deno.test(`${name}: CEL rules parse and their fieldPaths exist; list-map keys are required`, () => {
    visit(schemaOf(crd), "", (s, path) => {
      for (const v of s["x-kubernetes-validations"] ?? []) {
        parse(v.rule); // throws on a syntax error
        assert.ok(v.message.length > 0);
        if (v.fieldPath) {
          assert.ok(resolve(s, v.fieldPath), `${path}: fieldPath ${v.fieldPath} exists`);
        }
      }
      if (s["x-kubernetes-list-type"] === "map") {
        for (const k of s["x-kubernetes-list-map-keys"] ?? []) {
          assert.ok(s.items?.required?.includes(k), `${path}: list-map key ${k} is required`);
        }
      }
    });
  });

  Deno.test(`${name}: printer columns point at real fields`, () => {
    for (const col of crd.spec.versions[0].additionalPrinterColumns ?? []) {
      if (col.jsonPath.startsWith(".metadata.")) continue;
      const field = resolve(schemaOf(crd), col.jsonPath);
      assert.ok(field, `${col.name} → ${col.jsonPath} exists`);
      const want = col.type === "date" ? "string" : col.type;
      assert.equal(field!.type, want, `${col.name} type`);
    }
  });
}

Deno.test("CoucheStor CRDs: group, version, scope, short names, category, status subresource", () => {
  const got = couchestorCrds().map((c) => ({
    name: c.metadata.name,
    scope: c.spec.scope,
    short: c.spec.names.shortNames,
    cat: c.spec.names.categories,
    version: c.spec.versions[0].name,
    status: !!c.spec.versions[0].subresources?.status,
  }));
  assert.deepEqual(got, [
    {
      name: "storagepolicies.storage.billyronks.io",
      scope: "Cluster",
      short: ["sp"],
      cat: [CATEGORY],
      version: "v1",
      status: true,
    },
    {
      name: "erasurecodingpolicies.storage.billyronks.io",
      scope: "Cluster",
      short: ["ecp"],
      cat: [CATEGORY],
      version: "v1",
      status: true,
    },
    {
      name: "ecstripes.storage.billyronks.io",
      scope: "Cluster",
      short: ["ecs"],
      cat: [CATEGORY],
      version: "v1",
      status: true,
    },
  ]);
  const sp = couchestorCrds()[0].spec.versions[0].additionalPrinterColumns!.filter((c) =>
    !c.priority
  );
  assert.deepEqual(sp.map((c) => c.name), [
    "Enabled",
    "Hot",
    "Warm",
    "Cold",
    "Active",
    "Phase",
    "Age",
  ]);
});

Deno.test("third-party CRDs: DiskPool openebs.io/v1beta2, namespaced (no Mayastor 1.x MayastorVolume)", () => {
  const got = thirdPartyCrds().map((c) =>
    `${c.metadata.name}/${c.spec.versions[0].name}/${c.spec.scope}`
  );
  assert.deepEqual(got, [
    "diskpools.openebs.io/v1beta2/Namespaced",
  ]);
  const status = schemaOf(thirdPartyCrds()[0]).properties!.status!;
  assert.deepEqual(Object.keys(status.properties!), [
    "cr_state",
    "pool_status",
    "capacity",
    "used",
    "available",
  ]);
});
