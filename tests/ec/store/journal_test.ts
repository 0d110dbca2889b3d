import assert from "node:assert/strict";
import { createBlockHasher } from "../../../src/ec/store/checksum.ts";
import { Journal } from "../../../src/ec/store/journal.ts";
import { EcStore } from "../../../src/ec/store/store.ts";
import { seededBytes, storeDeps, tempDir } from "./helpers.ts";

Deno.test("journal: replay returns records in order and cuts a torn or corrupt tail", async () => {
  await using dir = await tempDir();
  const h = await createBlockHasher();
  const path = `${dir.path}/j.log`;
  const { journal } = await Journal.open(path, h);
  for (let i = 1; i <= 5; i++) assert.equal(await journal.append(seededBytes(i, i * 100)), i);
  const goodSize = journal.size;
  journal.close();
  // A torn append: half of a record's bytes.
  const f = await Deno.open(path, { append: true });
  await f.write(new Uint8Array([0x43, 0x53, 0x4a, 0x52, 50, 0, 0, 0, 6, 0]));
  f.close();
  const again = await Journal.open(path, h);
  assert.deepEqual(again.records.map((r) => r.seq), [1, 2, 3, 4, 5]);
  again.records.forEach((r, i) => assert.deepEqual(r.payload, seededBytes(i + 1, (i + 1) * 100)));
  assert.equal((await Deno.stat(path)).size, goodSize);
  assert.equal(await again.journal.append(new Uint8Array([1])), 6);
  again.journal.close();
  // A flipped payload byte in record 3: replay keeps 1 and 2 only.
  const bytes = await Deno.readFile(path);
  bytes[24 + 100 + 24 + 200 + 24 + 5] ^= 0xff;
  await Deno.writeFile(path, bytes);
  const third = await Journal.open(path, h);
  assert.deepEqual(third.records.map((r) => r.seq), [1, 2]);
  third.journal.close();
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
        assert.deepEqual(
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
      assert.deepEqual(await store.get(extra), seededBytes(h.seed * 100_000 + h.acked, size));
      h.acked++;
    }
    store.close();
  }
  // The kills hit a store that destaged (≥ 20 writes of ~15 KB pass the 100 KiB threshold).
  const store = await EcStore.open(storeDir, deps);
  assert.ok((await store.stat()).stripes.healthy > 0);
  store.close();
});
