/** The `@subspace/reed-solomon-erasure.wasm` oracle (the Rust crate compiled to wasm). */
import { ReedSolomonErasure } from "@subspace/reed-solomon-erasure.wasm";

const WASM = new URL(
  "../../node_modules/@subspace/reed-solomon-erasure.wasm/dist/reed_solomon_erasure_bg.wasm",
  import.meta.url,
);

/** Loads the oracle (needs the node_modules dir that `deno install` creates). */
export function loadOracle(): ReedSolomonErasure {
  return ReedSolomonErasure.fromBytes(Deno.readFileSync(WASM));
}

/** Encodes k data shards with the oracle; returns the contiguous k+m shard buffer. */
export function oracleEncode(
  o: ReedSolomonErasure,
  data: readonly Uint8Array[],
  m: number,
): Uint8Array {
  const size = data[0].length;
  const k = data.length;
  const buf = new Uint8Array((k + m) * size);
  data.forEach((d, i) => buf.set(d, i * size));
  const rc = o.encode(buf, k, m);
  if (rc !== ReedSolomonErasure.RESULT_OK) throw new Error(`oracle encode failed: ${rc}`);
  return buf;
}
