/**
 * The store never hands out bytes other than those written: foreign shards (valid checksums,
 * another store or object, same geometry), swapped manifest extents, consistent-looking wrong
 * shards, and objects whose whole hash fails are detected, reported, and never returned.
 */
import assert from "node:assert/strict";
import { IntegrityError } from "../../../src/ec/store/integrity.ts";
import {
  decodeManifest,
  encodeManifest,
  type Manifest,
  ManifestChecksumError,
} from "../../../src/ec/store/manifest.ts";
import { decodeShardFile, encodeShardFile } from "../../../src/ec/store/shard_format.ts";
import {
  EcStore,
  type EcStoreDeps,
  shardFileName,
  type ShardProblemNote,
} from "../../../src/ec/store/store.ts";
import { assertBytes, seededBytes, storeDeps, tempDir } from "./helpers.ts";

const RS42 = { algorithm: "ReedSolomon" as const, k: 4, m: 2 };
const GEOMETRY = { code: RS42, stripeSizeBytes: 64 * 1024, blockSize: 4096 };

/** Path of shard `shard` of stripe `stripe` of a directory store. */
function shardPath(dir: string, store: EcStore, stripe: number, shard: number): string {
  const target = store.stripes().find((s) => s.id === stripe)!.placement[shard];
  return `${dir}/targets/${target}/${shardFileName(stripe, shard)}`;
}

/** Reads, edits and saves a store's manifest; `reseal` recomputes its checksum (a forger). */
async function editManifest(dir: string, edit: (m: Manifest) => void, reseal: boolean) {
  const path = `${dir}/manifest.json`;
  const bytes = await Deno.readFile(path);
  const { manifest, generation } = decodeManifest(bytes, path);
  edit(manifest);
  if (reseal) await Deno.writeFile(path, encodeManifest(manifest, generation));
  else {
    // A hand edit: the JSON changes, the recorded checksum does not.
    const env = JSON.parse(new TextDecoder().decode(bytes));
    env.manifest = manifest;
    await Deno.writeTextFile(path, JSON.stringify(env, null, 1));
  }
}

async function collect(gen: AsyncIterable<Uint8Array>): Promise<{ got: number; error?: unknown }> {
  let got = 0;
  try {
    for await (const c of gen) got += c.length;
  } catch (error) {
    return { got, error };
  }
  return { got };
}

Deno.test("integrity: a foreign shard (valid checksums, other store, same geometry) is never used as data", async () => {
  await using dir = await tempDir();
  const notes: ShardProblemNote[] = [];
  const deps: EcStoreDeps = { ...(await storeDeps()), onShardProblem: (p) => notes.push(p) };
  const a = await EcStore.create(`${dir.path}/a`, GEOMETRY, deps);
  const b = await EcStore.create(`${dir.path}/b`, GEOMETRY, deps);
  const mine = seededBytes(1, 200_000);
  await a.put("x", mine);
  await b.put("x", seededBytes(2, 200_000)); // same name, size and stripe ids; other bytes
  // Copy B's shards 0 and 3 of stripe 1 over A's: checksums valid, identity B's.
  for (const shard of [0, 3]) {
    await Deno.copyFile(
      shardPath(`${dir.path}/b`, b, 1, shard),
      shardPath(`${dir.path}/a`, a, 1, shard),
    );
  }
  assertBytes(await a.get("x"), mine, "rebuilt from A's own shards");
  assert.deepEqual(
    notes.map((n) => [n.stripe, n.shard, n.kind]),
    [[1, 0, "identity"], [1, 3, "identity"]],
  );
  assert.match(notes[0].detail!, new RegExp(`^store ${b.storeId}, expected ${a.storeId}$`));

  const verify = await a.scrub({ repair: false });
  assert.deepEqual(
    verify.findings.map((f) => [f.stripe, f.shard, f.kind, f.repaired]),
    [[1, 0, "identity", false], [1, 3, "identity", false]],
  );
  const repair = await a.scrub({ repair: true });
  assert.ok(repair.findings.every((f) => f.repaired));
  const healed = decodeShardFile(
    await Deno.readFile(shardPath(`${dir.path}/a`, a, 1, 0)),
    deps.hasher,
  )!;
  assert.equal(healed.header.storeId, a.storeId, "the foreign shard was overwritten with A's");
  assert.deepEqual((await a.scrub({ repair: false })).findings, []);

  // Three foreign shards in one stripe (more than m): a clear error, never B's bytes.
  for (const shard of [0, 1, 2]) {
    await Deno.copyFile(
      shardPath(`${dir.path}/b`, b, 2, shard),
      shardPath(`${dir.path}/a`, a, 2, shard),
    );
  }
  const fresh = await EcStore.open(`${dir.path}/a`, deps, { readOnly: true });
  const r = await collect(fresh.read("x"));
  assert.match(String(r.error), /stripe 2 is unrecoverable: shards \[0, 1, 2\]/);
  assert.ok(r.got <= 64 * 1024, "at most the verified stripe 0 was handed out");
  fresh.close();
  a.close();
  b.close();
});

