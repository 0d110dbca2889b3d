/**
 * Device stores on real block devices (losetup over temp files) and on plain fixed-size files:
 * round trips for Reed-Solomon and LRC, devices of another store refused, a flipped byte and a
 * foreign shard on a device healed by repair, a lost device replaced and rebuilt, full devices.
 */
import assert from "node:assert/strict";
import { BlockDevice } from "../../../src/ec/store/block_device.ts";
import { ForeignDeviceError, readSuperblock } from "../../../src/ec/store/block_target.ts";
import {
  createDeviceStore,
  type DeviceSpec,
  openDeviceStore,
} from "../../../src/ec/store/device_store.ts";
import { NoSpaceError } from "../../../src/ec/store/nospace.ts";
import { SHARD_HEADER_BYTES } from "../../../src/ec/store/shard_format.ts";
import type { EcStoreDeps, Progress } from "../../../src/ec/store/store.ts";
import {
  assertBytes,
  attachLoop,
  type LoopDevice,
  loopDevice,
  loopDevices,
  seededBytes,
  storeDeps,
  tempDir,
} from "./helpers.ts";

const RS42 = { algorithm: "ReedSolomon" as const, k: 4, m: 2 };
const LRC = { algorithm: "LRC" as const, k: 4, l: 2, g: 2 };
const GEOMETRY = { stripeSizeBytes: 256 * 1024, blockSize: 16 * 1024 };
const MiB = 1 << 20;

function specs(paths: string[], prefix = "shard"): DeviceSpec[] {
  return paths.map((path, i) => ({ id: `${prefix}-${i}`, path }));
}

/** XORs one byte of a device at `offset` through its own file descriptor. */
async function flipByte(path: string, offset: number): Promise<void> {
  const f = await Deno.open(path, { read: true, write: true });
  try {
    const b = new Uint8Array(1);
    await f.seek(offset, Deno.SeekMode.Start);
    await f.read(b);
    b[0] ^= 0x20;
    await f.seek(offset, Deno.SeekMode.Start);
    await f.write(b);
    await f.sync();
  } finally {
    f.close();
  }
}

/** Offset on a device of byte `at` of the data of the shard in stripe slot `stripe`. */
async function shardDataOffset(path: string, deps: EcStoreDeps, stripe: number, at: number) {
  const dev = await BlockDevice.open(path);
  try {
    const sb = (await readSuperblock(dev, deps.hasher))!;
    return sb.dataOffset + stripe * sb.slotBytes + SHARD_HEADER_BYTES + 8 + at;
  } finally {
    dev.close();
  }
}

Deno.test("device store: 4+2 on losetup devices round trips, reopens from its devices in any order", async () => {
  await using loops = await loopDevices(6, 8 * MiB);
  const deps = await storeDeps();
  const paths = loops.devices.map((d) => d.path);
  const { store } = await createDeviceStore(specs(paths), { code: RS42, ...GEOMETRY }, deps);
  const data = seededBytes(1, 3 * MiB + 12_345);
  const progress: Progress[] = [];
  await store.put("volume", data, { totalBytes: data.length, onProgress: (p) => progress.push(p) });
  assert.equal(progress.length, 13);
  assert.deepEqual(progress.at(-1), {
    done: 13,
    total: 13,
    bytes: data.length,
    totalBytes: data.length,
  });
  assertBytes(await store.get("volume"), data);
  await assert.rejects(() => store.write("small", new Uint8Array(1)), /has no journal/);
  store.close();

  // Device names change between Jobs: the superblocks say which device is which shard.
  const again = (await openDeviceStore([...paths].reverse(), deps, { readOnly: true })).store;
  const reads: Progress[] = [];
  assertBytes(await again.get("volume", { onProgress: (p) => reads.push(p) }), data);
  assert.deepEqual(reads.at(-1), {
    done: 13,
    total: 13,
    bytes: data.length,
    totalBytes: data.length,
  });
  const verify = await again.scrub({ repair: false });
  assert.deepEqual([verify.stripes, verify.findings, verify.extentProblems], [13, [], []]);
  const st = await again.stat();
  assert.equal(
    st.storedBytes / st.logicalBytes > 1.49 && st.storedBytes / st.logicalBytes < 1.51,
    true,
  );
  assert.deepEqual(
    st.targets.map((t) => [t.id, t.path, t.healthy]),
    specs(paths).map((s) => [s.id, s.path, true]),
  );
  again.close();
});

