/**
 * Move windows: the grammar (parser and CRD pattern agree), open/closed on the zone's wall
 * clock, and the next opening — across Europe/Paris's DST changes, checked against an oracle
 * that applies the EU rule by hand (last Sunday of March / October, 01:00 UTC) minute by minute.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DAY_NAMES,
  formatInZone,
  isOpen,
  MOVE_WINDOW_PATTERN,
  type MoveWindow,
  nextOpening,
  parseMoveWindow,
  parseMoveWindows,
  wallToInstant,
  windowState,
} from "../../src/api/move_windows.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const utc = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi);

function win(text: string): MoveWindow {
  const r = parseMoveWindow(text);
  if (!r.ok) throw new Error(r.message);
  return r.window;
}

Deno.test("windows: the grammar — day lists and wrapping ranges, 24:00, zones", () => {
  const w = win("Sat-Sun 01:00-06:00 Europe/Paris");
  assert.deepEqual([...w.days].sort(), [5, 6]);
  assert.deepEqual([w.startMin, w.endMin, w.zone], [60, 360, "Europe/Paris"]);
  assert.deepEqual([...win("Fri-Mon 22:00-02:00 UTC").days].sort(), [0, 4, 5, 6]);
  assert.deepEqual([...win("Mon,Wed-Thu,Sun 00:00-24:00 UTC").days].sort(), [0, 2, 3, 6]);
  assert.equal(win("Mon 00:00-24:00 America/Argentina/Buenos_Aires").endMin, 1440);
  assert.equal(win("Tue 10:00-11:00 Etc/GMT+5").zone, "Etc/GMT+5");
});

Deno.test("windows: bad texts are refused with a message naming the part", () => {
  const cases: [string, string, RegExp][] = [
    ["Sat-Sun 01:00-06:00", "syntax", /three parts/],
    ["sat 01:00-06:00 UTC", "syntax", /"sat" is not a day/],
    ["Sat-Sun-Mon 01:00-06:00 UTC", "syntax", /not a day or a day range/],
    ["Sat 1:00-06:00 UTC", "syntax", /HH:MM-HH:MM/],
    ["Sat 01:00-24:30 UTC", "syntax", /the end may be 24:00/],
    ["Sat 24:00-01:00 UTC", "syntax", /hours 00-23/],
    ["Sat  01:00-06:00 UTC", "syntax", /three parts/],
    ["Sat 01:00-06:00 Europe/Pariss", "zone", /unknown time zone "Europe\/Pariss"/],
    ["Sat 01:00-06:00 +02:00", "syntax", /not a time zone name/],
    ["Sat 06:00-06:00 UTC", "emptyRange", /same time/],
    ["Sat 00:00-24:00 UTC", "", /./],
  ];
  for (const [text, kind, msg] of cases) {
    const r = parseMoveWindow(text);
    if (kind === "") {
      assert.ok(r.ok, text);
      continue;
    }
    assert.equal(r.ok, false, text);
    if (r.ok) continue;
    assert.equal(r.kind, kind, text);
    assert.match(r.message, msg, text);
  }
  const list = parseMoveWindows(["Sat 01:00-06:00 UTC", "Sun 9:00-10:00 UTC"]);
  assert.equal(list.ok, false);
  if (!list.ok) assert.equal(list.index, 1);
});

/** Texts near the grammar: valid windows with random edits. */
const nearWindow = fc.tuple(
  fc.array(
    fc.tuple(fc.constantFrom(...DAY_NAMES), fc.option(fc.constantFrom(...DAY_NAMES))),
    { minLength: 1, maxLength: 3 },
  ),
  fc.integer({ min: 0, max: 25 }),
  fc.integer({ min: 0, max: 61 }),
  fc.integer({ min: 0, max: 25 }),
  fc.integer({ min: 0, max: 61 }),
  fc.constantFrom("UTC", "Europe/Paris", "Mars/Olympus", "Etc/GMT-3", "9zone", "Europe//Paris"),
  fc.option(fc.tuple(fc.nat(40), fc.constantFrom(" ", "-", ",", ":", "x", "0")), {
    nil: undefined,
  }),
).map(([spans, h1, m1, h2, m2, zone, edit]) => {
  const days = spans.map(([a, b]) => (b ? `${a}-${b}` : a)).join(",");
  const p = (n: number) => String(n).padStart(2, "0");
  let s = `${days} ${p(h1)}:${p(m1)}-${p(h2)}:${p(m2)} ${zone}`;
  if (edit) {
    const at = edit[0] % (s.length + 1);
    s = s.slice(0, at) + edit[1] + s.slice(at);
  }
  return s;
});

Deno.test("windows: the CRD pattern accepts exactly the syntax the parser accepts", () => {
  const re = new RegExp(MOVE_WINDOW_PATTERN);
  fc.assert(
    fc.property(nearWindow, (s) => {
      const r = parseMoveWindow(s);
      const syntaxOk = r.ok || r.kind !== "syntax";
      assert.equal(re.test(s), syntaxOk, `${s}: ${r.ok ? "ok" : r.message}`);
    }),
    { numRuns: 3000 },
  );
});

// ---- an oracle for Europe/Paris and UTC: the EU rule applied by hand ----

/** Last Sunday of a month at 01:00 UTC (the EU's change instant). */
function lastSunday0100(y: number, month: number): number {
  const last = new Date(Date.UTC(y, month, 0));
  return Date.UTC(y, month - 1, last.getUTCDate() - last.getUTCDay(), 1);
}

