/**
 * The planner's view of a policy's volumes: each selected PV joined with its Mayastor volume and
 * read into plan facts (tier with the EC rule, cooldown, pins and opt-outs, backoff, approvals,
 * health, persisted work), plus what its annotations got wrong. The controller and
 * `couchestor explain` both build their pass input here, so they read a volume the same way.
 */
import type { Tier, Volume } from "../../model/storage.ts";
import type { OverrideProblem } from "../../tiering/overrides.ts";
import type { PassVolume } from "../../tiering/pass.ts";
import type { VolumeSubject } from "../../tiering/selection.ts";
import { volumeFacts } from "../../tiering/volume_facts.ts";
import { persistedWork } from "./persisted_work.ts";
import { mayastorVolumeUuid, type PersistentVolume } from "./resources.ts";

/** What this process knows beyond the objects (absent for `explain`, which runs no work). */
export interface RunningWork {
  /** Work on the volume runs in this process. */
  has(pv: string): boolean;
  /** When this process last saw work on it finish (a cooldown floor). */
  lastFinished(pv: string): number | undefined;
  /** Its data lives in erasure-coded stripes. */
  isEcTiered(pv: string): boolean;
}

/** An invalid pin or opt-out on a volume's PVC or PV (for a Warning Event). */
export interface AnnotationProblem {
  subject: VolumeSubject;
  problem: OverrideProblem;
}

/** The pass input of a policy's volumes, and the problems to report. */
export interface PassVolumes {
  volumes: PassVolume[];
  /** Invalid override values (an Event each; the volume is held while it lasts). */
  overrideProblems: AnnotationProblem[];
  /** Unreadable backoff or work annotations (logged; never acted on). */
  problems: { pv: string; message: string }[];
}

/**
 * Joins the selected PVs with Mayastor's volumes into facts. A PV without one is skipped, unless
 * `keepUnknown` (explain when Mayastor could not be read: the volume still gets an outcome).
 */
export function passVolumesOf(
  selected: readonly VolumeSubject[],
  contested: ReadonlyMap<string, string[]>,
  mayastor: readonly Volume[],
  tiers: ReadonlyMap<string, Tier>,
  running?: RunningWork,
  keepUnknown = false,
): PassVolumes {
  const byUuid = new Map(mayastor.map((v) => [v.uuid, v]));
  const out: PassVolumes = { volumes: [], overrideProblems: [], problems: [] };
  for (const subject of selected) {
    const uuid = mayastorVolumeUuid(subject.pv as PersistentVolume);
    const volume = byUuid.get(uuid ?? "");
    if (!volume && !keepUnknown) continue;
    const pv = subject.pv.metadata.name ?? "";
    const ecTiered = running?.isEcTiered(pv) ?? false;
    const f = volumeFacts({
      subject,
      volume,
      tiers,
      tracked: running?.has(pv),
      lastFinishedMs: running?.lastFinished(pv),
      contestedBy: contested.get(pv),
      ecTiered,
      persisted: persistedWork(subject.pv),
    });
    out.volumes.push({ pv, ...(uuid ? { uuid } : {}), volume, facts: f.plan, ecTiered });
    for (const problem of f.overrideProblems) out.overrideProblems.push({ subject, problem });
    for (const message of f.problems) out.problems.push({ pv, message });
  }
  return out;
}
