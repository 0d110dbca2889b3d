/**
 * What a PV's persisted work annotations say, read with the machines' own codecs: a replica move
 * (`storage.billyronks.io/migration`) or an EC tier operation (`storage.billyronks.io/ec-tier`)
 * that has not finished holds the volume; an unreadable one holds it too (the work may be real)
 * and is reported, never acted on. The controller and `couchestor explain` read PVs the same way.
 */
import { decodeEcTierState, EC_TIER_ANNOTATION } from "../../ectier/state.ts";
import { isEcTerminal } from "../../ectier/step.ts";
import { decodeMoveState, MIGRATION_ANNOTATION } from "../../migration/state.ts";
import { isTerminal } from "../../migration/step.ts";

/** Whether unfinished work is persisted on the PV, and what is wrong with an unreadable one. */
export interface PersistedWork {
  inFlight: boolean;
  problem?: string;
}

/** Reads both machines' annotations of a PV. */
export function persistedWork(
  annotations: Readonly<Record<string, string>> | undefined,
): PersistedWork {
  const move = annotations?.[MIGRATION_ANNOTATION];
  if (move !== undefined) {
    const r = decodeMoveState(move);
    if (!r.ok) return { inFlight: true, problem: `${MIGRATION_ANNOTATION}: ${r.error}` };
    if (!isTerminal(r.state)) return { inFlight: true };
  }
  const ec = annotations?.[EC_TIER_ANNOTATION];
  if (ec !== undefined) {
    const r = decodeEcTierState(ec);
    if (!r.ok) return { inFlight: true, problem: `${EC_TIER_ANNOTATION}: ${r.error}` };
    if (!isEcTerminal(r.state)) return { inFlight: true };
  }
  return { inFlight: false };
}