function oracleOffset(zone: string, ms: number): number {
  if (zone === "UTC") return 0;
  const y = new Date(ms).getUTCFullYear();
  const summer = ms >= lastSunday0100(y, 3) && ms < lastSunday0100(y, 10);
  return (summer ? 2 : 1) * HOUR;
}

function oracleOpen(w: MoveWindow, ms: number): boolean {
  const wall = new Date(ms + oracleOffset(w.zone, ms));
  const day = (wall.getUTCDay() + 6) % 7;
  const minute = wall.getUTCHours() * 60 + wall.getUTCMinutes();
  if (w.startMin < w.endMin) return w.days.has(day) && minute >= w.startMin && minute < w.endMin;
  return (w.days.has(day) && minute >= w.startMin) ||
    (w.days.has((day + 6) % 7) && minute < w.endMin);
}

function oracleNext(ws: MoveWindow[], ms: number): number | undefined {
  if (ws.some((w) => oracleOpen(w, ms))) return ms;
  // Openings happen on whole minutes: step minute by minute from the next one.
  for (let t = Math.ceil((ms + 1) / MIN) * MIN; t < ms + 15 * 24 * HOUR; t += MIN) {
    if (ws.some((w) => oracleOpen(w, t))) return t;
  }
  return undefined;
}

const aWindow = fc.tuple(
  fc.subarray([0, 1, 2, 3, 4, 5, 6], { minLength: 1 }),
  fc.integer({ min: 0, max: 47 }),
  fc.integer({ min: 1, max: 47 }),
  fc.constantFrom("Europe/Paris", "UTC"),
).map(([days, s, len, zone]): MoveWindow => {
  const startMin = s * 30;
  const endMin = (startMin + len * 30) % 1440 || 1440;
  return { text: "", days: new Set(days), startMin, endMin, zone };
});

/** Instants over 2026-2027, biased to the days around the DST changes. */
const anInstant = fc.oneof(
  fc.integer({ min: utc(2026, 1, 1), max: utc(2028, 1, 1) }),
  fc.constantFrom(utc(2026, 3, 29), utc(2026, 10, 25), utc(2027, 3, 28), utc(2027, 10, 31))
    .chain((d) => fc.integer({ min: d - 2 * 86_400_000, max: d + 2 * 86_400_000 })),
);

Deno.test("windows: isOpen and nextOpening agree with the hand-made EU DST oracle", () => {
  fc.assert(
    fc.property(fc.array(aWindow, { minLength: 1, maxLength: 3 }), anInstant, (ws, ms) => {
      assert.equal(isOpen(ws, ms), ws.some((w) => oracleOpen(w, ms)));
      assert.equal(nextOpening(ws, ms), oracleNext(ws, ms));
    }),
    { numRuns: 300 },
  );
});

Deno.test("windows: Europe/Paris on the night clocks go forward (2026-03-29) and back (10-25)", () => {
  const w = [win("Sun 01:00-06:00 Europe/Paris")];
  // Spring: 01:00 CET is 00:00Z; 06:00 CEST is 04:00Z — four hours of window.
  assert.equal(nextOpening(w, utc(2026, 3, 28, 12)), utc(2026, 3, 29, 0));
  assert.equal(isOpen(w, utc(2026, 3, 29, 3, 59)), true);
  assert.equal(isOpen(w, utc(2026, 3, 29, 4)), false);
  // Autumn: 01:00 CEST is 23:00Z the day before; 06:00 CET is 05:00Z — six hours.
  assert.equal(nextOpening(w, utc(2026, 10, 24, 12)), utc(2026, 10, 24, 23));
  assert.equal(isOpen(w, utc(2026, 10, 25, 4, 59)), true);
  assert.equal(isOpen(w, utc(2026, 10, 25, 5)), false);
  // A start time the spring change skips (02:30) opens when the clock jumps (03:00 CEST).
  assert.equal(
    nextOpening([win("Sun 02:30-05:00 Europe/Paris")], utc(2026, 3, 28)),
    utc(2026, 3, 29, 1),
  );
  // A window wholly inside the skipped hour does not open that night, but a week later.
  assert.equal(
    nextOpening([win("Sun 02:00-02:30 Europe/Paris")], utc(2026, 3, 28)),
    utc(2026, 4, 5, 0),
  );
  // The repeated hour in autumn: 02:30 happens twice; the first one opens the window.
  assert.equal(wallToInstant("Europe/Paris", utc(2026, 10, 25, 2, 30)), utc(2026, 10, 25, 0, 30));
});

Deno.test("windows: crossing midnight, no windows, state and formatting", () => {
  const w = [win("Fri 22:00-02:00 UTC")];
  const fri = utc(2026, 12, 4); // a Friday
  assert.equal(isOpen(w, fri + 23 * HOUR), true);
  assert.equal(isOpen(w, fri + 25 * HOUR), true, "Saturday 01:00 is still Friday's window");
  assert.equal(isOpen(w, fri + 26 * HOUR), false);
  assert.equal(isOpen(w, fri + HOUR), false, "Friday 01:00 belongs to Thursday, not listed");
  assert.equal(isOpen([], fri), true);
  assert.equal(nextOpening([], fri), fri);
  assert.deepEqual(windowState(w, fri + 26 * HOUR), {
    open: false,
    nextOpeningMs: fri + 7 * 24 * HOUR + 22 * HOUR,
  });
  assert.deepEqual(windowState(w, fri + 23 * HOUR), { open: true });
  assert.equal(
    formatInZone(utc(2026, 12, 5, 0), "Europe/Paris"),
    "Sat 2026-12-05 01:00 Europe/Paris",
  );
});
