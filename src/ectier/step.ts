/**
 * The pure transition function of EC tier operations: given the persisted state, what was just
 * observed and the time, the next state and the one action to perform. No I/O.
 *
 * Safety rules it enforces (NFR-201):
 * - EC move: the volume's replicas are released only from Verified, i.e. after every stripe
 *   passed a verifying scrub and the content hash read back from the stripes equals the hash
 *   of the bytes written and of a replica read again; never in preservation mode. Once the
 *   release was issued (Retiring) it is only ever finished, never rolled back.
 * - EC move rollback deletes the stripes and never touches a replica.
 * - Rehydration: stripes are deleted only from ReplicasVerified, after every new replica was
 *   written, is Online and healthy on a fresh observation, and hashes to the stripes' content.
 *   Its rollback removes only the replicas it created (never one that was there before).
 */
import { isHealthyReplica } from "../model/health.ts";
import type { Volume } from "../model/storage.ts";
import { EC_TERMINAL, type EcTierState } from "./state.ts";

/** What the executor learnt since the last step. */
export type EcObservation =
  | { kind: "resume" }
  | { kind: "volume"; volume: Volume | undefined }
  | { kind: "unavailable"; error: string }
  | { kind: "stripesWritten"; sha256: string; logicalBytes: number; storedBytes: number }
  | { kind: "recorded" }
  | { kind: "verified"; ecSha256: string; replicaSha256: string; problems: number }
  | { kind: "replicasReleased" }
  | { kind: "stripesDeleted" }
  | { kind: "replicasCreated"; replicas: string[] }
  | { kind: "replicasWritten"; sha256: string }
  | { kind: "replicasVerified"; hashes: Record<string, string> }
  | { kind: "replicasRemoved" }
  | { kind: "actionFailed"; action: EcAction["kind"]; error: string; retryable: boolean };

/** The one thing the executor does next. */
export type EcAction =
  | { kind: "observe"; delayMs: number }
  /** Read the volume from a healthy replica and write it into the store (journal → stripes). */
  | { kind: "writeStripes" }
  /** Bind the store to the ErasureCodingPolicy controller and publish its ECStripes. */
  | { kind: "recordStripes" }
  /** Scrub every stripe (verify only) and hash the content read back and a replica's. */
  | { kind: "verifyStripes" }
  | { kind: "releaseReplicas"; replicas: string[] }
  /** Unbind the store, delete its ECStripes, its directory and its shard directories. */
  | { kind: "deleteStripes" }
  | { kind: "createReplicas"; pools: string[] }
  /** Write the content from the stripes (through the cache) into each new replica. */
  | { kind: "writeReplicas"; replicas: string[] }
  /** Read each new replica back and hash it. */
  | { kind: "verifyReplicas"; replicas: string[] }
  | { kind: "removeReplicas"; replicas: string[] }
  | { kind: "none" };

/** Tuning of the machine. */
export interface EcStepConfig {
  /** Delay between observations while waiting (transient errors, replicas coming up). */
  pollMs: number;
  /** True when the StoragePolicy runs in preservation mode (replicas are never retired). */
  preservation: boolean;
}

/** Result of one step. */
export interface EcStepResult {
  state: EcTierState;
  action: EcAction;
}

/** True when the phase is Done, RolledBack or Failed. */
export function isEcTerminal(s: EcTierState): boolean {
  return EC_TERMINAL.has(s.phase);
}

const MOVE_UNVERIFIED = new Set(["Planned", "Writing", "Written", "Recorded"]);
const REHYDRATE_UNVERIFIED = new Set([
  "Planned",
  "Creating",
  "ReplicasCreated",
  "ReplicasWritten",
]);

/** The replicas a rehydration created: recorded ones, plus strays on its target pools. */
export function ourReplicas(s: EcTierState, v: Volume | undefined): string[] {
  const out = new Set(s.newReplicas);
  if (v && s.phase !== "Planned") {
    const before = new Set(s.replicasBefore);
    for (const r of v.replicas) {
      if (s.targetPools.includes(r.pool) && !before.has(r.uuid)) out.add(r.uuid);
    }
  }
  return [...out];
}