Deno.test("device store: LRC 4+2+2 on 4Kn loop devices (BLKSSZGET 4096), one device missing reads its local group", async () => {
  await using loops = await loopDevices(8, 8 * MiB, 4096);
  const deps = await storeDeps();
  const paths = loops.devices.map((d) => d.path);
  const dev = await BlockDevice.open(paths[0]);
  assert.deepEqual([dev.isBlockDevice, dev.logicalBlockSize, dev.align], [true, 4096, 4096]);
  dev.close();
  const { store } = await createDeviceStore(specs(paths), { code: LRC, ...GEOMETRY }, deps);
  const data = seededBytes(2, 2 * MiB);
  await store.put("volume", data);
  store.close();
  const without1 = paths.filter((_, i) => i !== 1);
  const { store: degraded } = await openDeviceStore(without1, deps, { readOnly: true });
  assertBytes(await degraded.get("volume"), data);
  // Per stripe: 4 data reads (one fails) + the local parity of group 0 only.
  assert.equal(degraded.stats.shardReads, 8 * 5);
  assert.equal(degraded.stats.degradedReads, 8);
  degraded.close();
});

Deno.test("device store: devices of another store are refused, never overwritten unless forced", async () => {
  await using a = await loopDevices(6, 4 * MiB);
  await using b = await loopDevices(6, 4 * MiB);
  const deps = await storeDeps();
  const pa = a.devices.map((d) => d.path);
  const pb = b.devices.map((d) => d.path);
  const sa = await createDeviceStore(specs(pa), { code: RS42, ...GEOMETRY }, deps);
  await sa.store.put("x", seededBytes(3, 600_000));
  sa.store.close();
  (await createDeviceStore(specs(pb), { code: RS42, ...GEOMETRY }, deps)).store.close();
  const before = await Deno.readFile(a.devices[2].file);

  const err = await createDeviceStore(specs(pa), { code: RS42, ...GEOMETRY }, deps).catch((e) => e);
  assert.ok(err instanceof ForeignDeviceError, String(err));
  assert.match(
    err.message,
    new RegExp(
      `^device ${pa[0]} belongs to store [0-9a-f-]{36} \\(target shard-0, shard 0\\), not to store`,
    ),
  );
  assertBytes(await Deno.readFile(a.devices[2].file), before, "nothing was written");
  await assert.rejects(
    () => openDeviceStore([...pa.slice(0, 3), ...pb.slice(3)], deps),
    /the devices belong to different stores/,
  );
  // Store B's device offered as the replacement of A's shard 2: refused, then forced.
  const { store, replaceDevice } = await openDeviceStore(pa, deps);
  await assert.rejects(
    () => replaceDevice("shard-2", pb[2]),
    /belongs to store .* refusing to use or overwrite it/,
  );
  await replaceDevice("shard-2", pb[2], { force: true });
  const repair = await store.scrub({ repair: true });
  assert.ok(
    repair.findings.length > 0 && repair.findings.every((f) => f.shard === 2 && f.repaired),
  );
  assertBytes(await store.get("x"), seededBytes(3, 600_000));
  store.close();
  assertBytes(await Deno.readFile(a.devices[2].file), before, "the replaced device untouched");
  const reopened = await openDeviceStore([...pa.slice(0, 2), pb[2], ...pa.slice(3)], deps);
  assert.deepEqual((await reopened.store.scrub({ repair: false })).findings, []);
  reopened.store.close();
  // A's old shard-2 device still says it is shard-2 of store A: given beside its replacement,
  // the store does not guess which one is current.
  await assert.rejects(
    () => openDeviceStore([...pa, pb[2]], deps),
    new RegExp(`devices ${pa[2]} and ${pb[2]} both hold target shard-2 of store`),
  );
});

