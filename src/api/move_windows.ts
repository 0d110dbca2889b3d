/**
 * Move windows: weekly times, in an IANA time zone, outside which no move starts (a move that
 * is running when a window closes finishes). Pure: time is passed in; the zone rules come
 * from `Intl` (the ICU time-zone data built into Deno), so daylight-saving time is right.
 *
 * Grammar of one window (a StoragePolicy's `spec.moveWindows` is a list of them):
 *
 *   window := days " " start "-" end " " zone
 *   days   := span ("," span)*          span := day | day "-" day   (a range may wrap: Fri-Mon)
 *   day    := Mon | Tue | Wed | Thu | Fri | Sat | Sun
 *   start  := HH:MM  (00:00 … 23:59)      end := HH:MM (00:00 … 23:59) | 24:00
 *   zone   := an IANA zone name, e.g. Europe/Paris, America/New_York, UTC
 *
 * e.g. `Sat-Sun 01:00-06:00 Europe/Paris`, `Mon-Fri 22:00-05:00 UTC`. The window opens on each
 * listed day at `start` on the zone's wall clock and closes at `end`; when end <= start it
 * closes on the next day (it crosses midnight), so `Fri 22:00-02:00` is open Friday night
 * until Saturday 02:00. Start and end are compared on the wall clock at minute precision: on
 * the night clocks go forward a window 01:00-06:00 lasts four hours, and a window wholly
 * inside the skipped hour does not open that night.
 */

/** Day names, Monday first (index 0). */
export const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;

const DAY = `(?:${DAY_NAMES.join("|")})`;
const SPAN = `${DAY}(?:-${DAY})?`;
const TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9]";
const ZONE = "[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*";

/**
 * The syntax of one window as a regular expression (RE2 and ECMAScript alike), for the CRD.
 * It cannot know zone names or that start and end differ; the parser checks both.
 */
export const MOVE_WINDOW_PATTERN = `^${SPAN}(?:,${SPAN})* ${TIME}-(?:${TIME}|24:00) ${ZONE}$`;

/** Longest window text accepted (bounds the CRD's validation cost). */
export const MOVE_WINDOW_MAX_LENGTH = 128;

/** One parsed window. */
export interface MoveWindow {
  /** The text it was parsed from. */
  text: string;
  /** Days it opens on, 0 = Monday … 6 = Sunday. */
  days: ReadonlySet<number>;
  /** Minutes after local midnight it opens. */
  startMin: number;
  /** Minutes after local midnight it closes (1440 = 24:00); <= startMin crosses midnight. */
  endMin: number;
  zone: string;
}

/** What is wrong with a window text: `syntax` breaks the pattern, the others only the parser. */
export type WindowProblemKind = "syntax" | "zone" | "emptyRange";

/** Outcome of parsing one window. */
export type WindowParse =
  | { ok: true; window: MoveWindow }
  | { ok: false; kind: WindowProblemKind; message: string };

const GRAMMAR_HINT = "write DAYS HH:MM-HH:MM ZONE, e.g. Sat-Sun 01:00-06:00 Europe/Paris";

/** Parses one window; the message names the part that is wrong and how to write it. */
export function parseMoveWindow(text: string): WindowParse {
  const bad = (kind: WindowProblemKind, what: string): WindowParse => ({
    ok: false,
    kind,
    message: `"${text}": ${what}`,
  });
  if (text.length > MOVE_WINDOW_MAX_LENGTH) {
    return bad("syntax", `longer than ${MOVE_WINDOW_MAX_LENGTH} characters`);
  }
  const parts = text.split(" ");
  if (parts.length !== 3) return bad("syntax", `expected three parts; ${GRAMMAR_HINT}`);
  const [dayText, timeText, zone] = parts;
  const days = parseDays(dayText);
  if (typeof days === "string") return bad("syntax", days);
  const times = parseTimes(timeText);
  if (typeof times === "string") return bad("syntax", times);
  if (!new RegExp(`^${ZONE}$`).test(zone)) {
    return bad("syntax", `"${zone}" is not a time zone name (e.g. Europe/Paris or UTC)`);
  }
  if (!knownZone(zone)) {
    return bad("zone", `unknown time zone "${zone}": use an IANA name such as Europe/Paris or UTC`);
  }
  if (times.startMin === times.endMin) {
    return bad("emptyRange", "start and end are the same time; a window needs a length");
  }
  return { ok: true, window: { text, days, ...times, zone } };
}

/** Parses a list of windows; the first problem is reported with its index. */
export function parseMoveWindows(
  texts: readonly string[],
): { ok: true; windows: MoveWindow[] } | { ok: false; index: number; message: string } {
  const windows: MoveWindow[] = [];
  for (let i = 0; i < texts.length; i++) {
    const r = parseMoveWindow(texts[i]);
    if (!r.ok) return { ok: false, index: i, message: r.message };
    windows.push(r.window);
  }
  return { ok: true, windows };
}

function parseDays(text: string): Set<number> | string {
  const out = new Set<number>();
  for (const span of text.split(",")) {
    const ends = span.split("-");
    const idx = ends.map((d) => DAY_NAMES.indexOf(d as (typeof DAY_NAMES)[number]));
    if (ends.length > 2 || idx.some((i) => i < 0)) {
      return `"${span}" is not a day or a day range: use Mon, Tue, Wed, Thu, Fri, Sat, Sun, ` +
        "a range such as Mon-Fri, or a list such as Sat,Sun";
    }
    const [from, to] = [idx[0], idx[idx.length - 1]];
    for (let d = from;; d = (d + 1) % 7) {
      out.add(d);
      if (d === to) break;
    }
  }
  return out;
}

