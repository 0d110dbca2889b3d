/**
 * The pure EC tier machine: the happy paths of both kinds, rollbacks, the codec, and safety
 * properties over random observation sequences: replicas are never released before every
 * stripe was verified (matching hashes, no damaged shard), stripes are never deleted once the
 * release was issued, and a rehydration deletes stripes only after its replicas were verified
 * by hash and seen healthy, and never removes a replica it did not create.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { chooseEcTier } from "../../src/tiering/ec_route.ts";
import { chooseShardPools } from "../../src/ectier/decide.ts";
import {
  decodeEcTierState,
  type EcTierState,
  encodeEcTierState,
  planEcMove,
  planRehydration,
} from "../../src/ectier/state.ts";
import {
  type EcAction,
  type EcObservation,
  ecStep,
  type EcStepResult,
} from "../../src/ectier/step.ts";
import type { Pool, Volume } from "../../src/model/storage.ts";

const CFG = { pollMs: 100, preservation: false };
const SHA = "a".repeat(64);

function move(now = 1000): EcTierState {
  return planEcMove({
    id: "m1",
    policy: "p",
    ecPolicy: "ec",
    volume: "pv",
    volumeUuid: "u",
    sizeBytes: 4096,
    from: "cold",
    storeDir: "/s/pv",
    shardPools: ["c1", "c2", "c3"],
    blockSize: 1024,
    triggerIOPS: 0,
    now,
    timeoutMs: 60_000,
  });
}

function vol(replicas: { uuid: string; pool: string; state?: "Online" | "Faulted" }[]): Volume {
  return {
    uuid: "u",
    sizeBytes: 4096,
    replicaCount: 1,
    status: "Online",
    replicas: replicas.map((r) => ({ node: "n", state: r.state ?? "Online", ...r })),
  };
}

Deno.test("ec move: Planned → … → Done, releasing exactly the replicas it copied", () => {
  let s = move();
  const v = vol([{ uuid: "r1", pool: "cold-a" }]);
  let r = ecStep(s, { kind: "volume", volume: v }, 1001, CFG);
  assert.equal(r.state.phase, "Writing");
  assert.deepEqual(r.action, { kind: "writeStripes" });
  s = r.state;
  r = ecStep(
    s,
    { kind: "stripesWritten", sha256: SHA, logicalBytes: 4096, storedBytes: 6144 },
    1002,
    CFG,
  );
  assert.equal(r.state.phase, "Written");
  assert.deepEqual(r.action, { kind: "recordStripes" });
  r = ecStep(r.state, { kind: "recorded" }, 1003, CFG);
  assert.deepEqual(r.action, { kind: "verifyStripes" });
  r = ecStep(
    r.state,
    { kind: "verified", ecSha256: SHA, replicaSha256: SHA, problems: 0 },
    1004,
    CFG,
  );
  assert.equal(r.state.phase, "Verified");
  r = ecStep(r.state, { kind: "volume", volume: v }, 1005, CFG);
  assert.equal(r.state.phase, "Retiring");
  assert.deepEqual(r.action, { kind: "releaseReplicas", replicas: ["r1"] });
  r = ecStep(r.state, { kind: "replicasReleased" }, 1006, CFG);
  r = ecStep(r.state, { kind: "volume", volume: vol([]) }, 1007, CFG);
  assert.equal(r.state.phase, "Done");
  assert.equal(r.state.result, "Succeeded");
});

Deno.test("ec move: bad verification, preservation mode and timeouts roll back to deleteStripes", () => {
  const written = {
    ...move(),
    phase: "Recorded" as const,
    sourceSha256: SHA,
    replicas: ["r1"],
  };
  for (
    const obs of [
      { kind: "verified", ecSha256: "b", replicaSha256: SHA, problems: 0 },
      { kind: "verified", ecSha256: SHA, replicaSha256: "c", problems: 0 },
      { kind: "verified", ecSha256: SHA, replicaSha256: SHA, problems: 1 },
    ] as EcObservation[]
  ) {
    const r = ecStep(written, obs, 1001, CFG);
    assert.equal(r.state.phase, "RollingBack");
    const r2 = ecStep(
      r.state,
      { kind: "volume", volume: vol([{ uuid: "r1", pool: "x" }]) },
      1002,
      CFG,
    );
    assert.deepEqual(r2.action, { kind: "deleteStripes" });
    const r3 = ecStep(r2.state, { kind: "stripesDeleted" }, 1003, CFG);
    assert.equal(r3.state.phase, "RolledBack");
  }
  const verified = { ...written, phase: "Verified" as const, verifiedSha256: SHA };
  const p = ecStep(verified, { kind: "volume", volume: vol([{ uuid: "r1", pool: "x" }]) }, 1001, {
    ...CFG,
    preservation: true,
  });
  assert.equal(p.state.phase, "RollingBack");
  const t = ecStep(written, { kind: "resume" }, written.deadline, CFG);
  assert.equal(t.state.phase, "RollingBack");
  assert.match(t.state.error!, /timed out/);
  // Verified is past the point of no timeout; Retiring is never rolled back.
  assert.equal(
    ecStep(verified, { kind: "resume" }, verified.deadline + 1, CFG).state.phase,
    "Verified",
  );
  const retiring = { ...verified, phase: "Retiring" as const };
  const f = ecStep(
    retiring,
    {
      kind: "actionFailed",
      action: "releaseReplicas",
      error: "x",
      retryable: false,
    },
    retiring.deadline + 1,
    CFG,
  );
  assert.equal(f.state.phase, "Retiring");
});

Deno.test("rehydration: creates, writes, verifies, re-checks health, then deletes stripes", () => {
  const tiered: EcTierState = { ...move(), phase: "Done", result: "Succeeded", sourceSha256: SHA };
  let s = planRehydration(tiered, {
    id: "h1",
    to: "hot",
    targetPools: ["hot-1"],
    triggerIOPS: 9000,
    now: 2000,
    timeoutMs: 60_000,
  });
  let r = ecStep(s, { kind: "volume", volume: vol([]) }, 2001, CFG);
  assert.deepEqual(r.action, { kind: "createReplicas", pools: ["hot-1"] });
  r = ecStep(r.state, { kind: "replicasCreated", replicas: ["n1"] }, 2002, CFG);
  const withNew = vol([{ uuid: "n1", pool: "hot-1" }]);
  r = ecStep(r.state, { kind: "volume", volume: withNew }, 2003, CFG);
  assert.equal(r.state.phase, "ReplicasCreated");
  assert.deepEqual(r.action, { kind: "writeReplicas", replicas: ["n1"] });
  r = ecStep(r.state, { kind: "replicasWritten", sha256: SHA }, 2004, CFG);
  r = ecStep(r.state, { kind: "volume", volume: withNew }, 2005, CFG);
  assert.deepEqual(r.action, { kind: "verifyReplicas", replicas: ["n1"] });
  r = ecStep(r.state, { kind: "replicasVerified", hashes: { n1: SHA } }, 2006, CFG);
  assert.equal(r.state.phase, "ReplicasVerified");
  // A replica that faults now rolls back instead of deleting the stripes.
  const bad = ecStep(
    r.state,
    {
      kind: "volume",
      volume: vol([{ uuid: "n1", pool: "hot-1", state: "Faulted" }]),
    },
    2007,
    CFG,
  );
  assert.equal(bad.state.phase, "RollingBack");
  s = r.state;
  r = ecStep(s, { kind: "volume", volume: withNew }, 2007, CFG);
  assert.deepEqual(r.action, { kind: "deleteStripes" });
  r = ecStep(r.state, { kind: "stripesDeleted" }, 2008, CFG);
  assert.equal(r.state.phase, "Done");
});

Deno.test("codec round trip and readable errors", () => {
  const s = move();
  const back = decodeEcTierState(encodeEcTierState(s));
  assert.ok(back.ok);
  assert.deepEqual(back.ok && back.state, s);
  const bad = decodeEcTierState('{"version":1}');
  assert.ok(!bad.ok && /not an ec tier state/.test(bad.error));
});

Deno.test("chooseEcTier and chooseShardPools", () => {
  const spec = { ecPolicyRef: "ec", ecMinVolumeSizeBytes: 100, preservationMode: false };
  assert.deepEqual(chooseEcTier(spec, "cold", 100), { ec: true, ecPolicy: "ec" });
  assert.equal((chooseEcTier(spec, "warm", 100) as { reason: string }).reason, "NotCold");
  assert.equal((chooseEcTier(spec, "cold", 99) as { reason: string }).reason, "BelowMinSize");
  assert.equal(
    (chooseEcTier({ ...spec, ecPolicyRef: undefined }, "cold", 100) as { reason: string }).reason,
    "NoEcPolicy",
  );
  assert.equal(
    (chooseEcTier({ ...spec, preservationMode: true }, "cold", 100) as { reason: string }).reason,
    "PreservationMode",
  );
  const pool = (id: string, node: string, zone: string, free: number): Pool => ({
    id,
    node,
    status: "Online",
    capacityBytes: 1000,
    usedBytes: 1000 - free,
    labels: { "openebs.io/tier": "cold", zone },
  });
  const pools = [pool("a", "n1", "z1", 10), pool("b", "n2", "z1", 50), pool("c", "n3", "z2", 5)];
  const sel = new Map(pools.map((p) => [p.id, "cold" as const]));
  assert.deepEqual(chooseShardPools(pools, sel, "zone", 2), { ok: true, pools: ["b", "c"] });
  assert.deepEqual(chooseShardPools(pools, sel, "kubernetes.io/hostname", 3), {
    ok: true,
    pools: ["b", "a", "c"],
  });
  const no = chooseShardPools(pools, sel, "zone", 3);
  assert.ok(!no.ok && /needs 3 .* \(zone\), found 2/.test(no.message));
});

const arbObs = (replicaIds: string[]): fc.Arbitrary<EcObservation> => {
  const arbVol = fc.option(
    fc.subarray(replicaIds).chain((ids) =>
      fc.tuple(...ids.map(() => fc.constantFrom<"Online" | "Faulted">("Online", "Faulted")))
        .map((states) =>
          vol(
            ids.map((uuid, i) => ({
              uuid,
              pool: uuid.startsWith("n") ? "hot-1" : "cold-a",
              state: states[i],
            })),
          )
        )
    ),
    { nil: undefined },
  );
  const sha = fc.constantFrom(SHA, "b".repeat(64));
  return fc.oneof(
    fc.constant({ kind: "resume" } as EcObservation),
    arbVol.map((volume) => ({ kind: "volume", volume }) as EcObservation),
    fc.constant({ kind: "unavailable", error: "x" } as EcObservation),
    sha.map((s) =>
      ({ kind: "stripesWritten", sha256: s, logicalBytes: 1, storedBytes: 2 }) as EcObservation
    ),
    fc.constant({ kind: "recorded" } as EcObservation),
    fc.record({ e: sha, r: sha, p: fc.nat(2) }).map((x) =>
      ({ kind: "verified", ecSha256: x.e, replicaSha256: x.r, problems: x.p }) as EcObservation
    ),
    fc.constant({ kind: "replicasReleased" } as EcObservation),
    fc.constant({ kind: "stripesDeleted" } as EcObservation),
    fc.subarray(["n1", "n2"]).map((r) =>
      ({ kind: "replicasCreated", replicas: r }) as EcObservation
    ),
    sha.map((s) => ({ kind: "replicasWritten", sha256: s }) as EcObservation),
    fc.record({ n1: sha, n2: sha }).map((h) =>
      ({ kind: "replicasVerified", hashes: h }) as EcObservation
    ),
    fc.constant({ kind: "replicasRemoved" } as EcObservation),
    fc.record({
      action: fc.constantFrom(
        "writeStripes",
        "verifyStripes",
        "releaseReplicas",
        "deleteStripes",
        "createReplicas",
        "writeReplicas",
        "removeReplicas",
      ),
      retryable: fc.boolean(),
    }).map((f) => ({ kind: "actionFailed", error: "e", ...f }) as EcObservation),
  );
};

/** Knobs of one step: answer the last action (mostly) or inject a random observation. */
interface Knobs {
  respond: boolean;
  noise: EcObservation;
  good: boolean;
  fail: boolean;
  retryable: boolean;
  dt: number;
}