/** One transition. Pure: same inputs, same outputs. */
export function ecStep(
  s: EcTierState,
  obs: EcObservation,
  now: number,
  cfg: EcStepConfig,
): EcStepResult {
  if (isEcTerminal(s)) return { state: s, action: { kind: "none" } };
  const to = (patch: Partial<EcTierState>, action: EcAction): EcStepResult => ({
    state: { ...s, ...patch, updatedAt: now },
    action,
  });
  const stay = (action: EcAction): EcStepResult => ({ state: s, action });
  const observe = (delayMs = 0): EcAction => ({ kind: "observe", delayMs });
  const finish = (
    phase: "Done" | "RolledBack" | "Failed",
    result: "Succeeded" | "RolledBack" | "Failed",
    error?: string,
  ) => to({ phase, result, finishedAt: now, ...(error ? { error } : {}) }, { kind: "none" });
  const rollBack = (error: string) => {
    if (s.phase === "Planned") return finish("RolledBack", "RolledBack", error);
    return to({ phase: "RollingBack", error }, observe());
  };

  const unverified = s.kind === "ec-move" ? MOVE_UNVERIFIED : REHYDRATE_UNVERIFIED;
  if (unverified.has(s.phase) && now >= s.deadline) {
    const secs = Math.round((now - s.startedAt) / 1000);
    // A creation that answered just now still gets its uuids recorded, so the rollback finds them.
    const created = obs.kind === "replicasCreated" ? obs.replicas : [];
    const error = `timed out after ${secs}s in ${s.phase}`;
    if (created.length > 0) {
      return to({
        phase: "RollingBack",
        error,
        newReplicas: [...new Set([...s.newReplicas, ...created])],
      }, observe());
    }
    return rollBack(error);
  }

  switch (obs.kind) {
    case "resume":
      return stay(observe());
    case "unavailable":
      return stay(observe(cfg.pollMs));
    case "actionFailed":
      return onFailed(s, obs, cfg, stay, rollBack);
    case "volume":
      return s.kind === "ec-move"
        ? onMoveVolume(s, obs.volume, cfg, to, stay, finish, rollBack)
        : onRehydrateVolume(s, obs.volume, cfg, to, stay, finish, rollBack);
    case "stripesWritten":
      if (s.kind !== "ec-move" || s.phase !== "Writing") return stay(observe());
      return to({
        phase: "Written",
        sourceSha256: obs.sha256,
        logicalBytes: obs.logicalBytes,
        storedBytes: obs.storedBytes,
      }, { kind: "recordStripes" });
    case "recorded":
      if (s.kind !== "ec-move" || s.phase !== "Written") return stay(observe());
      return to({ phase: "Recorded" }, { kind: "verifyStripes" });
    case "verified": {
      if (s.kind !== "ec-move" || s.phase !== "Recorded") return stay(observe());
      if (obs.problems > 0) return rollBack(`verification found ${obs.problems} damaged shards`);
      if (obs.ecSha256 !== s.sourceSha256) {
        return rollBack(`stripes read back as ${obs.ecSha256}, written ${s.sourceSha256}`);
      }
      if (obs.replicaSha256 !== s.sourceSha256) {
        return rollBack(`the volume changed while it was copied (${obs.replicaSha256})`);
      }
      return to({ phase: "Verified", verifiedSha256: obs.ecSha256 }, observe());
    }
    case "replicasReleased":
      return stay(observe());
    case "stripesDeleted":
      if (s.phase === "RollingBack" && s.kind === "ec-move") {
        return finish("RolledBack", "RolledBack", s.error);
      }
      if (s.phase === "DeletingStripes") return finish("Done", "Succeeded");
      return stay(observe());
    case "replicasCreated":
      if (s.kind !== "rehydrate" || s.phase !== "Creating") return stay(observe());
      return to({ newReplicas: [...new Set([...s.newReplicas, ...obs.replicas])] }, observe());
    case "replicasWritten":
      if (s.kind !== "rehydrate" || s.phase !== "ReplicasCreated") return stay(observe());
      if (obs.sha256 !== s.sourceSha256) {
        return rollBack(`stripes read back as ${obs.sha256}, expected ${s.sourceSha256}`);
      }
      return to({ phase: "ReplicasWritten" }, observe());
    case "replicasVerified": {
      if (s.kind !== "rehydrate" || s.phase !== "ReplicasWritten") return stay(observe());
      const bad = s.newReplicas.filter((r) => obs.hashes[r] !== s.sourceSha256);
      if (bad.length > 0 || s.newReplicas.length === 0) {
        return rollBack(`replicas ${bad.join(", ")} do not hash to ${s.sourceSha256}`);
      }
      return to({ phase: "ReplicasVerified" }, observe());
    }
    case "replicasRemoved":
      if (s.kind === "rehydrate" && s.phase === "RollingBack") {
        return finish("RolledBack", "RolledBack", s.error);
      }
      return stay(observe());
  }
}

