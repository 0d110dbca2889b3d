import assert from "node:assert/strict";
import { ManualClock } from "../../../src/clock.ts";
import { RateLimiter } from "../../../src/ec/store/rate_limit.ts";
import { EcStore, shardFileName } from "../../../src/ec/store/store.ts";
import { createMetrics } from "../../../src/observability/metrics.ts";
import { SHARD_HEADER_BYTES } from "../../../src/ec/store/shard_format.ts";
import { seededBytes, storeDeps, tempDir } from "./helpers.ts";

const RS42 = { algorithm: "ReedSolomon" as const, k: 4, m: 2 };

async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

Deno.test("store: put/get round trip with stripes spread one shard per target", async () => {
  await using dir = await tempDir();
  const store = await EcStore.create(dir.path, {
    code: RS42,
    stripeSizeBytes: 256 * 1024,
    blockSize: 8192,
  }, await storeDeps());
  const data = seededBytes(1, 1_000_003);
  const obj = await store.put("a", chunked(data, 77_777));
  assert.equal(obj.extents.length, 4);
  assert.deepEqual(await store.get("a"), data);
  for (const t of (await store.stat()).targets) {
    assert.ok(t.shards >= 3 && t.shards <= 4, `${t.id} ${t.shards}`);
  }
  await store.put("empty", new Uint8Array(0));
  assert.deepEqual(await store.get("empty"), new Uint8Array(0));
  store.close();
  // The manifest is the source of truth: a reopened store reads the same bytes.
  const again = await EcStore.open(dir.path, await storeDeps());
  assert.deepEqual(await again.get("a"), data);
  again.close();
});

Deno.test("store: losing m targets gives degraded reads with exact bytes; m+1 is a clear error", async () => {
  await using dir = await tempDir();
  const metrics = createMetrics({ defaultMetrics: false });
  const store = await EcStore.create(dir.path, {
    code: RS42,
    stripeSizeBytes: 64 * 1024,
    blockSize: 4096,
  }, { ...(await storeDeps()), metrics });
  const data = seededBytes(2, 300_000);
  await store.put("x", data);
  await Deno.remove(`${dir.path}/targets/t01`, { recursive: true });
  await Deno.remove(`${dir.path}/targets/t04`, { recursive: true });
  assert.deepEqual(await store.get("x"), data);
  assert.ok(store.stats.degradedReads > 0);
  assert.equal(
    (await metrics.registry.getSingleMetric("couchestor_ec_degraded_reads_total")!.get()).values[0]
      .value,
    store.stats.degradedReads,
  );
  await Deno.remove(`${dir.path}/targets/t02`, { recursive: true });
  await assert.rejects(() => store.get("x"), /unrecoverable: .*need k=4 good shards, have 3/);
  store.close();
});

Deno.test("store: scrub finds flipped bytes and lost targets, repair heals onto a spare target", async () => {
  await using dir = await tempDir();
  const store = await EcStore.create(dir.path, {
    code: RS42,
    stripeSizeBytes: 64 * 1024,
    blockSize: 4096,
    targets: 7,
  }, await storeDeps());
  const data = seededBytes(3, 200_000);
  await store.put("y", data);
  // Flip a byte in shard 0 of stripe 0, wherever it is placed.
  const stripe0 = store.objectInfo("y")!.extents[0].stripe;
  const path = `${dir.path}/targets/t00/${shardFileName(stripe0, 0)}`;
  const file = await Deno.readFile(path);
  file[100] ^= 0x40;
  await Deno.writeFile(path, file);
  await Deno.remove(`${dir.path}/targets/t03`, { recursive: true });
  const verify = await store.scrub({ repair: false });
  assert.ok(
    verify.findings.some((f) => f.stripe === stripe0 && f.shard === 0 && f.kind === "checksum"),
  );
  assert.ok(verify.findings.some((f) => f.kind === "missing"));
  assert.ok(verify.findings.every((f) => !f.repaired));
  assert.ok((await store.stat()).stripes.degraded > 0);
  const progress: number[] = [];
  const repair = await store.scrub({ repair: true, onProgress: (p) => progress.push(p.done) });
  assert.deepEqual(repair.unrecoverable, []);
  assert.ok(repair.findings.length > 0 && repair.findings.every((f) => f.repaired));
  // The shards of the lost target went to the spare (t03 is gone, not re-created).
  assert.ok(repair.findings.filter((f) => f.kind === "missing").every((f) => f.target !== "t03"));
  assert.deepEqual(progress, progress.map((_, i) => i + 1));
  const clean = await store.scrub({ repair: false });
  assert.deepEqual(clean.findings, []);
  const st = await store.stat();
  assert.equal(st.stripes.healthy, Object.keys(store.objectInfo("y")!.extents).length);
  assert.equal(st.lastScrub?.problems, 0);
  assert.ok(store.stats.reconstructedShards >= repair.findings.length);
  assert.deepEqual(await store.get("y"), data);
  store.close();
});