const arbKnobs = (ids: string[]): fc.Arbitrary<Knobs> =>
  fc.record({
    respond: fc.nat(4).map((n) => n > 0),
    noise: arbObs(ids),
    good: fc.nat(5).map((n) => n > 0),
    fail: fc.nat(9).map((n) => n === 0),
    retryable: fc.boolean(),
    dt: fc.nat(3_000),
  });

/** What a real executor could answer to `a` (a success, a wrong result or a failure). */
function answer(a: EcAction, k: Knobs, s: EcTierState, replicas: string[]): EcObservation {
  const sha = k.good ? SHA : "b".repeat(64);
  if (k.fail && a.kind !== "observe" && a.kind !== "none") {
    return { kind: "actionFailed", action: a.kind, error: "boom", retryable: k.retryable };
  }
  switch (a.kind) {
    case "writeStripes":
      return { kind: "stripesWritten", sha256: SHA, logicalBytes: 1, storedBytes: 2 };
    case "recordStripes":
      return { kind: "recorded" };
    case "verifyStripes":
      return { kind: "verified", ecSha256: sha, replicaSha256: SHA, problems: k.good ? 0 : 1 };
    case "releaseReplicas":
      return { kind: "replicasReleased" };
    case "deleteStripes":
      return { kind: "stripesDeleted" };
    case "createReplicas":
      return { kind: "replicasCreated", replicas: a.pools.map((_, i) => `n${i + 1}`) };
    case "writeReplicas":
      return { kind: "replicasWritten", sha256: sha };
    case "verifyReplicas":
      return {
        kind: "replicasVerified",
        hashes: Object.fromEntries(a.replicas.map((r) => [r, sha])),
      };
    case "removeReplicas":
      return { kind: "replicasRemoved" };
    default: {
      // The volume as it would look: its replicas (all gone once released), ours on hot-1.
      const ids = s.kind === "ec-move"
        ? (s.phase === "Retiring" ? [] : replicas)
        : [...s.replicasBefore, ...s.newReplicas];
      return {
        kind: "volume",
        volume: vol(ids.map((uuid) => ({
          uuid,
          pool: uuid.startsWith("n") ? "hot-1" : "cold-a",
          state: k.good ? "Online" : "Faulted",
        }))),
      };
    }
  }
}

