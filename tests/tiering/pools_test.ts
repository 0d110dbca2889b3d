import assert from "node:assert/strict";
import fc from "fast-check";
import {
  freeBytes,
  type LabelSelector,
  matchesSelector,
  poolRejection,
  poolsForTier,
  selectorErrors,
  tierOfPool,
  tierOfVolume,
} from "../../src/tiering/pools.ts";
import type { Pool, Volume } from "../../src/model/storage.ts";

const GiB = 1024 ** 3;

function pool(id: string, over: Partial<Pool> = {}): Pool {
  return {
    id,
    node: `node-${id}`,
    status: "Online",
    capacityBytes: 100 * GiB,
    usedBytes: 0,
    labels: {},
    ...over,
  };
}

function volume(replicas: { pool: string; node: string; uuid?: string }[], size = 10 * GiB) {
  const v: Volume = {
    uuid: "vol-1",
    sizeBytes: size,
    replicaCount: replicas.length,
    status: "Online",
    replicas: replicas.map((r, i) => ({
      uuid: r.uuid ?? `r${i}`,
      pool: r.pool,
      node: r.node,
      state: "Online",
    })),
  };
  return v;
}

Deno.test("matchLabels: every pair must be equal", () => {
  const sel: LabelSelector = { matchLabels: { tier: "hot", zone: "a" } };
  assert.equal(matchesSelector({ tier: "hot", zone: "a", x: "y" }, sel), true);
  assert.equal(matchesSelector({ tier: "hot" }, sel), false);
  assert.equal(matchesSelector({ tier: "hot", zone: "b" }, sel), false);
});

Deno.test("empty selector matches everything, undefined matches nothing", () => {
  assert.equal(matchesSelector({}, {}), true);
  assert.equal(matchesSelector({ a: "b" }, { matchLabels: {}, matchExpressions: [] }), true);
  assert.equal(matchesSelector({ a: "b" }, undefined), false);
});

Deno.test("In: key present with a listed value", () => {
  const sel: LabelSelector = {
    matchExpressions: [{ key: "tier", operator: "In", values: ["hot", "warm"] }],
  };
  assert.equal(matchesSelector({ tier: "hot" }, sel), true);
  assert.equal(matchesSelector({ tier: "warm" }, sel), true);
  assert.equal(matchesSelector({ tier: "cold" }, sel), false);
  assert.equal(matchesSelector({}, sel), false);
});

Deno.test("NotIn: key absent, or value not listed", () => {
  const sel: LabelSelector = {
    matchExpressions: [{ key: "tier", operator: "NotIn", values: ["hot"] }],
  };
  assert.equal(matchesSelector({}, sel), true);
  assert.equal(matchesSelector({ tier: "cold" }, sel), true);
  assert.equal(matchesSelector({ tier: "hot" }, sel), false);
});

Deno.test("Exists and DoesNotExist look at the key only (empty value counts as present)", () => {
  const ex: LabelSelector = { matchExpressions: [{ key: "ssd", operator: "Exists" }] };
  const dne: LabelSelector = { matchExpressions: [{ key: "ssd", operator: "DoesNotExist" }] };
  assert.equal(matchesSelector({ ssd: "" }, ex), true);
  assert.equal(matchesSelector({}, ex), false);
  assert.equal(matchesSelector({ ssd: "" }, dne), false);
  assert.equal(matchesSelector({}, dne), true);
});

Deno.test("matchLabels and matchExpressions are ANDed", () => {
  const sel: LabelSelector = {
    matchLabels: { media: "hdd" },
    matchExpressions: [
      { key: "zone", operator: "In", values: ["a"] },
      { key: "retired", operator: "DoesNotExist" },
    ],
  };
  assert.equal(matchesSelector({ media: "hdd", zone: "a" }, sel), true);
  assert.equal(matchesSelector({ media: "hdd", zone: "a", retired: "1" }, sel), false);
  assert.equal(matchesSelector({ media: "ssd", zone: "a" }, sel), false);
  assert.equal(matchesSelector({ media: "hdd", zone: "b" }, sel), false);
});

Deno.test("invalid selectors are reported and match nothing", () => {
  const bad: LabelSelector[] = [
    { matchExpressions: [{ key: "a", operator: "In", values: [] }] },
    { matchExpressions: [{ key: "a", operator: "NotIn" }] },
    { matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] },
    { matchExpressions: [{ key: "a", operator: "DoesNotExist", values: ["x"] }] },
  ];
  for (const s of bad) {
    assert.equal(selectorErrors(s).length, 1, JSON.stringify(s));
    assert.equal(matchesSelector({ a: "x" }, s), false);
    assert.equal(matchesSelector({}, s), false);
  }
  assert.deepEqual(selectorErrors({ matchExpressions: [{ key: "a", operator: "Exists" }] }), []);
});