Deno.test("store: scrub catches parity that disagrees although checksums pass", async () => {
  await using dir = await tempDir();
  const deps = await storeDeps();
  const store = await EcStore.create(dir.path, {
    code: RS42,
    stripeSizeBytes: 4096,
    blockSize: 4096,
  }, deps);
  await store.put("z", seededBytes(4, 4096));
  const stripe = store.objectInfo("z")!.extents[0].stripe;
  // Rewrite data shard 2 with wrong content but valid checksums: only parity can tell.
  const { encodeShardFile, decodeShardFile } = await import(
    "../../../src/ec/store/shard_format.ts"
  );
  const st = await store.stat();
  const owner = st.targets.find((t) => t.id === `t0${(stripe + 2) % 6}`)!;
  const path = `${dir.path}/${owner.path}/${shardFileName(stripe, 2)}`;
  const { header } = decodeShardFile(await Deno.readFile(path), deps.hasher)!;
  await Deno.writeFile(path, encodeShardFile(header, new Uint8Array(1024).fill(9), deps.hasher));
  const report = await store.scrub({ repair: true });
  assert.deepEqual(report.findings.map((f) => [f.shard, f.kind, f.repaired]), [[
    2,
    "parity",
    true,
  ]]);
  assert.deepEqual(await store.get("z"), seededBytes(4, 4096));
  store.close();
});

Deno.test("store: LRC 6+2+2 stripes survive three lost targets", async () => {
  await using dir = await tempDir();
  const store = await EcStore.create(dir.path, {
    code: { algorithm: "LRC", k: 6, l: 2, g: 2 },
    stripeSizeBytes: 60_000,
    blockSize: 4096,
  }, await storeDeps());
  const data = seededBytes(5, 250_000);
  await store.put("l", data);
  for (const t of ["t00", "t04", "t07"]) {
    await Deno.remove(`${dir.path}/targets/${t}`, { recursive: true });
  }
  assert.deepEqual(await store.get("l"), data);
  const r = await store.scrub({ repair: true, reprovision: true });
  assert.deepEqual(r.unrecoverable, []);
  assert.deepEqual((await store.scrub({ repair: false })).findings, []);
  store.close();
});

Deno.test("store: journaled writes are readable at once, destage by threshold and by interval", async () => {
  await using dir = await tempDir();
  const clock = new ManualClock();
  const deps = await storeDeps(clock);
  const store = await EcStore.create(
    dir.path,
    { code: RS42, stripeSizeBytes: 32 * 1024, blockSize: 4096 },
    deps,
    {
      journalCapacityBytes: 100_000,
      destageThresholdPercent: 50,
      destageIntervalMs: 10_000,
    },
  );
  await store.write("small", seededBytes(6, 1000));
  assert.deepEqual(await store.get("small"), seededBytes(6, 1000));
  assert.equal((await store.stat()).journal.pendingWrites, 1);
  // Interval destage on the injected clock.
  const ac = new AbortController();
  const loop = store.runDestager(ac.signal);
  await clock.advance(10_000);
  await store.destage(); // waits behind the destager's turn of the lock
  assert.equal((await store.stat()).journal.pendingWrites, 0);
  assert.deepEqual(await store.get("small"), seededBytes(6, 1000));
  // Threshold destage: 60 KB of writes pass 50% of 100 KB; objects span stripe boundaries.
  for (let i = 0; i < 5; i++) await store.write(`w${i}`, seededBytes(10 + i, 10_000));
  assert.equal((await store.stat()).journal.pendingWrites, 0);
  assert.ok(store.stats.destagedStripes >= 2);
  await store.write("w5", seededBytes(15, 10_000));
  assert.equal((await store.stat()).journal.pendingWrites, 1);
  // Overwrite through the journal replaces the old bytes.
  await store.write("w0", seededBytes(99, 5));
  for (let i = 1; i < 6; i++) {
    assert.deepEqual(await store.get(`w${i}`), seededBytes(10 + i, 10_000));
  }
  assert.deepEqual(await store.get("w0"), seededBytes(99, 5));
  ac.abort();
  await loop;
  store.close();
  const again = await EcStore.open(dir.path, deps);
  assert.equal(again.stats.journalRecordsReplayed, 2);
  assert.deepEqual(await again.get("w5"), seededBytes(15, 10_000));
  assert.deepEqual(await again.get("w0"), seededBytes(99, 5));
  assert.deepEqual(await again.get("w3"), seededBytes(13, 10_000));
  again.close();
});

