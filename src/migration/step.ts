/**
 * The pure transition function of a volume migration: given the persisted state, what was just
 * observed and the time, the next state and the one action to perform. No I/O.
 *
 * Each replica step uses only the levers Mayastor v2 supports (../shared/MAYASTOR.md): check
 * the volume is Online and the target node holds none of its replicas → cordon every other
 * node with CoucheStor's own cordon label → `replica_count` n+1 (the control plane creates its
 * own replica on the one node left) → uncordon → check where it landed (wrong pool: roll back)
 * → wait until it is an Online, rebuilt nexus child → detach the old replica's child →
 * `replica_count` n (the detached replica is the unhealthy one, so it is the one removed) →
 * check exactly it is gone. Safety rules (NFR-201):
 * - a replica is detached only while the volume keeps, without it, at least the healthy
 *   replicas it had when the move started (health decides, not which replica is new);
 * - a replica is removed only by lowering `replica_count` from the one this step raised, after
 *   detaching the one to go, so the control plane never picks a replica we did not choose;
 * - a cordon is always undone first: after a failure, a timeout or a restart;
 * - an unverified step past its deadline rolls back; once verified, the step only goes forward.
 */
import { healthyReplicas, isHealthyReplica, isRebuiltChild } from "../model/health.ts";
import type { MayastorNode, Replica, Volume } from "../model/storage.ts";
import {
  MOVE_CORDON_LABEL,
  type MovePhase,
  type MoveResult,
  type MoveState,
  type ReplicaStep,
  TERMINAL_PHASES,
} from "./state.ts";

/** The backend calls a move makes besides reading. */
export type ActionKind = "cordon" | "uncordon" | "setReplicaCount" | "detach";

/** What the executor learnt since the last step. */
export type Observation =
  /** Nothing yet: a fresh start or a resume after a restart. */
  | { kind: "resume" }
  /** The volume now (undefined: it no longer exists), and the nodes when they were asked for. */
  | { kind: "volume"; volume: Volume | undefined; nodes?: readonly MayastorNode[] }
  /** The backend could not be asked. */
  | { kind: "unavailable"; error: string }
  /**
   * An action succeeded; `replica_count` answers the volume as it left it. `uncordoned`: the
   * increase's `thenUncordon` came off too (false: it failed and is still on).
   */
  | { kind: "done"; action: ActionKind; volume?: Volume; uncordoned?: boolean }
  /** An action failed; `retryable` when the backend may not have acted or may accept it later. */
  | {
    kind: "actionFailed";
    action: ActionKind;
    error: string;
    status?: number;
    errorKind?: string;
    retryable: boolean;
    /** As for `done`: whether the increase's `thenUncordon` came off. */
    uncordoned?: boolean;
  };

/** The one thing the executor does next. */
export type Action =
  /** Read the volume (and the nodes) after `delayMs`. */
  | { kind: "observe"; delayMs: number; nodes?: boolean }
  /** Cordon `nodes` with MOVE_CORDON_LABEL (and remove it from `clear`), under the lock. */
  | { kind: "cordon"; nodes: string[]; clear: string[] }
  /** Remove MOVE_CORDON_LABEL from `nodes`. */
  | { kind: "uncordon"; nodes: string[] }
  /**
   * Set `num_replicas`; with `thenUncordon`, remove MOVE_CORDON_LABEL from those nodes right
   * after the call, whatever it answered (the cordon window is this one call: no state write
   * falls inside it; a lost answer is found by Landing).
   */
  | { kind: "setReplicaCount"; n: number; thenUncordon?: string[] }
  /** Detach the replica's nexus child. */
  | { kind: "detach"; replica: string }
  /** Terminal: nothing more. */
  | { kind: "none" };

