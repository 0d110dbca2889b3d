/**
 * EcTierRunner: the EC cold tier as the StoragePolicy controller calls it. It plans and runs EC
 * moves (`start`) and rehydrations (`rehydrate`) in the background, resumes them after a restart
 * (`resume`), answers what is in flight, and is the ErasureCodingPolicy controller's source of
 * bindings (every volume whose stripes exist is bound to its ErasureCodingPolicy).
 */
import type { ErasureCodingPolicy } from "../api/mod.ts";
import { totalShards } from "../api/mod.ts";
import type { LabelSelector } from "../api/meta.ts";
import type { EcBindingSource, EcVolumeBinding } from "../controllers/ec-policy/volume.ts";
import type { Tier } from "../model/storage.ts";
import {
  chooseEcTier,
  chooseRehydrationPools,
  chooseShardPools,
  type EcTierSpec,
} from "./decide.ts";
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

/** The StoragePolicy fields the runner reads. */
export interface EcTierPolicy {
  name: string;
  spec: EcTierSpec & {
    coldPoolSelector: LabelSelector;
    hotPoolSelector: LabelSelector;
    warmPoolSelector: LabelSelector;
    /** migrationTimeout in ms. */
    timeoutMs?: number;
  };
}

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

/** Why start/rehydrate did (not) begin. */
export type EcStartResult =
  | { started: true; state: EcTierState }
  | {
    started: false;
    reason: "Busy" | "NotEcTier" | "NotEnoughColdPools" | "NotEcTiered" | "NoTargetPool";
    message: string;
  };

/** Settings beyond the executor's dependencies. */
export interface EcTierRunnerOptions {
  /** Directory of the EC stores (manifest and journal), one subdirectory per volume. */
  storeRoot: string;
  /** Bytes per block object (rounded to whole stripes); default 1 MiB. */
  blockBytes?: number;
  /** Default operation timeout when the policy gives none; 30 min. */
  timeoutMs?: number;
  /** Called once per operation that reached a terminal phase (history, Events, cooldown). */
  onFinished?: (state: EcTierState) => void | Promise<void>;
}

/** Dependencies: the executor's, minus the bindings (the runner keeps them). */
export type EcTierRunnerDeps = Omit<EcExecutorDeps, "bindings">;

/** Background runner of EC moves and rehydrations. */
export class EcTierRunner implements EcBindingSource, EcBindingRegistry {
  readonly #deps: EcExecutorDeps;
  readonly #opts: EcTierRunnerOptions;
  readonly #running = new Map<string, { policy: string; done: Promise<void> }>();
  readonly #bound = new Map<string, EcVolumeBinding>();
  /** Last known state per volume (in flight, or EC-tiered). */
  readonly #states = new Map<string, EcTierState>();
  readonly #ac = new AbortController();
  /** Operations that stopped on an unexpected error (they resume on the next resume()). */
  readonly errors: { volume: string; error: unknown }[] = [];

