/**
 * One replica move through the VolumeBackend port: add a replica on the chosen
 * pool, wait until it is Online and fully rebuilt, then retire the exact old
 * replica. If the newcomer fails, stalls past the deadline or vanishes, it is
 * retired instead (rollback) and the old replicas stay untouched, so a move never
 * leaves the volume with fewer healthy replicas than it started with. The
 * persisted, resumable migration state machine lives in migration/; this is the
 * backend sequence it drives (and what tests and the demo use directly).
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/log.ts";
import { healthyReplicas } from "../model/health.ts";
import type { Replica } from "../model/storage.ts";
import type { VolumeBackend } from "./port.ts";
import { watchRebuild } from "./watch.ts";

/** Where a move stopped. */
export type MovePhase = "add" | "rebuild" | "retire";

/** A move that did not complete; `rolledBack` tells whether the newcomer was removed. */
export class MoveError extends Error {
  constructor(
    message: string,
    readonly phase: MovePhase,
    readonly rolledBack: boolean,
    readonly newReplica?: string,
  ) {
    super(message);
    this.name = "MoveError";
  }
}

/** Settings of one move. */
export interface MoveOptions {
  clock: Clock;
  logger: Logger;
  /** Poll interval while the newcomer rebuilds; default 2 s. */
  pollMs?: number;
  /** Give up on the rebuild after this long; default 1 h. */
  rebuildTimeoutMs?: number;
  signal?: AbortSignal;
  /** Called with the newcomer on every poll (rebuild progress for logs/status). */
  onProgress?: (r: Replica) => void;
}

/** What a completed move did. */
export interface MoveResult {
  newReplica: string;
  retiredReplica: string;
}

/** Moves `fromReplica` of `volumeUuid` to `toPool`. */
export async function moveReplica(
  backend: VolumeBackend,
  volumeUuid: string,
  fromReplica: string,
  toPool: string,
  opts: MoveOptions,
): Promise<MoveResult> {
  const log = opts.logger.child("move", { volume: volumeUuid, from: fromReplica, to: toPool });
  const pollMs = opts.pollMs ?? 2_000;
  const v0 = await backend.getVolume(volumeUuid, opts.signal);
  if (!v0) throw new MoveError(`volume ${volumeUuid} not found`, "add", true);
  if (!v0.replicas.some((r) => r.uuid === fromReplica)) {
    throw new MoveError(`replica ${fromReplica} is not part of ${volumeUuid}`, "add", true);
  }
  const startHealthy = healthyReplicas(v0).length;

  let newId: string;
  try {
    newId = await backend.addReplica(volumeUuid, toPool, opts.signal);
  } catch (e) {
    throw new MoveError(`adding a replica on ${toPool} failed: ${msg(e)}`, "add", true);
  }
  log.info("replica added, rebuilding", { replica: newId });

  const deadline = opts.clock.now() + (opts.rebuildTimeoutMs ?? 3_600_000);
  let why: string | undefined;
  let keepNew = false;
  let done = false;
  const watch = watchRebuild(backend, volumeUuid, newId, {
    clock: opts.clock,
    pollMs,
    signal: opts.signal,
  });
  for await (const o of watch) {
    if (o.kind === "error") {
      log.warn("polling the rebuild failed; will retry", { error: o.error.message });
    } else if (o.kind === "vanished") {
      why = "the new replica vanished";
      break;
    } else {
      opts.onProgress?.(o.replica);
      if (o.kind === "failed") {
        why = "the rebuild failed (child Faulted)";
        break;
      }
      if (o.kind === "done") {
        const healthy = healthyReplicas(o.volume);
        const after = healthy.length - (healthy.some((x) => x.uuid === fromReplica) ? 1 : 0);
        if (after >= startHealthy) {
          done = true;
          break;
        }
        // Another replica failed meanwhile: retiring the old one would leave fewer
        // healthy copies than we started with, and the newcomer is a good copy.
        why = "another replica failed during the move; keeping the old and the new replica";
        keepNew = true;
        break;
      }
    }
    if (opts.clock.now() >= deadline) {
      why = "the rebuild did not finish in time";
      break;
    }
  }
  if (!done && why === undefined) why = "aborted";
  if (why !== undefined && keepNew) {
    throw new MoveError(`move stopped: ${why}`, "rebuild", false, newId);
  }
  if (why !== undefined) {
    let rolledBack = false;
    try {
      await backend.retireReplica(volumeUuid, newId);
      rolledBack = true;
    } catch (e) {
      log.error("rollback of the new replica failed", { replica: newId, error: msg(e) });
    }
    throw new MoveError(`move stopped: ${why}`, "rebuild", rolledBack, newId);
  }

  try {
    await backend.retireReplica(volumeUuid, fromReplica, opts.signal);
  } catch (e) {
    // The volume keeps one extra healthy replica: safe, and the caller may retry retire.
    throw new MoveError(`retiring ${fromReplica} failed: ${msg(e)}`, "retire", false, newId);
  }
  log.info("replica moved", { replica: newId });
  return { newReplica: newId, retiredReplica: fromReplica };
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
