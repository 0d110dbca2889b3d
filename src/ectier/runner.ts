/**
 * EcTierRunner: the EC cold tier as the StoragePolicy controller calls it. It runs the EC moves
 * (`start`) and rehydrations (`rehydrate`) the pass planned, in the background, resumes them after a restart
 * (`resume`), answers what is in flight, and is the ErasureCodingPolicy controller's source of
 * bindings (every volume whose stripes exist is bound to its ErasureCodingPolicy).
 */
import type { ErasureCodingPolicy } from "../api/mod.ts";
import type { EcBindingSource, EcVolumeBinding } from "./bindings.ts";
import type { Tier } from "../model/storage.ts";
import {
  bindingOf,
  type EcBindingRegistry,
  type EcExecutorDeps,
  EcTierInterrupted,
  executeEcTier,
} from "./executor.ts";
import {
  type EcTierState,
  holdsStripes,
  isEcTiered,
  planEcMove,
  planRehydration,
} from "./state.ts";
import { isEcTerminal } from "./step.ts";
import type { EcTierStore } from "./store.ts";
import type { InFlight } from "../machine/inflight.ts";

/** A volume as the controller knows it. */
export interface EcTierVolume {
  /** PersistentVolume name. */
  name: string;
  /** Mayastor volume uuid. */
  uuid: string;
  sizeBytes: number;
  /** Tier its replicas are on now. */
  tier: Tier;
}

/** An archive to start: the volume, its policies and the shard pools chosen for it. */
export interface EcArchiveWork {
  id: string;
  /** StoragePolicy name. */
  policy: string;
  volume: EcTierVolume;
  ecPolicy: ErasureCodingPolicy;
  /** One pool per failure domain: the first k+m hold shards, the rest are spares. */
  shardPools: readonly string[];
  triggerIOPS: number;
  timeoutMs: number;
}

/** A restore to start: the EC-tiered volume, its new tier and the replica pools. */
export interface EcRestoreWork {
  id: string;
  /** PersistentVolume name. */
  volume: string;
  to: Tier;
  targetPools: readonly string[];
  triggerIOPS: number;
  timeoutMs: number;
}

/** Why start/rehydrate did (not) begin. */
export type EcStartResult =
  | { started: true; state: EcTierState }
  | { started: false; reason: "Busy" | "NotEcTiered"; message: string };

/** Settings beyond the executor's dependencies. */
export interface EcTierRunnerOptions {
  /** Directory of the EC stores (manifest and journal), one subdirectory per volume. */
  storeRoot: string;
  /** Bytes per block object (rounded to whole stripes); default 1 MiB. */
  blockBytes?: number;
  /** Called once per operation that reached a terminal phase (history, Events, cooldown). */
  onFinished?: (state: EcTierState) => void | Promise<void>;
}

/** The in-flight registry's kind for EC tier operations. */
export const EC_TIER_KIND = "ec-tier";

/** Dependencies: the executor's, minus the bindings (the runner keeps them). */
export interface EcTierRunnerDeps extends Omit<EcExecutorDeps, "bindings" | "store"> {
  store: EcTierStore;
  /** The operator's one registry of work on volumes (shared with replica moves). */
  inFlight: InFlight;
}

/** Background runner of EC moves and rehydrations. */
export class EcTierRunner implements EcBindingSource, EcBindingRegistry {
  readonly #deps: EcExecutorDeps;
  readonly #store: EcTierStore;
  readonly #inFlight: InFlight;
  readonly #opts: EcTierRunnerOptions;
  readonly #bound = new Map<string, EcVolumeBinding>();
  /** Last known state per volume (in flight, or EC-tiered). */
  readonly #states = new Map<string, EcTierState>();
  readonly #ac = new AbortController();
  /** Operations run under the current leadership term's signal (set by resume). */
  #term: AbortSignal = this.#ac.signal;
  /** Operations that stopped on an unexpected error (they resume on the next resume()). */
  readonly errors: { volume: string; error: unknown }[] = [];

