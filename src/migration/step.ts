/**
 * The pure transition function of a replica move: given the persisted state, what was just
 * observed and the time, the next state and the one action to perform. No I/O.
 *
 * Safety rules it enforces (NFR-201):
 * - the old replica is retired only after the new one is Online, rebuilt to 100%, and the
 *   volume is Online with at least its original count of healthy replicas besides the old one;
 *   this is re-checked on a fresh observation right before the retire;
 * - a rollback removes only the replica this move added (by uuid), and never when the old
 *   replica is no longer there or no other healthy replica remains (the new one may then be
 *   the only copy);
 * - a crash between "add issued" and "uuid recorded" is resolved by finding the replica on
 *   the target pool that was not there before, so a second new replica is never added;
 * - preservation mode ends Done with both replicas; dry-run ends Done without any action.
 */
import { isHealthyReplica } from "../model/health.ts";
import type { Replica, Volume } from "../model/storage.ts";
import { type MoveResult, type MoveState, TERMINAL_PHASES } from "./state.ts";

/** What the executor learnt since the last step. */
export type Observation =
  /** Nothing yet: a fresh start or a resume after a restart. */
  | { kind: "resume" }
  /** The volume as the backend reports it now (undefined: it no longer exists). */
  | { kind: "volume"; volume: Volume | undefined }
  /** The backend could not be asked. */
  | { kind: "unavailable"; error: string }
  /** addReplica returned this uuid. */
  | { kind: "replicaAdded"; replicaUuid: string }
  /** retireReplica returned for this uuid. */
  | { kind: "replicaRetired"; replicaUuid: string }
  /** An add or retire call failed. */
  | {
    kind: "actionFailed";
    action: "addReplica" | "retireReplica";
    error: string;
    retryable: boolean;
  };

/** The one thing the executor does next. */
export type Action =
  /** Read the volume after `delayMs`. */
  | { kind: "observe"; delayMs: number }
  | { kind: "addReplica"; volumeUuid: string; poolId: string }
  | { kind: "retireReplica"; volumeUuid: string; replicaUuid: string }
  /** Terminal: nothing more. */
  | { kind: "none" };

/** Tuning of the machine. */
export interface StepConfig {
  /** Delay between observations while waiting (rebuild, transient errors). */
  pollMs: number;
}

/** Result of one step. */
export interface StepResult {
  state: MoveState;
  action: Action;
}

/** True when the phase is Done, RolledBack or Failed. */
export function isTerminal(s: MoveState): boolean {
  return TERMINAL_PHASES.has(s.phase);
}

/**
 * True when the old replica may go: the new one is healthy, the volume is Online and, without
 * the old replica, it still has at least its original count of healthy replicas.
 */
export function safeToRetire(s: MoveState, v: Volume): boolean {
  const fresh = v.replicas.find((r) => r.uuid === s.newReplica);
  // Healthy = Online, rebuilt to 100% and (when published) an Online nexus child: a replica
  // outside the nexus gets no writes and is not a copy.
  if (!fresh || !isHealthyReplica(v, fresh)) return false;
  if (v.status !== "Online") return false;
  const healthyOthers = v.replicas.filter((r) => r.uuid !== s.oldReplica && isHealthyReplica(v, r));
  return healthyOthers.length >= s.originalReplicaCount;
}

/** The replica this move added: by recorded uuid, else the stray one on the target pool. */
export function ourReplica(s: MoveState, v: Volume): Replica | undefined {
  if (s.newReplica) return v.replicas.find((r) => r.uuid === s.newReplica);
  if (!s.addIssued) return undefined;
  const before = new Set(s.replicasBefore);
  return v.replicas.find((r) => r.pool === s.targetPool && !before.has(r.uuid));
}

const UNVERIFIED: ReadonlySet<string> = new Set(["Planned", "ReplicaAdded", "Rebuilding"]);

/** One transition. Pure: same inputs, same outputs. */
export function step(s: MoveState, obs: Observation, now: number, cfg: StepConfig): StepResult {
  if (isTerminal(s)) return { state: s, action: { kind: "none" } };
  const observe = (delayMs = 0): Action => ({ kind: "observe", delayMs });
  const to = (patch: Partial<MoveState>, action: Action): StepResult => ({
    state: { ...s, ...patch, updatedAt: now },
    action,
  });
  const finish = (
    phase: "Done" | "RolledBack" | "Failed",
    result: MoveResult,
    error?: string,
  ): StepResult =>
    to({ phase, result, finishedAt: now, ...(error ? { error } : {}) }, { kind: "none" });

  if (s.dryRun) return finish("Done", "DryRun");

  // Past the deadline, an unverified move rolls back (or simply ends when nothing was added).
  if (UNVERIFIED.has(s.phase) && now >= s.deadline) {
    const error = `timed out after ${Math.round((now - s.startedAt) / 1000)}s in ${s.phase}`;
    if (!s.addIssued) return finish("RolledBack", "RolledBack", error);
    // An add that answered just now still gets its uuid recorded, so the rollback finds it.
    const newReplica = obs.kind === "replicaAdded" ? obs.replicaUuid : s.newReplica;
    return to({ phase: "RollingBack", error, ...(newReplica ? { newReplica } : {}) }, observe());
  }

  switch (obs.kind) {
    case "resume":
      return { state: s, action: observe() };
    case "unavailable":
      return { state: s, action: observe(cfg.pollMs) };
    case "replicaAdded":
      if (s.phase === "Planned") {
        return to({ phase: "ReplicaAdded", newReplica: obs.replicaUuid }, observe());
      }
      return { state: s, action: observe() };
    case "replicaRetired":
      if (s.phase === "Verified" && obs.replicaUuid === s.oldReplica) {
        return to({ phase: "OldReplicaRetired" }, observe());
      }
      return { state: s, action: observe() };
    case "actionFailed":
      return onActionFailed(s, obs, to, finish, cfg);
    case "volume":
      return onVolume(s, obs.volume, to, finish, cfg);
  }
}

