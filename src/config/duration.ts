/** Go-style durations ("90s", "30m", "1h30m", "7d", "250ms") to and from milliseconds. */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;

/** True when `text` is a duration such as `90s`, `30m`, `1h30m` or `7d`. */
export function isDuration(text: string): boolean {
  return DURATION_RE.test(text);
}

/** Parses a duration to milliseconds; throws an Error naming the accepted forms when invalid. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (!DURATION_RE.test(s)) {
    throw new Error(
      `invalid duration "${text}": use a number with a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 7d`,
    );
  }
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
  }
  return Math.round(total);
}

/** Formats milliseconds compactly, largest units first (e.g. 5400000 → "1h30m"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = Math.round(ms);
  let out = "";
  for (
    const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const
  ) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  if (rest > 0) out += `${rest}ms`;
  return out;
}
