import assert from "node:assert/strict";
import fc from "fast-check";
import { div, EXP, inv, LOG, mul, MUL_TABLE, nibbleTables } from "../../src/ec/gf256.ts";
import {
  fromRows,
  identity,
  independentRows,
  invert,
  multiply,
  rank,
  rsEncodingMatrix,
  SingularMatrixError,
  subMatrix,
  vandermonde,
  zeros,
} from "../../src/ec/matrix.ts";

/** Carry-less multiply reduced by 0x11D, the slow obvious way. */
function slowMul(a: number, b: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) if (b & (1 << i)) r ^= a << i;
  for (let bit = 15; bit >= 8; bit--) if (r & (1 << bit)) r ^= 0x11d << (bit - 8);
  return r;
}

Deno.test("gf256: log/exp tables agree with carry-less multiplication mod 0x11D", () => {
  for (let a = 0; a < 256; a++) {
    for (let b = 0; b < 256; b++) {
      assert.equal(mul(a, b), slowMul(a, b));
      assert.equal(MUL_TABLE[a * 256 + b], slowMul(a, b));
    }
  }
  assert.equal(EXP[LOG[0x53]], 0x53);
  assert.equal(mul(0x80, 2), 0x1d);
});

Deno.test("gf256: inverse and division", () => {
  for (let a = 1; a < 256; a++) {
    assert.equal(mul(a, inv(a)), 1);
    for (const b of [1, 2, 3, 0x8e, 255]) assert.equal(mul(div(a, b), b), a);
  }
  assert.throws(() => inv(0), RangeError);
});

Deno.test("gf256: nibble tables rebuild every product", () => {
  for (let c = 0; c < 256; c++) {
    const t = nibbleTables(c);
    for (let x = 0; x < 256; x++) assert.equal(t[x & 15] ^ t[16 + (x >> 4)], mul(c, x));
  }
});

Deno.test("matrix: random invertible matrices invert (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 10 }),
      fc.uint8Array({ minLength: 100, maxLength: 100 }),
      (n, bytes) => {
        const m = zeros(n, n);
        m.data.set(bytes.subarray(0, n * n));
        if (rank(m) < n) {
          assert.throws(() => invert(m), SingularMatrixError);
          return;
        }
        assert.deepEqual(multiply(m, invert(m)).data, identity(n).data);
        assert.deepEqual(multiply(invert(m), m).data, identity(n).data);
      },
    ),
  );
});

Deno.test("matrix: encoding matrix is systematic and every k rows are independent", () => {
  const k = 5, m = 3;
  const e = rsEncodingMatrix(k, m);
  assert.deepEqual(subMatrix(e, 0, 0, k, k).data, identity(k).data);
  // MDS: all C(8,5) row subsets have full rank.
  for (let mask = 0; mask < 1 << (k + m); mask++) {
    const rows = [...Array(k + m).keys()].filter((i) => mask & (1 << i));
    if (rows.length === k) assert.equal(independentRows(e, rows).length, k);
  }
  assert.equal(vandermonde(3, 3).data[0], 1); // 0^0 = 1, as the crate defines it
  assert.deepEqual(fromRows([[1, 2], [3, 4]]).data, new Uint8Array([1, 2, 3, 4]));
});
