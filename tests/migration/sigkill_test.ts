/**
 * Crash safety with real processes: an operator process is SIGKILLed right after it persisted
 * each phase of a move; a second process resumes from the FileMoveStore and the move
 * completes with exactly one replica added, the old one retired, and the bytes intact.
 */
import assert from "node:assert/strict";
import { FileMoveStore, planMove } from "../../src/migration/mod.ts";
import { harness } from "../mayastor/harness.ts";

const CHILD = new URL("./fixtures/move_process.ts", import.meta.url).pathname;

/** Starts the child; resolves its stdout lines as they come and its exit. */
function spawn(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const reading = (async () => {
    const dec = new TextDecoderStream();
    let buf = "";
    for await (const chunk of child.stdout.pipeThrough(dec)) {
      buf += chunk;
      const parts = buf.split("\n");
      buf = parts.pop() ?? "";
      lines.push(...parts);
    }
  })();
  const stderr = new Response(child.stderr).text();
  return { child, lines, reading, stderr };
}

for (const phase of ["Planned", "ReplicaAdded", "Rebuilding", "Verified", "OldReplicaRetired"]) {
  Deno.test(`SIGKILL right after persisting ${phase}; a new process finishes the move`, async () => {
    const h = await harness({ volume: { pools: ["cold-1"] } });
    const dir = await Deno.makeTempDir({ prefix: "couchestor-kill-" });
    let stop = false;
    // The simulator's rebuilds run on its manual clock: keep it moving while children run.
    const ticking = (async () => {
      while (!stop) {
        await h.clock.advance(250);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      const v = (await h.backend.getVolume(h.volume))!;
      const old = v.replicas[0].uuid;
      await new FileMoveStore(dir).save(planMove({
        id: "m",
        policy: "p",
        volume: "pv-kill",
        volumeUuid: h.volume,
        from: "cold",
        to: "hot",
        oldReplica: old,
        oldPool: "cold-1",
        targetPool: "hot-1",
        replicas: [old],
        replicaCount: 1,
        triggerIOPS: 1,
        // Far future deadline: children run on the wall clock.
        now: Date.now(),
        timeoutMs: 3_600_000,
        dryRun: false,
        preservation: false,
      }));
      const first = spawn([h.sim.url, dir, "pv-kill", "--pause-after", phase]);
      const deadline = Date.now() + 30_000;
      while (!first.lines.includes(`SAVED ${phase}`)) {
        if (Date.now() > deadline) throw new Error(`never saved ${phase}: ${first.lines}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      first.child.kill("SIGKILL");
      const st = await first.child.status;
      assert.equal(st.signal, "SIGKILL");
      await first.reading;
      await first.stderr;

      const persisted = await new FileMoveStore(dir).load("pv-kill");
      assert.equal(persisted?.phase, phase);
      const second = spawn([h.sim.url, dir, "pv-kill"]);
      const status = await second.child.status;
      await second.reading;
      const err = await second.stderr;
      assert.ok(status.success, err);
      assert.equal(second.lines.at(-1), "END Done Succeeded");
      const after = (await h.backend.getVolume(h.volume))!;
      assert.deepEqual(after.replicas.map((r) => r.pool), ["hot-1"]);
      // Exactly one replica was ever added: the sim has no stray replica on any pool.
      assert.equal(h.sim.cluster.replicas.size, 1);
      const hashes = Object.values(await h.sim.replicaHashes(h.volume));
      assert.deepEqual(hashes, [h.sim.originalHash(h.volume)]);
    } finally {
      stop = true;
      await ticking;
      await h.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