/** Tuning of the machine. */
export interface StepConfig {
  /** Delay between observations while waiting (rebuild, transient errors). */
  pollMs: number;
  /** Attempts of one step that end without a new replica before it rolls back; default 3. */
  maxStepAttempts?: number;
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

/** The step in progress. */
export function currentStep(s: MoveState): ReplicaStep {
  return s.steps[s.current];
}

/**
 * The replica this step added: by recorded uuid, else (the answer was lost) the one that was
 * not there before the increase, preferring the pools the step steered it to.
 */
export function ourReplica(s: MoveState, v: Volume): Replica | undefined {
  const st = currentStep(s);
  if (st.newReplica) return v.replicas.find((r) => r.uuid === st.newReplica);
  if (!s.scaleIssued) return undefined;
  const before = new Set(s.replicasBefore);
  const fresh = v.replicas.filter((r) => !before.has(r.uuid));
  return fresh.find((r) => st.targetPools.includes(r.pool)) ??
    (fresh.length === 1 ? fresh[0] : undefined);
}

/** True when, without replica `uuid`, the volume keeps its original count of healthy copies. */
export function floorHoldsWithout(s: MoveState, v: Volume, uuid: string | undefined): boolean {
  const left = v.replicas.filter((r) => r.uuid !== uuid && isHealthyReplica(v, r));
  return left.length >= s.originalReplicaCount;
}

/**
 * The replica the step retires: the old one while the volume still has it; else (the control
 * plane replaced it) the hot spare that took its place; else none.
 */
export function retireeOf(s: MoveState, v: Volume, mine: Replica): Replica | undefined {
  const st = currentStep(s);
  const old = v.replicas.find((r) => r.uuid === st.old);
  if (old) return old;
  const before = new Set(s.replicasBefore);
  return v.replicas.find((r) => !before.has(r.uuid) && r.uuid !== mine.uuid);
}

const isChild = (r: Replica | undefined): boolean => r?.childState !== undefined;

/**
 * Replicas of the volume this move knows nothing of: not staying on the target tier, not added
 * by a step, not waiting for a step (hot spares the control plane made meanwhile).
 */
export function unaccounted(s: MoveState, v: Volume): Replica[] {
  const known = new Set([
    ...s.keep,
    ...s.steps.flatMap((x) => (x.newReplica ? [x.old, x.newReplica] : [x.old])),
  ]);
  return v.replicas.filter((r) => !known.has(r.uuid));
}

/** Poll intervals to wait before trying an increase again after a busy (409) answer. */
const BUSY_WAIT_POLLS = 5;

/** Phases whose work is undone once the step's deadline passes. */
const TIMED: ReadonlySet<MovePhase> = new Set(["Planned", "Cordoning", "Scaling", "Landing"]);
/** Phases during which CoucheStor's cordon may be on nodes. */
const CORDONING: ReadonlySet<MovePhase> = new Set(["Cordoning", "Scaling", "Uncordoning"]);

/** One transition. Pure: same inputs, same outputs. */
export function step(s: MoveState, obs: Observation, now: number, cfg: StepConfig): StepResult {
  if (isTerminal(s)) return { state: s, action: { kind: "none" } };
  const m = new Machine(s, now, cfg);
  if (s.dryRun) return m.finish("Done", "DryRun");
  if (TIMED.has(s.phase) && now >= s.deadline) return m.timedOut(obs);
  switch (obs.kind) {
    case "resume":
      return m.onResume();
    case "unavailable":
      return m.stay(m.observe(cfg.pollMs, s.phase === "Planned"));
    case "done":
      return m.onDone(obs);
    case "actionFailed":
      return m.onFailed(obs);
    case "volume":
      return m.onVolume(obs.volume, obs.nodes);
  }
}

/** One transition's helpers over the state it starts from. */
class Machine {
  constructor(readonly s: MoveState, readonly now: number, readonly cfg: StepConfig) {}

  get st(): ReplicaStep {
    return currentStep(this.s);
  }

  observe(delayMs = 0, nodes = false): Action {
    return nodes ? { kind: "observe", delayMs, nodes } : { kind: "observe", delayMs };
  }

