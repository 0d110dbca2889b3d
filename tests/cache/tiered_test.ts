import assert from "node:assert/strict";
import fc from "fast-check";
import { FILE_HEADER_BYTES, L2Cache } from "../../src/cache/l2.ts";
import { compressedBackend, DirectoryBackend, type L3Backend } from "../../src/cache/l3.ts";
import { TieredCache } from "../../src/cache/tiered.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { ManualClock } from "../../src/clock.ts";
import { writerOp } from "./fixtures/l2_ops.ts";

const REGION = 64 * 1024;

/** A real directory backend whose gets can be held at a gate and are counted. */
class GatedBackend implements L3Backend {
  gets = 0;
  #gate: Promise<void> | null = null;
  #open: (() => void) | null = null;
  constructor(readonly inner: L3Backend) {}
  hold() {
    this.#gate = new Promise((r) => (this.#open = r));
  }
  release() {
    this.#open?.();
    this.#gate = null;
  }
  async get(key: string) {
    this.gets++;
    const v = await this.inner.get(key);
    if (this.#gate) await this.#gate;
    return v;
  }
  put(key: string, value: Uint8Array) {
    return this.inner.put(key, value);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
}

async function setup(
  l2Regions = 4,
  l1MaxBytes = 64 * 1024,
  writeMode: "through" | "back" = "through",
) {
  const dir = await Deno.makeTempDir({ prefix: "tiered-" });
  const l2 = L2Cache.open({
    path: `${dir}/l2.bin`,
    sizeBytes: FILE_HEADER_BYTES + l2Regions * REGION,
    regionBytes: REGION,
  });
  const l3 = new GatedBackend(
    compressedBackend(new DirectoryBackend({ root: `${dir}/l3`, fsync: false })),
  );
  const metrics = createMetrics({ defaultMetrics: false });
  const cache = new TieredCache({
    l1MaxBytes,
    l1Shards: 4,
    l2,
    l3,
    metrics,
    writeMode,
    journalPath: `${dir}/wb.journal`,
  });
  const done = async () => {
    cache.close();
    l2.close();
    await Deno.remove(dir, { recursive: true });
  };
  return { dir, l2, l3, metrics, cache, done };
}

const val = (seed: number, n = 3000) => {
  const v = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    v[i] = x >>> 24;
  }
  return v;
};

Deno.test("tiered: L1 eviction demotes to L2, an L2 hit promotes back, L3 fills misses", async () => {
  const t = await setup(8, 16 * 1024);
  try {
    for (let i = 0; i < 40; i++) await t.cache.set("k" + i, val(i));
    assert.ok(t.cache.l1.bytes <= 16 * 1024);
    const s0 = t.cache.stats();
    assert.ok(s0.demotions.l1ToL2 > 0);
    assert.ok(t.l2.has("k0"), "k0 was demoted to L2");
    assert.deepEqual(await t.cache.get("k0"), val(0));
    const s1 = t.cache.stats();
    assert.equal(s1.hits.l2, 1);
    assert.equal(s1.promotions.l2ToL1, 1);
    assert.ok(t.cache.l1.has("k0"));
    // Gone from L1 and L2: comes from L3.
    t.cache.l1.delete("k1");
    t.l2.delete("k1");
    assert.deepEqual(await t.cache.get("k1"), val(1));
    assert.equal(t.cache.stats().hits.l3, 1);
    assert.equal(await t.cache.get("nope"), undefined);
    assert.equal(t.cache.stats().misses, 1);
  } finally {
    await t.done();
  }
});

Deno.test("tiered: concurrent misses on one key share one backend read", async () => {
  const t = await setup();
  try {
    await t.l3.put("shared", val(7));
    t.l3.hold();
    const gets = Array.from({ length: 10 }, () => t.cache.get("shared"));
    await new Promise((r) => setTimeout(r, 5));
    t.l3.release();
    for (const v of await Promise.all(gets)) assert.deepEqual(v, val(7));
    assert.equal(t.l3.gets, 1);
    assert.equal(t.cache.stats().sharedReads, 9);
  } finally {
    await t.done();
  }
});

Deno.test("tiered: a backend read racing a set is not cached over the new value", async () => {
  const t = await setup();
  try {
    await t.l3.put("k", val(1));
    t.l3.hold();
    const reading = t.cache.get("k");
    await new Promise((r) => setTimeout(r, 5));
    const writing = t.cache.set("k", val(2));
    t.l3.release();
    assert.deepEqual(await reading, val(1));
    await writing;
    assert.deepEqual(await t.cache.get("k"), val(2));
  } finally {
    await t.done();
  }
});

Deno.test("tiered: metrics are exported on scrape", async () => {
  const t = await setup();
  try {
    await t.cache.set("a", val(1));
    await t.cache.get("a");
    await t.cache.get("missing");
    const text = await t.metrics.registry.metrics();
    assert.match(text, /couchestor_cache_hits_total\{tier="l1"\} 1/);
    assert.match(text, /couchestor_cache_misses_total\{tier="l3"\} 1/);
    assert.match(text, /couchestor_cache_bytes\{tier="l1"\} \d+/);
    assert.match(text, /couchestor_cache_hit_ratio\{tier="all"\} 0.5/);
    assert.match(text, /couchestor_cache_get_duration_seconds_count\{tier="l3"\}/);
    await t.cache.get("a");
    const again = await t.metrics.registry.metrics();
    assert.match(again, /couchestor_cache_hits_total\{tier="l1"\} 2/);
  } finally {
    await t.done();
  }
});

Deno.test("property: the tiered cache answers exactly like a model map", async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.tuple(fc.constantFrom("get", "get", "set", "del"), fc.nat(40), fc.nat(6000)),
        { maxLength: 80, size: "max" },
      ),
      fc.boolean(),
      fc.constantFrom("through" as const, "back" as const),
      async (ops, concurrent, mode) => {
        const t = await setup(3, 8 * 1024, mode);
        const model = new Map<string, Uint8Array>();
        try {
          // Runs of gets may overlap each other (single-flight); writes wait for them.
          let pending: Promise<unknown>[] = [];
          for (const [op, k, size] of ops) {
            const key = "key-" + k;
            if (op !== "get") {
              await Promise.all(pending);
              pending = [];
            }
            if (op === "set") {
              const v = val(++n, size);
              model.set(key, v);
              await t.cache.set(key, v);
            } else if (op === "del") {
              model.delete(key);
              await t.cache.delete(key);
            } else {
              const want = model.get(key);
              const p = t.cache.get(key).then((got) => assert.deepEqual(got, want, key));
              if (concurrent) pending.push(p);
              else await p;
            }
          }
          await Promise.all(pending);
          assert.ok(t.cache.l1.bytes <= 8 * 1024);
          // Write-back: once flushed, L3 itself holds exactly the model.
          await t.cache.flush();
          assert.equal(t.cache.pendingWrites, 0);
          for (let k = 0; k <= 40; k++) {
            assert.deepEqual(await t.l3.get("key-" + k), model.get("key-" + k), `L3 key-${k}`);
          }
        } finally {
          await t.done();
        }
      },
    ),
    { numRuns: 40 },
  );
});

