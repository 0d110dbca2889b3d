/**
 * Runs one EC tier operation: performs the pure machine's actions (step.ts) on the ports, the
 * EC store and the ErasureCodingPolicy controller, persisting the state through an EcTierStore
 * BEFORE each action, so a restart finds what was about to happen and resumes or rolls back.
 */
import { resultLabel } from "../migration/history.ts";
import { driveMachine, pause } from "../machine/driver.ts";
import { createHash } from "node:crypto";
import type { ErasureCodingPolicy } from "../api/mod.ts";
import { blockObjectName, type EcVolumeReader } from "../cache/l3_ec.ts";
import type { Clock } from "../clock.ts";
import type { EcStore } from "../ec/store/store.ts";
import type { EcVolumeBinding } from "./bindings.ts";
import { BackendError, type VolumeBackend } from "../mayastor/port.ts";
import type { Logger } from "../observability/log.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { EcTierPorts } from "./ports.ts";
import type { EcTierState } from "./state.ts";
import { type EcAction, type EcObservation, ecStep, isEcTerminal } from "./step.ts";
import type { StateSaver } from "../machine/driver.ts";

/** An open erasure-coded volume: its store. */
export interface OpenEcVolume {
  store: EcStore;
}

/** Where EC volumes are opened, published and released (the ErasureCodingPolicy controller). */
export interface EcVolumeHost {
  /** Opens (once, shared) the binding's store. */
  open(b: EcVolumeBinding, policy: ErasureCodingPolicy): Promise<OpenEcVolume>;
  /** Publishes the volume's ECStripes now. */
  record(b: EcVolumeBinding, policy: ErasureCodingPolicy, signal?: AbortSignal): Promise<void>;
  /** Closes the store and deletes the volume's ECStripes. */
  release(volume: string, signal?: AbortSignal): Promise<void>;
  /** Asks for a reconcile of an ErasureCodingPolicy. */
  enqueue?(policy: string): void;
}

/** The bindings the host reconciles; the executor adds and removes the volume's. */
export interface EcBindingRegistry {
  bind(b: EcVolumeBinding): void;
  unbind(volume: string): void;
}

/** What the executor needs. */
export interface EcExecutorDeps {
  backend: VolumeBackend;
  ports: EcTierPorts;
  store: StateSaver<EcTierState>;
  host: EcVolumeHost;
  bindings: EcBindingRegistry;
  /** The ErasureCodingPolicy of that name (throws when it does not exist). */
  ecPolicy(name: string, signal?: AbortSignal): Promise<ErasureCodingPolicy>;
  /** Reads of EC-tiered volumes through the cache (rehydration). */
  reader: EcVolumeReader;
  /** Preservation mode of a StoragePolicy now (default: off). */
  preservation?: (policy: string) => boolean;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  /** Wait between observations; 2 s by default. */
  pollIntervalMs?: number;
  /** Attempts to persist one state before giving up; default 10. */
  maxSaveAttempts?: number;
  /**
   * Test hook: called after each state is persisted and before its action runs (crash
   * injection: a throw here stops the operation exactly there, as a kill would).
   */
  afterSave?: (state: EcTierState, action: EcAction) => void | Promise<void>;
}

/** Thrown (with the last persisted state) when the caller aborts mid-way. */
export class EcTierInterrupted extends Error {
  constructor(readonly state: EcTierState) {
    super(`ec tier operation on ${state.volume} interrupted in ${state.phase}`);
    this.name = "EcTierInterrupted";
  }
}

/** The ErasureCodingPolicy controller's binding of an operation's store. */
export function bindingOf(s: EcTierState, targetDirs?: { id: string; path: string }[]) {
  const b: EcVolumeBinding = { volume: s.volume, policy: s.ecPolicy, dir: s.storeDir };
  // Only the first write (which names the target directories) may create the store.
  if (targetDirs) b.targetDirs = targetDirs;
  else b.existingOnly = true;
  return b;
}

/** Blocks of a volume of `size` bytes. */
export function blockCount(size: number, blockSize: number): number {
  return Math.ceil(size / blockSize);
}

/** Drives an operation (new or resumed) to a terminal phase and returns that state. */
export async function executeEcTier(
  initial: EcTierState,
  deps: EcExecutorDeps,
  signal?: AbortSignal,
): Promise<EcTierState> {
  const log = deps.logger.child("ec-tier", { volume: initial.volume, op: initial.id });
  const pollMs = deps.pollIntervalMs ?? 2000;
  const counted = !isEcTerminal(initial);
  if (counted) deps.metrics?.activeMigrations.inc();
  let state: EcTierState;
  try {
    state = await driveMachine<EcTierState, EcObservation, EcAction>(initial, {
      what: "the ec tier state",
      step: (s, o, now) =>
        ecStep(s, o, now, { pollMs, preservation: deps.preservation?.(s.policy) ?? false }),
      perform: (a, s, sig) => perform(a, s, deps, log, sig),
      resume: { kind: "resume" },
      store: deps.store,
      interrupted: (s) => new EcTierInterrupted(s),
      afterSave: deps.afterSave,
    }, {
      clock: deps.clock,
      log,
      retryDelayMs: pollMs,
      saveAttempts: deps.maxSaveAttempts,
      signal,
    });
  } finally {
    if (counted) deps.metrics?.activeMigrations.dec();
  }
  if (counted) {
    // The migrations metrics' result labels are the replica moves' (one vocabulary).
    const result = resultLabel(state.result ?? "Failed");
    deps.metrics?.migrationsTotal.inc({ from: state.from, to: state.to, result });
    const end = state.finishedAt ?? state.updatedAt;
    deps.metrics?.migrationDuration.observe({ result }, Math.max(0, end - state.startedAt) / 1000);
  }
  log.info("ec tier operation finished", { kind: state.kind, result: state.result });
  return state;
}

