/**
 * Crash safety with a real process: an operator child is SIGKILLed right after it persisted a
 * phase of an EC move (while the stripes are being verified) and of a rehydration (after the
 * new replica was written); a fresh operator resumes from the PV annotation and finishes with
 * the volume's bytes intact.
 */
import assert from "node:assert/strict";
import { PV_NAME, sha256, startEnv, VOLUME_BYTES } from "./helpers.ts";
import type { Env } from "./helpers.ts";

const CHILD = new URL("./fixtures/operator_process.ts", import.meta.url).pathname;

/** Runs the child until it reports the phase, then SIGKILLs it. */
async function killAt(env: Env, kind: string, phase: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CHILD,
      env.sb.httpUrl,
      env.sb.token,
      env.sim.url,
      env.sim.adminUrl,
      env.dir,
      kind,
      phase,
      env.volumeUuid,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let seen = "";
  let killed = false;
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    seen += chunk;
    if (seen.includes("READY-TO-DIE")) {
      child.kill("SIGKILL");
      killed = true;
      break;
    }
  }
  const status = await child.status;
  assert.ok(killed, `child never reached ${phase}: ${seen}\n${await stderr}`);
  assert.equal(status.signal, "SIGKILL");
  await child.stdout.cancel().catch(() => {});
}

Deno.test("SIGKILL of the operator during an EC move and during a rehydration: restart finishes", async () => {
  await using env = await startEnv();
  const original = env.sim.originalHash(env.volumeUuid)!;

  await killAt(env, "ec-move", "Recorded");
  let op = await env.operator();
  try {
    assert.equal((await op.runner.resume()).resumed, 1);
    await op.runner.idle();
    assert.equal(op.runner.state(PV_NAME)?.phase, "Done");
    assert.equal(env.sim.cluster.volumes.get(env.volumeUuid)!.replicas.size, 0);
    assert.equal(await sha256(await op.reader.read(PV_NAME, 0, VOLUME_BYTES)), original);
  } finally {
    await op.stop();
  }

  await killAt(env, "rehydrate", "ReplicasWritten");
  op = await env.operator();
  try {
    assert.equal((await op.runner.resume()).resumed, 1);
    await op.runner.idle();
    assert.equal(op.runner.state(PV_NAME), undefined);
    assert.deepEqual(Object.values(await env.sim.replicaHashes(env.volumeUuid)), [original]);
  } finally {
    await op.stop();
  }
});
