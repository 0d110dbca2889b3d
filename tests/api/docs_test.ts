/** docs/api.md is generated from the schemas; it must match and mention every field and rule. */
import assert from "node:assert/strict";
import { formattedApiDocs } from "../../scripts/gen_api_docs.ts";
import {
  fieldDocs,
  renderApiDocs,
  STORAGE_POLICY_SOURCE,
  toStructural,
} from "../../src/api/mod.ts";

const FILE = new URL("../../docs/api.md", import.meta.url).pathname;

Deno.test("docs/api.md matches the schemas (run `deno run -A scripts/gen_api_docs.ts`)", async () => {
  assert.equal(await Deno.readTextFile(FILE), await formattedApiDocs());
});

Deno.test("the API reference lists every StoragePolicy spec field with default and bounds", () => {
  const spec = toStructural(STORAGE_POLICY_SOURCE.schema).properties!.spec!;
  const rows = fieldDocs(spec, "spec");
  const high = rows.find((r) => r.path === "spec.highWatermarkIOPS")!;
  assert.deepEqual([high.type, high.default, high.bounds], ["integer", "5000", "≥ 1; ≤ 100000000"]);
  const text = renderApiDocs();
  for (const name of Object.keys(spec.properties!)) {
    assert.ok(text.includes(`\`spec.${name}\``), name);
  }
  assert.ok(text.includes("lowWatermarkIOPS must be less than warmWatermarkIOPS"));
  assert.ok(text.includes("localGroups must divide dataShards"));
});
