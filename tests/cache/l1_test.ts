import assert from "node:assert/strict";
import fc from "fast-check";
import { blockKey, entrySize, L1Cache } from "../../src/cache/l1.ts";

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

Deno.test("L1 set/get/delete round-trip and stats", () => {
  const c = new L1Cache({ maxBytes: 1 << 20 });
  assert.equal(c.shardCount, 1024);
  const v = bytes(100, 7);
  assert.equal(c.set(blockKey("vol-a", 3), v), true);
  assert.equal(c.get("vol-a:3"), v);
  assert.equal(c.get("vol-a:4"), undefined);
  assert.equal(c.delete("vol-a:3"), true);
  assert.equal(c.get("vol-a:3"), undefined);
  const s = c.stats();
  assert.equal(s.hits, 1);
  assert.equal(s.misses, 2);
  assert.equal(s.entries, 0);
  assert.equal(s.bytes, 0);
});

Deno.test("L1 refuses an entry larger than a shard and drops the older value", () => {
  const c = new L1Cache({ maxBytes: 1024 * 64, shards: 64 }); // 1 KiB per shard
  assert.equal(c.set("k", bytes(10, 1)), true);
  assert.equal(c.set("k", bytes(2000, 2)), false);
  assert.equal(c.get("k"), undefined);
  assert.equal(c.stats().rejected, 1);
});

Deno.test("L1 rejects a shard count that is not a power of two", () => {
  assert.throws(() => new L1Cache({ maxBytes: 1 << 20, shards: 1000 }), /power of two/);
});

Deno.test("L1 eviction calls onEvict with the evicted entry and respects the count bound", () => {
  const evicted: string[] = [];
  const c = new L1Cache({
    maxBytes: 1 << 20,
    maxEntries: 8,
    shards: 1,
    onEvict: (k) => evicted.push(k),
  });
  for (let i = 0; i < 20; i++) c.set("k" + i, bytes(10, i));
  assert.equal(c.size, 8);
  assert.equal(evicted.length, 12);
  for (const k of evicted) assert.equal(c.peek(k), undefined);
});

Deno.test("S3-FIFO and W-TinyLFU keep a hot key through a scan that LRU loses it to", () => {
  for (const policy of ["s3fifo", "wtinylfu", "lru"] as const) {
    const c = new L1Cache({ maxBytes: 1 << 20, maxEntries: 20, shards: 1, policy });
    c.set("hot", bytes(1, 1));
    for (let i = 0; i < 3; i++) c.get("hot");
    for (let i = 0; i < 100; i++) c.set("scan" + i, bytes(1, 2));
    assert.equal(c.has("hot"), policy !== "lru", policy);
  }
});

type Op = { t: "get"; k: number } | { t: "set"; k: number; n: number } | { t: "del"; k: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant("get" as const), k: fc.nat(40) }),
  fc.record({ t: fc.constant("set" as const), k: fc.nat(40), n: fc.nat(300) }),
  fc.record({ t: fc.constant("del" as const), k: fc.nat(40) }),
);

Deno.test("property: L1 answers like a model map (value or evicted) and never exceeds its bounds", () => {
  fc.assert(
    fc.property(
      fc.array(opArb, { maxLength: 300, size: "max" }),
      fc.constantFrom("s3fifo" as const, "wtinylfu" as const, "lru" as const),
      fc.constantFrom(1, 4, 16),
      (ops, policy, shards) => {
        const maxBytes = 2048 * shards;
        const evicted = new Set<string>();
        const c = new L1Cache({
          maxBytes,
          maxEntries: 6 * shards,
          shards,
          policy,
          onEvict: (k) => evicted.add(k),
        });
        const model = new Map<string, Uint8Array>();
        let seq = 0;
        for (const op of ops) {
          const key = "key-" + op.k;
          if (op.t === "set") {
            const v = bytes(op.n, ++seq & 0xff);
            model.set(key, v);
            evicted.delete(key);
            if (!c.set(key, v)) assert.ok(entrySize(key, v) > maxBytes / shards);
          } else if (op.t === "del") {
            model.delete(key);
            c.delete(key);
          } else {
            const got = c.get(key);
            // Either the latest value (same object) or a miss; never another value.
            if (got !== undefined) assert.equal(got, model.get(key));
          }
          assert.ok(c.bytes <= maxBytes, `bytes ${c.bytes} > ${maxBytes}`);
          assert.ok(c.size <= 6 * shards);
          for (let i = 0; i < shards; i++) {
            assert.ok(c.shardStats(i).bytes <= c.shardMaxBytes(i));
          }
        }
        // Every cached key holds its model value; deleted keys are gone.
        for (const k of c.keys()) assert.equal(c.peek(k), model.get(k));
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("property: with room for everything L1 is exactly the model", () => {
  fc.assert(
    fc.property(
      fc.array(opArb, { maxLength: 200, size: "max" }),
      fc.constantFrom("s3fifo" as const, "wtinylfu" as const, "lru" as const),
      (ops, policy) => {
        const c = new L1Cache({ maxBytes: 1 << 22, shards: 8, policy });
        const model = new Map<string, Uint8Array>();
        for (const op of ops) {
          const key = "key-" + op.k;
          if (op.t === "set") {
            const v = bytes(op.n, op.k);
            model.set(key, v);
            c.set(key, v);
          } else if (op.t === "del") {
            model.delete(key);
            c.delete(key);
          } else assert.equal(c.get(key), model.get(key));
        }
        assert.equal(c.size, model.size);
      },
    ),
    { numRuns: 200 },
  );
});