Deno.test("rate limiter: paces bytes to the budget on the injected clock", async () => {
  const clock = new ManualClock(0);
  const rl = new RateLimiter(clock, 1_000_000);
  assert.equal(rl.delayAfter(500_000), 500);
  await clock.advance(200);
  assert.equal(rl.delayAfter(500_000), 800);
  assert.equal(new RateLimiter(clock, Infinity).delayAfter(1e12), 0);
});

Deno.test("store: bad blocks in more than m shards heal when no block range loses more than m", async () => {
  await using dir = await tempDir();
  const store = await EcStore.create(dir.path, {
    code: RS42,
    stripeSizeBytes: 64 * 1024,
    blockSize: 4096,
  }, await storeDeps());
  const data = seededBytes(7, 64 * 1024);
  await store.put("b", data);
  const stripe = store.objectInfo("b")!.extents[0].stripe;
  const flip = async (shard: number, block: number) => {
    const path = `${dir.path}/targets/t0${(stripe + shard) % 6}/${shardFileName(stripe, shard)}`;
    const f = await Deno.readFile(path);
    f[SHARD_HEADER_BYTES + block * (8 + 4096) + 8 + 17] ^= 0x01;
    await Deno.writeFile(path, f);
  };
  // Three damaged shards, each in a different block: every block range still has 5 good shards.
  await flip(0, 0);
  await flip(1, 1);
  await flip(5, 2);
  assert.deepEqual(await store.get("b"), data);
  const r = await store.scrub({ repair: true });
  assert.deepEqual(r.findings.map((f) => [f.shard, f.kind, f.repaired]), [[0, "checksum", true], [
    1,
    "checksum",
    true,
  ], [5, "checksum", true]]);
  assert.deepEqual((await store.scrub({ repair: false })).findings, []);
  // Three shards damaged in the same block: a clear error, never wrong bytes.
  await flip(0, 3);
  await flip(2, 3);
  await flip(4, 3);
  const fresh = await EcStore.open(dir.path, await storeDeps());
  await assert.rejects(
    () => fresh.get("b"),
    /stripe \d+ is unrecoverable: shards \[0, 2, 4\] missing or corrupt in blocks 3..3, need k=4/,
  );
  const v = await fresh.scrub({ repair: true });
  assert.deepEqual(v.unrecoverable, [stripe]);
  assert.equal((await fresh.stat()).stripes.lost, 1);
  fresh.close();
  store.close();
});

