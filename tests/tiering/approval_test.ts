/** Proposals: made from wanted moves, approved by annotation, expired, withdrawn, started. */
import assert from "node:assert/strict";
import {
  approvalValue,
  APPROVE_ANNOTATION,
  markStarted,
  parseApproval,
  proposalId,
  type ProposalInput,
  readApprovals,
  reconcileProposals,
  type WantedMove,
} from "../../src/tiering/approval.ts";

const H = 3_600_000;
const T0 = Date.UTC(2026, 11, 1, 12);

const want = (volume: string, to: "hot" | "cold" = "cold"): WantedMove => ({
  volume,
  claim: `shop/${volume}`,
  from: to === "cold" ? "hot" : "cold",
  to,
  iops: to === "cold" ? 3 : 9000,
  reason: to === "cold" ? "Demote" : "Promote",
  message: "band",
});

function pass(over: Partial<ProposalInput>) {
  return reconcileProposals({
    policy: "dbs",
    previous: [],
    wanted: [],
    approvals: () => [],
    nowMs: T0,
    ttlMs: 24 * H,
    limit: 50,
    ...over,
  });
}

Deno.test("approval: the annotation value names the policy and the proposal", () => {
  assert.equal(approvalValue("dbs", "p-0a1b2c3d"), "dbs/p-0a1b2c3d");
  assert.deepEqual(parseApproval("dbs/p-0a1b2c3d"), { policy: "dbs", id: "p-0a1b2c3d" });
  for (const bad of ["", "dbs", "dbs/", "/p-1", "DBS/p-1", "dbs/p 1", "a/b/c"]) {
    assert.equal(parseApproval(bad), undefined, bad);
  }
  assert.deepEqual(
    readApprovals({ [APPROVE_ANNOTATION]: "dbs/p-1" }, { [APPROVE_ANNOTATION]: "junk" }),
    [{ policy: "dbs", id: "p-1" }],
  );
  assert.equal(proposalId("dbs", "pv-1", "cold", T0), proposalId("dbs", "pv-1", "cold", T0));
  assert.notEqual(proposalId("dbs", "pv-1", "cold", T0), proposalId("dbs", "pv-1", "hot", T0));
  assert.match(proposalId("dbs", "pv-1", "cold", T0), /^p-[0-9a-f]{8}$/);
});

Deno.test("approval: Pending → Approved (annotation) → Started → dropped", () => {
  const first = pass({ wanted: [want("pv-1")] });
  const [p] = first.proposals;
  assert.deepEqual(
    [p.state, p.createdMs, p.expiresMs, p.to, p.claim],
    ["Pending", T0, T0 + 24 * H, "cold", "shop/pv-1"],
  );
  assert.deepEqual(first.events.map((e) => e.kind), ["Proposed"]);
  // Not approved yet: still Pending, no new event, same id.
  const second = pass({ previous: first.proposals, wanted: [want("pv-1")], nowMs: T0 + H });
  assert.deepEqual([second.proposals[0].id, second.proposals[0].state], [p.id, "Pending"]);
  assert.deepEqual(second.events, []);
  // An approval naming another policy or id does nothing; the right one approves.
  const wrong = pass({
    previous: first.proposals,
    wanted: [want("pv-1")],
    approvals: () => [{ policy: "web", id: p.id }, { policy: "dbs", id: "p-00000000" }],
  });
  assert.equal(wrong.proposals[0].state, "Pending");
  const ok = pass({
    previous: first.proposals,
    wanted: [want("pv-1")],
    approvals: () => [{ policy: "dbs", id: p.id }],
  });
  assert.equal(ok.proposals[0].state, "Approved");
  assert.deepEqual(ok.events.map((e) => e.kind), ["Approved"]);
  // Removing the annotation takes the approval back.
  assert.equal(
    pass({ previous: ok.proposals, wanted: [want("pv-1")] }).proposals[0].state,
    "Pending",
  );
  const started = markStarted(ok.proposals, new Set(["pv-1"]));
  assert.equal(started[0].state, "Started");
  assert.deepEqual(markStarted(first.proposals, new Set(["pv-1"]))[0].state, "Pending");
  const after = pass({ previous: started, wanted: [] });
  assert.deepEqual([after.proposals, after.events], [[], []], "a started proposal goes quietly");
});

Deno.test("approval: expiry, withdrawal and pauses", () => {
  const first = pass({ wanted: [want("pv-1"), want("pv-2"), want("pv-3")] });
  const approvedAll = () => first.proposals.map((p) => ({ policy: "dbs", id: p.id }));
  const expired = pass({
    previous: first.proposals,
    wanted: [want("pv-1")],
    approvals: approvedAll,
    nowMs: T0 + 24 * H,
  });
  assert.deepEqual(expired.events.map((e) => [e.kind, e.proposal.volume]), [
    ["Expired", "pv-1"],
    ["Expired", "pv-2"],
    ["Expired", "pv-3"],
    ["Proposed", "pv-1"],
  ], "expiry applies to approved proposals too; a still wanted move is proposed afresh");
  assert.notEqual(expired.proposals[0].id, first.proposals[0].id);
  const changed = pass({
    previous: first.proposals,
    wanted: [want("pv-1", "hot")],
    paused: [{ volume: "pv-2", to: "cold" }],
    approvals: approvedAll,
    nowMs: T0 + H,
  });
  assert.deepEqual(changed.events.map((e) => [e.kind, e.proposal.volume]), [
    ["Withdrawn", "pv-1"],
    ["Approved", "pv-2"],
    ["Withdrawn", "pv-3"],
    ["Proposed", "pv-1"],
  ]);
  assert.deepEqual(changed.proposals.map((p) => [p.volume, p.to, p.state]), [
    ["pv-2", "cold", "Approved"],
    ["pv-1", "hot", "Pending"],
  ], "a paused move keeps its proposal and approval");
});

Deno.test("approval: the list is bounded; the overflow waits without a proposal", () => {
  const out = pass({ wanted: ["a", "b", "c"].map((v) => want(v)), limit: 2 });
  assert.deepEqual(out.proposals.map((p) => p.volume), ["a", "b"]);
  assert.deepEqual([...out.overflow], ["c"]);
});
