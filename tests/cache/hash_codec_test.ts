import assert from "node:assert/strict";
import fc from "fast-check";
import { hashString, xxh32 } from "../../src/cache/hash.ts";
import { CodecError, decodeValue, encodeValue, frame, unframe } from "../../src/cache/codec.ts";

const te = new TextEncoder();

Deno.test("xxh32 matches the reference test vectors, aligned or not", () => {
  const vectors: [string, number, number][] = [
    ["", 0, 0x02cc5d05],
    ["a", 0, 0x550d7456],
    ["abc", 0, 0x32d153ff],
    ["Nobody inspects the spammish repetition", 0, 0xe2293b2f],
  ];
  for (const [s, seed, want] of vectors) {
    const b = te.encode(s);
    assert.equal(xxh32(b, 0, b.length, seed), want, s);
    const shifted = new Uint8Array(b.length + 1);
    shifted.set(b, 1);
    assert.equal(xxh32(shifted, 1, shifted.length, seed), want, `${s} unaligned`);
  }
});

Deno.test("property: xxh32 is the same over aligned and unaligned copies", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200, size: "max" }),
      fc.nat(3),
      fc.nat(),
      (data, shift, seed) => {
        const buf = new Uint8Array(data.length + shift);
        buf.set(data, shift);
        assert.equal(xxh32(buf, shift, buf.length, seed), xxh32(data, 0, data.length, seed));
      },
    ),
  );
});

Deno.test("hashString spreads keys over shards", () => {
  const counts = new Array(1024).fill(0);
  for (let i = 0; i < 102_400; i++) counts[hashString(`vol-1:${i}`) & 1023]++;
  assert.ok(
    Math.min(...counts) > 50 && Math.max(...counts) < 160,
    `${Math.min(...counts)}..${Math.max(...counts)}`,
  );
});

Deno.test("codec keeps LZ4 only when it saves space, and round-trips", () => {
  const text = te.encode("the quick brown fox ".repeat(200));
  const e = encodeValue(text);
  assert.equal(e.compressed, true);
  assert.ok(e.bytes.length < text.length / 2);
  assert.deepEqual(decodeValue(e.bytes, true), text);
  const noise = crypto.getRandomValues(new Uint8Array(4096));
  const n = encodeValue(noise);
  assert.equal(n.compressed, false);
  assert.equal(n.bytes, noise);
  assert.equal(encodeValue(text, false).compressed, false);
});

Deno.test("property: frame/unframe round-trips any bytes", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 3000, size: "max" }),
        fc.string().map((s) => te.encode(s.repeat(20))),
      ),
      (v) => {
        assert.deepEqual(unframe(frame(v)), v);
      },
    ),
  );
});

Deno.test("unframe rejects foreign bytes with a CodecError", () => {
  assert.throws(() => unframe(new Uint8Array(0)), CodecError);
  assert.throws(() => unframe(new Uint8Array([9, 1, 2])), CodecError);
});