Deno.test("property: NotIn is the complement of In for the same key and values", () => {
  fc.assert(fc.property(
    fc.dictionary(fc.constantFrom("a", "b", "c"), fc.constantFrom("x", "y", "z")),
    fc.constantFrom("a", "b", "c"),
    fc.uniqueArray(fc.constantFrom("x", "y", "z"), { minLength: 1 }),
    (labels, key, values) => {
      const inSel = matchesSelector(labels, {
        matchExpressions: [{ key, operator: "In", values }],
      });
      const notIn = matchesSelector(labels, {
        matchExpressions: [{ key, operator: "NotIn", values }],
      });
      const ex = matchesSelector(labels, { matchExpressions: [{ key, operator: "Exists" }] });
      const dne = matchesSelector(labels, {
        matchExpressions: [{ key, operator: "DoesNotExist" }],
      });
      return inSel !== notIn && ex !== dne;
    },
  ));
});

Deno.test("poolsForTier and tierOfPool: hotter tier wins on overlap, unmatched is undefined", () => {
  const pools = [
    pool("nvme", { labels: { tier: "hot" } }),
    pool("ssd", { labels: { tier: "warm" } }),
    pool("hdd", { labels: { tier: "cold", media: "hdd" } }),
    pool("odd", { labels: {} }),
  ];
  const selectors = {
    hot: { matchLabels: { tier: "hot" } },
    warm: { matchExpressions: [{ key: "tier", operator: "In" as const, values: ["warm", "hot"] }] },
    cold: { matchLabels: { media: "hdd" } },
  };
  assert.deepEqual(poolsForTier(pools, selectors.warm).map((p) => p.id), ["nvme", "ssd"]);
  assert.equal(tierOfPool(pools[0], selectors), "hot");
  assert.equal(tierOfPool(pools[1], selectors), "warm");
  assert.equal(tierOfPool(pools[2], selectors), "cold");
  assert.equal(tierOfPool(pools[3], selectors), undefined);
  assert.equal(tierOfPool(pools[0], {}), undefined);
  const v = volume([{ pool: "nvme", node: "n1" }, { pool: "hdd", node: "n2" }]);
  assert.equal(tierOfVolume(v, pools, selectors), "mixed");
  assert.equal(tierOfVolume(volume([{ pool: "hdd", node: "n" }]), pools, selectors), "cold");
  assert.equal(tierOfVolume(volume([]), pools, selectors), undefined);
  assert.equal(tierOfVolume(volume([{ pool: "gone", node: "n" }]), pools, selectors), undefined);
});

Deno.test("poolRejection: a pool that is not Online never takes a replica", () => {
  for (const status of ["Degraded", "Faulted", "Unknown"] as const) {
    assert.equal(
      poolRejection(volume([{ pool: "a", node: "na" }]), pool("b", { status })),
      "not-online",
    );
  }
});

Deno.test("poolRejection: free space >= size + margins (boundary is inclusive)", () => {
  const v = volume([{ pool: "a", node: "na" }], 10 * GiB);
  const exact = pool("b", { usedBytes: 90 * GiB });
  assert.equal(poolRejection(v, exact), undefined);
  assert.equal(poolRejection(v, pool("c", { usedBytes: 90 * GiB + 1 })), "no-capacity");
  assert.equal(poolRejection(v, exact, { marginBytes: 1 }), "no-capacity");
  const roomy = pool("d", { usedBytes: 85 * GiB });
  assert.equal(poolRejection(v, roomy, { marginRatio: 0.05 }), undefined);
  assert.equal(poolRejection(v, roomy, { marginRatio: 0.06 }), "no-capacity");
  // Over-committed pools report used > capacity: free is zero, never negative.
  assert.equal(freeBytes(pool("e", { usedBytes: 200 * GiB })), 0);
});

Deno.test("poolRejection: a pool already holding a replica of the volume is refused", () => {
  const v = volume([{ pool: "a", node: "n1" }, { pool: "b", node: "n2" }]);
  assert.deepEqual(
    [pool("a"), pool("b"), pool("c")].map((p) => poolRejection(v, p) ?? "ok"),
    ["holds-replica", "holds-replica", "ok"],
  );
});

Deno.test("property: an accepted pool is always Online, roomy and new to the volume", () => {
  const arbPool = fc.record({
    id: fc.constantFrom("p0", "p1", "p2", "p3", "p4", "p5"),
    node: fc.constantFrom("n0", "n1", "n2"),
    status: fc.constantFrom("Online", "Degraded", "Faulted", "Unknown") as fc.Arbitrary<
      Pool["status"]
    >,
    capacityBytes: fc.integer({ min: 0, max: 100 }),
    usedBytes: fc.integer({ min: 0, max: 120 }),
    labels: fc.constant({}),
  });
  fc.assert(fc.property(
    arbPool,
    fc.uniqueArray(fc.constantFrom("p0", "p1", "p2"), { maxLength: 2 }),
    fc.integer({ min: 0, max: 60 }),
    (p, heldIds, size) => {
      const held: string[] = heldIds;
      const v = volume(held.map((x) => ({ pool: x, node: "n0" })), size);
      const ok = poolRejection(v, p) === undefined;
      return ok === (p.status === "Online" && !held.includes(p.id) && freeBytes(p) >= size);
    },
  ));
});
