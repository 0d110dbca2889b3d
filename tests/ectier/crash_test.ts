/**
 * Crash safety of the EC tier in process: the operator "dies" (its operation stops right after
 * a state was persisted, its controller and cache are torn down) at each phase of an EC move and
 * of a rehydration; a fresh operator resumes from the PV annotation and finishes or rolls back
 * with no data lost (hashes compared).
 */
import assert from "node:assert/strict";
import { type EcTierPhase, type EcTierState } from "../../src/ectier/state.ts";
import { pvEcTierStore } from "../../src/ectier/store.ts";
import { type Env, PV_NAME, sha256, startEnv, VOLUME_BYTES } from "./helpers.ts";

class Crash extends Error {}

/** Builds an operator that crashes the first time a state of `kind` reaches `phase`. */
async function crashingOperator(env: Env, kind: EcTierState["kind"], phase: EcTierPhase) {
  let crashed = false;
  const op = await env.operator({
    afterSave: (s) => {
      if (!crashed && s.kind === kind && s.phase === phase) {
        crashed = true;
        throw new Crash(`crash in ${phase}`);
      }
    },
  });
  return { op, crashed: () => crashed };
}

async function moveToEc(env: Env) {
  const op = await env.operator();
  const r = await op.archive();
  assert.equal(r.started, true);
  await op.runner.idle();
  assert.equal(op.runner.state(PV_NAME)?.phase, "Done");
  await op.stop();
}

/** The operator stayed down past the operation's deadline. */
async function expire(env: Env) {
  const store = pvEcTierStore(env.client);
  const s = (await store.load(PV_NAME))!;
  await store.save({ ...s, deadline: s.startedAt });
}

const MOVE_PHASES: EcTierPhase[] = [
  "Planned",
  "Writing",
  "Written",
  "Recorded",
  "Verified",
  "Retiring",
];

for (const phase of MOVE_PHASES) {
  Deno.test(`ec move: crash after persisting ${phase}; restart finishes with exact data`, async () => {
    await using env = await startEnv();
    const original = env.sim.originalHash(env.volumeUuid)!;
    const { op, crashed } = await crashingOperator(env, "ec-move", phase);
    await op.archive();
    await op.runner.idle();
    assert.ok(crashed());
    assert.ok(op.runner.errors[0]?.error instanceof Crash);
    await op.stop();

    const op2 = await env.operator();
    try {
      const r = await op2.runner.resume();
      assert.equal(r.resumed, 1);
      await op2.runner.idle();
      const s = op2.runner.state(PV_NAME)!;
      assert.equal(s.phase, "Done", s.error ?? "");
      assert.equal(env.sim.cluster.volumes.get(env.volumeUuid)!.replicas.size, 0);
      assert.equal(await sha256(await op2.reader.read(PV_NAME, 0, VOLUME_BYTES)), original);
    } finally {
      await op2.stop();
    }
  });
}

Deno.test("ec move: crash after Recorded and past the timeout; restart rolls back, replicas untouched", async () => {
  await using env = await startEnv();
  const original = env.sim.originalHash(env.volumeUuid)!;
  const { op } = await crashingOperator(env, "ec-move", "Recorded");
  const replicasBefore = await env.sim.replicaHashes(env.volumeUuid);
  await op.archive();
  await op.runner.idle();
  const storeDir = op.runner.state(PV_NAME)!.storeDir;
  await op.stop();
  await expire(env);

  const op2 = await env.operator();
  try {
    await op2.runner.resume();
    await op2.runner.idle();
    assert.equal(op2.runner.state(PV_NAME), undefined, "a rolled back move is forgotten");
    assert.equal(op2.runner.bindings().length, 0);
    assert.deepEqual(await env.sim.replicaHashes(env.volumeUuid), replicasBefore);
    assert.deepEqual(Object.values(replicasBefore), [original]);
    await assert.rejects(Deno.stat(storeDir), Deno.errors.NotFound);
  } finally {
    await op2.stop();
  }
});

const REHYDRATE_PHASES: EcTierPhase[] = [
  "Planned",
  "Creating",
  "ReplicasCreated",
  "ReplicasWritten",
  "ReplicasVerified",
  "DeletingStripes",
];

for (const phase of REHYDRATE_PHASES) {
  Deno.test(`rehydration: crash after persisting ${phase}; restart finishes, same hash`, async () => {
    await using env = await startEnv();
    const original = env.sim.originalHash(env.volumeUuid)!;
    await moveToEc(env);
    const { op, crashed } = await crashingOperator(env, "rehydrate", phase);
    await op.runner.resume();
    const r = await op.restore("hot");
    assert.equal(r.started, true);
    await op.runner.idle();
    assert.ok(crashed());
    await op.stop();

    const op2 = await env.operator();
    try {
      await op2.runner.resume();
      await op2.runner.idle();
      assert.equal(op2.runner.state(PV_NAME), undefined);
      const hashes = await env.sim.replicaHashes(env.volumeUuid);
      assert.deepEqual(Object.values(hashes), [original]);
      const v = env.sim.cluster.volumes.get(env.volumeUuid)!;
      assert.equal(env.sim.cluster.replicas.get([...v.replicas][0])!.pool, "hot-1");
    } finally {
      await op2.stop();
    }
  });
}

Deno.test("rehydration: timed out before verification rolls back; the volume stays EC-tiered", async () => {
  await using env = await startEnv();
  const original = env.sim.originalHash(env.volumeUuid)!;
  await moveToEc(env);
  const { op } = await crashingOperator(env, "rehydrate", "ReplicasCreated");
  await op.runner.resume();
  await op.restore("hot");
  await op.runner.idle();
  await op.stop();
  await expire(env);

  const op2 = await env.operator();
  try {
    await op2.runner.resume();
    await op2.runner.idle();
    const s = op2.runner.state(PV_NAME)!;
    assert.equal(s.phase, "RolledBack");
    assert.equal(op2.runner.isEcTiered(PV_NAME), true);
    assert.equal(env.sim.cluster.volumes.get(env.volumeUuid)!.replicas.size, 0);
    assert.equal(await sha256(await op2.reader.read(PV_NAME, 0, VOLUME_BYTES)), original);
    // A later heat-up still works.
    assert.equal((await op2.restore("hot")).started, true);
    await op2.runner.idle();
    assert.deepEqual(Object.values(await env.sim.replicaHashes(env.volumeUuid)), [original]);
  } finally {
    await op2.stop();
  }
});
