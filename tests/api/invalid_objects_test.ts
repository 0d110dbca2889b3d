/**
 * A table of invalid StoragePolicy and ErasureCodingPolicy objects: each must be
 * rejected by the zod schema AND by the generated CRD (structural schema via
 * ajv, or CEL rules via @bufbuild/cel) AND by the sandbox API server's own
 * validator, all naming the same field. The ajv-based CrdValidator is kept as an
 * independent oracle for the sandbox's hand-written one (both are used only here
 * and in the sandbox respectively; neither replaces the other).
 */
import assert from "node:assert/strict";
import { ErasureCodingPolicySchema, StoragePolicySchema } from "../../src/api/mod.ts";
import { type SchemaProps, SchemaValidator } from "../../src/sandbox/apiserver/validation.ts";
import { SOURCES_BY_KIND, validatorFor, zodFields } from "./helpers.ts";
import { buildCrd, type JSONSchemaProps } from "../../src/api/mod.ts";

/** The sandbox API server's validator for a kind's storage version. */
function sandboxValidator(kind: string): SchemaValidator {
  const crd = buildCrd(SOURCES_BY_KIND[kind]);
  const v = crd.spec.versions.find((x) => x.storage)!;
  return new SchemaValidator(v.schema.openAPIV3Schema as unknown as SchemaProps);
}

interface BadCase {
  name: string;
  kind: "StoragePolicy" | "ErasureCodingPolicy";
  spec: Record<string, unknown>;
  /** Kubernetes field path both validators must name. */
  field: string;
  /** Which CRD layer is expected to catch it. */
  layer: "schema" | "cel";
  /**
   * "defaults": the real API server (and the sandbox) replaces a null in a non-nullable field
   * that has a default by the default before validating (apiextensions defaulting,
   * isNonNullableNull), so it stores the object; ajv and zod still reject it.
   */
  server?: "defaults";
}

const sp = (name: string, spec: Record<string, unknown>, field: string, layer: BadCase["layer"]) =>
  ({ name, kind: "StoragePolicy", spec, field, layer }) as BadCase;
const ecp = (name: string, spec: Record<string, unknown>, field: string, layer: BadCase["layer"]) =>
  ({ name, kind: "ErasureCodingPolicy", spec, field, layer }) as BadCase;

