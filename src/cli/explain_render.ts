/** `couchestor explain` output: one volume's story as aligned text for people. Pure. */
import { formatDuration } from "../config/duration.ts";
import { REASON_HELP } from "../api/volume_reasons.ts";
import type { VolumeOutcome } from "../tiering/volume_plan.ts";
import { formatInZone } from "../api/move_windows.ts";
import { overrideLine, type VolumeStory } from "./explain_story.ts";
import { describeSteps } from "../migration/state.ts";

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const dur = (ms: number) => formatDuration(Math.max(1000, Math.ceil(ms / 1000) * 1000));
const num = (n: number) => String(Math.round(n * 100) / 100);

/** The story as lines of `Label  text`. */
export function renderStory(s: VolumeStory, now: number): string {
  const rows: [string, string][] = [];
  const row = (label: string, text: string) => rows.push([label, text]);
  row("Volume", `${s.pv}${s.claim ? ` (claim ${s.claim})` : " (no claim)"}`);
  if (s.unmanaged) {
    row("Managed", s.unmanaged);
    return format(rows);
  }
  policiesPart(s, row);
  if (!s.policy || !s.settings || !s.spec) {
    row("Next", "nothing: no StoragePolicy selects this volume");
    return format(rows);
  }
  const w = s.settings.policy.watermarks;
  const i = s.iops!;
  row(
    "IOPS",
    i.value === undefined
      ? `unknown over ${i.window}: ${i.error}`
      : `${num(i.value)} over ${i.window}${i.query ? ` (query: ${i.query})` : ""}`,
  );
  const warm = s.settings.policy.warmTier ? `warm <= ${w.warmWatermarkIOPS} < stay < ` : "stay < ";
  row(
    "Band",
    `${s.band === undefined ? "unknown" : s.band === "hold" ? "stay where it is" : s.band} ` +
      `(cold <= ${w.lowWatermarkIOPS} < ${warm}${w.highWatermarkIOPS} <= hot)`,
  );
  row("Tier", tierPart(s));
  row("Control", overrideLine(s));
  const last = s.facts?.plan.lastMigrationMs;
  row(
    "Cooldown",
    (s.cooldownLeftMs ?? 0) > 0
      ? `${dur(s.cooldownLeftMs!)} left of ${s.spec.cooldownPeriod} (last move ${iso(last!)})`
      : `none${last === undefined ? "" : ` (last move ${iso(last)})`}`,
  );
  const b = s.facts?.plan.backoff;
  row(
    "Backoff",
    b
      ? `${b.failures} failed move(s) in a row, the last ${b.lastResult} at ${b.lastFailure}` +
        `${b.error ? ` (${b.error})` : ""}; ` +
        ((s.backoffLeftMs ?? 0) > 0 ? `retried in ${dur(s.backoffLeftMs!)}` : "over")
      : "none",
  );
  row("Windows", windowPart(s, now));
  row("Approval", approvalPart(s, now));
  const m = s.inFlight;
  row(
    "In flight",
    m
      ? `${m.phase} (replica ${m.current + 1} of ${m.steps.length}): ${m.from} → ${m.to} ` +
        `(${describeSteps(m)}) since ` +
        `${iso(m.startedAt)}, deadline ${iso(m.deadline)}`
      : "none",
  );
  row("Last moves", s.history.length === 0 ? "none recorded in the policy status" : "");
  for (const h of s.history) {
    row(
      "",
      `${h.time}  ${h.from} → ${h.to}  ${h.result}  ${h.duration}  at ${num(h.triggerIOPS)} IOPS` +
        (h.error ? `  (${h.error})` : ""),
    );
  }
  if (s.mayastorError) row("Mayastor", `not read: ${s.mayastorError}`);
  const o = s.outcome;
  if (o) {
    row("Now", `${o.reason}: ${o.detail ?? REASON_HELP[o.reason]}`);
    row("Next", nextStep(o, s, now));
  }
  return format(rows);
}