Deno.test("property: an EC move releases replicas only after a clean verification, never deletes stripes after", () => {
  let releases = 0;
  fc.assert(
    fc.property(
      fc.array(arbKnobs(["r1", "r2"]), { maxLength: 40 }),
      fc.nat(9).map((n) => n === 0),
      (steps, preservation) => {
        let s = move(0);
        let action: EcAction = { kind: "observe", delayMs: 0 };
        let cleanVerification = false;
        let releaseIssued = false;
        let now = 0;
        for (const k of steps) {
          now += k.dt;
          const obs: EcObservation = k.respond ? answer(action, k, s, ["r1"]) : k.noise;
          if (
            obs.kind === "verified" && s.phase === "Recorded" && obs.problems === 0 &&
            obs.ecSha256 === s.sourceSha256 && obs.replicaSha256 === s.sourceSha256
          ) cleanVerification = true;
          const r: EcStepResult = ecStep(s, obs, now, { pollMs: 10, preservation });
          if (r.action.kind === "releaseReplicas") {
            assert.ok(cleanVerification, "released before a clean verification");
            assert.ok(!preservation, "released in preservation mode");
            assert.equal(r.state.verifiedSha256, r.state.sourceSha256);
            if (!releaseIssued) releases++;
            releaseIssued = true;
          }
          if (r.action.kind === "deleteStripes") {
            assert.ok(!releaseIssued, "stripes deleted after release");
          }
          if (releaseIssued) assert.ok(r.state.phase === "Retiring" || r.state.phase === "Done");
          s = r.state;
          action = r.action;
        }
      },
    ),
    { numRuns: 1000 },
  );
  // The property is not vacuous: many runs get as far as releasing the replicas.
  assert.ok(releases > 50, `only ${releases} runs released replicas`);
});