const CASES: BadCase[] = [
  sp("watermark as string", { highWatermarkIOPS: "5000" }, "spec.highWatermarkIOPS", "schema"),
  sp("fractional watermark", { warmWatermarkIOPS: 2000.5 }, "spec.warmWatermarkIOPS", "schema"),
  sp("negative low watermark", { lowWatermarkIOPS: -1 }, "spec.lowWatermarkIOPS", "schema"),
  sp("high watermark zero", { highWatermarkIOPS: 0 }, "spec.highWatermarkIOPS", "schema"),
  sp("watermark too big", { highWatermarkIOPS: 1e9 }, "spec.highWatermarkIOPS", "schema"),
  sp("low >= warm", { lowWatermarkIOPS: 2000 }, "spec.lowWatermarkIOPS", "cel"),
  sp(
    "low > warm",
    { lowWatermarkIOPS: 2500, warmWatermarkIOPS: 2400 },
    "spec.lowWatermarkIOPS",
    "cel",
  ),
  sp("warm >= high", { warmWatermarkIOPS: 5000 }, "spec.warmWatermarkIOPS", "cel"),
  sp("bad sampling window", { samplingWindow: "soon" }, "spec.samplingWindow", "schema"),
  sp("duration without unit", { cooldownPeriod: "24" }, "spec.cooldownPeriod", "schema"),
  sp("duration with space", { migrationTimeout: "30 m" }, "spec.migrationTimeout", "schema"),
  sp("duration as number", { migrationTimeout: 1800 }, "spec.migrationTimeout", "schema"),
  sp("zero concurrency", { maxConcurrentMigrations: 0 }, "spec.maxConcurrentMigrations", "schema"),
  sp(
    "concurrency too high",
    { maxConcurrentMigrations: 65 },
    "spec.maxConcurrentMigrations",
    "schema",
  ),
  sp("enabled as string", { enabled: "yes" }, "spec.enabled", "schema"),
  sp("dryRun as number", { dryRun: 1 }, "spec.dryRun", "schema"),
  {
    ...sp("preservationMode null", { preservationMode: null }, "spec.preservationMode", "schema"),
    server: "defaults",
  },
  sp("empty storage class", { storageClassName: "" }, "spec.storageClassName", "schema"),
  sp("negative EC size", { ecMinVolumeSizeBytes: -5 }, "spec.ecMinVolumeSizeBytes", "schema"),
  sp("empty ecPolicyRef", { ecPolicyRef: "" }, "spec.ecPolicyRef", "schema"),
  sp(
    "unknown selector operator",
    { hotPoolSelector: { matchExpressions: [{ key: "tier", operator: "Equals", values: ["a"] }] } },
    "spec.hotPoolSelector.matchExpressions[0].operator",
    "schema",
  ),
  sp(
    "lower-case operator",
    { volumeSelector: { matchExpressions: [{ key: "app", operator: "in", values: ["db"] }] } },
    "spec.volumeSelector.matchExpressions[0].operator",
    "schema",
  ),
  sp(
    "In without values",
    { warmPoolSelector: { matchExpressions: [{ key: "tier", operator: "In" }] } },
    "spec.warmPoolSelector.matchExpressions[0].values",
    "cel",
  ),
  sp(
    "Exists with values",
    {
      coldPoolSelector: {
        matchExpressions: [{ key: "t", operator: "In", values: ["c"] }, {
          key: "x",
          operator: "Exists",
          values: ["y"],
        }],
      },
    },
    "spec.coldPoolSelector.matchExpressions[1].values",
    "cel",
  ),
  sp(
    "selector key missing",
    { coldPoolSelector: { matchExpressions: [{ operator: "Exists" }] } },
    "spec.coldPoolSelector.matchExpressions[0].key",
    "schema",
  ),
  sp(
    "matchLabels value not a string",
    { hotPoolSelector: { matchLabels: { tier: 1 } } },
    "spec.hotPoolSelector.matchLabels.tier",
    "schema",
  ),
  sp("empty metrics query", { metricsQuery: "" }, "spec.metricsQuery", "schema"),
  sp(
    "claimSelector with an unknown operator",
    { claimSelector: { matchExpressions: [{ key: "app", operator: "Equals", values: ["db"] }] } },
    "spec.claimSelector.matchExpressions[0].operator",
    "schema",
  ),
  sp(
    "namespaceSelector In without values",
    { namespaceSelector: { matchExpressions: [{ key: "team", operator: "In" }] } },
    "spec.namespaceSelector.matchExpressions[0].values",
    "cel",
  ),
  sp(
    "namespaceSelector value not a string",
    { namespaceSelector: { matchLabels: { tiering: true } } },
    "spec.namespaceSelector.matchLabels.tiering",
    "schema",
  ),
  sp("approval in lower case", { approval: "manual" }, "spec.approval", "schema"),
  sp("approvalTTL in words", { approvalTTL: "1 day" }, "spec.approvalTTL", "schema"),
  sp(
    "ecMinDetachedFor without unit",
    { ecMinDetachedFor: "60" },
    "spec.ecMinDetachedFor",
    "schema",
  ),
  sp("migrationTimeout 0ms", { migrationTimeout: "0ms" }, "spec.migrationTimeout", "cel"),
  sp("migrationTimeout 30s", { migrationTimeout: "30s" }, "spec.migrationTimeout", "cel"),
  sp("migrationTimeout 59s999ms", { migrationTimeout: "59s999ms" }, "spec.migrationTimeout", "cel"),
  sp(
    "moveWindows not a list",
    { moveWindows: "Sat 01:00-06:00 UTC" },
    "spec.moveWindows",
    "schema",
  ),
  sp(
    "window without zone",
    { moveWindows: ["Sat-Sun 01:00-06:00"] },
    "spec.moveWindows[0]",
    "schema",
  ),
  sp(
    "window day in lower case",
    { moveWindows: ["sat 01:00-06:00 UTC"] },
    "spec.moveWindows[0]",
    "schema",
  ),
  sp("window hour 25", { moveWindows: ["Sat 01:00-25:00 UTC"] }, "spec.moveWindows[0]", "schema"),
  sp(
    "second window without leading zero",
    { moveWindows: ["Sat 01:00-06:00 UTC", "Sun 1:00-06:00 UTC"] },
    "spec.moveWindows[1]",
    "schema",
  ),
  sp(
    "window start equals end",
    { moveWindows: ["Sat 06:00-06:00 UTC"] },
    "spec.moveWindows[0]",
    "cel",
  ),
  sp(
    "window text too long",
    { moveWindows: [`Mon,Tue,Wed,Thu,Fri,Sat,Sun,${"Mon,".repeat(30)}Sun 01:00-06:00 UTC`] },
    "spec.moveWindows[0]",
    "schema",
  ),
  sp(
    "seventeen windows",
    { moveWindows: Array.from({ length: 17 }, () => "Sat 01:00-06:00 UTC") },
    "spec.moveWindows",
    "schema",
  ),
  ecp("dataShards as string", { dataShards: "4" }, "spec.dataShards", "schema"),
  ecp("dataShards zero", { dataShards: 0 }, "spec.dataShards", "schema"),
  ecp("parityShards zero", { parityShards: 0 }, "spec.parityShards", "schema"),
  ecp("unknown algorithm", { algorithm: "Raid6" }, "spec.algorithm", "schema"),
  ecp("stripe too small", { stripeSizeBytes: 4096 }, "spec.stripeSizeBytes", "schema"),
  ecp("stripe too large", { stripeSizeBytes: 128 * 1024 * 1024 }, "spec.stripeSizeBytes", "schema"),
  ecp("k + m > 255", { dataShards: 200, parityShards: 56 }, "spec.parityShards", "cel"),
  ecp(
    "k + m + l > 255 (LRC)",
    { algorithm: "LRC", dataShards: 240, parityShards: 12, localGroups: 4 },
    "spec.parityShards",
    "cel",
  ),
  ecp("LRC without localGroups", { algorithm: "LRC", dataShards: 12 }, "spec.localGroups", "cel"),
  ecp(
    "LRC groups do not divide k",
    { algorithm: "LRC", dataShards: 12, localGroups: 5 },
    "spec.localGroups",
    "cel",
  ),
  ecp("localGroups with ReedSolomon", { localGroups: 2 }, "spec.localGroups", "cel"),
  ecp("minHealthyShards < k", { minHealthyShards: 3 }, "spec.minHealthyShards", "cel"),
  ecp("minHealthyShards > k + m", { minHealthyShards: 7 }, "spec.minHealthyShards", "cel"),
  ecp(
    "destage threshold over 100",
    { journal: { destageThresholdPercent: 101 } },
    "spec.journal.destageThresholdPercent",
    "schema",
  ),
  ecp("journal too small", { journal: { sizeBytes: 1024 } }, "spec.journal.sizeBytes", "schema"),
  ecp(
    "bad destage interval",
    { journal: { destageInterval: "30 seconds" } },
    "spec.journal.destageInterval",
    "schema",
  ),
  ecp("bad scrub interval", { scrub: { interval: "weekly" } }, "spec.scrub.interval", "schema"),
  ecp("scrub enabled string", { scrub: { enabled: "true" } }, "spec.scrub.enabled", "schema"),
  ecp(
    "negative scrub bandwidth",
    { scrub: { bandwidthLimitBytesPerSecond: -1 } },
    "spec.scrub.bandwidthLimitBytesPerSecond",
    "schema",
  ),
  ecp(
    "empty topology key",
    { placement: { failureDomainTopologyKey: "" } },
    "spec.placement.failureDomainTopologyKey",
    "schema",
  ),
  ecp("journal not an object", { journal: "1Gi" }, "spec.journal", "schema"),
];

