/** Shared set-up for store tests: real kernel, real hasher, temp dirs. */
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
