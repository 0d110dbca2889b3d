/**
 * Block checksums for bitrot detection: xxhash64 from hash-wasm (several GB/s in wasm). The
 * hasher is created once (async wasm instantiation) and then used synchronously.
 */
import { createXXHash64 } from "hash-wasm";

/** A synchronous 64-bit hash of byte ranges. */
export interface BlockHasher {
  /** xxhash64 of data as 8 bytes (big-endian, as hash-wasm renders it). */
  sum(data: Uint8Array): Uint8Array;
  /** The same hash as 16 hex digits. */
  hex(data: Uint8Array): string;
}

/** Creates a hasher (instantiates the wasm once). */
export async function createBlockHasher(): Promise<BlockHasher> {
  const h = await createXXHash64();
  return {
    sum(data) {
      h.init();
      h.update(data);
      return h.digest("binary");
    },
    hex(data) {
      h.init();
      h.update(data);
      return h.digest("hex");
    },
  };
}
