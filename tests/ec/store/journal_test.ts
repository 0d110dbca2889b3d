import assert from "node:assert/strict";
import { createBlockHasher } from "../../../src/ec/store/checksum.ts";
import { Journal } from "../../../src/ec/store/journal.ts";
import { EcStore } from "../../../src/ec/store/store.ts";
import { assertBytes, seededBytes, storeDeps, tempDir } from "./helpers.ts";

const enc = new TextEncoder();
const key = (i: number) => enc.encode(`obj-${i}`);
/** Offset of record i (1-based) when record j has key obj-j and j*100 payload bytes. */
const offsetOf = (i: number) => {
  let at = 0;
  for (let j = 1; j < i; j++) at += Journal.recordBytes(key(j).length, j * 100);
  return at;
};

async function fiveRecords(path: string): Promise<number> {
  const h = await createBlockHasher();
  const { journal } = await Journal.open(path, h);
  for (let i = 1; i <= 5; i++) {
    assert.equal(await journal.append(key(i), seededBytes(i, i * 100)), i);
  }
  const size = journal.size;
  journal.close();
  return size;
}

Deno.test("journal: replay returns records in order and cuts a torn tail", async () => {
  await using dir = await tempDir();
  const h = await createBlockHasher();
  const path = `${dir.path}/j.log`;
  const goodSize = await fiveRecords(path);
  assert.equal(goodSize, offsetOf(6));
  // A torn append: the first bytes of a record head.
  const f = await Deno.open(path, { append: true });
  await f.write(new Uint8Array([0x43, 0x53, 0x4a, 0x32, 5, 0, 2, 0, 50, 0]));
  f.close();
  const again = await Journal.open(path, h);
  assert.deepEqual(again.records.map((r) => r.seq), [1, 2, 3, 4, 5]);
  again.records.forEach((r, i) => {
    assert.deepEqual(r.key, key(i + 1));
    assert.deepEqual(r.payload, seededBytes(i + 1, (i + 1) * 100));
  });
  assert.deepEqual(again.damage.map((d) => [d.offset, d.tail]), [[goodSize, true]]);
  assert.equal((await Deno.stat(path)).size, goodSize, "a writable open cuts the torn tail");
  assert.equal(await again.journal.append(key(6), new Uint8Array([1])), 6);
  again.journal.close();
  // A whole last record with a damaged payload is a torn append too: nothing intact follows.
  const bytes = await Deno.readFile(path);
  bytes[bytes.length - 1] ^= 0xff;
  await Deno.writeFile(path, bytes);
  const third = await Journal.open(path, h);
  assert.deepEqual(third.records.map((r) => r.seq), [1, 2, 3, 4, 5]);
  assert.deepEqual(third.damage.map((d) => [d.offset, d.seq, d.tail]), [[goodSize, 6, true]]);
  third.journal.close();
});

Deno.test("journal: a damaged record in the middle is reported and every record after it kept", async () => {
  await using dir = await tempDir();
  const h = await createBlockHasher();
  const path = `${dir.path}/j.log`;
  const size = await fiveRecords(path);
  // A flipped payload byte in record 3: its head still names it (seq 3, key obj-3).
  const bytes = await Deno.readFile(path);
  bytes[offsetOf(3) + 40 + key(3).length + 5] ^= 0xff;
  await Deno.writeFile(path, bytes);
  const r = await Journal.open(path, h);
  assert.deepEqual(r.records.map((x) => x.seq), [1, 2, 4, 5]);
  assert.deepEqual(r.records[2].payload, seededBytes(4, 400));
  assert.equal(r.damage.length, 1);
  const d = r.damage[0];
  assert.deepEqual([d.offset, d.length, d.seq, d.tail], [
    offsetOf(3),
    offsetOf(4) - offsetOf(3),
    3,
    false,
  ]);
  assert.deepEqual(d.key, key(3));
  assert.match(d.reason, /payload checksum/);
  assert.equal((await Deno.stat(path)).size, size, "damage in the middle is not cut off");
  // Appends continue after the last record, with the next sequence.
  assert.equal(await r.journal.append(key(6), new Uint8Array([6])), 6);
  r.journal.close();
  const again = await Journal.open(path, h);
  assert.deepEqual(again.records.map((x) => x.seq), [1, 2, 4, 5, 6]);
  again.journal.close();
});