const SCHEMAS = {
  StoragePolicy: StoragePolicySchema,
  ErasureCodingPolicy: ErasureCodingPolicySchema,
};

function object(c: BadCase) {
  return {
    apiVersion: "storage.billyronks.io/v1",
    kind: c.kind,
    metadata: { name: "bad" },
    spec: c.spec,
  };
}

for (const c of CASES) {
  Deno.test(`invalid ${c.kind}: ${c.name} → ${c.field}`, () => {
    const obj = object(c);
    assert.deepEqual(zodFields(SCHEMAS[c.kind], obj), [c.field], "zod must name exactly the field");
    const r = validatorFor(c.kind).validate(obj);
    assert.equal(r.ok, false, "the CRD must reject it");
    if (r.ok) return;
    assert.deepEqual(r.errors.map((e) => e.field), [c.field], JSON.stringify(r.errors));
    assert.equal(r.errors[0].source, c.layer, `expected the ${c.layer} layer to catch it`);
    const admitted = structuredClone(obj);
    const sb = sandboxValidator(c.kind).admit(admitted);
    if (c.server === "defaults") {
      assert.deepEqual(sb.errors, []);
      assert.equal(admitted.spec.preservationMode, false, "the null is replaced by the default");
      return;
    }
    assert.deepEqual(
      sb.errors.map((e) => e.field),
      [c.field],
      `the sandbox API server must name the same field: ${JSON.stringify(sb.errors)}`,
    );
  });
}

