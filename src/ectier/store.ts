/**
 * Where EC tier operations persist: the PV annotation `storage.billyronks.io/ec-tier` (distinct
 * from replica moves'), through the shared conditional-write store. When an operation ends, the
 * same patch stamps `storage.billyronks.io/last-migration` (the cooldown), as moves do.
 */
import type { KubeClient } from "../kube/client.ts";
import { PvStateStore, type StateCodec, type StateStore } from "../machine/pv_state_store.ts";
import { formatLastMigration, LAST_MIGRATION_ANNOTATION } from "../tiering/cooldown.ts";
import {
  decodeEcTierState,
  EC_TIER_ANNOTATION,
  type EcTierState,
  encodeEcTierState,
} from "./state.ts";
import { isEcTerminal } from "./step.ts";

/** Persistence of EC tier states, one per volume. */
export type EcTierStore = StateStore<EcTierState>;

/** The EC tier state's annotation codec (plus last-migration once the operation ended). */
export const ecTierCodec: StateCodec<EcTierState> = {
  annotation: EC_TIER_ANNOTATION,
  encode: encodeEcTierState,
  decode: decodeEcTierState,
  alongside: (s): Record<string, string> =>
    isEcTerminal(s)
      ? { [LAST_MIGRATION_ANNOTATION]: formatLastMigration(s.finishedAt ?? s.updatedAt) }
      : {},
};

/** The EC tier store on PersistentVolumes. */
export function pvEcTierStore(
  client: Pick<KubeClient, "get" | "patch" | "listAll" | "confirmLeadership">,
): EcTierStore {
  return new PvStateStore(client, ecTierCodec);
}
