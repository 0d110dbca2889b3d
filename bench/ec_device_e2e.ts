/**
 * What the archive Job does, timed (root: it uses loop devices):
 *
 *   deno run -A bench/ec_device_e2e.ts [--mib 256]
 *
 * A 4+2 store on six loop devices: put a file of `--mib` MiB, drop the page cache, verify
 * (scrub) and read it back with its SHA-256 checked; then with two devices missing. Each step's
 * rate is printed beside the baseline measured in the same run: the same bytes written to one
 * loop device and fsynced, then read back after dropping the cache. Exits 1 when a check fails.
 */
import { createHash } from "node:crypto";
import { selectKernel } from "../src/ec/kernels/select.ts";
import { BlockDevice } from "../src/ec/store/block_device.ts";
import { createBlockHasher } from "../src/ec/store/checksum.ts";
import { createDeviceStore, openDeviceStore } from "../src/ec/store/device_store.ts";
import { systemClock } from "../src/clock.ts";
import { silentLogger } from "../src/observability/log.ts";
import { loopDevice, loopDevices } from "../tests/ec/store/helpers.ts";

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, (performance.now() - t0) / 1000];
}

async function* chunks(data: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < data.length; o += 1 << 20) yield data.subarray(o, o + (1 << 20));
}

/** The baseline: write the bytes to one device, fsync, drop the cache, read them back. */
async function baseline(path: string, data: Uint8Array): Promise<[number, number]> {
  const dev = await BlockDevice.open(path);
  try {
    const [, w] = await timed(async () => {
      for (let o = 0; o < data.length; o += 1 << 20) {
        await dev.writeAt(o, data.subarray(o, o + (1 << 20)));
      }
      await dev.sync();
    });
    await dev.dropCache();
    const [, r] = await timed(async () => {
      for (let o = 0; o < data.length; o += 1 << 20) await dev.readAt(o, 1 << 20);
    });
    return [w, r];
  } finally {
    dev.close();
  }
}

/** Runs the steps; true when every check passed (the devices are released on return). */
async function main(): Promise<boolean> {
  const i = Deno.args.indexOf("--mib");
  const mib = i >= 0 ? Number(Deno.args[i + 1]) : 256;
  const bytes = mib << 20;
  let failed = false;
  const check = (ok: boolean, what: string) => {
    console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
    failed ||= !ok;
  };
  // Each device holds a quarter of the data plus headers and the manifest area.
  await using loops = await loopDevices(6, Math.ceil(bytes / 4 * 1.05) + (16 << 20));
  await using plain = await loopDevice(bytes);
  const paths = loops.devices.map((d) => d.path);
  const deps = {
    kernel: selectKernel().kernel,
    hasher: await createBlockHasher(),
    clock: systemClock,
    logger: silentLogger,
  };
  const data = new Uint8Array(bytes);
  for (let o = 0; o < data.length; o += 65536) crypto.getRandomValues(data.subarray(o, o + 65536));
  const want = createHash("sha256").update(data).digest("hex");
  const [bw, br] = await baseline(plain.path, data);
  const rate = (s: number, base: number) =>
    `${(mib / 1024 / s).toFixed(2)} GB/s (${(base / s).toFixed(2)}x of one device)`;
  console.log(
    `baseline: one loop device, write+fsync ${(mib / 1024 / bw).toFixed(2)} GB/s, ` +
      `uncached read ${(mib / 1024 / br).toFixed(2)} GB/s`,
  );

  const { store } = await createDeviceStore(
    paths.map((path, n) => ({ id: `shard-${n}`, path })),
    { code: { algorithm: "ReedSolomon", k: 4, m: 2 } },
    deps,
  );
  const [obj, putS] = await timed(() => store.put("volume", chunks(data), { totalBytes: bytes }));
  check(obj.sha256 === want, `put ${mib} MiB onto 6 devices: ${rate(putS, bw)}`);
  await store.dropCaches();
  const [scrub, scrubS] = await timed(() => store.scrub({ repair: false }));
  check(scrub.findings.length === 0, `verify (scrub), uncached: ${rate(scrubS, br)}`);
  await store.dropCaches();
  const [got, getS] = await timed(async () => {
    const sha = createHash("sha256");
    for await (const c of store.read("volume")) sha.update(c);
    return sha.digest("hex");
  });
  check(got === want, `get with SHA-256, uncached: ${rate(getS, br)}`);
  store.close();

  const { store: degraded } = await openDeviceStore(
    [paths[0], paths[2], paths[3], paths[5]],
    deps,
    {
      readOnly: true,
    },
  );
  await degraded.dropCaches();
  const [dgot, dS] = await timed(async () => {
    const sha = createHash("sha256");
    for await (const c of degraded.read("volume")) sha.update(c);
    return sha.digest("hex");
  });
  check(dgot === want, `degraded get, two devices missing: ${rate(dS, br)}`);
  degraded.close();
  return !failed;
}

if (import.meta.main) Deno.exit((await main()) ? 0 : 1);