Deno.test("store: background reconstruction is paced by the byte budget, reports progress and aborts", async () => {
  await using dir = await tempDir();
  const clock = new ManualClock(0);
  const store = await EcStore.create(dir.path, {
    code: RS42,
    stripeSizeBytes: 4096,
    blockSize: 1024,
    targets: 7,
  }, await storeDeps(clock));
  await store.put("p", seededBytes(8, 10 * 4096));
  await Deno.remove(`${dir.path}/targets/t02`, { recursive: true });
  // 6 shards of 1 KiB read per stripe, minus the missing one: 5 KiB per stripe at 5 KiB/s.
  const job = store.startReconstruction({ bytesPerSecond: 5 * 1024 });
  // Polls (real time, briefly) until the background job reaches a state.
  const waitFor = async (cond: () => boolean) => {
    for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
    assert.ok(cond());
  };
  await waitFor(() => job.progress().done === 1);
  assert.equal(job.progress().total, 10);
  // The budget is spent: no second stripe until the injected clock moves.
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(job.progress().done, 1);
  await clock.advance(1000);
  await waitFor(() => job.progress().done === 2);
  // Reads interleave with the running pass.
  assert.deepEqual(await store.get("p"), seededBytes(8, 10 * 4096));
  job.abort();
  const report = await job.done;
  assert.equal(report.stripes, 2);
  assert.ok(report.findings.every((f) => f.kind === "missing" && f.repaired && f.target !== "t02"));
  // Every stripe keeps one shard per target, also after moving shards to the spare.
  for (const s of store.stripes()) assert.equal(new Set(s.placement).size, s.placement.length);
  store.close();
});

Deno.test("store: overwrites free old stripes only after the manifest moved on; a put supersedes a pending write durably", async () => {
  await using dir = await tempDir();
  const deps = await storeDeps();
  const store = await EcStore.create(dir.path, {
    code: RS42,
    stripeSizeBytes: 8192,
    blockSize: 4096,
  }, deps);
  await store.put("o", seededBytes(20, 20_000));
  const oldStripes = store.objectInfo("o")!.extents.map((e) => e.stripe);
  await store.put("o", seededBytes(21, 9000));
  const countShards = async () => {
    let n = 0;
    for await (const t of Deno.readDir(`${dir.path}/targets`)) {
      for await (const _ of Deno.readDir(`${dir.path}/targets/${t.name}`)) n++;
    }
    return n;
  };
  // Two stripes of the new version, six shards each; the three old stripes are gone.
  assert.equal(await countShards(), 12);
  assert.ok(store.stripes().every((s) => !oldStripes.includes(s.id)));
  // A journaled write, then a put of the same name: after a reopen the put wins.
  await store.write("o", seededBytes(22, 10));
  await store.put("o", seededBytes(23, 100));
  store.close();
  const again = await EcStore.open(dir.path, deps);
  assert.equal(again.stats.journalRecordsReplayed, 0);
  assert.deepEqual(await again.get("o"), seededBytes(23, 100));
  again.close();
});

Deno.test("store: a degraded LRC read fetches only the lost shard's local parity; RS reads one parity per loss", async () => {
  await using dir = await tempDir();
  const deps = await storeDeps();
  const lrc = await EcStore.create(`${dir.path}/lrc`, {
    code: { algorithm: "LRC", k: 6, l: 2, g: 2 },
    stripeSizeBytes: 6000,
    blockSize: 4096,
  }, deps);
  await lrc.put("o", seededBytes(30, 6000));
  const stripe = lrc.stripes()[0];
  await Deno.remove(`${dir.path}/lrc/targets/${stripe.placement[1]}`, { recursive: true });
  const before = lrc.stats.shardReads;
  assert.deepEqual(await lrc.get("o"), seededBytes(30, 6000));
  // 6 data shard reads (one fails) + the local parity of group 0 (shard 6).
  assert.equal(lrc.stats.shardReads - before, 7);
  lrc.close();

  const rs = await EcStore.create(`${dir.path}/rs`, {
    code: { algorithm: "ReedSolomon", k: 6, m: 3 },
    stripeSizeBytes: 6000,
    blockSize: 4096,
  }, deps);
  await rs.put("o", seededBytes(31, 6000));
  const s = rs.stripes()[0];
  await Deno.remove(`${dir.path}/rs/targets/${s.placement[1]}`, { recursive: true });
  await Deno.remove(`${dir.path}/rs/targets/${s.placement[6]}`, { recursive: true });
  const b = rs.stats.shardReads;
  assert.deepEqual(await rs.get("o"), seededBytes(31, 6000));
  // 6 data + planned parity 6 (missing too) → falls back to reading the other parities.
  assert.equal(rs.stats.shardReads - b, 6 + 1 + 2);
  rs.close();
});
