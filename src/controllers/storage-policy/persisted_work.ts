/**
 * What a PV's persisted work annotations say, read with the machines' own codecs: a replica move
 * (`storage.billyronks.io/migration`) or an EC tier operation (`storage.billyronks.io/ec-tier`)
 * that has not finished holds the volume; an unreadable one holds it too (the work may be real)
 * and is reported, never acted on. The controller and `couchestor explain` read PVs the same way.
 */
import { ecTierCodec } from "../../ectier/store.ts";
import { isEcTerminal } from "../../ectier/step.ts";
import { type PvIdentity, readPvState } from "../../machine/pv_state_store.ts";
import { isTerminal } from "../../migration/step.ts";
import { moveCodec } from "../../migration/store.ts";

/** Whether unfinished work is persisted on the PV, and what is wrong with an unreadable one. */
export interface PersistedWork {
  inFlight: boolean;
  problem?: string;
}

/**
 * Reads both machines' annotations of a PV the way their stores do (a state naming another
 * volume is refused like an unreadable one).
 */
export function persistedWork(
  pv: PvIdentity & { metadata: { annotations?: Record<string, string> } },
): PersistedWork {
  const move = readPvState(moveCodec, pv);
  if (move && !move.ok) {
    return { inFlight: true, problem: `${moveCodec.annotation}: ${move.error}` };
  }
  if (move?.ok && !isTerminal(move.state)) return { inFlight: true };
  const ec = readPvState(ecTierCodec, pv);
  if (ec && !ec.ok) return { inFlight: true, problem: `${ecTierCodec.annotation}: ${ec.error}` };
  if (ec?.ok && !isEcTerminal(ec.state)) return { inFlight: true };
  return { inFlight: false };
}
