import assert from "node:assert/strict";
import {
  decodeResult,
  ecMoverArgs,
  encodeResult,
  parseEcMoverSpec,
  TERMINATION_MESSAGE_MAX_BYTES,
} from "../../src/ectier/job_protocol.ts";

Deno.test("job protocol: a task's command line round-trips; a bad one names the field", () => {
  const spec = {
    op: "archive" as const,
    storeId: "s-1",
    object: "pv-a",
    shards: ["/dev/shard-0", "/dev/shard-1", "/dev/shard-2"],
    source: "/dev/source",
    sizeBytes: 1 << 20,
    code: { algorithm: "ReedSolomon" as const, k: 2, m: 1 },
    stripeSizeBytes: 65536,
    blockSize: 4096,
  };
  const args = ecMoverArgs(spec);
  assert.deepEqual(args.slice(0, 3), ["ec-mover", "archive", "--spec"]);
  const back = parseEcMoverSpec("archive", args[3]);
  assert.ok(back.ok);
  assert.deepEqual(back.spec, spec);
  const wrongOp = parseEcMoverSpec("restore", args[3]);
  assert.match(wrongOp.ok ? "" : wrongOp.error, /archive task, not restore/);
  const bad = parseEcMoverSpec("archive", JSON.stringify({ ...spec, blockSize: 12 }));
  assert.match(bad.ok ? "" : bad.error, /blockSize/);
  assert.match((parseEcMoverSpec("archive", "{") as { error: string }).error, /not JSON/);
});

Deno.test("job protocol: results fit the kubelet's 4096-byte termination message", () => {
  const long = encodeResult({
    ok: false,
    op: "restore",
    stage: "verify",
    error: "x".repeat(2000),
    untouched: false,
  });
  assert.ok(new TextEncoder().encode(long).length <= TERMINATION_MESSAGE_MAX_BYTES);
  const ok = encodeResult({
    ok: true,
    op: "archive",
    bytes: 10,
    stripes: 1,
    sha256: "a".repeat(64),
    repairedShards: 0,
    shardsRead: 0,
    problems: Array.from({ length: 10 }, () => "p".repeat(200)),
  });
  const r = decodeResult(ok);
  assert.ok(r.ok && r.result.ok && r.result.problems.length > 0);
  assert.match((decodeResult('{"ok":1}') as { error: string }).error, /not an ec-mover result/);
});