  stay(action: Action): StepResult {
    return { state: this.s, action };
  }

  to(patch: Partial<MoveState>, action: Action): StepResult {
    return { state: { ...this.s, ...patch, updatedAt: this.now }, action };
  }

  /** The steps with the current one patched. */
  steps(patch: Partial<ReplicaStep>): ReplicaStep[] {
    return this.s.steps.map((x, i) => (i === this.s.current ? { ...x, ...patch } : x));
  }

  finish(phase: "Done" | "RolledBack" | "Failed", result: MoveResult, error?: string): StepResult {
    const e = error ?? this.s.error;
    return this.to({
      phase,
      result,
      finishedAt: this.now,
      cordon: undefined,
      ...(e ? { error: e } : {}),
    }, { kind: "none" });
  }

  /** Ends RolledBack: this step is undone; earlier steps stay moved. */
  rolledBack(error: string): StepResult {
    const done = this.s.steps.filter((x) => x.done).length;
    const prefix = done > 0 ? `${done} of ${this.s.steps.length} replicas moved; ` : "";
    return this.finish("RolledBack", "RolledBack", prefix + error);
  }

  /** Starts undoing the step: the cordon first, then whatever this step added. */
  rollback(error: string, patch: Partial<MoveState> = {}): StepResult {
    const cordon = "cordon" in patch ? patch.cordon : this.s.cordon;
    return this.to(
      { ...patch, phase: "RollingBack", error, lastFailure: undefined },
      cordon ? { kind: "uncordon", nodes: cordon.nodes } : this.observe(),
    );
  }

  timedOut(obs: Observation): StepResult {
    const s = this.s;
    const secs = Math.round((this.now - (s.deadline - s.timeoutMs)) / 1000);
    const error = `step ${
      s.current + 1
    } of ${s.steps.length} timed out after ${secs}s in ${s.phase}`;
    if (s.phase === "Planned" && !s.cordon && !s.scaleIssued) return this.rolledBack(error);
    // An increase that answered just now still gets its replica recorded for the rollback.
    const fresh = obs.kind === "done" && obs.action === "setReplicaCount" && obs.volume
      ? this.newcomer(obs.volume)
      : undefined;
    const off = (obs.kind === "done" || obs.kind === "actionFailed") && obs.uncordoned
      ? this.uncordoned()
      : {};
    return this.rollback(error, {
      ...off,
      ...(fresh ? { steps: this.steps({ newReplica: fresh.uuid }) } : {}),
    });
  }

  /** The state's patch once the cordon is off: the window it lasted is recorded. */
  uncordoned(): Partial<MoveState> {
    const s = this.s;
    const window = Math.max(0, this.now - (s.cordon?.since ?? this.now));
    return { cordon: undefined, cordonWindowsMs: [...s.cordonWindowsMs, window] };
  }

  onResume(): StepResult {
    const s = this.s;
    // A restart may have been long: whatever the window did, the cordon comes off first.
    if (CORDONING.has(s.phase)) {
      return this.to({ phase: "Uncordoning" }, { kind: "uncordon", nodes: s.cordon?.nodes ?? [] });
    }
    if (s.phase === "RollingBack" && s.cordon) {
      return this.stay({ kind: "uncordon", nodes: s.cordon.nodes });
    }
    return this.stay(this.observe(0, s.phase === "Planned"));
  }

  /** The one replica the increase's answer shows that was not there before it. */
  newcomer(v: Volume): Replica | undefined {
    const before = new Set(this.s.replicasBefore);
    const fresh = v.replicas.filter((r) => !before.has(r.uuid));
    return fresh.length === 1 ? fresh[0] : fresh.find((r) => this.st.targetPools.includes(r.pool));
  }

