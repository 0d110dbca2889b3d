/**
 * planVolumes: decide() plus pins, opt-outs, contested volumes, health, backoff, approvals,
 * move windows and placement — one reason per volume. Without any of those it must agree
 * with decide() exactly (property).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Tier } from "../../src/model/storage.ts";
import { decide, type DecideInput } from "../../src/tiering/decide.ts";
import { recordFailure } from "../../src/tiering/backoff.ts";
import { type PlanVolume, planVolumes } from "../../src/tiering/volume_plan.ts";
import { parseMoveWindow } from "../../src/api/move_windows.ts";
import { H, MIN, NOW, planInput, testPolicy } from "./_plan_fixtures.ts";

const policy = testPolicy;
const input = planInput;

const vol = (name: string, tier: Tier, over: Partial<PlanVolume> = {}): PlanVolume => ({
  name,
  tier,
  claim: `shop/${name}`,
  ...over,
});

function byVolume(p: ReturnType<typeof planVolumes>) {
  return Object.fromEntries(p.outcomes.map((o) => [o.volume, o]));
}

Deno.test("plan: without issue-16 inputs it decides exactly as decide()", () => {
  const tiers = fc.constantFrom<Tier | "mixed" | undefined>(
    "hot",
    "warm",
    "cold",
    "mixed",
    undefined,
  );
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          tier: tiers,
          iops: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }),
          last: fc.option(fc.integer({ min: NOW - 12 * H, max: NOW }), { nil: undefined }),
          inFlight: fc.boolean(),
        }),
        { maxLength: 20 },
      ),
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 0, max: 4 }),
      (vs, limit, inFlight) => {
        const volumes = vs.map((v, i) => ({
          name: `v${i}`,
          tier: v.tier,
          ...(v.last === undefined ? {} : { lastMigrationMs: v.last }),
          inFlight: v.inFlight,
        }));
        const iops = Object.fromEntries(
          vs.flatMap((v, i) => (v.iops === undefined ? [] : [[`v${i}`, v.iops]])),
        );
        const i = input(volumes, iops, {
          policy: policy({ maxConcurrentMigrations: limit }),
          inFlight: { policy: inFlight, global: inFlight },
        });
        const want = decide(i as DecideInput);
        const got = planVolumes(i);
        assert.deepEqual(got.outcomes.map((o) => o.reason), want.decisions.map((d) => d.reason));
        assert.deepEqual(got.moves.map((m) => m.volume), want.moves.map((m) => m.volume));
        assert.equal(got.budget, want.budget);
        assert.equal(Object.values(got.counts).reduce((a, b) => a + b, 0), volumes.length);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("plan: a pin moves the volume there (no cooldown), then keeps it there", () => {
  const p = planVolumes(input([
    vol("pinned-hot", "cold", {
      override: { kind: "pin", tier: "hot", on: "pvc" },
      lastMigrationMs: NOW - MIN,
    }),
    vol("kept", "hot", { override: { kind: "pin", tier: "hot", on: "pv" } }),
    vol("kept-quiet", "hot", { override: { kind: "pin", tier: "hot", on: "pvc" } }),
  ], { "pinned-hot": 5, kept: 5000, "kept-quiet": 5 }));
  const o = byVolume(p);
  assert.deepEqual([o["pinned-hot"].move, o["pinned-hot"].reason, o["pinned-hot"].to], [
    true,
    "Promote",
    "hot",
  ]);
  assert.match(
    o["pinned-hot"].detail!,
    /pinned to hot \(storage\.billyronks\.io\/tier=hot on PVC shop\/pinned-hot\)/,
  );
  assert.equal(o["pinned-hot"].iops, 5, "the real IOPS are reported, not the band edge");
  assert.deepEqual([o.kept.reason, o.kept.listed], ["Pinned", false]);
  assert.deepEqual(
    [o["kept-quiet"].reason, o["kept-quiet"].listed, o["kept-quiet"].to],
    ["Pinned", true, "hot"],
    "pinned against its bands: listed",
  );
});

Deno.test("plan: a pin to a tier the policy lacks is NoTargetPool, not a move elsewhere", () => {
  const p = planVolumes(input(
    [
      vol("w", "hot", { override: { kind: "pin", tier: "warm", on: "pvc" } }),
      vol("on-warm", "warm", { override: { kind: "pin", tier: "warm", on: "pvc" } }),
    ],
    { w: 1, "on-warm": 5000 },
    { policy: policy({ warmTier: false }) },
  ));
  const o = byVolume(p);
  assert.deepEqual([o.w.move, o.w.reason], [false, "NoTargetPool"]);
  assert.match(o.w.detail!, /no warm band/);
  assert.equal(o["on-warm"].reason, "Pinned");
});

Deno.test("plan: opt-out, invalid annotations and contested volumes are held; the rest moves", () => {
  const p = planVolumes(input([
    vol("out", "hot", { override: { kind: "optOut", on: "pvc" } }),
    vol("out-quiet", "hot", { override: { kind: "optOut", on: "pvc" } }),
    vol("typo", "hot", {
      override: {
        kind: "invalid",
        problems: [{
          on: "pvc",
          annotation: "storage.billyronks.io/tier",
          value: "Hot",
          message: "bad",
        }],
      },
    }),
    vol("shared", "hot", { contestedBy: ["web"] }),
    vol("free", "hot"),
  ], { out: 1, "out-quiet": 5000, typo: 5000, shared: 1, free: 1 }));
  const o = byVolume(p);
  assert.deepEqual([o.out.reason, o.out.listed, o.out.to], ["OptedOut", true, "cold"]);
  assert.deepEqual([o["out-quiet"].reason, o["out-quiet"].listed], ["OptedOut", false]);
  assert.deepEqual([o.typo.reason, o.typo.listed], ["InvalidOverride", true]);
  assert.match(o.typo.detail!, /PVC shop\/typo: bad/);
  assert.deepEqual([o.shared.reason, o.shared.detail], [
    "ConflictingPolicies",
    "also selected by web",
  ]);
  assert.deepEqual(p.moves.map((m) => m.volume), ["free"]);
  assert.equal(p.counts.OptedOut, 2);
});

Deno.test("plan: health, backoff, implausible readings and detached volumes", () => {
  const failed = recordFailure(
    recordFailure(undefined, "RolledBack", NOW - 20 * MIN),
    "Failed",
    NOW - 5 * MIN,
    "boom",
  );
  const p = planVolumes(input(
    [
      vol("faulted", "hot", { health: "Faulted" }),
      vol("degraded", "hot", { health: "Degraded" }),
      vol("backing", "hot", { backoff: failed }),
      vol("backed", "hot", { backoff: recordFailure(undefined, "RolledBack", NOW - 6 * MIN) }),
      vol("crazy", "hot"),
      vol("gone", "hot", { detached: true }),
      vol("quiet-detached", "cold", { detached: true }),
    ],
    { faulted: 1, degraded: 1, backing: 1, backed: 1, "quiet-detached": 1 },
    {
      // The metrics source rejected its reading (1e12 is above the plausibility ceiling).
      rejected: new Map([["crazy", "IOPS 1000000000000 is above the ceiling of 10000000"]]),
    },
  ));
  const o = byVolume(p);
  assert.equal(o.faulted.reason, "Faulted");
  assert.match(o.degraded.detail!, /Mayastor reports it Degraded/);
  assert.equal(o.degraded.reason, "NotOnline");
  // Two failures: 10 min from the last one, 5 min of it gone.
  assert.deepEqual([o.backing.reason, o.backing.timeLeftMs], ["BackingOff", 5 * MIN]);
  assert.match(o.backing.detail!, /2 failed move\(s\) in a row, the last Failed: boom/);
  assert.deepEqual(
    [o.backed.move, o.backed.reason],
    [true, "Demote"],
    "one failure: 5 min, passed",
  );
  assert.deepEqual([o.crazy.reason, o.crazy.iops, o.crazy.listed], [
    "ImplausibleMetrics",
    undefined,
    true,
  ]);
  assert.equal(o.gone.reason, "Detached");
  assert.equal(
    o["quiet-detached"].reason,
    "AlreadyOnTier",
    "a detached volume with IOPS is just a volume",
  );
});

Deno.test("plan: outside the move windows nothing starts, with the time to the next opening", () => {
  const sat = parseMoveWindow("Sat-Sun 01:00-06:00 Europe/Paris");
  assert.ok(sat.ok);
  const vols = [vol("a", "hot"), vol("b", "cold"), vol("c", "hot", { lastMigrationMs: NOW - H })];
  const iops = { a: 1, b: 5000, c: 1 };
  const closed = planVolumes(input(vols, iops, { windows: [sat.window] }));
  const o = byVolume(closed);
  // Wednesday 12:00 UTC → Saturday 01:00 Paris (00:00 UTC): 2 days 12 hours.
  assert.deepEqual([o.a.reason, o.a.timeLeftMs], ["OutsideMoveWindow", 60 * H]);
  assert.equal(o.b.reason, "OutsideMoveWindow");
  assert.equal(o.c.reason, "InCooldown", "a cooldown is the reason, not the window");
  assert.deepEqual([closed.moves, closed.window.open], [[], false]);
  const sunday = Date.UTC(2026, 11, 6, 3);
  const open = planVolumes(input(vols, iops, {
    windows: [sat.window],
    now: sunday,
    metrics: { at: sunday, iops: new Map(Object.entries(iops)) },
  }));
  // Four days on, c's cooldown is over too; promotions first, then the coldest.
  assert.deepEqual(open.moves.map((m) => m.volume), ["b", "a", "c"]);
});

Deno.test("plan: manual approval — proposals wait, approved ones start within the budget", () => {
  const vols = [vol("a", "hot"), vol("b", "hot"), vol("c", "hot")];
  const iops = { a: 1, b: 2, c: 3 };
  const approval = { mode: "Manual" as const, ttlMs: 24 * H, previous: [] };
  const first = planVolumes(input(vols, iops, { approval }));
  assert.deepEqual(first.moves, []);
  assert.deepEqual(first.outcomes.map((o) => o.reason), [
    "AwaitingApproval",
    "AwaitingApproval",
    "AwaitingApproval",
  ]);
  const props = first.proposals!.proposals;
  assert.deepEqual(props.map((p) => [p.volume, p.state, p.to, p.reason]), [
    ["a", "Pending", "cold", "Demote"],
    ["b", "Pending", "cold", "Demote"],
    ["c", "Pending", "cold", "Demote"],
  ]);
  assert.equal(first.outcomes[0].timeLeftMs, 24 * H);
  assert.match(first.outcomes[0].detail!, /approve with couchestor approve shop\/a --policy dbs/);
  // b and c approved; the budget is one: the approved coldest (b) starts, c waits its turn.
  const approvals = (v: string) => [{ policy: "dbs", id: props.find((p) => p.volume === v)!.id }];
  const later = NOW + H;
  const second = planVolumes(input(
    [
      vol("a", "hot"),
      vol("b", "hot", { approvals: approvals("b") }),
      vol("c", "hot", { approvals: approvals("c") }),
    ],
    iops,
    {
      approval: { ...approval, previous: props },
      now: later,
      metrics: { at: later, iops: new Map(Object.entries(iops)) },
      policy: policy({ maxConcurrentMigrations: 1 }),
    },
  ));
  assert.deepEqual(second.moves.map((m) => [m.volume, m.proposal]), [["b", props[1].id]]);
  assert.deepEqual(second.outcomes.map((o) => o.reason), [
    "AwaitingApproval",
    "Demote",
    "ConcurrencyLimit",
  ]);
  assert.deepEqual(second.proposals!.proposals.map((p) => [p.volume, p.state]), [
    ["a", "Pending"],
    ["b", "Started"],
    ["c", "Approved"],
  ]);
  // After the TTL the unstarted proposals are dropped and proposed afresh (Pending again).
  const expiry = NOW + 24 * H;
  const third = planVolumes(input(vols, iops, {
    approval: { ...approval, previous: second.proposals!.proposals },
    now: expiry,
    metrics: { at: expiry, iops: new Map(Object.entries(iops)) },
  }));
  assert.deepEqual(third.proposals!.events.map((e) => [e.kind, e.proposal.volume]), [
    ["Expired", "a"],
    ["Expired", "c"],
    ["Proposed", "a"],
    ["Proposed", "b"],
    ["Proposed", "c"],
  ]);
  assert.deepEqual(third.moves, []);
});

Deno.test("plan: placement failures are NoTargetPool and never proposals; targets are recorded", () => {
  const p = planVolumes(input([vol("a", "hot"), vol("b", "hot")], { a: 1, b: 2 }, {
    approval: { mode: "Manual", ttlMs: H, previous: [] },
    place: (v) =>
      v === "a" ? { ok: true, targetPool: "cold-1" } : { ok: false, detail: "cold pools full" },
  }));
  const o = byVolume(p);
  assert.deepEqual([o.a.reason, o.a.targetPool], ["AwaitingApproval", "cold-1"]);
  assert.deepEqual([o.b.reason, o.b.detail], ["NoTargetPool", "cold pools full"]);
  assert.deepEqual(p.proposals!.proposals.map((x) => [x.volume, x.targetPool]), [["a", "cold-1"]]);
});

Deno.test("plan: a disabled policy observes: every volume PolicyDisabled, listed when off-band", () => {
  const p = planVolumes(input([vol("a", "hot"), vol("b", "cold")], { a: 1, b: 1 }, {
    policy: policy({ enabled: false }),
  }));
  assert.deepEqual(p.outcomes.map((o) => [o.reason, o.listed, o.to]), [
    ["PolicyDisabled", true, "cold"],
    ["PolicyDisabled", false, "cold"],
  ]);
  assert.deepEqual(p.moves, []);
});
