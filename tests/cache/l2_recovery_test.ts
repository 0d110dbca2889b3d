import assert from "node:assert/strict";
import { FILE_HEADER_BYTES, L2Cache } from "../../src/cache/l2.ts";
import { writerOp } from "./fixtures/l2_ops.ts";

const REGION = 256 * 1024;
const SIZE = FILE_HEADER_BYTES + 64 * REGION; // 16 MiB: room for every op, no region reuse
const WRITER = new URL("./fixtures/l2_writer.ts", import.meta.url).pathname;

/** Runs the writer, SIGKILLs it after `killAfter` acks, returns the number of acked ops. */
async function writeAndKill(path: string, seed: number, killAfter: number): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WRITER, path, String(SIZE), String(REGION), String(seed), "100000"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const dec = new TextDecoder();
  let text = "";
  let killed = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value, { stream: true });
    if (!killed && (text.match(/^ACK /gm)?.length ?? 0) >= killAfter) {
      child.kill("SIGKILL");
      killed = true;
    }
  }
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL", "writer was killed, not finished");
  // Every complete ACK line counts, including those printed after we decided to kill.
  const acks = [...text.matchAll(/^ACK (\d+)\n/gm)].map((m) => Number(m[1]));
  acks.forEach((n, i) => assert.equal(n, i));
  return acks.length;
}

for (const [seed, killAfter] of [[11, 40], [12, 300], [13, 900]]) {
  Deno.test(`L2 recovery after SIGKILL (seed ${seed}): every acknowledged entry reads back exactly`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "l2rec-" });
    try {
      const path = `${dir}/l2.bin`;
      const acked = await writeAndKill(path, seed, killAfter);
      assert.ok(acked >= killAfter);
      // Expected state after the acked prefix; the op in flight (index `acked`) may or may not have landed.
      const model = new Map<string, Uint8Array | undefined>();
      for (let i = 0; i < acked; i++) {
        const op = writerOp(seed, i);
        model.set(op.key, op.kind === "put" ? op.value : undefined);
      }
      const inflight = writerOp(seed, acked);
      const c = L2Cache.open({ path, sizeBytes: SIZE, regionBytes: REGION });
      try {
        for (const [key, want] of model) {
          const got = c.get(key);
          if (key === inflight.key) {
            const alt = inflight.kind === "put" ? inflight.value : undefined;
            assert.ok(
              eq(got, want) || eq(got, alt),
              `${key}: neither the acked nor the in-flight value`,
            );
          } else assert.deepEqual(got, want, key);
        }
        for (const key of c.keys()) {
          assert.ok(model.has(key) || key === inflight.key, `unexpected ${key}`);
        }
      } finally {
        c.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

function eq(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