  onDone(obs: Extract<Observation, { kind: "done" }>): StepResult {
    const s = this.s;
    switch (obs.action) {
      case "cordon":
        if (s.phase !== "Cordoning") break;
        // The window starts once every cordon is on; it ends when the first comes off.
        return this.to({
          phase: "Scaling",
          scaleIssued: true,
          cordon: { nodes: s.cordon?.nodes ?? [], since: this.now },
        }, { kind: "setReplicaCount", n: s.baseCount + 1, thenUncordon: s.cordon?.nodes ?? [] });
      case "setReplicaCount": {
        const v = obs.volume;
        if (s.phase === "Scaling") {
          const fresh = v && this.newcomer(v);
          return this.afterIncrease(obs.uncordoned ?? false, {
            lastFailure: undefined,
            ...(fresh ? { steps: this.steps({ newReplica: fresh.uuid }) } : {}),
          });
        }
        if (!v) break;
        if (s.phase === "Trimming") return this.onTrimming(v);
        if (s.phase === "RollingBack") return this.onRollingBack(v);
        break;
      }
      case "uncordon": {
        const patch = this.uncordoned();
        if (s.phase === "Uncordoning") {
          return this.to({ ...patch, phase: "Landing" }, this.observe());
        }
        if (s.phase === "RollingBack") return this.to(patch, this.observe());
        break;
      }
      case "detach":
        if (s.phase === "Detaching") {
          return this.to(
            { phase: "Trimming", lastFailure: undefined },
            { kind: "setReplicaCount", n: s.baseCount },
          );
        }
        if (s.phase === "RollingBack") {
          return this.stay({ kind: "setReplicaCount", n: s.baseCount });
        }
        break;
    }
    return this.stay(this.observe());
  }

  /**
   * After the increase (answered or not): with the cordon already off, on to Landing; else it
   * must come off first (Uncordoning retries it).
   */
  afterIncrease(uncordoned: boolean, patch: Partial<MoveState>): StepResult {
    if (uncordoned) {
      return this.to({ ...patch, ...this.uncordoned(), phase: "Landing" }, this.observe());
    }
    return this.to(
      { ...patch, phase: "Uncordoning" },
      { kind: "uncordon", nodes: this.s.cordon?.nodes ?? [] },
    );
  }

  onFailed(obs: Extract<Observation, { kind: "actionFailed" }>): StepResult {
    const s = this.s;
    const failure = {
      error: obs.error,
      ...(obs.status !== undefined ? { status: obs.status } : {}),
      ...(obs.errorKind ? { kind: obs.errorKind } : {}),
      definite: isRefusal(obs.status),
    };
    const wait = this.observe(this.cfg.pollMs);
    switch (obs.action) {
      case "cordon":
        return this.rollback(`cordoning the other nodes failed: ${obs.error}`);
      case "uncordon":
        // The cordon must come off: retried after every observation until it does (the
        // increase's failure, if any, stays recorded for Landing).
        return this.stay(wait);
      case "setReplicaCount":
        if (s.phase === "Scaling") {
          return this.afterIncrease(obs.uncordoned ?? false, { lastFailure: failure });
        }
        // A decrease whose replica is still owned by the nexus answers 409 InUse once, having
        // dropped it from the volume: the same call again commits the count at once.
        if (obs.status === 409 && s.lastFailure?.status !== 409) {
          return this.to({ lastFailure: failure }, { kind: "setReplicaCount", n: s.baseCount });
        }
        return this.to({ lastFailure: failure }, wait);
      case "detach":
        return this.to({ lastFailure: failure }, wait);
    }
  }