type To = (patch: Partial<EcTierState>, action: EcAction) => EcStepResult;
type Stay = (action: EcAction) => EcStepResult;
type Finish = (
  phase: "Done" | "RolledBack" | "Failed",
  result: "Succeeded" | "RolledBack" | "Failed",
  error?: string,
) => EcStepResult;
type RollBack = (error: string) => EcStepResult;

function onFailed(
  s: EcTierState,
  obs: Extract<EcObservation, { kind: "actionFailed" }>,
  cfg: EcStepConfig,
  stay: Stay,
  rollBack: RollBack,
): EcStepResult {
  const wait: EcAction = { kind: "observe", delayMs: cfg.pollMs };
  // Cleanup and the one-way steps (release, final delete) are retried until they succeed, and
  // nothing rolls back once the copy was verified (a late failure report included).
  const unverified = s.kind === "ec-move" ? MOVE_UNVERIFIED : REHYDRATE_UNVERIFIED;
  const oneWay = ["releaseReplicas", "deleteStripes", "removeReplicas"];
  if (oneWay.includes(obs.action) || !unverified.has(s.phase)) return stay(wait);
  if (obs.retryable) return stay(wait);
  return rollBack(`${obs.action} failed: ${obs.error}`);
}

function onMoveVolume(
  s: EcTierState,
  v: Volume | undefined,
  cfg: EcStepConfig,
  to: To,
  stay: Stay,
  finish: Finish,
  rollBack: RollBack,
): EcStepResult {
  switch (s.phase) {
    case "Planned": {
      if (!v) return finish("Failed", "Failed", `volume ${s.volumeUuid} no longer exists`);
      if (!v.replicas.some((r) => isHealthyReplica(v, r))) {
        return finish("Failed", "Failed", `volume ${s.volumeUuid} has no healthy replica to copy`);
      }
      if (cfg.preservation) return finish("Failed", "Failed", "preservation mode keeps replicas");
      return to({ phase: "Writing", replicas: v.replicas.map((r) => r.uuid) }, {
        kind: "writeStripes",
      });
    }
    case "Writing":
      if (!v) return rollBack(`volume ${s.volumeUuid} no longer exists`);
      return stay({ kind: "writeStripes" });
    case "Written":
      return stay({ kind: "recordStripes" });
    case "Recorded":
      if (!v) return rollBack(`volume ${s.volumeUuid} no longer exists`);
      return stay({ kind: "verifyStripes" });
    case "Verified": {
      if (!v) return rollBack(`volume ${s.volumeUuid} no longer exists`);
      // Preservation mode (turned on after planning) never retires: the copy is dropped instead.
      if (cfg.preservation) return rollBack("preservation mode keeps replicas");
      const known = new Set(s.replicas);
      if (v.replicas.some((r) => !known.has(r.uuid))) {
        // A replica appeared since the copy: verify again against the volume as it is now.
        return to({ phase: "Recorded", replicas: v.replicas.map((r) => r.uuid) }, {
          kind: "verifyStripes",
        });
      }
      if (s.verifiedSha256 === undefined || s.verifiedSha256 !== s.sourceSha256) {
        return to({ phase: "Recorded" }, { kind: "verifyStripes" });
      }
      return to({ phase: "Retiring" }, { kind: "releaseReplicas", replicas: [...s.replicas] });
    }
    case "Retiring":
      if (!v || v.replicas.length === 0) return finish("Done", "Succeeded");
      return stay({ kind: "releaseReplicas", replicas: v.replicas.map((r) => r.uuid) });
    case "RollingBack":
      return stay({ kind: "deleteStripes" });
    default:
      return stay({ kind: "observe", delayMs: cfg.pollMs });
  }
}

