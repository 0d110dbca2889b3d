import assert from "node:assert/strict";
import fc from "fast-check";
import {
  FILE_HEADER_BYTES,
  L2Cache,
  L2DeviceFullError,
  L2EntryTooLargeError,
  L2FormatError,
} from "../../src/cache/l2.ts";

const REGION = 64 * 1024;
const size = (regions: number) => FILE_HEADER_BYTES + regions * REGION;

function withDir(fn: (dir: string) => void | Promise<void>) {
  return async () => {
    const dir = Deno.makeTempDirSync({ prefix: "l2test-" });
    try {
      await fn(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

function value(seed: number, n: number): Uint8Array {
  const v = new Uint8Array(n);
  let x = Math.imul(seed, 0x9e3779b1) + 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    v[i] = x >>> 24;
  }
  return v;
}

function writeAt(path: string, off: number, bytes: Uint8Array) {
  const f = Deno.openSync(path, { read: true, write: true });
  try {
    f.seekSync(off, Deno.SeekMode.Start);
    f.writeSync(bytes);
  } finally {
    f.close();
  }
}

Deno.test(
  "L2 put/get, compression, zero-copy views and reopen",
  withDir((dir) => {
    const path = `${dir}/l2.bin`;
    let c = L2Cache.open({ path, sizeBytes: size(4), regionBytes: REGION });
    const text = new TextEncoder().encode("block ".repeat(1000));
    const noise = value(1, 4096);
    c.put("text", text);
    assert.ok(c.stats().liveBytes < text.length / 4, "text entry is stored compressed");
    c.put("noise", noise, { durable: true });
    assert.deepEqual(c.get("text"), text);
    const view = c.getView("noise")!;
    assert.deepEqual(view.bytes, noise);
    // The view is the mapping itself: it shares its buffer with other raw entries' views.
    c.put("noise2", value(2, 4096));
    assert.equal(c.getView("noise2")!.bytes.buffer, view.bytes.buffer);
    assert.ok(c.isLive(view));
    assert.equal(c.delete("text"), true);
    assert.equal(c.get("text"), undefined);
    c.close();
    assert.equal(c.isLive(view), false);
    assert.equal(Deno.statSync(path).size, size(4));
    c = L2Cache.open({ path, sizeBytes: size(4), regionBytes: REGION });
    assert.deepEqual(c.get("noise"), noise);
    assert.equal(c.get("text"), undefined, "the tombstone survives a reopen");
    c.close();
  }),
);

Deno.test(
  "L2 evicts whole regions FIFO and invalidates their views",
  withDir((dir) => {
    const c = L2Cache.open({
      path: `${dir}/l2.bin`,
      sizeBytes: size(3),
      regionBytes: REGION,
      compress: false,
    });
    const first = c.getView("none");
    assert.equal(first, undefined);
    c.put("k0", value(0, 4000));
    const v0 = c.getView("k0")!;
    for (let i = 1; i < 60; i++) c.put("k" + i, value(i, 4000));
    assert.equal(c.get("k0"), undefined, "oldest region was reused");
    assert.equal(c.isLive(v0), false);
    assert.deepEqual(c.get("k59"), value(59, 4000));
    const s = c.stats();
    assert.ok(s.evictions > 0 && s.regionsReused > 0);
    assert.equal(Deno.statSync(`${dir}/l2.bin`).size, size(3));
    c.close();
  }),
);

Deno.test(
  "L2 misuse gets typed errors: oversized entry, wrong size, foreign file, full device",
  withDir((dir) => {
    const path = `${dir}/l2.bin`;
    const c = L2Cache.open({ path, sizeBytes: size(2), regionBytes: REGION });
    assert.throws(() => c.put("big", value(1, REGION)), L2EntryTooLargeError);
    assert.throws(() => c.put("x".repeat(70000), value(1, 10)), L2EntryTooLargeError);
    c.close();
    assert.throws(
      () => L2Cache.open({ path, sizeBytes: size(3), regionBytes: REGION }),
      L2FormatError,
    );
    assert.throws(
      () => L2Cache.open({ path, sizeBytes: size(2), regionBytes: REGION * 2 }),
      L2FormatError,
    );
    const foreign = `${dir}/foreign.bin`;
    Deno.writeFileSync(foreign, value(3, size(2)));
    assert.throws(
      () => L2Cache.open({ path: foreign, sizeBytes: size(2), regionBytes: REGION }),
      /not a CoucheStor L2/,
    );
    assert.deepEqual(
      Deno.readFileSync(foreign),
      value(3, size(2)),
      "a foreign file is left untouched",
    );
    assert.throws(
      () => L2Cache.open({ path: `${dir}/tiny`, sizeBytes: 100, regionBytes: REGION }),
      L2FormatError,
    );
    assert.throws(
      () => L2Cache.open({ path: `${dir}/huge.bin`, sizeBytes: 2 ** 50, regionBytes: REGION }),
      L2DeviceFullError,
    );
    assert.throws(() => Deno.statSync(`${dir}/huge.bin`), Deno.errors.NotFound);
  }),
);

Deno.test(
  "L2 drops a corrupt entry on read and skips a corrupt region on reopen",
  withDir((dir) => {
    const path = `${dir}/l2.bin`;
    const opts = { path, sizeBytes: size(6), regionBytes: REGION, compress: false };
    let c = L2Cache.open(opts);
    const where = new Map<string, { region: number; off: number }>();
    for (let i = 0; i < 40; i++) {
      c.put("k" + i, value(i, 5000));
      const v = c.getView("k" + i)!;
      where.set("k" + i, { region: v.region, off: v.bytes.byteOffset });
    }
    // Corrupt one value byte underneath the mapping: the read notices.
    const victim = where.get("k3")!;
    writeAt(path, victim.off + 100, new Uint8Array([c.getView("k3")!.bytes[100] ^ 0xff]));
    assert.equal(c.get("k3"), undefined);
    assert.equal(c.stats().corrupt, 1);
    c.close();
    // Corrupt the header of the region holding k20.
    const bad = where.get("k20")!.region;
    writeAt(path, FILE_HEADER_BYTES + bad * REGION + 8, new Uint8Array([0xde, 0xad]));
    c = L2Cache.open(opts);
    for (let i = 0; i < 40; i++) {
      const w = where.get("k" + i)!;
      const got = c.get("k" + i);
      const lostWithK3 = w.region === victim.region && i >= 3;
      if (w.region === bad || lostWithK3) assert.equal(got, undefined, `k${i}`);
      else assert.deepEqual(got, value(i, 5000), `k${i}`);
    }
    assert.ok(c.stats().corrupt >= 1);
    c.close();
  }),
);

type Op =
  | { t: "get"; k: number }
  | { t: "put"; k: number; n: number }
  | { t: "del"; k: number }
  | { t: "reopen" };

Deno.test(
  "property: L2 answers like a model map (value or evicted), file size never changes",
  withDir((dir) => {
    let run = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ t: fc.constant("get" as const), k: fc.nat(30) }),
            fc.record({ t: fc.constant("put" as const), k: fc.nat(30), n: fc.nat(9000) }),
            fc.record({ t: fc.constant("del" as const), k: fc.nat(30) }),
            fc.record({ t: fc.constant("reopen" as const) }),
          ),
          { maxLength: 120, size: "max" },
        ),
        fc.boolean(),
        (ops, roomy) => {
          const opts = {
            path: `${dir}/p${run++}.bin`,
            sizeBytes: size(roomy ? 24 : 3),
            regionBytes: REGION,
          };
          let c = L2Cache.open(opts);
          const model = new Map<string, Uint8Array>();
          let seq = 0;
          try {
            for (const op of ops) {
              if (op.t === "reopen") {
                c.close();
                c = L2Cache.open(opts);
                continue;
              }
              const key = "key-" + op.k;
              if (op.t === "put") {
                const v = value(++seq, op.n);
                model.set(key, v);
                c.put(key, v);
              } else if (op.t === "del") {
                model.delete(key);
                c.delete(key);
              } else {
                const got = c.get(key);
                if (roomy) assert.deepEqual(got, model.get(key));
                else if (got !== undefined) assert.deepEqual(got, model.get(key));
              }
              assert.equal(Deno.statSync(opts.path).size, opts.sizeBytes);
            }
          } finally {
            c.close();
            Deno.removeSync(opts.path);
          }
        },
      ),
      { numRuns: 60 },
    );
  }),
);
