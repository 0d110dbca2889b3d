/**
 * Smoke test of bench/move_bench.ts: run as a process with two moves (and two at once), it
 * exits 0 and prints every figure the issue asks for. The numbers' presence and the run's shape
 * are checked (three replica steps, one call in each cordon window, no two windows at once),
 * never a timing (targets live in bench/).
 */
import assert from "node:assert/strict";
import { runScript } from "../cli/_process.ts";

const BENCH = new URL("../../bench/move_bench.ts", import.meta.url).pathname;

const bench = (args: string[], env: Record<string, string> = {}) => runScript(BENCH, args, env);

const N = String.raw`\d+(\.\d+)?`;
const QUANTILES = String.raw`p50\s+${N} ms\s+\(${N}x GET\)\s+p99\s+${N} ms\s+\(${N}x GET\)`;

Deno.test("move bench: two moves print the cordon window, calls per move and the GET baseline", async () => {
  const r = await bench(["--concurrent", "2", "--get-runs", "20"], { MOVE_BENCH_MOVES: "2" });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const out = r.stdout;
  assert.doesNotMatch(out, /FAIL/);
  const expect = [
    new RegExp(String.raw`GET /v0/volumes/\{id\} round trip, median of 20: ${N} ms`),
    // One 1-replica and one 2-replica move: three replica steps.
    /2 moves one after another .*, 3 replica steps:/,
    new RegExp(String.raw`cordon window, as the executor measures it\s+${QUANTILES}`),
    new RegExp(String.raw`on the wire: every other node cordoned\s+${QUANTILES}`),
    new RegExp(String.raw`whole move\s+${QUANTILES}`),
    // The protocol's claims, not timings: the window holds one call, and windows serialize.
    /calls inside the full window: replica_count alone in 3 of 3\n/,
    new RegExp(
      String.raw`REST calls per move: mean ${N} \(min \d+, max \d+\); per replica step ${N}`,
    ),
    new RegExp(String.raw`PUT /volumes/\{id\}/replica_count/\{n\}\s+${N}\n`),
    new RegExp(String.raw`PUT /nodes/\{id\}/cordon/\{label\}\s+${N}\n`),
    new RegExp(String.raw`couchestor_move_cordon_window_seconds: 3 windows, mean ${N} ms`),
    /2 moves at once sharing one CordonLock/,
    new RegExp(String.raw`lock wait per acquire\s+${QUANTILES}`),
    /cordon spans of different moves overlapping: 0\n/,
  ];
  for (const re of expect) assert.match(out, re);
});

Deno.test("move bench: a malformed count is refused, naming the flag", async () => {
  const r = await bench(["--moves", "two"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--moves \(or MOVE_BENCH_MOVES\): expected a whole number ≥ 1, got "two"/);
});