  constructor(deps: EcTierRunnerDeps, opts: EcTierRunnerOptions) {
    this.#opts = opts;
    this.#store = deps.store;
    this.#inFlight = deps.inFlight;
    this.#deps = {
      ...deps,
      bindings: this,
      // Every persisted state is also the runner's view of the volume.
      store: {
        save: async (s) => {
          await deps.store.save(s);
          this.#states.set(s.volume, s);
        },
      },
    };
  }

  /** The ErasureCodingPolicy controller's bindings: every volume whose stripes exist. */
  bindings(): readonly EcVolumeBinding[] {
    return [...this.#bound.values()];
  }

  /** Binds a volume's store (called by the executor once its stripes are recorded). */
  bind(b: EcVolumeBinding): void {
    this.#bound.set(b.volume, b);
  }

  /** Unbinds a volume's store (its stripes are being deleted). */
  unbind(volume: string): void {
    this.#bound.delete(volume);
  }

  /** True while an operation of this volume runs. */
  isBusy(volume: string): boolean {
    return this.#inFlight.kindOf(volume) === EC_TIER_KIND;
  }

  /** True when the volume's data lives in EC stripes. */
  isEcTiered(volume: string): boolean {
    const s = this.#states.get(volume);
    return s !== undefined && isEcTiered(s);
  }

  /** The volume's last known state. */
  state(volume: string): EcTierState | undefined {
    return this.#states.get(volume);
  }

  /** Operations in flight, of one StoragePolicy or of all. */
  inFlight(policy?: string): number {
    return this.#inFlight.count(policy, EC_TIER_KIND);
  }

  /** EC-tiered volumes of a StoragePolicy (its status.ecVolumes). */
  tieredVolumes(policy: string): number {
    let n = 0;
    for (const s of this.#states.values()) if (s.policy === policy && isEcTiered(s)) n++;
    return n;
  }

  /** Logical and stored bytes of a StoragePolicy's EC-tiered volumes (its status.ecBytes). */
  ecBytes(policy: string): { logical: number; stored: number; efficiency: number } {
    let logical = 0;
    let stored = 0;
    for (const s of this.#states.values()) {
      if (s.policy !== policy || !isEcTiered(s)) continue;
      logical += s.logicalBytes ?? 0;
      stored += s.storedBytes ?? 0;
    }
    const efficiency = stored > 0 ? Math.round((logical / stored) * 1000) / 1000 : 0;
    return { logical, stored, efficiency };
  }

  /**
   * Starts archiving a cold-bound volume into EC stripes on the shard pools the pass chose
   * (placeShards); says why not when the volume is busy or EC-tiered already.
   */
  start(w: EcArchiveWork): EcStartResult {
    const { volume, ecPolicy } = w;
    if (this.#inFlight.has(volume.name) || this.isEcTiered(volume.name)) {
      return { started: false, reason: "Busy", message: `${volume.name} is busy or EC-tiered` };
    }
    const stripe = ecPolicy.spec.stripeSizeBytes;
    const want = this.#opts.blockBytes ?? 1 << 20;
    return this.#begin(planEcMove({
      id: w.id,
      policy: w.policy,
      ecPolicy: ecPolicy.metadata.name!,
      volume: volume.name,
      volumeUuid: volume.uuid,
      sizeBytes: volume.sizeBytes,
      from: volume.tier,
      storeDir: `${this.#opts.storeRoot}/${volume.name}`,
      shardPools: w.shardPools,
      blockSize: Math.max(1, Math.round(want / stripe)) * stripe,
      triggerIOPS: w.triggerIOPS,
      now: this.#deps.clock.now(),
      timeoutMs: w.timeoutMs,
    }));
  }

  /** Starts bringing an EC-tiered volume back onto replicas on the pools the pass chose. */
  rehydrate(w: EcRestoreWork): EcStartResult {
    const tiered = this.#states.get(w.volume);
    if (this.#inFlight.has(w.volume)) {
      return { started: false, reason: "Busy", message: `${w.volume} is busy` };
    }
    if (!tiered || !isEcTiered(tiered)) {
      return { started: false, reason: "NotEcTiered", message: `${w.volume} is not EC-tiered` };
    }
    return this.#begin(planRehydration(tiered, {
      id: w.id,
      to: w.to,
      targetPools: w.targetPools,
      triggerIOPS: w.triggerIOPS,
      now: this.#deps.clock.now(),
      timeoutMs: w.timeoutMs,
    }));
  }

  #begin(state: EcTierState): EcStartResult {
    if (!this.#launch(state)) {
      return { started: false, reason: "Busy", message: `${state.volume} is busy` };
    }
    return { started: true, state };
  }

  /**
   * After a restart (or on becoming leader, `term` aborting when leadership ends): binds every
   * volume whose stripes exist, starts every unfinished operation and forgets finished ones
   * that left nothing in the EC tier. Operations started later run under the same term.
   */
  async resume(
    term?: AbortSignal,
  ): Promise<{ resumed: number; tiered: number; unreadable: number }> {
    this.#term = term ? AbortSignal.any([this.#ac.signal, term]) : this.#ac.signal;
    const { states, unreadable } = await this.#store.list(this.#term);
    let resumed = 0;
    let tiered = 0;
    for (const s of states) {
      this.#states.set(s.volume, s);
      if (holdsStripes(s) && (isEcTerminal(s) || s.phase !== "Planned")) {
        // Bound only once recorded (or beyond): a write in progress is not published yet.
        if (!(s.kind === "ec-move" && (s.phase === "Writing" || s.phase === "Written"))) {
          this.bind(bindingOf(s));
        }
      }
      if (isEcTiered(s) && isEcTerminal(s)) tiered++;
      if (!isEcTerminal(s)) {
        if (this.#launch(s)) resumed++;
      } else if (!isEcTiered(s)) {
        await this.#forget(s);
      }
    }
    return { resumed, tiered, unreadable: unreadable.length };
  }

  /** Resolves once nothing runs. */
  idle(): Promise<void> {
    return this.#inFlight.drain(EC_TIER_KIND);
  }

  /** Interrupts every operation between steps (states stay persisted) and waits. */
  async stop(): Promise<void> {
    this.#ac.abort(new Error("runner stopped"));
    await this.idle();
  }

  #launch(state: EcTierState): boolean {
    const term = this.#term;
    if (term.aborted) return false;
    const owner = { policy: state.policy, kind: EC_TIER_KIND };
    const started = this.#inFlight.start(state.volume, owner, async () => {
      try {
        const end = await executeEcTier(state, this.#deps, term);
        await this.#opts.onFinished?.(end);
        if (!isEcTiered(end)) await this.#forget(end);
      } catch (e) {
        if (!(e instanceof EcTierInterrupted)) {
          this.errors.push({ volume: state.volume, error: e });
          this.#deps.logger.error("ec tier operation stopped; it resumes on the next resume()", {
            volume: state.volume,
            error: e,
          });
        }
      }
    });
    if (started) this.#states.set(state.volume, state);
    return started;
  }

  /** A finished operation that left the volume on replicas: its annotation goes. */
  async #forget(s: EcTierState): Promise<void> {
    this.#states.delete(s.volume);
    await this.#store.clear(s.volume);
  }
}
