/** PromQL query templates for volume IOPS and their rendering for one sampling window. */
import { formatDuration } from "../config/duration.ts";

/** The placeholder a template uses for the rate window. */
export const WINDOW_PLACEHOLDER = "{{window}}";

/**
 * Mayastor's exporter publishes cumulative read/write op counts per volume (labels `node`,
 * `pv_name`); the sum of their rates over the window is the volume's IOPS. A bare
 * `rate(read) + rate(write)` drops every volume lacking one of the two series (and a name
 * regex collides once rate() drops the names), so the sum is taken per volume and completed
 * with `or` by whichever counter exists alone.
 */
export const DEFAULT_IOPS_QUERY = "(sum by (pv_name) (rate(volume_num_read_ops[{{window}}]))" +
  " + sum by (pv_name) (rate(volume_num_write_ops[{{window}}])))" +
  " or sum by (pv_name) (rate(volume_num_read_ops[{{window}}]))" +
  " or sum by (pv_name) (rate(volume_num_write_ops[{{window}}]))";

/** Older exporters publish IOPS directly as gauges; averaged over the window. */
export const FALLBACK_IOPS_QUERIES: readonly string[] = [
  "sum by (pv_name) (avg_over_time(openebs_volume_iops[{{window}}]))",
  "sum by (pv_name) (avg_over_time(mayastor_volume_iops[{{window}}]))",
];

/** The default list: the primary query, then each fallback (tried when the previous has no series). */
export const DEFAULT_IOPS_TEMPLATES: readonly string[] = [
  DEFAULT_IOPS_QUERY,
  ...FALLBACK_IOPS_QUERIES,
];

/** A window in Prometheus duration form (e.g. 300000 → "5m", 5400000 → "1h30m"). */
export function promDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 1) {
    throw new RangeError(`a rate window must be at least 1ms, got ${ms}`);
  }
  // Prometheus parses units in the order d h m s ms, which is what formatDuration emits.
  return formatDuration(Math.round(ms));
}

/** Replaces every `{{window}}` in the template by the window in Prometheus form. */
export function renderQuery(template: string, windowMs: number): string {
  return template.split(WINDOW_PLACEHOLDER).join(promDuration(windowMs));
}

/** The templates to try for a policy: its own query alone when set, else the defaults. */
export function templatesFor(custom: string | undefined): readonly string[] {
  return custom && custom.trim() !== "" ? [custom] : DEFAULT_IOPS_TEMPLATES;
}