function parseTimes(text: string): { startMin: number; endMin: number } | string {
  const m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(text);
  const why = `"${text}" is not a time range HH:MM-HH:MM (24-hour clock, e.g. 01:00-06:00)`;
  if (!m) return why;
  const [h1, m1, h2, m2] = m.slice(1).map(Number);
  if (h1 > 23 || m1 > 59 || m2 > 59 || h2 > 24 || (h2 === 24 && m2 !== 0)) {
    return `${why}; hours 00-23 (the end may be 24:00), minutes 00-59`;
  }
  return { startMin: h1 * 60 + m1, endMin: h2 * 60 + m2 };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True when `Intl` knows the zone. */
export function knownZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock of `zone` at instant `ms`. */
interface Wall {
  /** 0 = Monday … 6 = Sunday. */
  day: number;
  /** Minutes after local midnight. */
  minute: number;
  /** The wall time read as if it were UTC (ms), for offset arithmetic. */
  asUtc: number;
}

function wallAt(zone: string, ms: number): Wall {
  const p: Record<string, string> = {};
  for (const part of formatter(zone).formatToParts(ms)) p[part.type] = part.value;
  const [y, mo, d, h, mi, s] = [p.year, p.month, p.day, p.hour, p.minute, p.second].map(Number);
  return {
    day: DAY_NAMES.indexOf(p.weekday as (typeof DAY_NAMES)[number]),
    minute: h * 60 + mi,
    asUtc: Date.UTC(y, mo - 1, d, h, mi, s) + (ms % 1000 + 1000) % 1000,
  };
}

/** The zone's offset from UTC at instant `ms` (wall − UTC, in ms). */
function offsetAt(zone: string, ms: number): number {
  return wallAt(zone, ms).asUtc - ms;
}

/**
 * The first instant at which the zone's wall clock reads `wall` (a wall time as UTC ms): the
 * earlier of two in the hour that repeats when clocks go back, and the end of the gap when
 * that wall time is skipped (clocks go forward).
 */
export function wallToInstant(zone: string, wall: number): number {
  const DAY_MS = 86_400_000;
  const before = offsetAt(zone, wall - DAY_MS);
  const after = offsetAt(zone, wall + DAY_MS);
  const hits = [wall - before, wall - after].filter((t) => wallAt(zone, t).asUtc === wall);
  if (hits.length > 0) return Math.min(...hits);
  // In a gap: binary search for the transition, the first instant with the later offset.
  let lo = Math.min(wall - before, wall - after);
  let hi = Math.max(wall - before, wall - after);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(zone, mid) === offsetAt(zone, hi)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** True when this one window is open at `ms`. */
export function windowOpen(w: MoveWindow, ms: number): boolean {
  const { day, minute } = wallAt(w.zone, ms);
  if (w.startMin < w.endMin) return w.days.has(day) && minute >= w.startMin && minute < w.endMin;
  // Crosses midnight: the evening of a listed day, or the early hours after one.
  return (w.days.has(day) && minute >= w.startMin) ||
    (w.days.has((day + 6) % 7) && minute < w.endMin);
}

/** True when a move may start at `ms`: no windows (always), or one of them is open. */
export function isOpen(windows: readonly MoveWindow[], ms: number): boolean {
  return windows.length === 0 || windows.some((w) => windowOpen(w, ms));
}

/**
 * The first instant >= `ms` at which a window is open (`ms` itself when one is open now, or
 * when there are no windows); undefined only if none opens in the next two weeks.
 */
export function nextOpening(windows: readonly MoveWindow[], ms: number): number | undefined {
  if (isOpen(windows, ms)) return ms;
  let best: number | undefined;
  for (const w of windows) {
    const today = wallAt(w.zone, ms);
    const midnight = today.asUtc - (today.asUtc % 86_400_000);
    for (let k = 0; k <= 14; k++) {
      if (!w.days.has((today.day + k) % 7)) continue;
      const t = wallToInstant(w.zone, midnight + k * 86_400_000 + w.startMin * 60_000);
      if (t <= ms || !windowOpen(w, t)) continue;
      if (best === undefined || t < best) best = t;
      break;
    }
  }
  return best;
}

/** Whether moves may start now and, when not, when they may. */
export interface WindowState {
  open: boolean;
  /** When the next window opens (set when closed). */
  nextOpeningMs?: number;
}

/** The window state at `ms`. */
export function windowState(windows: readonly MoveWindow[], ms: number): WindowState {
  if (isOpen(windows, ms)) return { open: true };
  const next = nextOpening(windows, ms);
  return next === undefined ? { open: false } : { open: false, nextOpeningMs: next };
}

/** An instant on a zone's wall clock for people, e.g. `Sat 2026-12-05 01:00 Europe/Paris`. */
export function formatInZone(ms: number, zone: string): string {
  const p: Record<string, string> = {};
  for (const part of formatter(zone).formatToParts(ms)) p[part.type] = part.value;
  return `${p.weekday} ${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${zone}`;
}