Deno.test("integrity: a shard of another object of the same store is foreign too", async () => {
  await using dir = await tempDir();
  const deps = await storeDeps();
  const s = await EcStore.create(dir.path, GEOMETRY, deps);
  await s.put("one", seededBytes(3, 64 * 1024));
  await s.put("two", seededBytes(4, 64 * 1024));
  const [one, two] = [s.objectInfo("one")!.extents[0].stripe, s.objectInfo("two")!.extents[0]];
  // Re-label object two's shard 1 as stripe `one`'s shard 1 (valid checksums, own store).
  const { header, data } = decodeShardFile(
    await Deno.readFile(shardPath(dir.path, s, two.stripe, 1)),
    deps.hasher,
  )!;
  await Deno.writeFile(
    shardPath(dir.path, s, one, 1),
    encodeShardFile({ ...header, stripeId: one }, data, deps.hasher),
  );
  const report = await s.scrub({ repair: false });
  assert.equal(report.findings.length, 1);
  assert.equal(report.findings[0].kind, "identity");
  assert.match(report.findings[0].detail!, /^object \d+, expected \d+$/);
  assertBytes(await s.get("one"), seededBytes(3, 64 * 1024));
  s.close();
});

Deno.test("integrity: swapped extents in a hand-edited manifest: the checksum refuses it, verify names both", async () => {
  await using dir = await tempDir();
  const deps = await storeDeps();
  const s = await EcStore.create(dir.path, GEOMETRY, deps);
  const data = seededBytes(5, 3 * 64 * 1024);
  await s.put("x", data);
  s.close();
  await editManifest(dir.path, (m) => {
    const e = m.objects.x.extents;
    [e[0].stripe, e[1].stripe] = [e[1].stripe, e[0].stripe];
  }, false);
  await assert.rejects(() => EcStore.open(dir.path, deps), ManifestChecksumError);
  await assert.rejects(
    () => EcStore.open(dir.path, deps, { readOnly: true }),
    /manifest .*manifest.json: content does not match its recorded SHA-256 \(hand-edited or damaged\)/,
  );
  const ro = await EcStore.open(dir.path, deps, { readOnly: true, allowUntrustedManifest: true });
  assert.match(ro.manifestProblem!, /does not match its recorded SHA-256/);
  const r = await collect(ro.read("x"));
  assert.equal(r.got, 0, "not one byte of a swapped extent");
  assert.ok(r.error instanceof IntegrityError && r.error.kind === "extent", String(r.error));
  assert.match(String(r.error), /extent 0 expects stripe 0 of object 1 in stripe 1/);
  const report = await ro.scrub({ repair: false });
  assert.match(report.manifestProblem!, /SHA-256/);
  assert.deepEqual(report.extentProblems.map((p) => [p.object, p.extent]), [["x", 0], ["x", 1]]);
  assert.match(report.extentProblems[1].problem, /swapped or edited extent/);
  await assert.rejects(() => ro.scrub({ repair: true }), /opened read-only/);
  ro.close();
});

Deno.test("integrity: swapped extents with a recomputed checksum are still caught by the extents' identity", async () => {
  await using dir = await tempDir();
  const deps = await storeDeps();
  const s = await EcStore.create(dir.path, GEOMETRY, deps);
  const data = seededBytes(6, 3 * 64 * 1024);
  await s.put("x", data);
  s.close();
  // Whole entries swapped (stripe identities move with them): the order gives it away.
  await editManifest(dir.path, (m) => {
    const e = m.objects.x.extents;
    [e[1], e[2]] = [e[2], e[1]];
  }, true);
  const store = await EcStore.open(dir.path, deps);
  const r = await collect(store.read("x"));
  assert.equal(r.got, 0, "the verified first stripe is held until the next one checks out");
  assert.match(String(r.error), /extent 1 starts at byte 131072 of the object, expected 65536/);
  const report = await store.scrub({ repair: false });
  assert.deepEqual(report.extentProblems.map((p) => p.extent), [1, 2]);
  assert.equal(report.manifestProblem, undefined);
  store.close();
});

Deno.test("integrity: a wrong shard with valid checksums and identity is outvoted by the data hash", async () => {
  await using dir = await tempDir();
  const deps = await storeDeps();
  const s = await EcStore.create(dir.path, GEOMETRY, deps);
  const data = seededBytes(7, 64 * 1024);
  await s.put("x", data);
  const path = shardPath(dir.path, s, 0, 2);
  const { header } = decodeShardFile(await Deno.readFile(path), deps.hasher)!;
  await Deno.writeFile(
    path,
    encodeShardFile(header, new Uint8Array(header.shardSize).fill(7), deps.hasher),
  );
  const fresh = await EcStore.open(dir.path, deps, { readOnly: true });
  assertBytes(await fresh.get("x"), data, "found by excluding shards until the hash matches");
  assert.equal(fresh.stats.degradedReads, 1);
  fresh.close();
  // A forged object hash: every stripe checks out, the whole object does not; nothing comes out.
  s.close();
  await editManifest(dir.path, (m) => (m.objects.x.sha256 = "0".repeat(64)), true);
  const forged = await EcStore.open(dir.path, deps, { readOnly: true });
  const r = await collect(forged.read("x"));
  assert.equal(r.got, 0);
  assert.ok(r.error instanceof IntegrityError && r.error.kind === "object-hash");
  forged.close();
});
