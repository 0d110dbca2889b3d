import assert from "node:assert/strict";
import fc from "fast-check";
import { xxhash64 } from "hash-wasm";
import { ShardShapeError, TooFewShardsError } from "../../src/ec/errors.ts";
import { availableKernels } from "../../src/ec/kernels/select.ts";
import { ReedSolomon } from "../../src/ec/rs.ts";
import { loadOracle, oracleEncode } from "./oracle.ts";

const oracle = loadOracle();
const kernels = availableKernels();

/** Every subset of {0..n-1} with at most `max` elements. */
function subsetsUpTo(n: number, max: number): number[][] {
  const out: number[][] = [];
  for (let mask = 0; mask < 1 << n; mask++) {
    const s = [...Array(n).keys()].filter((i) => mask & (1 << i));
    if (s.length <= max) out.push(s);
  }
  return out;
}

/** Random k, m, shard size and data (kept small so every loss pattern can be tried). */
const caseArb = fc
  .record({
    k: fc.integer({ min: 1, max: 6 }),
    m: fc.integer({ min: 1, max: 3 }),
    size: fc.integer({ min: 1, max: 200 }),
  })
  .chain(({ k, m, size }) =>
    fc.record({
      k: fc.constant(k),
      m: fc.constant(m),
      data: fc.array(fc.uint8Array({ minLength: size, maxLength: size }), {
        minLength: k,
        maxLength: k,
      }),
    })
  );

function encoded(rs: ReedSolomon, data: Uint8Array[]): Uint8Array[] {
  const size = data[0].length;
  const shards = [
    ...data.map((d) => d.slice()),
    ...Array.from({ length: rs.parityShards }, () => new Uint8Array(size)),
  ];
  rs.encode(shards);
  return shards;
}

Deno.test("rs: parity is byte-identical to @subspace/reed-solomon-erasure.wasm for every kernel", () => {
  assert.ok(
    kernels.length === 3,
    `expected isal, wasm-simd and ts kernels, got ${kernels.map((k) => k.name)}`,
  );
  fc.assert(
    fc.property(caseArb, ({ k, m, data }) => {
      const want = oracleEncode(oracle, data, m);
      for (const kernel of kernels) {
        const shards = encoded(new ReedSolomon(k, m, { kernel }), data);
        const size = data[0].length;
        shards.forEach((s, i) =>
          assert.deepEqual(s, want.subarray(i * size, (i + 1) * size), `${kernel.name} shard ${i}`)
        );
      }
    }),
    { numRuns: 60 },
  );
});

Deno.test("rs: larger codes (k+m up to 255) match the oracle", () => {
  for (const [k, m, size] of [[20, 10, 333], [100, 55, 64], [200, 55, 17], [10, 4, 4096]]) {
    const data = Array.from({ length: k }, () => crypto.getRandomValues(new Uint8Array(size)));
    const want = oracleEncode(oracle, data, m);
    for (const kernel of kernels) {
      const shards = encoded(new ReedSolomon(k, m, { kernel }), data);
      for (let i = k; i < k + m; i++) {
        assert.deepEqual(shards[i], want.subarray(i * size, (i + 1) * size));
      }
    }
  }
  assert.throws(() => new ReedSolomon(200, 56), RangeError);
});

Deno.test("rs: every pattern of ≤ m lost shards is rebuilt exactly (property)", () => {
  fc.assert(
    fc.property(caseArb, fc.constantFrom(...kernels), ({ k, m, data }, kernel) => {
      const rs = new ReedSolomon(k, m, { kernel });
      const full = encoded(rs, data);
      for (const lost of subsetsUpTo(k + m, m)) {
        const shards: (Uint8Array | null)[] = full.map((s) => s.slice());
        for (const i of lost) shards[i] = null;
        rs.reconstruct(shards);
        shards.forEach((s, i) => assert.deepEqual(s, full[i]));
        const dataOnly: (Uint8Array | null)[] = full.map((s) => s.slice());
        for (const i of lost) dataOnly[i] = null;
        rs.reconstructData(dataOnly);
        for (let i = 0; i < k; i++) assert.deepEqual(dataOnly[i], full[i]);
        for (const i of lost) if (i >= k) assert.equal(dataOnly[i], null);
      }
      assert.ok(rs.verify(full));
    }),
    { numRuns: 25 },
  );
});

