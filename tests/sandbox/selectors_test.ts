import assert from "node:assert/strict";
import {
  matchFields,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from "../../src/sandbox/apiserver/selectors.ts";

const labels = { app: "web", tier: "hot", "example.com/zone": "a" };
const m = (s: string) => matchLabels(parseLabelSelector(s), labels);

Deno.test("selectors: equality and inequality", () => {
  assert.equal(m("app=web"), true);
  assert.equal(m("app==web"), true);
  assert.equal(m("app!=web"), false);
  assert.equal(m("app!=db"), true);
  assert.equal(m("missing!=x"), true);
  assert.equal(m("app=web,tier=cold"), false);
  assert.equal(m(""), true);
});

Deno.test("selectors: set-based and existence", () => {
  assert.equal(m("tier in (hot, warm)"), true);
  assert.equal(m("tier notin (hot,warm)"), false);
  assert.equal(m("missing notin (a)"), true);
  assert.equal(m("missing in (a)"), false);
  assert.equal(m("app"), true);
  assert.equal(m("!app"), false);
  assert.equal(m("!missing"), true);
  assert.equal(m("example.com/zone in (a,b),app"), true);
});

Deno.test("selectors: malformed selectors throw", () => {
  assert.throws(() => parseLabelSelector("a=b=c"), SelectorError);
  assert.throws(() => parseLabelSelector("in (a)"), SelectorError);
  assert.throws(() => parseFieldSelector("nonsense"), SelectorError);
});

Deno.test("selectors: field selectors on metadata", () => {
  const obj = { metadata: { name: "a", namespace: "ns1" }, status: { phase: "Bound" } };
  assert.equal(matchFields(parseFieldSelector("metadata.name=a"), obj), true);
  assert.equal(matchFields(parseFieldSelector("metadata.name!=a"), obj), false);
  assert.equal(
    matchFields(parseFieldSelector("metadata.namespace==ns1,status.phase=Bound"), obj),
    true,
  );
  assert.equal(matchFields(parseFieldSelector("metadata.namespace=ns2"), obj), false);
});
