/**
 * Where replica moves persist: the PV annotation `storage.billyronks.io/migration` (through
 * the shared conditional-write store, src/machine/pv_state_store.ts). A completed move also
 * stamps `storage.billyronks.io/last-migration` in the same patch, which the cooldown reads.
 */
import type { KubeClient } from "../kube/client.ts";
import { PvStateStore, type StateCodec, type StateStore } from "../machine/pv_state_store.ts";
import { formatLastMigration, LAST_MIGRATION_ANNOTATION } from "../tiering/cooldown.ts";
import { decodeMoveState, encodeMoveState, MIGRATION_ANNOTATION, type MoveState } from "./state.ts";

/** Persistence of move states, one per volume. */
export type MoveStore = StateStore<MoveState>;

/** True when the move ended with data on the target tier (the cooldown starts then). */
export function isCompletedMove(s: MoveState): boolean {
  return s.phase === "Done" && (s.result === "Succeeded" || s.result === "Preserved");
}

/** The move state's annotation codec: the state, plus last-migration once the move completed. */
export const moveCodec: StateCodec<MoveState> = {
  annotation: MIGRATION_ANNOTATION,
  encode: encodeMoveState,
  decode: decodeMoveState,
  alongside: (s): Record<string, string> =>
    isCompletedMove(s)
      ? { [LAST_MIGRATION_ANNOTATION]: formatLastMigration(s.finishedAt ?? s.updatedAt) }
      : {},
};

/** The move store on PersistentVolumes. */
export function pvMoveStore(
  client: Pick<KubeClient, "get" | "patch" | "listAll" | "confirmLeadership">,
): MoveStore {
  return new PvStateStore(client, moveCodec);
}
