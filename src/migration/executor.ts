/**
 * Runs one volume migration: the pure machine (step.ts) driven by the shared save-before-act
 * driver (src/machine/driver.ts), its actions performed on a VolumeBackend, the cordon window
 * held under the process's cordon lock and measured. Records the finished move's metrics.
 */
import type { Clock } from "../clock.ts";
import { driveMachine, pause } from "../machine/driver.ts";
import type { StateSaver } from "../machine/driver.ts";
import { BackendError, type VolumeBackend } from "../mayastor/port.ts";
import type { Volume } from "../model/storage.ts";
import { CordonLock } from "./cordon_lock.ts";
import type { Logger } from "../observability/log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { historyEntry, resultLabel } from "./history.ts";
import { MOVE_CORDON_LABEL, type MoveState } from "./state.ts";
import {
  type Action,
  type ActionKind,
  currentStep,
  isTerminal,
  type Observation,
  step,
} from "./step.ts";

/** What the executor needs. */
export interface ExecutorDeps {
  backend: VolumeBackend;
  store: StateSaver<MoveState>;
  clock: Clock;
  logger: Logger;
  /** Receives migrationsTotal and activeMigrations; optional for tools that don't export. */
  metrics?: Metrics;
  /** Wait between observations while a replica rebuilds; 2 s by default. */
  pollIntervalMs?: number;
  /** Attempts to persist one state before giving up (a pollIntervalMs apart); default 10. */
  maxSaveAttempts?: number;
  /** The cluster-wide cordon lock, shared by every move of this process (own one if absent). */
  cordonLock?: CordonLock;
  /** Test hook: after each save, before its action (a throw here stops the move there). */
  afterSave?: (state: MoveState, action: Action) => void | Promise<void>;
}

/** Thrown (with the last persisted state) when the caller aborts a move mid-way. */
export class MoveInterrupted extends Error {
  constructor(readonly state: MoveState) {
    super(`move of ${state.volume} interrupted in ${state.phase}`);
    this.name = "MoveInterrupted";
  }
}

/**
 * Drives a move (new or resumed) to a terminal phase and returns that state. Aborting the
 * signal stops between steps (throws MoveInterrupted); the persisted state then lets a later
 * call resume.
 */
export async function executeMove(
  initial: MoveState,
  deps: ExecutorDeps,
  signal?: AbortSignal,
): Promise<MoveState> {
  const cfg = { pollMs: deps.pollIntervalMs ?? 2000 };
  const log = deps.logger.child("migration", { volume: initial.volume, move: initial.id });
  const counted = !isTerminal(initial) && !initial.dryRun;
  if (counted) deps.metrics?.activeMigrations.inc();
  let state: MoveState;
  const ctx: RunContext = { deps, log, lock: deps.cordonLock ?? new CordonLock() };
  try {
    state = await driveMachine<MoveState, Observation, Action>(initial, {
      what: "the move state",
      step: (s, o, now) => step(s, o, now, cfg),
      perform: (a, s, sig) => perform(a, s, ctx, sig),
      resume: { kind: "resume" },
      store: deps.store,
      interrupted: (s) => new MoveInterrupted(s),
      afterSave: deps.afterSave,
    }, {
      clock: deps.clock,
      log,
      retryDelayMs: cfg.pollMs,
      saveAttempts: deps.maxSaveAttempts,
      signal,
    });
  } finally {
    // An interrupted window leaves its cordon persisted: whoever resumes the move removes it.
    ctx.release?.();
    if (counted) deps.metrics?.activeMigrations.dec();
  }
  const entry = historyEntry(state);
  const result = resultLabel(entry.result);
  deps.metrics?.migrationsTotal.inc({ from: state.from, to: state.to, result });
  deps.metrics?.migrationDuration.observe({ result }, entry.durationSeconds);
  log.info("move finished", { result: entry.result, seconds: entry.durationSeconds });
  return state;
}

/** What one run of a move holds besides its state: the cordon lock while the window is open. */
interface RunContext {
  deps: ExecutorDeps;
  log: Logger;
  lock: CordonLock;
  release?: () => void;
}

