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

/** The fields of an EC tier operation the table shows (see EcTierState). */
export interface EcRowState {
  kind: "ec-move" | "rehydrate";
  phase: string;
  to: string;
  shardPools: readonly string[];
}

const EC_DONE = new Set(["Done", "RolledBack", "Failed"]);

/**
 * Shows a volume's EC tier state in its row: `ec k+m` on the shard pools once its data lives
 * in stripes, and the EC move or rehydration in flight in the migration column.
 */
export function applyEcState(
  row: DemoRow,
  s: EcRowState,
  ec: { k: number; m: number },
  tiered: boolean,
): void {
  if (tiered) {
    row.tier = `ec ${ec.k}+${ec.m}`;
    row.pools = s.shardPools.slice(0, ec.k + ec.m);
  }
  if (EC_DONE.has(s.phase)) return;
  row.migration = s.kind === "ec-move"
    ? `→ ec ${ec.k}+${ec.m} ${s.phase}`
    : `ec → ${s.to} ${s.phase}`;
}

/** What the EC summary line reads (the policy status's ecVolumes and ecBytes). */
export interface EcSummary {
  ecPolicy: string;
  k: number;
  m: number;
  volumes: number;
  bytes?: { logical: number; stored: number; efficiency: number };
  /** Replica count the saving is measured against (default 3). */
  replicas?: number;
}

const mib = (b: number) => `${(b / (1024 * 1024)).toFixed(1)} MiB`;

/** One line: EC-tiered volumes, logical and stored bytes, and the space saved vs N replicas. */
export function ecSummaryLine(e: EcSummary): string {
  const head = `EC ${e.ecPolicy} ${e.k}+${e.m}:`;
  const b = e.bytes;
  if (e.volumes === 0 || !b || b.logical === 0) return `${head} no volume in stripes yet`;
  const n = e.replicas ?? 3;
  const asReplicas = n * b.logical;
  const saved = asReplicas - b.stored;
  return `${head} ${e.volumes} volume${e.volumes === 1 ? "" : "s"}, ${mib(b.logical)} logical ` +
    `in ${mib(b.stored)} stored (stored/logical ${(b.stored / b.logical).toFixed(2)}, ` +
    `efficiency ${b.efficiency.toFixed(3)}); ${n} replicas would take ${mib(asReplicas)}: ` +
    `${mib(saved)} saved (${Math.round((saved / asReplicas) * 100)}%)`;
}
