/** The volume reasons and issue 16's Event reasons are each explained, once, for people. */
import assert from "node:assert/strict";
import { PROPOSAL_EVENT_REASONS } from "../../src/tiering/approval.ts";
import { INVALID_OVERRIDE_EVENT } from "../../src/tiering/overrides.ts";
import { REASON_HELP, reasonRank, VOLUME_REASONS } from "../../src/api/volume_reasons.ts";

const README = await Deno.readTextFile(new URL("../../README.md", import.meta.url));

Deno.test("reasons: unique, each with help, ranked in list order", () => {
  assert.equal(new Set(VOLUME_REASONS).size, VOLUME_REASONS.length);
  assert.deepEqual(Object.keys(REASON_HELP).sort(), [...VOLUME_REASONS].sort());
  assert.ok(reasonRank("ConflictingPolicies") < reasonRank("AlreadyOnTier"));
});

Deno.test("reasons: README Troubleshooting explains the Events of overrides and approvals", () => {
  const section = README.slice(
    README.indexOf("## Troubleshooting"),
    README.indexOf("## Benchmarks"),
  );
  for (const r of [INVALID_OVERRIDE_EVENT, ...Object.values(PROPOSAL_EVENT_REASONS)]) {
    assert.ok(section.includes(`\`${r}\``), `${r} in README Troubleshooting`);
  }
  const why = README.slice(README.indexOf("## Why isn't my volume moving?"));
  for (const r of VOLUME_REASONS) assert.ok(why.includes(`\`${r}\``), r);
});