async function perform(
  action: Action,
  state: MoveState,
  ctx: RunContext,
  signal?: AbortSignal,
): Promise<Observation> {
  const { deps, log } = ctx;
  const b = deps.backend;
  const uuid = state.volumeUuid;
  switch (action.kind) {
    case "observe":
      if (!await pause(deps.clock, action.delayMs, signal)) return { kind: "resume" };
      try {
        const volume = await b.getVolume(uuid, signal);
        if (!action.nodes) return { kind: "volume", volume };
        return { kind: "volume", volume, nodes: await b.listNodes(signal) };
      } catch (e) {
        log.warn("cannot read the volume", { error: e });
        return { kind: "unavailable", error: message(e) };
      }
    case "cordon":
      return await act("cordon", log, async () => {
        ctx.release ??= await ctx.lock.acquire(signal);
        await eachNode(action.clear, (n) => b.uncordonNode(n, MOVE_CORDON_LABEL, signal));
        await eachNode(action.nodes, (n) => b.cordonNode(n, MOVE_CORDON_LABEL, signal));
        log.info("nodes cordoned", {
          nodes: action.nodes.length,
          open: currentStep(state).targetNode,
        });
      });
    case "uncordon":
      return await act("uncordon", log, () => uncordon(action.nodes, state, ctx, signal));
    case "setReplicaCount": {
      const obs = await act("setReplicaCount", log, async () => {
        const volume = await b.setReplicaCount(uuid, action.n, signal);
        log.info("replica_count set", { n: action.n });
        return volume;
      });
      if (!action.thenUncordon || (obs.kind !== "done" && obs.kind !== "actionFailed")) return obs;
      // The window closes at once, whatever the increase answered (its answer is in `obs`).
      const off = await uncordon(action.thenUncordon, state, ctx, signal).then(
        () => true,
        (e) => (log.warn("uncordon after the increase failed; retried", { error: e }), false),
      );
      return { ...obs, uncordoned: off };
    }
    case "detach":
      return await act("detach", log, async () => {
        await b.detachChild(uuid, action.replica, signal);
        log.info("nexus child detached", { replica: action.replica });
      });
    case "none":
      return { kind: "resume" };
  }
}

/** At most this many node calls at once: the window is as short as the slowest of them. */
const NODE_CALLS_IN_PARALLEL = 16;

/** Runs `f` on every node, NODE_CALLS_IN_PARALLEL at a time; the first failure is thrown. */
async function eachNode(nodes: readonly string[], f: (node: string) => Promise<void>) {
  for (let i = 0; i < nodes.length; i += NODE_CALLS_IN_PARALLEL) {
    const batch = nodes.slice(i, i + NODE_CALLS_IN_PARALLEL).map(f);
    const done = await Promise.allSettled(batch);
    const failed = done.find((d): d is PromiseRejectedResult => d.status === "rejected");
    if (failed) throw failed.reason;
  }
}

/** Removes the move cordon from `nodes` under the lock, then releases it; logs the window. */
async function uncordon(
  nodes: readonly string[],
  state: MoveState,
  ctx: RunContext,
  signal?: AbortSignal,
): Promise<void> {
  const { deps, log } = ctx;
  ctx.release ??= await ctx.lock.acquire(signal);
  await eachNode(nodes, (n) => deps.backend.uncordonNode(n, MOVE_CORDON_LABEL, signal));
  ctx.release();
  ctx.release = undefined;
  const since = state.cordon?.since;
  if (since !== undefined) {
    const ms = Math.max(0, deps.clock.now() - since);
    deps.metrics?.cordonWindow.observe(ms / 1000);
    log.info("nodes uncordoned", { nodes: nodes.length, cordonWindowMs: ms });
  }
}

/** Runs one backend action and turns its outcome into an observation. */
async function act(
  action: ActionKind,
  log: Logger,
  f: () => Promise<Volume | void>,
): Promise<Observation> {
  try {
    const volume = await f();
    return volume ? { kind: "done", action, volume } : { kind: "done", action };
  } catch (e) {
    log.warn(`${action} failed`, { error: e });
    const status = e instanceof BackendError ? e.status : undefined;
    const errorKind = e instanceof BackendError ? e.kind : undefined;
    return {
      kind: "actionFailed",
      action,
      error: message(e),
      ...(status !== undefined ? { status } : {}),
      ...(errorKind ? { errorKind } : {}),
      // Backend errors say whether they are retryable; anything else (network) is.
      retryable: e instanceof BackendError ? e.retryable : true,
    };
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