  onVolume(v: Volume | undefined, nodes: readonly MayastorNode[] | undefined): StepResult {
    const s = this.s;
    if (!v) {
      // Even a vanished volume's move takes its cordon off before it ends.
      if (s.cordon) return this.rollback(s.error ?? `the volume vanished during ${s.phase}`);
      if (s.phase === "Planned" && s.current === 0) return this.rolledBack("the volume is gone");
      return this.finish("Failed", "Failed", `the volume vanished during ${s.phase}`);
    }
    switch (s.phase) {
      case "Planned":
        return this.onPlanned(v, nodes);
      case "Cordoning":
      case "Scaling":
        return this.onResume();
      case "Uncordoning":
        return this.stay({ kind: "uncordon", nodes: s.cordon?.nodes ?? [] });
      case "Landing":
        return this.onLanding(v);
      case "Rebuilding":
        return this.onRebuilding(v);
      case "Verified":
        return this.onVerified(v);
      case "Detaching":
        return this.onDetaching(v);
      case "Trimming":
        return this.onTrimming(v);
      case "RollingBack":
        return this.onRollingBack(v);
      default:
        return this.stay({ kind: "none" });
    }
  }

  onPlanned(v: Volume, nodes: readonly MayastorNode[] | undefined): StepResult {
    const s = this.s, st = this.st;
    // An earlier attempt's increase landed after its answer was lost: Landing finds it.
    if (s.scaleIssued && v.replicaCount > s.baseCount) {
      return this.to({ phase: "Landing" }, this.observe());
    }
    if (!nodes) return this.stay(this.observe(0, true));
    if (!v.replicas.some((r) => r.uuid === st.old)) {
      // The control plane replaced the old replica (a hot spare): the spare moves instead.
      const spare = unaccounted(s, v)[0];
      if (!spare) return this.stepDone(v);
      return this.to(
        { steps: this.steps({ old: spare.uuid, oldPool: spare.pool }) },
        this.observe(0, true),
      );
    }
    if (v.targetNode === undefined) {
      return this.rolledBack(
        "the volume is not published: Mayastor copies data to a new replica only through its nexus",
      );
    }
    const holder = v.replicas.find((r) => r.node === st.targetNode);
    if (holder) {
      return this.rolledBack(
        `node ${st.targetNode} already holds replica ${holder.uuid} of the volume ` +
          "(the control plane never puts two on one node)",
      );
    }
    const target = nodes.find((n) => n.id === st.targetNode);
    if (!target?.online) return this.rolledBack(`target node ${st.targetNode} is not online`);
    const foreign = target.cordonLabels.filter((l) => l !== MOVE_CORDON_LABEL);
    if (foreign.length > 0) {
      return this.rolledBack(`target node ${st.targetNode} is cordoned (${foreign.join(", ")})`);
    }
    if (v.status !== "Online" || healthyReplicas(v).length < s.originalReplicaCount) {
      // Never start a step on a volume that is not whole; the deadline ends the wait.
      return this.stay(this.observe(this.cfg.pollMs, true));
    }
    const others = nodes.map((n) => n.id).filter((id) => id !== st.targetNode).sort();
    const clear = target.cordonLabels.includes(MOVE_CORDON_LABEL) ? [target.id] : [];
    return this.to({
      phase: "Cordoning",
      cordon: { nodes: others, since: this.now },
      // The replicas right before the increase: a hot spare made since the step began is not
      // the newcomer the increase's lost answer is looked for among.
      replicasBefore: v.replicas.map((r) => r.uuid),
      lastFailure: undefined,
    }, { kind: "cordon", nodes: others, clear });
  }

