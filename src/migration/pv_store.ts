/**
 * MoveStore on PersistentVolume annotations: the move state lives in
 * `storage.billyronks.io/migration` on the volume's PV, written with a merge patch that the
 * API server has acknowledged before the executor performs the step, so a restarted
 * operator (any replica, any node) finds every move in flight. A completed move also stamps
 * `storage.billyronks.io/last-migration` in the same patch, which the cooldown reads.
 */
import type { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import type { KubeObject, ResourceRef } from "../kube/resource.ts";
import { BuiltinResources } from "../kube/resource.ts";
import { formatLastMigration, LAST_MIGRATION_ANNOTATION } from "../tiering/cooldown.ts";
import { decodeMoveState, encodeMoveState, MIGRATION_ANNOTATION, type MoveState } from "./state.ts";
import { type MoveStore, MoveStoreError, type UnreadableMove } from "./store.ts";

/** True when the move ended with data on the target tier (the cooldown starts then). */
export function isCompletedMove(s: MoveState): boolean {
  return s.phase === "Done" && (s.result === "Succeeded" || s.result === "Preserved");
}

/** The annotations one save writes: the state, plus last-migration once the move completed. */
export function annotationsFor(s: MoveState): Record<string, string> {
  const out: Record<string, string> = { [MIGRATION_ANNOTATION]: encodeMoveState(s) };
  if (isCompletedMove(s)) {
    out[LAST_MIGRATION_ANNOTATION] = formatLastMigration(s.finishedAt ?? s.updatedAt);
  }
  return out;
}

/** A MoveStore keeping each move in its PersistentVolume's annotations. */
export class PvAnnotationMoveStore implements MoveStore {
  readonly #client: KubeClient;
  readonly #res: ResourceRef;
  readonly #signal?: AbortSignal;

  /** `res` defaults to core/v1 persistentvolumes. */
  constructor(client: KubeClient, opts: { resource?: ResourceRef; signal?: AbortSignal } = {}) {
    this.#client = client;
    this.#res = opts.resource ?? BuiltinResources.persistentVolumes;
    this.#signal = opts.signal;
  }

  /** Merge-patches the annotations; resolves once the API server stored them. */
  async save(state: MoveState): Promise<void> {
    await this.#client.patch(this.#res, state.volume, {
      metadata: { annotations: annotationsFor(state) },
    }, { signal: this.#signal });
  }

  /** The PV's move, undefined when the PV or the annotation is absent. */
  async load(volume: string): Promise<MoveState | undefined> {
    let pv: KubeObject;
    try {
      pv = await this.#client.get(this.#res, volume, { signal: this.#signal });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
    const text = pv.metadata.annotations?.[MIGRATION_ANNOTATION];
    if (text === undefined) return undefined;
    const r = decodeMoveState(text);
    if (!r.ok) throw new MoveStoreError(`${volume}: ${r.error}`, volume);
    return r.state;
  }

  /** Every PV carrying a move annotation. */
  async list(signal?: AbortSignal): Promise<{ moves: MoveState[]; unreadable: UnreadableMove[] }> {
    const { items } = await this.#client.listAll(this.#res, { signal: signal ?? this.#signal });
    const moves: MoveState[] = [];
    const unreadable: UnreadableMove[] = [];
    for (const pv of items) {
      const text = pv.metadata.annotations?.[MIGRATION_ANNOTATION];
      if (text === undefined) continue;
      const r = decodeMoveState(text);
      if (r.ok) moves.push(r.state);
      else unreadable.push({ key: pv.metadata.name ?? "", error: r.error });
    }
    return { moves, unreadable };
  }

  /** Removes the move annotation (keeps last-migration); no error when the PV is gone. */
  async clear(volume: string): Promise<void> {
    try {
      await this.#client.patch(this.#res, volume, {
        metadata: { annotations: { [MIGRATION_ANNOTATION]: null } },
      }, { signal: this.#signal });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** A MoveStore in memory, for dry-run moves (which must not touch any PV). */
export class MemoryMoveStore implements MoveStore {
  readonly #m = new Map<string, MoveState>();

  /** Keeps the state. */
  save(state: MoveState): Promise<void> {
    this.#m.set(state.volume, state);
    return Promise.resolve();
  }

  /** The kept state. */
  load(volume: string): Promise<MoveState | undefined> {
    return Promise.resolve(this.#m.get(volume));
  }

  /** Every kept state. */
  list(): Promise<{ moves: MoveState[]; unreadable: UnreadableMove[] }> {
    return Promise.resolve({ moves: [...this.#m.values()], unreadable: [] });
  }

  /** Forgets the state. */
  clear(volume: string): Promise<void> {
    this.#m.delete(volume);
    return Promise.resolve();
  }
}
