/**
 * Watching one replica's rebuild through the VolumeBackend port: polls the
 * volume on the injected clock and yields each observation until the replica is
 * fully rebuilt (done), has failed or vanished, or the signal aborts. Transient
 * backend errors are yielded as observations too, so the caller decides how many
 * it tolerates.
 */
import type { Clock } from "../clock.ts";
import { isHealthyReplica } from "../model/health.ts";
import type { Replica, Volume } from "../model/storage.ts";
import { BackendError, type VolumeBackend } from "./port.ts";

/** One look at the rebuilding replica. */
export type RebuildObservation =
  | { kind: "progress"; volume: Volume; replica: Replica; percent: number }
  | { kind: "done"; volume: Volume; replica: Replica }
  | { kind: "failed"; volume: Volume; replica: Replica }
  | { kind: "vanished"; volume?: Volume }
  | { kind: "error"; error: BackendError };

/** Options of watchRebuild. */
export interface WatchRebuildOptions {
  clock: Clock;
  /** Poll interval; default 2 s. */
  pollMs?: number;
  signal?: AbortSignal;
}

/** Yields observations of `replicaUuid` until it is done, failed or vanished. */
export async function* watchRebuild(
  backend: VolumeBackend,
  volumeUuid: string,
  replicaUuid: string,
  opts: WatchRebuildOptions,
): AsyncGenerator<RebuildObservation, void, void> {
  for (;;) {
    if (opts.signal?.aborted) return;
    let obs: RebuildObservation;
    try {
      const volume = await backend.getVolume(volumeUuid, opts.signal);
      const replica = volume?.replicas.find((r) => r.uuid === replicaUuid);
      if (!volume || !replica) obs = { kind: "vanished", volume };
      else if (replica.state === "Faulted" || replica.childState === "Faulted") {
        obs = { kind: "failed", volume, replica };
      } else if (isHealthyReplica(volume, replica)) obs = { kind: "done", volume, replica };
      else obs = { kind: "progress", volume, replica, percent: replica.rebuildProgress ?? 0 };
    } catch (e) {
      if (!(e instanceof BackendError)) throw e;
      obs = { kind: "error", error: e };
    }
    yield obs;
    if (obs.kind === "done" || obs.kind === "failed" || obs.kind === "vanished") return;
    try {
      await opts.clock.sleep(opts.pollMs ?? 2_000, opts.signal);
    } catch {
      return; // aborted
    }
  }
}