/** Every CEL rule anywhere in a schema (nested objects and list items included). */
function celRules(s: JSONSchemaProps | undefined): { message: string }[] {
  if (!s) return [];
  return [
    ...(s["x-kubernetes-validations"] ?? []),
    ...Object.values(s.properties ?? {}).flatMap(celRules),
    ...celRules(s.items),
  ];
}

Deno.test("the table covers every cross-field rule of both specs", () => {
  const rules = (["StoragePolicy", "ErasureCodingPolicy"] as const).flatMap((kind) =>
    celRules(validatorFor(kind).schema.properties?.spec)
  );
  assert.ok(rules.length >= 10);
  const caught = new Set<string>();
  for (const c of CASES.filter((x) => x.layer === "cel")) {
    const r = validatorFor(c.kind).validate(object(c));
    if (!r.ok) { for (const e of r.errors) caught.add(e.message); }
  }
  for (const r of rules) assert.ok(caught.has(r.message), `no bad example for rule: ${r.message}`);
});

Deno.test("the valid baseline of each kind passes all three validators", () => {
  for (const kind of ["StoragePolicy", "ErasureCodingPolicy"] as const) {
    const obj = {
      apiVersion: "storage.billyronks.io/v1",
      kind,
      metadata: { name: "ok" },
      spec: {},
    };
    assert.deepEqual(zodFields(SCHEMAS[kind], obj), []);
    assert.equal(validatorFor(kind).validate(obj).ok, true);
    assert.deepEqual(sandboxValidator(kind).admit(structuredClone(obj)).errors, []);
  }
});

Deno.test("StoragePolicy edge values the rules accept pass all three validators", () => {
  for (
    const spec of [
      { migrationTimeout: "1m" },
      { migrationTimeout: "60s" },
      { migrationTimeout: "1d" },
      { migrationTimeout: "0.5h" },
      { approval: "Manual", approvalTTL: "7d" },
      {
        moveWindows: [
          "Sat-Sun 01:00-06:00 Europe/Paris",
          "Mon,Wed-Fri 22:00-02:00 America/New_York",
          "Sun 00:00-24:00 UTC",
        ],
      },
      { claimSelector: { matchLabels: { app: "db" } }, namespaceSelector: {} },
    ]
  ) {
    const obj = { ...object(sp("ok", spec, "", "schema")), metadata: { name: "ok" } };
    assert.deepEqual(zodFields(StoragePolicySchema, obj), [], JSON.stringify(spec));
    const r = validatorFor("StoragePolicy").validate(obj);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(sandboxValidator("StoragePolicy").admit(structuredClone(obj)).errors, []);
  }
});

Deno.test("an unknown time zone: zod names the window and the zone; the CRD pattern cannot", () => {
  const obj = object(sp("zone", { moveWindows: ["Sat 01:00-06:00 Europe/Pariss"] }, "", "schema"));
  const r = StoragePolicySchema.safeParse(obj);
  assert.equal(r.success, false);
  const issue = r.error!.issues[0];
  assert.deepEqual(issue.path, ["spec", "moveWindows", 0]);
  assert.match(issue.message, /unknown time zone "Europe\/Pariss": use an IANA name/);
  // The API server stores it (zone names are not a pattern); the operator's zod parse then
  // sets Ready=False InvalidPolicy with this message, so nothing moves on a wrong zone.
  assert.equal(validatorFor("StoragePolicy").validate(obj).ok, true);
});