function policiesPart(s: VolumeStory, row: (l: string, t: string) => void): void {
  if (s.verdicts.length === 0) row("Policy", "none: no StoragePolicy exists");
  s.verdicts.forEach((v, i) => {
    const label = i === 0 ? "Policy" : "";
    const off = v.enabled ? "" : " (disabled)";
    if (v.invalid) row(label, `${v.name}: invalid, moves nothing: ${v.invalid}`);
    else if (v.selected) {
      row(label, `${v.name}${off}: selects it${v.name === s.policy ? " (its rules apply)" : ""}`);
    } else row(label, `${v.name}${off}: does not select it (${v.why})`);
  });
}

function tierPart(s: VolumeStory): string {
  if (!s.replicas) {
    return `unknown (${s.mayastorError ? "Mayastor not read" : "no Mayastor volume found"})`;
  }
  const tier = s.outcome?.from ?? "unknown (no replica on a pool of the policy's tiers)";
  const reps = s.replicas.map((r) => `${r.pool} (${r.tier ?? "no tier"}, ${r.node}, ${r.state})`);
  return `${tier}: ${reps.join(", ") || "no replicas"}; volume ${s.health}, ` +
    (s.published ? "published (in use)" : "not published (no pod uses it)");
}

function windowPart(s: VolumeStory, now: number): string {
  const texts = s.windowTexts ?? [];
  if (texts.length === 0) return "none: moves may start at any time";
  if (s.window?.open) return `open now (${texts.join("; ")})`;
  const next = s.window?.nextOpeningMs;
  return `closed (${texts.join("; ")})` +
    (next === undefined ? "" : `; next opens ${whenInZone(s, next)} (in ${dur(next - now)})`);
}

function whenInZone(s: VolumeStory, ms: number): string {
  const zone = s.windowTexts?.[0]?.split(" ")[2];
  try {
    return zone ? formatInZone(ms, zone) : iso(ms);
  } catch {
    return iso(ms);
  }
}

function approvalPart(s: VolumeStory, now: number): string {
  if (s.spec?.approval !== "Manual") return "Auto: planned moves start on their own";
  const p = s.proposal;
  if (!p) return `Manual (approvalTTL ${s.spec.approvalTTL}): no proposal for this volume yet`;
  return `Manual: proposal ${p.id} ${p.state} (${p.from} → ${p.to}), expires ${p.expires} ` +
    `(in ${dur(Date.parse(p.expires) - now)})`;
}

/** What the operator will do next with this volume, in words. */
export function nextStep(o: VolumeOutcome, s: VolumeStory, now: number): string {
  const to = o.to ? ` to ${o.to}` : "";
  const left = o.timeLeftMs === undefined ? "" : dur(o.timeLeftMs);
  switch (o.reason) {
    case "Promote":
    case "Demote":
      return `its next pass moves it from ${o.from}${to}` +
        `${o.targetPool ? ` (pool ${o.targetPool})` : ""}`;
    case "InCooldown":
      return `it may move${to} in ${left} (${iso(now + o.timeLeftMs!)}), when the cooldown ` +
        "ends, if its IOPS still ask for it";
    case "BackingOff":
      return `it is tried again${to} in ${left}, when its backoff ends`;
    case "OutsideMoveWindow":
      return `it moves${to} when the next move window opens` +
        (o.timeLeftMs === undefined ? "" : `, ${whenInZone(s, now + o.timeLeftMs)} (in ${left})`);
    case "AwaitingApproval":
      return `it moves${to} once approved: couchestor approve ${
        s.claim ?? `pv/${s.pv}`
      } --policy ${s.policy}` + (left ? ` (the proposal expires in ${left})` : "");
    case "ConcurrencyLimit":
      return `it moves${to} when a migration slot frees up`;
    case "MigrationInFlight":
      return "the running move finishes (or rolls back) first";
    case "AlreadyOnTier":
    case "WithinBand":
    case "Pinned":
      return "nothing: it is where it should be";
    default:
      return `nothing until this changes: ${REASON_HELP[o.reason]}`;
  }
}

function format(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, t]) => `${l.padEnd(width)}${t}`.trimEnd()).join("\n");
}