async function perform(
  action: EcAction,
  s: EcTierState,
  deps: EcExecutorDeps,
  log: Logger,
  signal?: AbortSignal,
): Promise<EcObservation> {
  if (action.kind === "none") return { kind: "resume" };
  if (action.kind === "observe") {
    if (!await pause(deps.clock, action.delayMs, signal)) return { kind: "resume" };
    try {
      return { kind: "volume", volume: await deps.backend.getVolume(s.volumeUuid, signal) };
    } catch (e) {
      log.warn("cannot read the volume", { error: e });
      return { kind: "unavailable", error: message(e) };
    }
  }
  try {
    return await act(action, s, deps, log, signal);
  } catch (e) {
    log.warn("ec tier action failed", { action: action.kind, error: e });
    // Anything but a final backend answer (disk, network) is retried until the deadline.
    const retryable = e instanceof BackendError ? e.retryable : true;
    return { kind: "actionFailed", action: action.kind, error: message(e), retryable };
  }
}

async function act(
  action: Exclude<EcAction, { kind: "none" | "observe" }>,
  s: EcTierState,
  deps: EcExecutorDeps,
  log: Logger,
  signal?: AbortSignal,
): Promise<EcObservation> {
  const blocks = blockCount(s.sizeBytes, s.blockSize);
  const span = (i: number) => Math.min(s.blockSize, s.sizeBytes - i * s.blockSize);
  switch (action.kind) {
    case "writeStripes": {
      const policy = await deps.ecPolicy(s.ecPolicy, signal);
      const dirs = [];
      for (const pool of s.shardPools) {
        dirs.push({ id: pool, path: await deps.ports.targets.ensure(pool, s.volume, signal) });
      }
      const vol = await deps.host.open(bindingOf(s, dirs), policy);
      const sha = createHash("sha256");
      for (let i = 0; i < blocks; i++) {
        if (signal?.aborted) throw new Error("aborted");
        const data = await deps.ports.data.read(s.volumeUuid, i * s.blockSize, span(i), {
          signal,
        });
        sha.update(data);
        await vol.store.write(blockObjectName(i), data); // journal first, destaged to stripes
      }
      await vol.store.destage();
      const stat = await vol.store.stat();
      log.info("volume written into stripes", {
        logical: stat.logicalBytes,
        stored: stat.storedBytes,
      });
      return {
        kind: "stripesWritten",
        sha256: sha.digest("hex"),
        logicalBytes: stat.logicalBytes,
        storedBytes: stat.storedBytes,
      };
    }
    case "recordStripes": {
      const policy = await deps.ecPolicy(s.ecPolicy, signal);
      deps.bindings.bind(bindingOf(s));
      await deps.host.record(bindingOf(s), policy, signal);
      deps.host.enqueue?.(s.ecPolicy);
      return { kind: "recorded" };
    }
    case "verifyStripes": {
      const policy = await deps.ecPolicy(s.ecPolicy, signal);
      const vol = await deps.host.open(bindingOf(s), policy);
      const report = await vol.store.scrub({ repair: false, parity: true, signal });
      const ec = createHash("sha256");
      const replica = createHash("sha256");
      for (let i = 0; i < blocks; i++) {
        ec.update(await vol.store.get(blockObjectName(i)));
        replica.update(
          await deps.ports.data.read(s.volumeUuid, i * s.blockSize, span(i), { signal }),
        );
      }
      return {
        kind: "verified",
        ecSha256: ec.digest("hex"),
        replicaSha256: replica.digest("hex"),
        problems: report.findings.length + report.unrecoverable.length,
      };
    }
    case "releaseReplicas":
      await deps.ports.replicas.releaseReplicas(s.volumeUuid, action.replicas, signal);
      log.info("replicas retired; the volume lives in stripes", { replicas: action.replicas });
      return { kind: "replicasReleased" };
    case "deleteStripes": {
      deps.bindings.unbind(s.volume);
      await deps.host.release(s.volume, signal);
      deps.reader.evict(s.volume, blocks);
      await Deno.remove(s.storeDir, { recursive: true }).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
      for (const pool of s.shardPools) await deps.ports.targets.remove(pool, s.volume, signal);
      deps.host.enqueue?.(s.ecPolicy);
      log.info("stripes deleted", { kind: s.kind });
      return { kind: "stripesDeleted" };
    }
    case "createReplicas": {
      const created: string[] = [];
      for (const pool of action.pools) {
        created.push(await deps.ports.replicas.createReplica(s.volumeUuid, pool, signal));
      }
      return { kind: "replicasCreated", replicas: created };
    }
    case "writeReplicas": {
      const sha = createHash("sha256");
      for (let i = 0; i < blocks; i++) {
        const data = await deps.reader.readBlock(s.volume, i); // through the cache
        sha.update(data);
        for (const r of action.replicas) {
          await deps.ports.data.write(s.volumeUuid, r, i * s.blockSize, data, signal);
        }
      }
      return { kind: "replicasWritten", sha256: sha.digest("hex") };
    }
    case "verifyReplicas": {
      const hashes: Record<string, string> = {};
      for (const r of action.replicas) {
        const sha = createHash("sha256");
        for (let i = 0; i < blocks; i++) {
          sha.update(
            await deps.ports.data.read(s.volumeUuid, i * s.blockSize, span(i), {
              replica: r,
              signal,
            }),
          );
        }
        hashes[r] = sha.digest("hex");
      }
      return { kind: "replicasVerified", hashes };
    }
    case "removeReplicas":
      for (const r of action.replicas) {
        await deps.ports.replicas.removeReplica(s.volumeUuid, r, signal);
      }
      return { kind: "replicasRemoved" };
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