Deno.test("device store: a flipped byte and a foreign shard on devices are detected and healed by repair", async () => {
  await using a = await loopDevices(6, 4 * MiB);
  await using b = await loopDevices(6, 4 * MiB);
  const deps = await storeDeps();
  const pa = a.devices.map((d) => d.path);
  const pb = b.devices.map((d) => d.path);
  const data = seededBytes(4, 700_000);
  const sa = await createDeviceStore(specs(pa), { code: RS42, ...GEOMETRY }, deps);
  await sa.store.put("x", data);
  sa.store.close();
  const sb = await createDeviceStore(specs(pb), { code: RS42, ...GEOMETRY }, deps);
  await sb.store.put("x", seededBytes(5, 700_000));
  sb.store.close();

  await flipByte(pa[3], await shardDataOffset(pa[3], deps, 1, 100));
  // Stripe 2's shard 4 slot from store B copied onto A's device: valid checksums, B's identity.
  const from = await shardDataOffset(pb[4], deps, 2, -SHARD_HEADER_BYTES - 8);
  const to = await shardDataOffset(pa[4], deps, 2, -SHARD_HEADER_BYTES - 8);
  const src = await BlockDevice.open(pb[4]);
  const slot = await src.readAt(from, 64 * 1024 + 4096);
  src.close();
  const dst = await BlockDevice.open(pa[4]);
  await dst.writeAt(to, slot);
  await dst.sync();
  dst.close();

  const { store } = await openDeviceStore(pa, deps);
  assertBytes(await store.get("x"), data);
  const verify = await store.scrub({ repair: false });
  assert.deepEqual(
    verify.findings.map((f) => [f.stripe, f.shard, f.kind]),
    [[1, 3, "checksum"], [2, 4, "identity"]],
  );
  assert.match(
    verify.findings[1].detail!,
    new RegExp(`^store ${sb.store.storeId}, expected ${store.storeId}$`),
  );
  const repair = await store.scrub({ repair: true });
  assert.ok(repair.findings.every((f) => f.repaired));
  assert.deepEqual((await store.scrub({ repair: false })).findings, []);
  store.close();
  const fresh = await openDeviceStore(pa, deps, { readOnly: true });
  assertBytes(await fresh.store.get("x"), data);
  assert.equal(fresh.store.stats.degradedReads, 0, "healed on the devices, not only in memory");
  fresh.store.close();
});

Deno.test("device store: a lost device is replaced by a blank one and rebuilt; full devices are ENOSPC, cleaned up", async () => {
  await using loops = await loopDevices(6, 2 * MiB);
  await using spare = await loopDevice(2 * MiB);
  const deps = await storeDeps();
  const paths = loops.devices.map((d) => d.path);
  const { store } = await createDeviceStore(specs(paths), { code: RS42, ...GEOMETRY }, deps);
  const dev = await BlockDevice.open(paths[0]);
  const slots = (await readSuperblock(dev, deps.hasher))!.slots;
  dev.close();
  const data = seededBytes(6, (slots - 2) * 256 * 1024);
  await store.put("x", data);
  const err = await store.put("y", seededBytes(7, 3 * 256 * 1024)).catch((e) => e);
  assert.ok(err instanceof NoSpaceError, String(err));
  assert.equal(
    err.message,
    `no space left on the store's devices: all ${slots} stripe slots are in use`,
  );
  assert.deepEqual(store.list(), ["x"]);
  await store.put("y", seededBytes(7, 2 * 256 * 1024)); // the slots the failed put took are free
  store.close();

  const { store: s2, replaceDevice } = await openDeviceStore(paths.filter((_, i) => i !== 5), deps);
  assertBytes(await s2.get("x"), data);
  await replaceDevice("shard-5", spare.path);
  const repair = await s2.scrub({ repair: true });
  assert.equal(repair.findings.length, slots);
  assert.ok(repair.findings.every((f) => f.shard === 5 && f.kind === "missing" && f.repaired));
  s2.close();
  const { store: s3 } = await openDeviceStore([...paths.slice(0, 5), spare.path], deps, {
    readOnly: true,
  });
  assert.deepEqual((await s3.scrub({ repair: false })).findings, []);
  assertBytes(await s3.get("y"), seededBytes(7, 2 * 256 * 1024));
  s3.close();
});

