/**
 * Per-volume control by annotation, on the PersistentVolumeClaim (what users own) or on the
 * PersistentVolume (for volumes without a claim, or for administrators). Pure.
 *
 *   storage.billyronks.io/tier: hot | warm | cold      pin: moved to that tier and kept there
 *   storage.billyronks.io/tiering: disabled | enabled  disabled: never moved (opt-out)
 *
 * Values are read strictly (exact lower-case words): anything else is a problem reported in
 * an Event, and the volume is held while it lasts, so a typo never moves data. The PVC's
 * annotation wins over the PV's; an opt-out wins over a pin.
 */
import type { Tier } from "../model/storage.ts";

/** Pins a volume to a tier. */
export const PIN_ANNOTATION = "storage.billyronks.io/tier";
/** `disabled` opts a volume out of tiering. */
export const TIERING_ANNOTATION = "storage.billyronks.io/tiering";
/** The Event reason of an annotation value CoucheStor does not accept. */
export const INVALID_OVERRIDE_EVENT = "InvalidTieringAnnotation";

const PIN_VALUES: readonly Tier[] = ["hot", "warm", "cold"];
const TIERING_VALUES = ["disabled", "enabled"] as const;

/** Which object an annotation was read from. */
export type OverrideSource = "pvc" | "pv";

/** An annotation value that is not accepted, with what to write instead (for the Event). */
export interface OverrideProblem {
  on: OverrideSource;
  annotation: string;
  value: string;
  message: string;
}

/** What the annotations ask for. */
export type Override =
  | { kind: "none" }
  | { kind: "pin"; tier: Tier; on: OverrideSource }
  | { kind: "optOut"; on: OverrideSource }
  | { kind: "invalid"; problems: OverrideProblem[] };

type Annotations = Readonly<Record<string, string>> | undefined;

/** Reads the pin and opt-out annotations of a volume (PVC first, then PV). */
export function readOverride(pvc: Annotations, pv: Annotations): Override {
  const problems: OverrideProblem[] = [];
  const pick = <T extends string>(annotation: string, allowed: readonly T[]) => {
    for (const [on, ann] of [["pvc", pvc], ["pv", pv]] as const) {
      const value = ann?.[annotation];
      if (value === undefined) continue;
      if ((allowed as readonly string[]).includes(value)) return { value: value as T, on };
      problems.push({ on, annotation, value, message: problemText(annotation, value, allowed) });
      return undefined;
    }
    return undefined;
  };
  const tiering = pick(TIERING_ANNOTATION, TIERING_VALUES);
  const pin = pick(PIN_ANNOTATION, PIN_VALUES);
  if (problems.length > 0) return { kind: "invalid", problems };
  if (tiering?.value === "disabled") return { kind: "optOut", on: tiering.on };
  if (pin) return { kind: "pin", tier: pin.value, on: pin.on };
  return { kind: "none" };
}

function problemText(annotation: string, value: string, allowed: readonly string[]): string {
  const near = allowed.find((a) => a === value.trim().toLowerCase());
  const hint = near ? ` (did you mean "${near}"?)` : "";
  return `${annotation}="${value}" is not one of ${allowed.join(", ")}${hint}; the volume ` +
    "is not moved until the annotation is fixed or removed";
}

/** One line for people: what the override does and where it was read. */
export function describeOverride(o: Override, claim: string | undefined, pv: string): string {
  const where = (on: OverrideSource) => on === "pvc" ? `PVC ${claim ?? "?"}` : `PV ${pv}`;
  switch (o.kind) {
    case "none":
      return "none";
    case "pin":
      return `pinned to ${o.tier} (${PIN_ANNOTATION}=${o.tier} on ${where(o.on)})`;
    case "optOut":
      return `opted out (${TIERING_ANNOTATION}=disabled on ${where(o.on)})`;
    case "invalid":
      return o.problems.map((p) => `${where(p.on)}: ${p.message}`).join("; ");
  }
}