Deno.test("rs: m+1 losses throw a clear error and write nothing", () => {
  fc.assert(
    fc.property(caseArb, fc.integer(), ({ k, m, data }, seed) => {
      const rs = new ReedSolomon(k, m);
      const full = encoded(rs, data);
      const order = [...full.keys()].sort((a, b) =>
        ((a * 7919 + seed) % 13) - ((b * 7919 + seed) % 13)
      );
      const shards: (Uint8Array | null)[] = full.slice();
      for (const i of order.slice(0, m + 1)) shards[i] = null;
      const before = shards.slice();
      assert.throws(() => rs.reconstruct(shards), (e: unknown) => {
        assert.ok(e instanceof TooFewShardsError);
        assert.equal(e.message, `need k=${k} shards, have ${k - 1}`);
        return true;
      });
      assert.deepEqual(shards, before);
      assert.throws(() => rs.reconstructData(shards), TooFewShardsError);
    }),
    { numRuns: 40 },
  );
});

Deno.test("rs: corrupted shards are caught by verify, located by checksum, and repaired", async () => {
  const k = 5, m = 3;
  for (const kernel of kernels) {
    const rs = new ReedSolomon(k, m, { kernel });
    const data = Array.from({ length: k }, () => crypto.getRandomValues(new Uint8Array(1000)));
    const full = encoded(rs, data);
    const sums = await Promise.all(full.map((s) => xxhash64(s)));
    for (const bad of subsetsUpTo(k + m, m).filter((s) => s.length > 0)) {
      const shards = full.map((s) => s.slice());
      for (const i of bad) shards[i][(i * 37) % 1000] ^= 0x5a;
      assert.equal(rs.verify(shards), false);
      const located: (Uint8Array | null)[] = [];
      for (let i = 0; i < shards.length; i++) {
        located.push((await xxhash64(shards[i])) === sums[i] ? shards[i] : null);
      }
      assert.deepEqual(located.flatMap((s, i) => (s ? [] : [i])), bad);
      rs.reconstruct(located);
      located.forEach((s, i) => assert.deepEqual(s, full[i]));
      assert.ok(rs.verify(located as Uint8Array[]));
    }
  }
});

Deno.test("rs: shape errors are explicit", () => {
  const rs = new ReedSolomon(4, 2);
  const shards = Array.from({ length: 6 }, () => new Uint8Array(8));
  shards[3] = new Uint8Array(9);
  assert.throws(() => rs.encode(shards), /shard sizes differ: shard 3 has 9 bytes, expected 8/);
  assert.throws(() => rs.encode(shards.slice(0, 5)), ShardShapeError);
  const holes: (Uint8Array | null)[] = Array.from({ length: 6 }, () => new Uint8Array(8));
  holes[1] = null;
  assert.throws(() => rs.encode(holes as Uint8Array[]), /need all 6 shards, 1 missing/);
  assert.throws(() => rs.verify(holes as Uint8Array[]), ShardShapeError);
});

Deno.test("rs: decode matrices are cached per erasure pattern", () => {
  const rs = new ReedSolomon(4, 2);
  const full = encoded(rs, Array.from({ length: 4 }, () => new Uint8Array(16).fill(7)));
  for (let round = 0; round < 3; round++) {
    const shards: (Uint8Array | null)[] = full.map((s) => s.slice());
    shards[0] = shards[5] = null;
    rs.reconstruct(shards);
  }
  assert.equal(rs.decodeMatrixComputations, 1);
  const into = full.map((s) => s.slice());
  into[2].fill(0);
  rs.reconstructInto(into, [true, true, false, true, true, true], [2]);
  assert.deepEqual(into[2], full[2]);
});