  onLanding(v: Volume): StepResult {
    const s = this.s, st = this.st;
    const mine = ourReplica(s, v);
    if (mine) {
      const steps = this.steps({ newReplica: mine.uuid });
      if (!st.targetPools.includes(mine.pool)) {
        return this.rollback(
          `the control plane placed the new replica on pool ${mine.pool}, not on ` +
            st.targetPools.join(" or "),
          { steps: this.steps({ newReplica: mine.uuid, landedOn: mine.pool }) },
        );
      }
      return this.to(
        { phase: "Rebuilding", steps, lastFailure: undefined },
        this.observe(this.cfg.pollMs),
      );
    }
    if (v.replicaCount > s.baseCount) {
      return this.rollback(`replica_count is ${v.replicaCount} but no new replica appeared`);
    }
    // The increase did not happen: refused, or its answer lost before it acted.
    const f = s.lastFailure;
    const why = `replica_count ${s.baseCount + 1} ${f ? `failed: ${f.error}` : "made no replica"}`;
    if (f?.definite) return this.rolledBack(why);
    // 409 Conflict: the volume's operation guard is held (core/volume/specs.rs `volume()` →
    // operation_guard_wait → SvcError::Conflict), perhaps by this step's own increase whose
    // answer was lost and which may still land. That is not an attempt: look again later (the
    // deadline bounds the wait; Planned finds a late landing). Other failures count, capped.
    const busy = f?.status === 409 && (f.kind ?? "Conflict") === "Conflict";
    const attempts = s.stepAttempts + (busy ? 0 : 1);
    if (attempts >= (this.cfg.maxStepAttempts ?? 3)) {
      return this.rolledBack(`${why} (${attempts} attempts)`);
    }
    // scaleIssued stays true: an increase of this step went out and may yet land.
    return this.to(
      { phase: "Planned", stepAttempts: attempts },
      this.observe(this.cfg.pollMs * (busy ? BUSY_WAIT_POLLS : 1), true),
    );
  }

  onRebuilding(v: Volume): StepResult {
    const s = this.s;
    const mine = ourReplica(s, v);
    if (!mine) {
      return this.rollback("the new replica left the volume (the control plane removed it)");
    }
    if (mine.state === "Faulted" || mine.childState === "Faulted") {
      return this.rollback("the new replica faulted while it rebuilt");
    }
    const rebuilt = isRebuiltChild(v, mine);
    if (rebuilt) return this.to({ phase: "Verified", rebuildProgress: 100 }, this.observe());
    if (this.now >= s.deadline) {
      const secs = Math.round((this.now - (s.deadline - s.timeoutMs)) / 1000);
      return this.rollback(
        `step ${s.current + 1} of ${s.steps.length} timed out after ${secs}s in Rebuilding ` +
          `(the new replica at ${mine.rebuildProgress ?? 0}%)`,
      );
    }
    const progress = mine.rebuildProgress ?? 0;
    const wait = this.observe(this.cfg.pollMs);
    return progress !== s.rebuildProgress
      ? this.to({ rebuildProgress: progress }, wait)
      : this.stay(wait);
  }

  /** On a fresh observation, right before the detach: the new replica is a whole copy. */
  onVerified(v: Volume): StepResult {
    const s = this.s;
    const mine = ourReplica(s, v);
    if (!mine || !isRebuiltChild(v, mine)) {
      return this.to({ phase: "Rebuilding" }, this.observe(this.cfg.pollMs));
    }
    if (s.preservation) return this.stepDone(v);
    const retiree = retireeOf(s, v, mine);
    if (!retiree) {
      if (v.replicaCount > s.baseCount) {
        return this.to({ phase: "Trimming" }, { kind: "setReplicaCount", n: s.baseCount });
      }
      return this.stepDone(v);
    }
    // Health decides: wait until the volume keeps its healthy copies without the retiree.
    if (!floorHoldsWithout(s, v, retiree.uuid)) return this.stay(this.observe(this.cfg.pollMs));
    if (!isChild(retiree)) {
      return this.to(
        { phase: "Trimming", retiring: retiree.uuid },
        { kind: "setReplicaCount", n: s.baseCount },
      );
    }
    return this.to(
      { phase: "Detaching", retiring: retiree.uuid, lastFailure: undefined },
      { kind: "detach", replica: retiree.uuid },
    );
  }