Deno.test("journal: a damaged first record head is stepped over by resynchronising on the next head", async () => {
  await using dir = await tempDir();
  const h = await createBlockHasher();
  const path = `${dir.path}/j.log`;
  await fiveRecords(path);
  for (const at of [0, 9, 17]) { // magic, payload length, sequence
    const bytes = await Deno.readFile(path);
    bytes[at] ^= 0x5a;
    const p = `${dir.path}/j-${at}.log`;
    await Deno.writeFile(p, bytes);
    const r = await Journal.open(p, h, { readOnly: true });
    assert.deepEqual(r.records.map((x) => x.seq), [2, 3, 4, 5], `flip at ${at}`);
    assert.deepEqual(r.damage.map((d) => [d.offset, d.length, d.seq, d.tail]), [
      [0, offsetOf(2), undefined, false],
    ]);
    assertBytes(await Deno.readFile(p), bytes, "a read-only open changes nothing");
  }
});

Deno.test("journal: a read-only open leaves the file byte-identical and refuses appends", async () => {
  await using dir = await tempDir();
  const h = await createBlockHasher();
  const path = `${dir.path}/j.log`;
  await fiveRecords(path);
  const f = await Deno.open(path, { append: true });
  await f.write(new Uint8Array([0x43, 0x53, 0x4a]));
  f.close();
  const before = await Deno.readFile(path);
  const r = await Journal.open(path, h, { readOnly: true });
  assert.deepEqual(r.records.map((x) => x.seq), [1, 2, 3, 4, 5]);
  await assert.rejects(() => r.journal.append(key(6), new Uint8Array(1)), /open read-only/);
  r.journal.close();
  assertBytes(await Deno.readFile(path), before);
  // A read-only open of an absent journal does not create it.
  const none = await Journal.open(`${dir.path}/absent.log`, h, { readOnly: true });
  assert.deepEqual(none.records, []);
  await assert.rejects(() => Deno.stat(`${dir.path}/absent.log`), Deno.errors.NotFound);
});

async function readAcks(child: Deno.ChildProcess, killAfter: number): Promise<number[]> {
  const acks: number[] = [];
  let buf = "";
  let killed = false;
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    const lines = buf.split("\n");
    buf = lines.pop()!;
    for (const l of lines) if (l.startsWith("ack ")) acks.push(Number(l.slice(4)));
    if (!killed && acks.length >= killAfter) {
      child.kill("SIGKILL");
      killed = true;
    }
  }
  return acks;
}

Deno.test("journal: a writer SIGKILLed at random points loses no acknowledged write and invents none", async () => {
  await using dir = await tempDir();
  const deps = await storeDeps();
  const storeDir = `${dir.path}/store`;
  (await EcStore.create(storeDir, {
    code: { algorithm: "ReedSolomon", k: 4, m: 2 },
    stripeSizeBytes: 64 * 1024,
    blockSize: 4096,
  }, deps)).close();
  const child = new URL("./journal_child.ts", import.meta.url).pathname;
  const rounds = 4;
  const history: { prefix: string; seed: number; acked: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    const seed = 1 + Math.floor(Math.random() * 1000);
    const prefix = `r${round}`;
    const proc = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", child, storeDir, prefix, String(seed)],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    // Kill somewhere between the first write and a few destages in.
    const acks = await readAcks(proc, 5 + Math.floor(Math.random() * 40));
    const status = await proc.status;
    assert.equal(status.signal, "SIGKILL", "the child must have been killed, not have exited");
    assert.deepEqual(acks, acks.map((_, i) => i), "acks are sequential");
    history.push({ prefix, seed, acked: acks.length });
    // Reopen after every crash: all acknowledged writes of all rounds so far are present.
    const store = await EcStore.open(storeDir, deps);
    const names = new Set(store.list());
    for (const h of history) {
      for (let i = 0; i < h.acked; i++) {
        const size = 1 + ((h.seed * 7919 + i * 104729) % 30_000);
        assertBytes(
          await store.get(`${h.prefix}-${i}`),
          seededBytes(h.seed * 100_000 + i, size),
          `${h.prefix}-${i}`,
        );
        names.delete(`${h.prefix}-${i}`);
      }
    }
    // Nothing else, except possibly the one write in flight when the kill came (durable, not yet acked).
    for (const extra of names) {
      const h = history.find((x) => extra === `${x.prefix}-${x.acked}`);
      assert.ok(h, `unexpected object ${extra} after replay`);
      const size = 1 + ((h.seed * 7919 + h.acked * 104729) % 30_000);
      assertBytes(await store.get(extra), seededBytes(h.seed * 100_000 + h.acked, size));
      h.acked++;
    }
    store.close();
  }
  // The kills hit a store that destaged (≥ 20 writes of ~15 KB pass the 100 KiB threshold).
  const store = await EcStore.open(storeDir, deps);
  assert.ok((await store.stat()).stripes.healthy > 0);
  store.close();
});