Deno.test("device store: plain fixed-size files work as devices; a blank one is not a store", async () => {
  await using dir = await tempDir();
  const deps = await storeDeps();
  const paths = Array.from({ length: 6 }, (_, i) => `${dir.path}/dev${i}.img`);
  for (const p of paths) {
    await Deno.writeFile(p, new Uint8Array(0));
    await Deno.truncate(p, 3 * MiB);
  }
  await assert.rejects(() => openDeviceStore(paths, deps), /no store on the devices/);
  const { store } = await createDeviceStore(specs(paths), { code: RS42, ...GEOMETRY }, deps);
  const data = seededBytes(8, 1 * MiB + 7);
  await store.put("x", data);
  store.close();
  const { store: again } = await openDeviceStore(paths, deps);
  assertBytes(await again.get("x"), data);
  again.close();
});

/** Sectors the kernel has read from a block device (field 3 of /sys/block/<dev>/stat). */
async function sectorsRead(path: string): Promise<number> {
  const name = path.split("/").pop()!;
  return Number((await Deno.readTextFile(`/sys/block/${name}/stat`)).trim().split(/\s+/)[2]);
}

Deno.test("device store: after dropCaches() a verify reads the devices themselves, not the page cache", async () => {
  await using loops = await loopDevices(6, 4 * MiB);
  const deps = await storeDeps();
  const paths = loops.devices.map((d) => d.path);
  const { store } = await createDeviceStore(specs(paths), { code: RS42, ...GEOMETRY }, deps);
  store.close();
  const { store: s } = await openDeviceStore(paths, deps);
  const data = seededBytes(9, MiB);
  await s.put("x", data);
  const read = async () => {
    const before = await Promise.all(paths.map(sectorsRead));
    assertBytes(await s.get("x"), data);
    const after = await Promise.all(paths.map(sectorsRead));
    return after.reduce((n, a, i) => n + a - before[i], 0) * 512;
  };
  const cached = await read();
  await s.dropCaches();
  const fromDevices = await read();
  // A get reads the 4 data shards of each of the 4 stripes: 16 shard files of 64 KiB + headers.
  assert.ok(cached < 64 * 1024, `cached read took ${cached} bytes from the devices`);
  assert.ok(fromDevices >= MiB, `read after dropCaches took only ${fromDevices} bytes`);
  s.close();
});

Deno.test("device store: shard volumes attached read-only are read (and verified) without a write", async () => {
  await using loops = await loopDevices(6, 4 * MiB);
  const deps = await storeDeps();
  const data = seededBytes(10, 900_000);
  const made = await createDeviceStore(
    specs(loops.devices.map((d) => d.path)),
    { code: RS42, ...GEOMETRY },
    deps,
  );
  await made.store.put("x", data);
  made.store.close();
  const ro: LoopDevice[] = [];
  try {
    for (const d of loops.devices) ro.push(await attachLoop(d.file, { readOnly: true }));
    const paths = ro.map((d) => d.path);
    const before = await Promise.all(loops.devices.map((d) => Deno.readFile(d.file)));
    const { store } = await openDeviceStore(paths, deps, { readOnly: true });
    assertBytes(await store.get("x"), data);
    assert.deepEqual((await store.scrub({ repair: false })).findings, []);
    store.close();
    // Opened for writing, a read-only device is down: it cannot take a repaired shard.
    const { store: rw } = await openDeviceStore(paths, deps);
    const st = await rw.stat();
    for (const t of st.targets) {
      assert.equal(t.healthy, false);
      assert.match(t.problem!, /^device \/dev\/loop\d+ is read-only \(attached read-only\)/);
    }
    rw.close();
    const after = await Promise.all(loops.devices.map((d) => Deno.readFile(d.file)));
    after.forEach((a, i) => assertBytes(a, before[i], `device ${i}`));
  } finally {
    for (const d of ro) await d[Symbol.asyncDispose]();
  }
});
