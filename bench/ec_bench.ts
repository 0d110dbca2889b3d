/**
 * Erasure-coding throughput, every kernel beside `@subspace/reed-solomon-erasure.wasm` in one
 * run: encode and 2-loss reconstruct GB/s (data bytes per second) for RS 4+2, RS 8+3 and
 * LRC 12+2+2 at 4 KiB, 64 KiB and 1 MiB shards, with the ratio to the baseline.
 *
 *   deno run -A bench/ec_bench.ts [--quick]   the full table (targets checked at 64 KiB, 4+2)
 *   deno bench -A bench/                       64 KiB 4+2 encode only, baseline-relative
 */
import { ReedSolomonErasure } from "@subspace/reed-solomon-erasure.wasm";
import type { Kernel } from "../src/ec/kernels/kernel.ts";
import { availableKernels } from "../src/ec/kernels/select.ts";
import { Lrc } from "../src/ec/lrc.ts";
import { ReedSolomon } from "../src/ec/rs.ts";
import { loadOracle } from "../tests/ec/oracle.ts";

/** Measurement rounds per implementation and case. */
const ROUNDS = 5;

/** One measured operation: a closure run repeatedly over `bytes` of data. */
interface Op {
  bytes: number;
  run: () => void;
}

/** Runs op for at least minMs (after a warm-up) and returns GB/s of data. */
function measure(op: Op, minMs: number): number {
  for (let i = 0; i < 2; i++) op.run();
  let iters = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    op.run();
    iters++;
    t = performance.now();
  }
  return (op.bytes * iters) / ((t - t0) / 1000) / 1e9;
}

function randomShards(n: number, k: number, size: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => {
    const s = new Uint8Array(size);
    if (i < k) {
      for (let o = 0; o < size; o += 65536) crypto.getRandomValues(s.subarray(o, o + 65536));
    }
    return s;
  });
}

function baselineOps(o: ReedSolomonErasure, k: number, m: number, size: number) {
  const buf = new Uint8Array((k + m) * size);
  for (let off = 0; off < k * size; off += 65536) {
    crypto.getRandomValues(buf.subarray(off, Math.min(off + 65536, k * size)));
  }
  o.encode(buf, k, m);
  const avail = Array.from({ length: k + m }, (_, i) => i > 1);
  return {
    encode: { bytes: k * size, run: () => void o.encode(buf, k, m) },
    decode: { bytes: k * size, run: () => void o.reconstruct(buf, k, m, avail) },
  };
}

function rsOps(kernel: Kernel, k: number, m: number, size: number) {
  const rs = new ReedSolomon(k, m, { kernel });
  const shards = randomShards(k + m, k, size);
  rs.encode(shards);
  const present = shards.map((_, i) => i > 1);
  return {
    encode: { bytes: k * size, run: () => rs.encode(shards) },
    decode: { bytes: k * size, run: () => rs.reconstructInto(shards, present, [0, 1]) },
  };
}

function lrcOps(kernel: Kernel, size: number) {
  const c = new Lrc({ k: 12, l: 2, g: 2 }, { kernel });
  const shards = randomShards(16, 12, size);
  c.encode(shards);
  return {
    encode: { bytes: 12 * size, run: () => c.encode(shards) },
    // Two losses in one group: the local parity is not enough, a global decode runs.
    decode: {
      bytes: 12 * size,
      run: () => {
        const s: (Uint8Array | null)[] = shards.slice();
        s[0] = s[1] = null;
        c.reconstruct(s);
      },
    },
  };
}

/** One result row. */
interface Row {
  code: string;
  size: string;
  impl: string;
  encode: number;
  decode: number;
  encodeRatio: number;
  decodeRatio: number;
}

