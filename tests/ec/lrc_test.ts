import assert from "node:assert/strict";
import fc from "fast-check";
import { UnrecoverablePatternError } from "../../src/ec/errors.ts";
import { availableKernels } from "../../src/ec/kernels/select.ts";
import { Lrc } from "../../src/ec/lrc.ts";

const kernels = availableKernels();

function encoded(c: Lrc, size: number): Uint8Array[] {
  const shards = Array.from(
    { length: c.totalShards },
    (_, i) => i < c.layout.k ? crypto.getRandomValues(new Uint8Array(size)) : new Uint8Array(size),
  );
  c.encode(shards);
  return shards;
}

function combinations(n: number, r: number): number[][] {
  if (r === 0) return [[]];
  const out: number[][] = [];
  for (let first = 0; first < n; first++) {
    for (const rest of combinations(n - first - 1, r - 1)) {
      out.push([
        first,
        ...rest.map((x) => x + first + 1),
      ]);
    }
  }
  return out;
}

Deno.test("lrc 12+2+2: a single lost shard is rebuilt from its own group only", () => {
  for (const kernel of kernels) {
    const c = new Lrc({ k: 12, l: 2, g: 2 }, { kernel });
    const full = encoded(c, 256);
    for (let lost = 0; lost < c.totalShards; lost++) {
      const shards: (Uint8Array | null)[] = full.slice();
      shards[lost] = null;
      const report = c.reconstruct(shards);
      assert.deepEqual(shards[lost], full[lost]);
      assert.deepEqual(report.rebuilt, [lost]);
      const group = c.groupOf(lost);
      if (group === null) {
        // A global parity needs the k data shards.
        assert.equal(report.readShards.length, 12);
      } else {
        const members = [...c.groupData(group), 12 + group].filter((i) => i !== lost);
        assert.deepEqual(report.readShards, members);
        assert.equal(report.readShards.length, 6);
        assert.ok(report.localOnly);
      }
    }
  }
});

Deno.test("lrc 12+2+2: every pattern of ≤ g+1 = 3 losses is recovered exactly", () => {
  const c = new Lrc({ k: 12, l: 2, g: 2 }, { kernel: kernels[0] });
  const full = encoded(c, 96);
  let patterns = 0;
  for (let r = 1; r <= 3; r++) {
    for (const lost of combinations(16, r)) {
      assert.ok(c.isRecoverable(lost), `pattern ${lost}`);
      const shards: (Uint8Array | null)[] = full.slice();
      for (const i of lost) shards[i] = null;
      const report = c.reconstruct(shards);
      assert.deepEqual([...report.rebuilt].sort((a, b) => a - b), lost);
      shards.forEach((s, i) => assert.deepEqual(s, full[i]));
      patterns++;
    }
  }
  assert.equal(patterns, 16 + 120 + 560);
});

Deno.test("lrc 12+2+2: 4-loss patterns are decoded exactly when the rank test says so, refused otherwise", () => {
  const c = new Lrc({ k: 12, l: 2, g: 2 });
  const full = encoded(c, 32);
  let recoverable = 0;
  for (const lost of combinations(16, 4)) {
    const shards: (Uint8Array | null)[] = full.slice();
    for (const i of lost) shards[i] = null;
    if (c.isRecoverable(lost)) {
      recoverable++;
      c.reconstruct(shards);
      shards.forEach((s, i) => assert.deepEqual(s, full[i]));
    } else {
      const before = shards.slice();
      assert.throws(() => c.reconstruct(shards), UnrecoverablePatternError);
      assert.deepEqual(shards, before);
    }
  }
  // Azure's paper: 86% of 4-failure patterns of (12,2,2) are decodable.
  assert.equal(recoverable, 1568);
  // Three data shards of one group plus its local parity is 4 unknowns against 2 globals.
  assert.equal(c.isRecoverable([0, 1, 2, 12]), false);
});

Deno.test("lrc: random layouts recover any g+1 losses and match verify (property)", () => {
  const arb = fc.record({
    k: fc.integer({ min: 2, max: 10 }),
    lRaw: fc.integer({ min: 1, max: 10 }),
    g: fc.integer({ min: 0, max: 3 }),
  })
    .map(({ k, lRaw, g }) => ({ k, l: Math.min(k, lRaw), g }));
  fc.assert(
    fc.property(
      arb,
      fc.integer({ min: 1, max: 100 }),
      fc.integer(),
      fc.constantFrom(...kernels),
      (layout, size, seed, kernel) => {
        const c = new Lrc(layout, { kernel });
        const full = encoded(c, size);
        assert.ok(c.verify(full));
        const order = [...full.keys()].sort((a, b) =>
          ((a * 40503 + seed) & 1023) - ((b * 40503 + seed) & 1023)
        );
        const lost = order.slice(0, Math.min(layout.g + 1, c.totalShards)).sort((a, b) => a - b);
        assert.ok(c.isRecoverable(lost));
        const shards: (Uint8Array | null)[] = full.slice();
        for (const i of lost) shards[i] = null;
        c.reconstruct(shards);
        shards.forEach((s, i) => assert.deepEqual(s, full[i]));
        const corrupt = full.map((s) => s.slice());
        corrupt[order[0]][0] ^= 1;
        assert.equal(c.verify(corrupt), false);
      },
    ),
    { numRuns: 80 },
  );
});

Deno.test("lrc 12+2+2: read plans and partial rebuilds touch only what is needed", () => {
  const c = new Lrc({ k: 12, l: 2, g: 2 });
  assert.deepEqual(c.readPlan([3]), [12]);
  assert.deepEqual(c.readPlan([3, 9]), [12, 13]);
  assert.deepEqual(c.readPlan([3, 4]), [12, 13, 14, 15]);
  const full = encoded(c, 64);
  // Data shard 3 lost; only group 0's local parity was read, the rest of the parity is unread.
  const shards: (Uint8Array | null)[] = full.slice();
  shards[3] =
    shards[13] =
    shards[14] =
    shards[15] =
      null;
  const report = c.reconstruct(shards, { wanted: [3] });
  assert.deepEqual(shards[3], full[3]);
  assert.deepEqual([shards[13], shards[14], shards[15]], [null, null, null]);
  assert.deepEqual(report.readShards, [0, 1, 2, 4, 5, 12]);
});
