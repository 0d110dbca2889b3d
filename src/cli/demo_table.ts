/** The demo's live volume table: pure rendering of one snapshot as fixed-width text. */

/** One row of the table. */
export interface DemoRow {
  volume: string;
  /** IOPS over the policy's window; undefined while unknown. */
  iops?: number;
  /** Current tier (hot/warm/cold, mixed while moving, ? when unknown). */
  tier: string;
  /** Pools of the replicas. */
  pools: string[];
  /** Migration state, e.g. "→ hot Rebuilding 40%", or "" when idle. */
  migration: string;
}

/** The whole snapshot. */
export interface DemoSnapshot {
  /** Lines above the table (kubeconfig, policy summary …). */
  header: string[];
  rows: DemoRow[];
}

const COLS = ["VOLUME", "IOPS", "TIER", "REPLICAS ON", "MIGRATION"] as const;

/** Renders the snapshot as lines (no trailing newline). */
export function renderDemoTable(s: DemoSnapshot): string {
  const cells = s.rows.map((r) => [
    r.volume,
    r.iops === undefined ? "-" : String(Math.round(r.iops)),
    r.tier,
    r.pools.join(","),
    r.migration,
  ]);
  const width = COLS.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (row: readonly string[]) =>
    row.map((c, i) => (i === 1 ? c.padStart(width[i]) : c.padEnd(width[i]))).join("  ")
      .trimEnd();
  return [...s.header, "", line(COLS), ...cells.map(line)].join("\n");
}

/** ANSI: move the cursor up over the previous `lines` lines and clear to the end. */
export function redrawPrefix(lines: number): string {
  return lines > 0 ? `\x1b[${lines}F\x1b[J` : "";
}