/** A real directory backend whose puts fail while `failing` is set. */
class FlakyBackend implements L3Backend {
  failing = true;
  attempts = 0;
  constructor(readonly inner: L3Backend) {}
  get(key: string) {
    return this.inner.get(key);
  }
  put(key: string, value: Uint8Array) {
    this.attempts++;
    if (this.failing) return Promise.reject(new Error("backend down"));
    return this.inner.put(key, value);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
}

Deno.test("write-back: acknowledged before L3 has it, retried on failure, served meanwhile", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wb-" });
  const clock = new ManualClock();
  const l3 = new FlakyBackend(new DirectoryBackend({ root: `${dir}/l3`, fsync: false }));
  const opts = {
    l1MaxBytes: 1 << 20,
    l3,
    writeMode: "back" as const,
    journalPath: `${dir}/wb.journal`,
    clock,
    retryMs: 1000,
  };
  let cache = new TieredCache(opts);
  try {
    await cache.set("a", val(1));
    await cache.set("b", val(2));
    await cache.delete("b");
    assert.deepEqual(await cache.get("a"), val(1));
    assert.equal(await cache.get("b"), undefined);
    assert.equal(cache.pendingWrites, 2);
    assert.ok(Deno.statSync(`${dir}/wb.journal`).size > 6000, "writes are journaled");
    await new Promise((r) => setTimeout(r, 5));
    assert.ok(l3.attempts >= 1);
    assert.equal(await l3.inner.get("a"), undefined);
    // Restart while L3 is still down: the journal brings the writes back.
    cache.close();
    cache = new TieredCache(opts);
    assert.equal(cache.pendingWrites, 2);
    assert.deepEqual(await cache.get("a"), val(1));
    l3.failing = false;
    await clock.advance(1000);
    await cache.flush();
    assert.deepEqual(await l3.inner.get("a"), val(1));
    assert.equal(await l3.inner.get("b"), undefined);
    assert.equal(Deno.statSync(`${dir}/wb.journal`).size, 0, "journal emptied once flushed");
  } finally {
    cache.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("write-back: SIGKILL after acknowledgements loses none of them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wbkill-" });
  const seed = 21;
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./fixtures/tiered_writer.ts", import.meta.url).pathname,
        dir,
        String(seed),
        "100000",
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.getReader();
    const dec = new TextDecoder();
    let text = "";
    let killed = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
      if (!killed && (text.match(/^ACK /gm)?.length ?? 0) >= 300) {
        child.kill("SIGKILL");
        killed = true;
      }
    }
    assert.equal((await child.status).signal, "SIGKILL");
    const acked = [...text.matchAll(/^ACK (\d+)\n/gm)].length;
    const model = new Map<string, Uint8Array | undefined>();
    for (let i = 0; i < acked; i++) {
      const op = writerOp(seed, i);
      model.set(op.key, op.kind === "put" ? op.value : undefined);
    }
    const inflight = writerOp(seed, acked);
    // Restart: replay the journal, flush, then read L3 directly.
    const l2 = L2Cache.open({
      path: `${dir}/l2.bin`,
      sizeBytes: FILE_HEADER_BYTES + 4 * 65536,
      regionBytes: 65536,
    });
    const l3 = compressedBackend(new DirectoryBackend({ root: `${dir}/l3` }));
    const cache = new TieredCache({
      l1MaxBytes: 64 * 1024,
      l1Shards: 16,
      l2,
      l3,
      writeMode: "back",
      journalPath: `${dir}/wb.journal`,
    });
    try {
      assert.ok(cache.pendingWrites > 0, "the kill left acknowledged writes only in the journal");
      await cache.flush();
      for (const [key, want] of model) {
        const stored = await l3.get(key);
        const cached = await cache.get(key);
        if (key === inflight.key) continue; // may hold the acked or the in-flight value
        assert.deepEqual(stored, want, `L3 ${key}`);
        assert.deepEqual(cached, want, `cache ${key}`);
      }
    } finally {
      cache.close();
      l2.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
