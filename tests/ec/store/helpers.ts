/** Shared set-up for store tests: real kernel, real hasher, temp dirs. */
import { AssertionError } from "node:assert/strict";
import { systemClock } from "../../../src/clock.ts";
import type { Clock } from "../../../src/clock.ts";
import { selectKernel } from "../../../src/ec/kernels/select.ts";
import { createBlockHasher } from "../../../src/ec/store/checksum.ts";
import type { EcStoreDeps } from "../../../src/ec/store/store.ts";
import { silentLogger } from "../../../src/observability/log.ts";

/** Store dependencies with the machine's fastest kernel. */
export async function storeDeps(clock: Clock = systemClock): Promise<EcStoreDeps> {
  return {
    kernel: selectKernel().kernel,
    hasher: await createBlockHasher(),
    clock,
    logger: silentLogger,
  };
}

/** Deterministic pseudo-random bytes for (seed, size). */
export function seededBytes(seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) ^ 0x9e3779b9 | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A temp dir removed by the returned disposer. */
export async function tempDir(): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix: "couchestor-ec-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/**
 * A small tmpfs of `bytes` mounted on a fresh temp dir, unmounted and removed by the disposer.
 * Needs root (mount(2) needs CAP_SYS_ADMIN); fails saying so otherwise.
 */
export async function smallTmpfs(
  bytes: number,
): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix: "couchestor-ec-tmpfs-" });
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", path],
    stderr: "piped",
  }).output().catch((e) => ({ success: false, stderr: new TextEncoder().encode(String(e)) }));
  if (!mount.success) {
    await Deno.remove(path);
    throw new Error(
      `this test needs a small tmpfs: run it as root (mount -t tmpfs needs CAP_SYS_ADMIN): ` +
        new TextDecoder().decode(mount.stderr),
    );
  }
  return {
    path,
    [Symbol.asyncDispose]: async () => {
      await new Deno.Command("umount", { args: [path] }).output();
      await Deno.remove(path, { recursive: true });
    },
  };
}

/** Fills a filesystem with a file at `path` until ENOSPC (returns the bytes written). */
export async function fillUp(path: string): Promise<number> {
  const f = await Deno.open(path, { write: true, create: true });
  const chunk = new Uint8Array(64 * 1024);
  let n = 0;
  try {
    for (let size = chunk.length; size >= 1;) {
      try {
        n += await f.write(chunk.subarray(0, size));
      } catch {
        size >>= 1; // the last blocks: smaller writes until not one byte fits
      }
    }
  } finally {
    f.close();
  }
  return n;
}

/** Every file below dir, as paths relative to it, sorted. */
export async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${dir}${prefix}`)) {
    const rel = `${prefix}/${e.name}`;
    if (e.isDirectory) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

/** A loop device over a temp file; detached and the file removed by the disposer. */
export interface LoopDevice {
  path: string;
  file: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * `losetup -f --show` on a fresh sparse temp file of `bytes` (optionally with a logical sector
 * size, e.g. 4096 for a 4Kn device). Needs root and util-linux; fails saying so otherwise.
 */
export async function loopDevice(bytes: number, sectorSize?: number): Promise<LoopDevice> {
  const file = await Deno.makeTempFile({ prefix: "couchestor-ec-loop-" });
  await Deno.truncate(file, bytes);
  let attached: LoopDevice;
  try {
    attached = await attachLoop(file, { sectorSize });
  } catch (e) {
    await Deno.remove(file);
    throw e;
  }
  return {
    ...attached,
    [Symbol.asyncDispose]: async () => {
      await attached[Symbol.asyncDispose]();
      await Deno.remove(file);
    },
  };
}

/** Attaches an existing file as a loop device (read-only with `readOnly`); detached on dispose. */
export async function attachLoop(
  file: string,
  opts: { sectorSize?: number; readOnly?: boolean } = {},
): Promise<LoopDevice> {
  const args = [
    "-f",
    "--show",
    ...(opts.sectorSize ? ["--sector-size", String(opts.sectorSize)] : []),
    ...(opts.readOnly ? ["--read-only"] : []),
    file,
  ];
  let out: Deno.CommandOutput | null = null;
  // Another process may take the free device between find and bind: try again.
  for (let attempt = 0; attempt < 5 && !out?.success; attempt++) {
    out = await new Deno.Command("losetup", { args, stdout: "piped", stderr: "piped" }).output()
      .catch(() => null);
  }
  if (!out?.success) {
    throw new Error(
      "this test needs loop devices: run it as root with util-linux installed " +
        `(apt-get install util-linux): ${
          out ? new TextDecoder().decode(out.stderr) : "no losetup"
        }`,
    );
  }
  const path = new TextDecoder().decode(out.stdout).trim();
  return {
    path,
    file,
    [Symbol.asyncDispose]: async () => {
      await new Deno.Command("losetup", { args: ["-d", path] }).output();
    },
  };
}

/** Several loop devices, all released by one disposer. */
export async function loopDevices(
  n: number,
  bytes: number,
  sectorSize?: number,
): Promise<{ devices: LoopDevice[]; [Symbol.asyncDispose](): Promise<void> }> {
  const devices: LoopDevice[] = [];
  try {
    for (let i = 0; i < n; i++) devices.push(await loopDevice(bytes, sectorSize));
  } catch (e) {
    for (const d of devices) await d[Symbol.asyncDispose]();
    throw e;
  }
  return {
    devices,
    [Symbol.asyncDispose]: async () => {
      for (const d of devices) await d[Symbol.asyncDispose]();
    },
  };
}

/**
 * Asserts two byte arrays are equal, naming the first differing offset (node:assert's diff of
 * megabyte arrays takes minutes to render, which would look like a hang).
 */
export function assertBytes(actual: Uint8Array, expected: Uint8Array, what = "bytes"): void {
  const n = Math.min(actual.length, expected.length);
  let i = 0;
  while (i < n && actual[i] === expected[i]) i++;
  if (i === n && actual.length === expected.length) return;
  throw new AssertionError({
    message: `${what}: ${actual.length} bytes, expected ${expected.length}; first difference ` +
      `at byte ${i}`,
    actual: actual.length,
    expected: expected.length,
    operator: "assertBytes",
  });
}
