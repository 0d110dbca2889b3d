import assert from "node:assert/strict";
import fc from "fast-check";
import {
  choosePool,
  freeBytes,
  type LabelSelector,
  matchesSelector,
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

Deno.test("choosePool never picks a pool that is not Online", () => {
  for (const status of ["Degraded", "Faulted", "Unknown"] as const) {
    const c = choosePool(volume([{ pool: "a", node: "na" }]), [pool("b", { status })]);
    assert.equal(c.pool, undefined);
    assert.deepEqual(c.rejected, [{ pool: "b", reason: "not-online" }]);
  }
});

Deno.test("choosePool needs free space >= size + margins (boundary is inclusive)", () => {
  const v = volume([{ pool: "a", node: "na" }], 10 * GiB);
  const exact = pool("b", { usedBytes: 90 * GiB });
  assert.equal(choosePool(v, [exact]).pool?.id, "b");
  const short = pool("c", { usedBytes: 90 * GiB + 1 });
  assert.deepEqual(choosePool(v, [short]).rejected, [{ pool: "c", reason: "no-capacity" }]);
  assert.equal(choosePool(v, [exact], { marginBytes: 1 }).pool, undefined);
  const roomy = pool("d", { usedBytes: 85 * GiB });
  assert.equal(choosePool(v, [roomy], { marginRatio: 0.05 }).pool?.id, "d");
  assert.equal(choosePool(v, [roomy], { marginRatio: 0.06 }).pool, undefined);
  // Over-committed pools report used > capacity: free is zero, never negative.
  assert.equal(freeBytes(pool("e", { usedBytes: 200 * GiB })), 0);
});

Deno.test("choosePool skips pools that already hold a replica of the volume", () => {
  const v = volume([{ pool: "a", node: "n1" }, { pool: "b", node: "n2" }]);
  const c = choosePool(v, [pool("a"), pool("b"), pool("c", { usedBytes: 50 * GiB })]);
  assert.equal(c.pool?.id, "c");
  assert.deepEqual(c.rejected.map((r) => r.reason), ["holds-replica", "holds-replica"]);
});

Deno.test("choosePool prefers a node without a staying replica over more free space", () => {
  const v = volume([{ pool: "a", node: "n1", uuid: "ra" }, { pool: "b", node: "n2", uuid: "rb" }]);
  const sameNode = pool("big", { node: "n2", usedBytes: 0 });
  const otherNode = pool("small", { node: "n3", usedBytes: 80 * GiB });
  assert.equal(choosePool(v, [sameNode, otherNode]).pool?.id, "small");
  // The leaving replica's node is free to reuse: moving ra off n1 may land on n1.
  const leavingNode = pool("n1pool", { node: "n1", usedBytes: 10 * GiB });
  assert.equal(
    choosePool(v, [sameNode, leavingNode], { leavingReplica: "ra" }).pool?.id,
    "n1pool",
  );
  assert.equal(choosePool(v, [sameNode, leavingNode]).pool?.id, "big");
});

Deno.test("choosePool: most free space wins, then the smallest id", () => {
  const v = volume([{ pool: "a", node: "n1" }]);
  const c = choosePool(v, [
    pool("p2", { usedBytes: 30 * GiB }),
    pool("p3", { usedBytes: 10 * GiB }),
    pool("p1", { usedBytes: 10 * GiB }),
  ]);
  assert.equal(c.pool?.id, "p1");
  assert.equal(choosePool(v, []).pool, undefined);
});

Deno.test("property: a chosen pool is always Online, roomy and new to the volume", () => {
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
    fc.uniqueArray(arbPool, { selector: (p) => p.id, maxLength: 6 }),
    fc.uniqueArray(fc.constantFrom("p0", "p1", "p2"), { maxLength: 2 }),
    fc.integer({ min: 0, max: 60 }),
    (generated, heldIds, size) => {
      const pools: Pool[] = generated;
      const held: string[] = heldIds;
      const v = volume(held.map((p) => ({ pool: p, node: "n0" })), size);
      const c = choosePool(v, pools);
      if (!c.pool) {
        return c.rejected.length === pools.length;
      }
      const p = c.pool;
      if (p.status !== "Online" || held.includes(p.id) || freeBytes(p) < size) return false;
      // No eligible pool on a fresh node may beat one on a used node.
      const eligible = pools.filter((q) =>
        q.status === "Online" && !held.includes(q.id) && freeBytes(q) >= size
      );
      const fresh = eligible.filter((q) => q.node !== "n0" || held.length === 0);
      if (fresh.length > 0 && !fresh.includes(p)) return false;
      return c.rejected.length + eligible.length === pools.length;
    },
  ));
});
