/** Label selector matching and its query-string form; tier from labels; EC helpers; issue lines. */
import assert from "node:assert/strict";
import {
  effectiveMinHealthyShards,
  ErasureCodingPolicySchema,
  type LabelSelector,
  labelSelectorToString,
  matchesLabelSelector,
  storageEfficiency,
  StoragePolicySchema,
  summarizeIssues,
  tierOfLabels,
  tierSelector,
  totalShards,
} from "../../src/api/mod.ts";

const sel: LabelSelector = {
  matchLabels: { "storage.billyronks.io/tier": "cold" },
  matchExpressions: [
    { key: "zone", operator: "In", values: ["b", "a"] },
    { key: "media", operator: "NotIn", values: ["smr"] },
    { key: "node", operator: "Exists" },
    { key: "draining", operator: "DoesNotExist" },
  ],
};

Deno.test("matchesLabelSelector follows Kubernetes semantics for each operator", () => {
  const base = { "storage.billyronks.io/tier": "cold", zone: "a", node: "n1" };
  assert.equal(matchesLabelSelector(sel, base), true);
  assert.equal(matchesLabelSelector(sel, { ...base, "storage.billyronks.io/tier": "hot" }), false);
  assert.equal(matchesLabelSelector(sel, { ...base, zone: "c" }), false);
  assert.equal(matchesLabelSelector(sel, { ...base, media: "smr" }), false);
  assert.equal(matchesLabelSelector(sel, { ...base, media: "cmr" }), true);
  const { node: _n, ...noNode } = base;
  assert.equal(matchesLabelSelector(sel, noNode), false);
  assert.equal(matchesLabelSelector(sel, { ...base, draining: "" }), false);
  assert.equal(matchesLabelSelector({}, undefined), true, "empty selector matches everything");
  assert.equal(matchesLabelSelector(tierSelector("hot"), undefined), false);
  // Untyped input (the sandbox API server's JSON): an unknown operator selects nothing.
  const odd = { matchExpressions: [{ key: "zone", operator: "Matches", values: ["a"] }] };
  assert.equal(matchesLabelSelector(odd as unknown as typeof sel, base), false);
});

Deno.test("labelSelectorToString gives the API server's labelSelector form", () => {
  assert.equal(
    labelSelectorToString(sel),
    "storage.billyronks.io/tier=cold,zone in (a,b),media notin (smr),node,!draining",
  );
});

Deno.test("tierOfLabels reads the tier label and ignores unknown values", () => {
  assert.equal(tierOfLabels({ "storage.billyronks.io/tier": "warm" }), "warm");
  assert.equal(tierOfLabels({ "storage.billyronks.io/tier": "lukewarm" }), undefined);
  assert.equal(tierOfLabels(undefined), undefined);
});

Deno.test("EC helpers: total shards, efficiency, effective minimum of healthy shards", () => {
  const rs = ErasureCodingPolicySchema.parse({
    apiVersion: "storage.billyronks.io/v1",
    kind: "ErasureCodingPolicy",
    metadata: { name: "rs" },
  }).spec;
  assert.equal(totalShards(rs), 6);
  assert.equal(storageEfficiency(rs), 4 / 6);
  assert.equal(effectiveMinHealthyShards(rs), 4);
  const lrc = { dataShards: 12, parityShards: 2, algorithm: "LRC", localGroups: 2 };
  assert.equal(totalShards(lrc), 16);
  assert.equal(storageEfficiency(lrc), 0.75);
  assert.equal(effectiveMinHealthyShards({ dataShards: 4, minHealthyShards: 5 }), 5);
});

Deno.test("summarizeIssues names each bad field in Kubernetes form", () => {
  const r = StoragePolicySchema.safeParse({
    apiVersion: "storage.billyronks.io/v1",
    kind: "StoragePolicy",
    metadata: { name: "x" },
    spec: {
      samplingWindow: "soon",
      hotPoolSelector: { matchExpressions: [{ key: "k", operator: "Is" }] },
    },
  });
  assert.ok(!r.success);
  const text = summarizeIssues(r.error);
  assert.match(text, /^spec\.samplingWindow: must be a duration/);
  assert.match(text, /spec\.hotPoolSelector\.matchExpressions\[0\]\.operator: /);
});