  constructor(deps: EcTierRunnerDeps, opts: EcTierRunnerOptions) {
    this.#opts = opts;
    const store = deps.store;
    this.#deps = {
      ...deps,
      bindings: this,
      store: {
        ...store,
        save: async (s) => {
          await store.save(s);
          this.#states.set(s.volume, s);
        },
        load: (v) => store.load(v),
        list: () => store.list(),
        clear: (v) => store.clear(v),
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
    return this.#running.has(volume);
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
    let n = 0;
    for (const r of this.#running.values()) if (policy === undefined || r.policy === policy) n++;
    return n;
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
   * Starts moving a cold-bound volume into EC stripes, when the policy sends it there (see
   * chooseEcTier) and enough cold pools in distinct failure domains exist; otherwise says why
   * (the text is meant for a condition or an Event).
   */
  async start(
    volume: EcTierVolume,
    policy: EcTierPolicy,
    ecPolicy: ErasureCodingPolicy,
    triggerIOPS = 0,
  ): Promise<EcStartResult> {
    if (this.#running.has(volume.name) || this.isEcTiered(volume.name)) {
      return { started: false, reason: "Busy", message: `${volume.name} is busy or EC-tiered` };
    }
    const choice = chooseEcTier(policy.spec, "cold", volume.sizeBytes);
    if (!choice.ec) return { started: false, reason: "NotEcTier", message: choice.detail };
    const pools = await this.#deps.backend.listPools(this.#ac.signal);
    const shard = chooseShardPools(
      pools,
      policy.spec.coldPoolSelector,
      ecPolicy.spec.placement.failureDomainTopologyKey,
      totalShards(ecPolicy.spec),
    );
    if (!shard.ok) return { started: false, reason: shard.reason, message: shard.message };
    const stripe = ecPolicy.spec.stripeSizeBytes;
    const want = this.#opts.blockBytes ?? 1 << 20;
    const state = planEcMove({
      id: crypto.randomUUID(),
      policy: policy.name,
      ecPolicy: ecPolicy.metadata.name!,
      volume: volume.name,
      volumeUuid: volume.uuid,
      sizeBytes: volume.sizeBytes,
      from: volume.tier,
      storeDir: `${this.#opts.storeRoot}/${volume.name}`,
      shardPools: shard.pools,
      blockSize: Math.max(1, Math.round(want / stripe)) * stripe,
      triggerIOPS,
      now: this.#deps.clock.now(),
      timeoutMs: policy.spec.timeoutMs ?? this.#opts.timeoutMs ?? 30 * 60_000,
    });
    this.#launch(state);
    return { started: true, state };
  }

  /**
   * Starts bringing an EC-tiered volume back onto replicas of tier `to` (pools from the policy's
   * selector of that tier, one per node, as many as the volume's replica count).
   */
  async rehydrate(
    volume: string,
    policy: EcTierPolicy,
    to: Tier,
    triggerIOPS = 0,
  ): Promise<EcStartResult> {
    const tiered = this.#states.get(volume);
    if (this.#running.has(volume)) {
      return { started: false, reason: "Busy", message: `${volume} is busy` };
    }
    if (!tiered || !isEcTiered(tiered)) {
      return { started: false, reason: "NotEcTiered", message: `${volume} is not EC-tiered` };
    }
    const v = await this.#deps.backend.getVolume(tiered.volumeUuid, this.#ac.signal);
    const selector = to === "hot"
      ? policy.spec.hotPoolSelector
      : to === "warm"
      ? policy.spec.warmPoolSelector
      : policy.spec.coldPoolSelector;
    const pools = chooseRehydrationPools(
      await this.#deps.backend.listPools(this.#ac.signal),
      selector,
      tiered.sizeBytes,
      v?.replicaCount ?? 1,
    );
    if (pools.length === 0) {
      return { started: false, reason: "NoTargetPool", message: `no ${to} pool has room` };
    }
    const state = planRehydration(tiered, {
      id: crypto.randomUUID(),
      to,
      targetPools: pools,
      triggerIOPS,
      now: this.#deps.clock.now(),
      timeoutMs: policy.spec.timeoutMs ?? this.#opts.timeoutMs ?? 30 * 60_000,
    });
    this.#launch(state);
    return { started: true, state };
  }

  /**
   * After a restart: binds every volume whose stripes exist, starts every unfinished operation
   * and forgets finished ones that left nothing in the EC tier.
   */
  async resume(): Promise<{ resumed: number; tiered: number; unreadable: number }> {
    const { states, unreadable } = await this.#deps.store.list();
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
        if (!this.#running.has(s.volume)) {
          this.#launch(s);
          resumed++;
        }
      } else if (!isEcTiered(s)) {
        await this.#forget(s);
      }
    }
    return { resumed, tiered, unreadable: unreadable.length };
  }

  /** Resolves once nothing runs. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) {
      await Promise.all([...this.#running.values()].map((r) => r.done));
    }
  }

  /** Interrupts every operation between steps (states stay persisted) and waits. */
  async stop(): Promise<void> {
    this.#ac.abort(new Error("runner stopped"));
    await this.idle();
  }

  #launch(state: EcTierState): void {
    this.#states.set(state.volume, state);
    const done = (async () => {
      try {
        const end = await executeEcTier(state, this.#deps, this.#ac.signal);
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
      } finally {
        this.#running.delete(state.volume);
      }
    })();
    this.#running.set(state.volume, { policy: state.policy, done });
  }

  /** A finished operation that left the volume on replicas: its annotation goes. */
  async #forget(s: EcTierState): Promise<void> {
    this.#states.delete(s.volume);
    await this.#deps.store.clear(s.volume);
  }
}