Deno.test("property: a rehydration deletes stripes only after hash verification and a healthy look", () => {
  const tiered: EcTierState = { ...move(0), phase: "Done", result: "Succeeded", sourceSha256: SHA };
  let deletions = 0;
  fc.assert(
    fc.property(
      fc.array(arbKnobs(["r0", "n1", "n2"]), { minLength: 10, maxLength: 60 }),
      (steps) => {
        let s = planRehydration(tiered, {
          id: "h",
          to: "hot",
          targetPools: ["hot-1"],
          triggerIOPS: 0,
          now: 0,
          timeoutMs: 60_000,
        });
        let action: EcAction = { kind: "observe", delayMs: 0 };
        let verified = false;
        let now = 0;
        let deleting = false;
        for (const k of steps) {
          now += k.dt;
          const obs: EcObservation = k.respond ? answer(action, k, s, []) : k.noise;
          if (
            obs.kind === "replicasVerified" && s.phase === "ReplicasWritten" &&
            s.newReplicas.length > 0 && s.newReplicas.every((r) => obs.hashes[r] === SHA)
          ) verified = true;
          const r: EcStepResult = ecStep(s, obs, now, CFG);
          if (r.action.kind === "deleteStripes") {
            assert.ok(verified, "stripes deleted before the replicas were verified");
            if (!deleting) {
              assert.equal(obs.kind, "volume");
              const v: Volume = (obs as { volume?: Volume }).volume!;
              for (const id of s.newReplicas) {
                assert.equal(v.replicas.find((x) => x.uuid === id)?.state, "Online");
              }
              deletions++;
            }
            deleting = true;
          }
          if (r.action.kind === "removeReplicas") {
            assert.ok(!deleting);
            for (const id of r.action.replicas) assert.ok(!s.replicasBefore.includes(id));
          }
          s = r.state;
          action = r.action;
        }
      },
    ),
    { numRuns: 1000 },
  );
  assert.ok(deletions > 100, `only ${deletions} runs deleted stripes`);
});
