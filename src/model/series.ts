/**
 * How a volume's metric series are named: Mayastor's exporter labels them
 * `pv_name="pvc-<volume uuid>"` (mayastor-extensions metrics-exporter; ../shared/MAYASTOR.md),
 * and a volume's uuid is its PV's CSI volumeHandle. A PV's own name is not the key: it is
 * "pvc-<uuid>" only when the CSI provisioner named it so.
 */

/** The `pv_name` label value of a volume's exporter series. */
export function volumeSeriesKey(uuid: string): string {
  return `pvc-${uuid}`;
}

/**
 * A volume's value in a map keyed by series label: by `pvc-<uuid>` first, else by PV name (a
 * custom metricsQuery may label its series with the PV's name).
 */
export function seriesValue<T>(
  m: ReadonlyMap<string, T>,
  pv: string,
  uuid: string | undefined,
): T | undefined {
  const byUuid = uuid === undefined ? undefined : m.get(volumeSeriesKey(uuid));
  return byUuid ?? m.get(pv);
}

/** Re-keys a series map by PV name for the given volumes (PV name and volume uuid). */
export function byPvName<T>(
  m: ReadonlyMap<string, T>,
  volumes: readonly { pv: string; uuid?: string }[],
): Map<string, T> {
  const out = new Map<string, T>();
  for (const v of volumes) {
    const x = seriesValue(m, v.pv, v.uuid);
    if (x !== undefined) out.set(v.pv, x);
  }
  return out;
}