/** A store with `old` destaged as version 1 and six journaled writes w0..w5 (w0 rewrites old). */
async function storeWithJournal(path: string) {
  const deps = await storeDeps();
  const store = await EcStore.create(
    path,
    {
      code: { algorithm: "ReedSolomon", k: 4, m: 2 },
      stripeSizeBytes: 64 * 1024,
      blockSize: 4096,
    },
    deps,
    { journalCapacityBytes: 1 << 20 },
  );
  await store.write("w0", seededBytes(99, 500));
  await store.destage(); // w0 version 1 now lives in stripes
  for (let i = 0; i < 6; i++) await store.write(`w${i}`, seededBytes(i, 1000 + i));
  store.close();
  return deps;
}

Deno.test("store journal: a damaged first record keeps every acknowledged write after it and never serves the older version", async () => {
  await using dir = await tempDir();
  const deps = await storeWithJournal(dir.path);
  const path = `${dir.path}/journal.log`;
  const bytes = await Deno.readFile(path);
  bytes[40 + 2 + 10] ^= 0x01; // record 1 (w0, seq 2): a payload byte
  await Deno.writeFile(path, bytes);
  const store = await EcStore.open(dir.path, deps, { journalCapacityBytes: 1 << 20 });
  assert.equal(store.stats.journalRecordsReplayed, 5);
  for (let i = 1; i < 6; i++) assertBytes(await store.get(`w${i}`), seededBytes(i, 1000 + i));
  // w0's latest acknowledged write is lost: its older destaged bytes are not passed off as it.
  await assert.rejects(
    () => store.get("w0"),
    /object w0: its latest acknowledged write \(journal record seq 2 at offset 0\) is damaged/,
  );
  const st = await store.stat();
  assert.deepEqual(st.journal.damaged.map((d) => [d.offset, d.seq, d.name]), [[0, 2, "w0"]]);
  // Destaged, the loss is recorded in the manifest, so it outlives the journal.
  await store.destage();
  store.close();
  const again = await EcStore.open(dir.path, deps);
  assert.deepEqual(again.journalDamage, []);
  await assert.rejects(() => again.get("w0"), /is damaged/);
  assertBytes(await again.get("w5"), seededBytes(5, 1005));
  // A new write of the name is the new truth.
  await again.write("w0", seededBytes(7, 10));
  assertBytes(await again.get("w0"), seededBytes(7, 10));
  again.close();
});

Deno.test("store journal: a damaged first record head (name unknown) still keeps the records after it", async () => {
  await using dir = await tempDir();
  const deps = await storeWithJournal(dir.path);
  const path = `${dir.path}/journal.log`;
  const bytes = await Deno.readFile(path);
  bytes[4] ^= 0xff; // record 1's key length: its head checksum fails
  await Deno.writeFile(path, bytes);
  const store = await EcStore.open(dir.path, deps, { readOnly: true });
  for (let i = 1; i < 6; i++) assertBytes(await store.get(`w${i}`), seededBytes(i, 1000 + i));
  assert.deepEqual(store.journalDamage.map((d) => [d.offset, d.seq, d.tail]), [[
    0,
    undefined,
    false,
  ]]);
  store.close();
});

Deno.test("store journal: get, stat and verify on a read-only store leave journal and manifest byte-identical", async () => {
  await using dir = await tempDir();
  const deps = await storeWithJournal(dir.path);
  const journal = `${dir.path}/journal.log`;
  // Damage in the middle and a torn tail: a writable open would cut the tail.
  const bytes = await Deno.readFile(journal);
  bytes[bytes.length >> 1] ^= 0x10;
  await Deno.writeFile(journal, new Uint8Array([...bytes, 0x43, 0x53, 0x4a, 0x32, 7]));
  const before = [await Deno.readFile(journal), await Deno.readFile(`${dir.path}/manifest.json`)];
  const store = await EcStore.open(dir.path, deps, { readOnly: true });
  assert.ok(store.journalDamage.some((d) => d.tail) && store.journalDamage.some((d) => !d.tail));
  await store.get("w5");
  await store.stat();
  const report = await store.scrub({ repair: false });
  assert.equal(report.stripes, 1);
  await assert.rejects(() => store.write("n", new Uint8Array(1)), /opened read-only/);
  await assert.rejects(() => store.put("n", new Uint8Array(1)), /opened read-only/);
  await assert.rejects(() => store.delete("w1"), /opened read-only/);
  store.close();
  assertBytes(await Deno.readFile(journal), before[0]);
  assertBytes(await Deno.readFile(`${dir.path}/manifest.json`), before[1]);
});