type To = (patch: Partial<MoveState>, action: Action) => StepResult;
type Finish = (
  phase: "Done" | "RolledBack" | "Failed",
  result: MoveResult,
  error?: string,
) => StepResult;

function onActionFailed(
  s: MoveState,
  obs: Extract<Observation, { kind: "actionFailed" }>,
  to: To,
  finish: Finish,
  cfg: StepConfig,
): StepResult {
  const wait: Action = { kind: "observe", delayMs: cfg.pollMs };
  if (obs.action === "addReplica" && s.phase === "Planned") {
    // A retryable failure is retried through the next observation (which first looks for a
    // replica the failed call may still have made); a final one cleans up and ends.
    if (obs.retryable) return { state: s, action: wait };
    return to({ phase: "RollingBack", error: `addReplica failed: ${obs.error}` }, wait);
  }
  if (obs.action === "retireReplica" && s.phase === "Verified") {
    if (obs.retryable) return { state: s, action: wait };
    // Both replicas are still there: safe, and left for a person to look at.
    return finish("Failed", "Failed", `retiring the old replica failed: ${obs.error}`);
  }
  // Rollback and any other call: keep trying; giving up could leave a stray replica.
  return { state: s, action: wait };
}

function onVolume(
  s: MoveState,
  v: Volume | undefined,
  to: To,
  finish: Finish,
  cfg: StepConfig,
): StepResult {
  const stay = (a: Action): StepResult => ({ state: s, action: a });
  const wait: Action = { kind: "observe", delayMs: cfg.pollMs };
  if (!v) return finish("Failed", "Failed", `volume ${s.volumeUuid} no longer exists`);
  const has = (uuid: string | undefined) =>
    uuid !== undefined && v.replicas.some((r) => r.uuid === uuid);
  const add: Action = { kind: "addReplica", volumeUuid: s.volumeUuid, poolId: s.targetPool };
  const retire = (uuid: string): Action => ({
    kind: "retireReplica",
    volumeUuid: s.volumeUuid,
    replicaUuid: uuid,
  });

  switch (s.phase) {
    case "Planned": {
      if (s.addIssued) {
        const found = ourReplica(s, v);
        if (found) {
          return to({ phase: "ReplicaAdded", newReplica: found.uuid }, {
            kind: "observe",
            delayMs: 0,
          });
        }
        return stay(add); // the earlier call made nothing: adding again cannot duplicate
      }
      if (!has(s.oldReplica)) {
        return finish("Failed", "Failed", `replica ${s.oldReplica} is no longer on the volume`);
      }
      if (v.replicas.some((r) => r.pool === s.targetPool)) {
        return finish("Failed", "Failed", `pool ${s.targetPool} already holds a replica`);
      }
      return to({ addIssued: true, replicasBefore: v.replicas.map((r) => r.uuid) }, add);
    }
    case "ReplicaAdded":
      if (has(s.newReplica)) return to({ phase: "Rebuilding" }, { kind: "observe", delayMs: 0 });
      return stay(wait);
    case "Rebuilding": {
      const fresh = ourReplica(s, v);
      if (!fresh) {
        return to({ phase: "RollingBack", error: "the new replica disappeared" }, {
          kind: "observe",
          delayMs: 0,
        });
      }
      if (fresh.state === "Faulted" || fresh.childState === "Faulted") {
        return to({ phase: "RollingBack", error: "the new replica faulted" }, {
          kind: "observe",
          delayMs: 0,
        });
      }
      if (safeToRetire(s, v)) {
        return to({ phase: "Verified", rebuildProgress: 100 }, { kind: "observe", delayMs: 0 });
      }
      const progress = fresh.rebuildProgress ?? (fresh.state === "Online" ? 100 : 0);
      if (progress !== s.rebuildProgress) return to({ rebuildProgress: progress }, wait);
      return stay(wait);
    }
    case "Verified":
      if (!has(s.oldReplica)) {
        return to({ phase: "OldReplicaRetired" }, { kind: "observe", delayMs: 0 });
      }
      if (s.preservation) return finish("Done", "Preserved");
      // Re-checked on this fresh observation, immediately before the retire.
      if (safeToRetire(s, v)) return stay(retire(s.oldReplica));
      return to({ phase: "Rebuilding" }, wait);
    case "OldReplicaRetired":
      if (!has(s.newReplica)) {
        return finish("Failed", "Failed", "the new replica vanished after the old one was retired");
      }
      if (has(s.oldReplica)) return to({ phase: "Verified" }, wait); // retire not visible yet
      return finish("Done", "Succeeded");
    case "RollingBack": {
      const mine = ourReplica(s, v);
      if (!mine) return finish("RolledBack", "RolledBack", s.error);
      if (!has(s.oldReplica)) {
        // The added replica may be the only copy left: never remove it; finish forward.
        return to({
          phase: "OldReplicaRetired",
          newReplica: mine.uuid,
          error: `${s.error ?? "rollback"}; old replica gone, kept the new one`,
        }, wait);
      }
      if (!v.replicas.some((r) => r.uuid !== mine.uuid && isHealthyReplica(v, r))) {
        // No other complete copy (e.g. the old replica faulted after the rebuild): removing
        // ours could lose the data. Keep both and leave it for a person, like a failed retire.
        return finish(
          "Failed",
          "Failed",
          `${s.error ?? "rollback"}; not removing the new replica: it is the only healthy copy`,
        );
      }
      return to({ newReplica: mine.uuid }, retire(mine.uuid));
    }
    default:
      return stay({ kind: "none" });
  }
}