/** Runs the whole matrix and returns the rows. */
export function runAll(minMs: number, log: (s: string) => void): Row[] {
  const oracle = loadOracle();
  const kernels = availableKernels();
  const rows: Row[] = [];
  const sizes: [string, number][] = [["4KiB", 4096], ["64KiB", 65536], ["1MiB", 1 << 20]];
  const codes: { code: string; k: number; m: number; lrc: boolean }[] = [
    { code: "RS 4+2", k: 4, m: 2, lrc: false },
    { code: "RS 8+3", k: 8, m: 3, lrc: false },
    // The baseline has no LRC: it is compared with its RS 12+4 (same shard count).
    { code: "LRC 12+2+2", k: 12, m: 4, lrc: true },
  ];
  for (const { code, k, m, lrc } of codes) {
    for (const [label, size] of sizes) {
      const impls = [
        { impl: lrc ? "@subspace RS 12+4" : "@subspace", ops: baselineOps(oracle, k, m, size) },
        ...kernels.map((kernel) => ({
          impl: kernel.name,
          ops: lrc ? lrcOps(kernel, size) : rsOps(kernel, k, m, size),
        })),
      ];
      // Rounds alternate between implementations and keep each one's best, so a burst of
      // load from a neighbour on this shared machine does not land on one side of a ratio.
      const best = impls.map(() => ({ encode: 0, decode: 0 }));
      for (let round = 0; round < ROUNDS; round++) {
        impls.forEach(({ ops }, i) => {
          best[i].encode = Math.max(best[i].encode, measure(ops.encode, minMs / ROUNDS));
          best[i].decode = Math.max(best[i].decode, measure(ops.decode, minMs / ROUNDS));
        });
      }
      impls.forEach(({ impl }, i) => {
        rows.push({
          code,
          size: label,
          impl,
          encode: best[i].encode,
          decode: best[i].decode,
          encodeRatio: best[i].encode / best[0].encode,
          decodeRatio: best[i].decode / best[0].decode,
        });
        log(fmtRow(rows[rows.length - 1]));
      });
    }
  }
  return rows;
}

function fmtRow(r: Row): string {
  return `${r.code.padEnd(11)} ${r.size.padStart(6)}  ${r.impl.padEnd(18)} encode ${
    r.encode.toFixed(2).padStart(6)
  } GB/s (${r.encodeRatio.toFixed(1).padStart(5)}x)   2-loss decode ${
    r.decode.toFixed(2).padStart(6)
  } GB/s (${r.decodeRatio.toFixed(1).padStart(5)}x)`;
}

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  console.log(
    "erasure coding: GB/s of data bytes; (Nx) = ratio to @subspace/reed-solomon-erasure.wasm, same run",
  );
  const wasm = availableKernels().find((k) => k.name === "wasm-simd") as
    | { variant?: string }
    | undefined;
  console.log(`wasm-simd variant: ${wasm?.variant ?? "unavailable"}`);
  const rows = runAll(quick ? 100 : 500, console.log);
  const at = (impl: string) =>
    rows.find((r) => r.code === "RS 4+2" && r.size === "64KiB" && r.impl === impl);
  for (const [impl, target] of [["wasm-simd", 4], ["isal", 20]] as const) {
    const r = at(impl);
    if (r) {
      console.log(
        `target 64KiB 4+2 encode ${impl} ≥ ${target}x baseline: ${r.encodeRatio.toFixed(1)}x ${
          r.encodeRatio >= target ? "MET" : "MISSED"
        }`,
      );
    }
  }
} else {
  // Under `deno bench`: the headline case only, the baseline marked so ratios are printed.
  const size = 65536;
  const base = baselineOps(loadOracle(), 4, 2, size);
  Deno.bench({
    name: "@subspace 4+2 encode 64KiB",
    group: "encode-4+2-64k",
    baseline: true,
    fn: base.encode.run,
  });
  for (const kernel of availableKernels()) {
    const ops = rsOps(kernel, 4, 2, size);
    Deno.bench({
      name: `${kernel.name} 4+2 encode 64KiB`,
      group: "encode-4+2-64k",
      fn: ops.encode.run,
    });
  }
}