  onDetaching(v: Volume): StepResult {
    const s = this.s;
    const retiree = v.replicas.find((r) => r.uuid === s.retiring);
    if (!isChild(retiree)) {
      return this.to({ phase: "Trimming" }, { kind: "setReplicaCount", n: s.baseCount });
    }
    // Still a child after the backend refused: both copies are whole, undo the step instead.
    if (s.lastFailure?.definite) {
      return this.rollback(`detaching replica ${s.retiring} failed: ${s.lastFailure.error}`);
    }
    // Another copy may have faulted since Verified: detach again only while the floor holds.
    if (!floorHoldsWithout(s, v, s.retiring)) {
      return this.to({ phase: "Verified" }, this.observe(this.cfg.pollMs));
    }
    return this.stay({ kind: "detach", replica: s.retiring! });
  }

  onTrimming(v: Volume): StepResult {
    const s = this.s;
    const retiree = s.retiring ? v.replicas.find((r) => r.uuid === s.retiring) : undefined;
    // Re-attached by the control plane before the decrease: verify and detach again.
    if (isChild(retiree)) return this.to({ phase: "Verified" }, this.observe());
    if (v.replicaCount > s.baseCount) {
      return this.stay({ kind: "setReplicaCount", n: s.baseCount });
    }
    if (!ourReplica(s, v)) {
      return this.finish(
        "Failed",
        "Failed",
        "the control plane removed the new replica instead of the old one",
      );
    }
    // A retiree still listed but detached is not a copy; the control plane's collectors
    // reclaim it (owned replicas above replica_count are disowned).
    return this.stepDone(v);
  }

  onRollingBack(v: Volume): StepResult {
    const s = this.s;
    if (s.cordon) return this.stay({ kind: "uncordon", nodes: s.cordon.nodes });
    // Only a count this step raised is lowered: at the base count nothing of ours is left, and
    // without an increase of ours a higher count is someone else's.
    if (v.replicaCount <= s.baseCount || !s.scaleIssued) {
      return this.rolledBack(s.error ?? "rolled back");
    }
    const mine = ourReplica(s, v);
    if (mine && isChild(mine)) {
      if (isHealthyReplica(v, mine) && !floorHoldsWithout(s, v, mine.uuid)) {
        const old = v.replicas.find((r) => r.uuid === this.st.old);
        // The new replica is now one of the volume's whole copies: finish forward instead.
        if (!old || !isHealthyReplica(v, old)) {
          return this.to(
            {
              phase: "Verified",
              error: `${s.error}; kept the new replica (the old one is not healthy)`,
            },
            this.observe(),
          );
        }
        return this.stay(this.observe(this.cfg.pollMs)); // wait for the volume to heal
      }
      return this.to(
        { steps: this.steps({ newReplica: mine.uuid }) },
        { kind: "detach", replica: mine.uuid },
      );
    }
    return this.stay({ kind: "setReplicaCount", n: s.baseCount });
  }

  /** The current step is done: the next one starts from the volume as it is now, or Done. */
  stepDone(v: Volume): StepResult {
    const s = this.s;
    const steps = this.steps({ done: true });
    if (s.current + 1 >= s.steps.length) {
      const end = this.finish("Done", s.preservation ? "Preserved" : "Succeeded");
      return { ...end, state: { ...end.state, steps } };
    }
    return this.to({
      steps,
      current: s.current + 1,
      phase: "Planned",
      baseCount: v.replicaCount,
      replicasBefore: v.replicas.map((r) => r.uuid),
      scaleIssued: false,
      stepAttempts: 0,
      retiring: undefined,
      lastFailure: undefined,
      rebuildProgress: undefined,
      deadline: this.now + s.timeoutMs,
    }, this.observe(0, true));
  }
}

/**
 * Whether a failed call was refused (it did nothing; trying again will not help): a 4xx other
 * than a timeout, a conflict with a busy resource or throttling, and 507 (no pool could take
 * the replica). Network errors and other 5xx may have acted.
 */
function isRefusal(status: number | undefined): boolean {
  if (status === undefined) return false;
  if (status === 507) return true;
  return status >= 400 && status < 500 && ![408, 409, 429].includes(status);
}
