/**
 * EcTierStore: where EC tier states are persisted before each step, on the PersistentVolume
 * (annotation `storage.billyronks.io/ec-tier`, distinct from replica moves' annotation). When an
 * operation ends, the same patch stamps `storage.billyronks.io/last-migration` (the cooldown),
 * as replica moves do.
 */
import { ApiError } from "../kube/errors.ts";
import type { KubeClient } from "../kube/client.ts";
import { BuiltinResources, type KubeObject } from "../kube/resource.ts";
import { MoveStoreError, type UnreadableMove } from "../migration/store.ts";
import { formatLastMigration, LAST_MIGRATION_ANNOTATION } from "../tiering/cooldown.ts";
import {
  decodeEcTierState,
  EC_TIER_ANNOTATION,
  type EcTierState,
  encodeEcTierState,
} from "./state.ts";
import { isEcTerminal } from "./step.ts";

/** Persistence of EC tier states, one per volume. */
export interface EcTierStore {
  /** Persists the volume's state durably (replacing any previous one). */
  save(state: EcTierState): Promise<void>;
  /** The volume's state, undefined when none; throws MoveStoreError when unreadable. */
  load(volume: string): Promise<EcTierState | undefined>;
  /** Every persisted state, plus the ones that could not be read. */
  list(): Promise<{ states: EcTierState[]; unreadable: UnreadableMove[] }>;
  /** Forgets the volume's state (it no longer lives in, or moves to, the EC tier). */
  clear(volume: string): Promise<void>;
}

/** The client calls this store makes (a KubeClient satisfies it). */
export type PvClient = Pick<KubeClient, "get" | "patch" | "listAll">;

const PV = BuiltinResources.persistentVolumes;

/** Persists EC tier states on the PersistentVolumes themselves. */
export class PvEcTierStore implements EcTierStore {
  constructor(readonly client: PvClient, readonly opts: { signal?: AbortSignal } = {}) {}

  /** Merge-patches the annotation (plus last-migration when the operation ended). */
  async save(state: EcTierState): Promise<void> {
    const annotations: Record<string, string> = { [EC_TIER_ANNOTATION]: encodeEcTierState(state) };
    if (isEcTerminal(state)) {
      annotations[LAST_MIGRATION_ANNOTATION] = formatLastMigration(
        state.finishedAt ?? state.updatedAt,
      );
    }
    await this.client.patch(PV, state.volume, { metadata: { annotations } }, {
      signal: this.opts.signal,
    });
  }

  /** The PV's state, undefined when the PV or the annotation is absent. */
  async load(volume: string): Promise<EcTierState | undefined> {
    let pv: KubeObject;
    try {
      pv = await this.client.get(PV, volume, { signal: this.opts.signal });
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
    const raw = pv.metadata.annotations?.[EC_TIER_ANNOTATION];
    if (raw === undefined) return undefined;
    const r = decodeEcTierState(raw);
    if (!r.ok) throw new MoveStoreError(`${volume}: ${r.error}`, volume);
    return r.state;
  }

  /** Every PV carrying the annotation. */
  async list(): Promise<{ states: EcTierState[]; unreadable: UnreadableMove[] }> {
    const { items } = await this.client.listAll(PV, { signal: this.opts.signal });
    const states: EcTierState[] = [];
    const unreadable: UnreadableMove[] = [];
    for (const pv of items) {
      const raw = pv.metadata.annotations?.[EC_TIER_ANNOTATION];
      if (raw === undefined) continue;
      const r = decodeEcTierState(raw);
      if (r.ok) states.push(r.state);
      else unreadable.push({ key: pv.metadata.name ?? "?", error: r.error });
    }
    return { states, unreadable };
  }

  /** Removes the annotation. A deleted PV is not an error. */
  async clear(volume: string): Promise<void> {
    try {
      await this.client.patch(PV, volume, {
        metadata: { annotations: { [EC_TIER_ANNOTATION]: null } },
      }, { signal: this.opts.signal });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }
}
