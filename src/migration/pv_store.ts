/**
 * MoveStore on PersistentVolumes: the move state lives in the PV annotation
 * `storage.billyronks.io/migration` (JSON, see state.ts). When a move ends, the same patch
 * stamps `storage.billyronks.io/last-migration`, so the cooldown and the final state are
 * written together or not at all.
 */
import { ApiError } from "../kube/errors.ts";
import type { KubeClient } from "../kube/client.ts";
import { BuiltinResources } from "../kube/resource.ts";
import type { KubeObject } from "../kube/resource.ts";
import { formatLastMigration, LAST_MIGRATION_ANNOTATION } from "../tiering/cooldown.ts";
import { decodeMoveState, encodeMoveState, MIGRATION_ANNOTATION, type MoveState } from "./state.ts";
import { isTerminal } from "./step.ts";
import { MoveStoreError, type UnreadableMove } from "./store.ts";
import type { MoveStore } from "./store.ts";

/** The client calls this store makes (a KubeClient satisfies it). */
export type PvClient = Pick<KubeClient, "get" | "patch" | "listAll">;

const PV = BuiltinResources.persistentVolumes;

/** Persists moves on the PersistentVolumes themselves. */
export class PvMoveStore implements MoveStore {
  constructor(readonly client: PvClient, readonly opts: { signal?: AbortSignal } = {}) {}

  /** Merge-patches the annotation (plus last-migration when the move ended and did something). */
  async save(state: MoveState): Promise<void> {
    const annotations: Record<string, string> = {
      [MIGRATION_ANNOTATION]: encodeMoveState(state),
    };
    if (isTerminal(state) && state.result !== "DryRun") {
      // Any move that touched the backend starts the cooldown, so a failing move is not
      // retried on every pass.
      annotations[LAST_MIGRATION_ANNOTATION] = formatLastMigration(
        state.finishedAt ?? state.updatedAt,
      );
    }
    await this.client.patch(PV, state.volume, { metadata: { annotations } }, {
      signal: this.opts.signal,
    });
  }

  /** The PV's move, undefined when the PV or the annotation is absent. */
  async load(volume: string): Promise<MoveState | undefined> {
    let pv: KubeObject;
    try {
      pv = await this.client.get(PV, volume, { signal: this.opts.signal });
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
    const raw = pv.metadata.annotations?.[MIGRATION_ANNOTATION];
    if (raw === undefined) return undefined;
    const r = decodeMoveState(raw);
    if (!r.ok) throw new MoveStoreError(`${volume}: ${r.error}`, volume);
    return r.state;
  }

  /** Every PV carrying a move annotation. */
  async list(): Promise<{ moves: MoveState[]; unreadable: UnreadableMove[] }> {
    const { items } = await this.client.listAll(PV, { signal: this.opts.signal });
    const moves: MoveState[] = [];
    const unreadable: UnreadableMove[] = [];
    for (const pv of items) {
      const raw = pv.metadata.annotations?.[MIGRATION_ANNOTATION];
      if (raw === undefined) continue;
      const r = decodeMoveState(raw);
      if (r.ok) moves.push(r.state);
      else unreadable.push({ key: pv.metadata.name ?? "?", error: r.error });
    }
    return { moves, unreadable };
  }

  /** Removes the move annotation (last-migration stays). A deleted PV is not an error. */
  async clear(volume: string): Promise<void> {
    try {
      await this.client.patch(PV, volume, {
        metadata: { annotations: { [MIGRATION_ANNOTATION]: null } },
      }, { signal: this.opts.signal });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }
}