function onRehydrateVolume(
  s: EcTierState,
  v: Volume | undefined,
  cfg: EcStepConfig,
  to: To,
  stay: Stay,
  finish: Finish,
  rollBack: RollBack,
): EcStepResult {
  const wait: EcAction = { kind: "observe", delayMs: cfg.pollMs };
  const ours = ourReplicas(s, v);
  switch (s.phase) {
    case "Planned":
      if (!v) return finish("Failed", "Failed", `volume ${s.volumeUuid} no longer exists`);
      if (s.targetPools.length === 0) return finish("Failed", "Failed", "no target pool");
      return to({ phase: "Creating", replicasBefore: v.replicas.map((r) => r.uuid) }, {
        kind: "createReplicas",
        pools: [...s.targetPools],
      });
    case "Creating": {
      if (!v) return rollBack(`volume ${s.volumeUuid} no longer exists`);
      const onPools = new Set(
        v.replicas.filter((r) => ours.includes(r.uuid)).map((r) => r.pool),
      );
      const missing = s.targetPools.filter((p) => !onPools.has(p));
      if (missing.length === 0) {
        return to({ phase: "ReplicasCreated", newReplicas: ours }, {
          kind: "writeReplicas",
          replicas: ours,
        });
      }
      return to({ newReplicas: ours }, { kind: "createReplicas", pools: missing });
    }
    case "ReplicasCreated":
      if (!v || s.newReplicas.some((r) => !v.replicas.some((x) => x.uuid === r))) {
        return rollBack("a new replica disappeared");
      }
      return stay({ kind: "writeReplicas", replicas: [...s.newReplicas] });
    case "ReplicasWritten":
    case "ReplicasVerified": {
      if (!v) return rollBack(`volume ${s.volumeUuid} no longer exists`);
      const mine = v.replicas.filter((r) => s.newReplicas.includes(r.uuid));
      if (mine.length < s.newReplicas.length) return rollBack("a new replica disappeared");
      if (mine.some((r) => r.state === "Faulted" || r.childState === "Faulted")) {
        return rollBack("a new replica faulted");
      }
      if (!mine.every((r) => isHealthyReplica(v, r))) {
        return s.phase === "ReplicasVerified" ? to({ phase: "ReplicasWritten" }, wait) : stay(wait);
      }
      if (s.phase === "ReplicasWritten") {
        return stay({ kind: "verifyReplicas", replicas: [...s.newReplicas] });
      }
      // Checked on this fresh observation, immediately before the stripes go.
      return to({ phase: "DeletingStripes" }, { kind: "deleteStripes" });
    }
    case "DeletingStripes":
      return stay({ kind: "deleteStripes" });
    case "RollingBack": {
      const before = new Set(s.replicasBefore);
      const remove = ours.filter((r) => !before.has(r));
      return stay({ kind: "removeReplicas", replicas: remove });
    }
    default:
      return stay(wait);
  }
}
