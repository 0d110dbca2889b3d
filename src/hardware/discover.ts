/**
 * Hardware discovery: sysfs scan, ioctl cross-check, SMART and tier proposal
 * for every block device of a node.
 */
import { type BlockIoctlInfo, queryBlockDevice } from "../ffi/ioctl.ts";
import type { Metrics } from "../observability/metrics.ts";
import { type Classification, classifyAll, type TierOverride } from "./classify.ts";
import { readSmart, type SmartReport, type SmartToolOptions } from "./smart.ts";
import { type BlockDevice, scanBlockDevices } from "./sysfs.ts";

/** Everything discovery learned about one device. */
export interface DiscoveredDevice {
  device: BlockDevice;
  /** What the kernel's block ioctls report, or why they could not be asked. */
  ioctl: { ok: true; info: BlockIoctlInfo } | { ok: false; reason: string };
  smart: SmartReport;
  classification: Classification;
  /** Stable path for DiskPool specs (/dev/disk/by-id/...), else /dev/NAME. */
  stablePath: string;
}

/** Where to look and what to ask. */
export interface DiscoverOptions {
  sysRoot?: string;
  devRoot?: string;
  smart?: boolean;
  smartTools?: SmartToolOptions;
  overrides?: TierOverride[];
  /** Injected ioctl query, for fixture trees without device nodes. */
  queryDevice?: (path: string, zoned: boolean) => BlockIoctlInfo;
}

async function byIdLinks(devRoot: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const dir = `${devRoot}/disk/by-id`;
  try {
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    // Prefer wwn-/nvme-eui names (stable across hosts), then the rest, alphabetically.
    names.sort((a, b) =>
      Number(/^(wwn|nvme-eui)/.test(b)) - Number(/^(wwn|nvme-eui)/.test(a)) || a.localeCompare(b)
    );
    for (const n of names) {
      try {
        const target = await Deno.realPath(`${dir}/${n}`);
        const dev = target.split("/").pop()!;
        if (!out.has(dev)) out.set(dev, `/dev/disk/by-id/${n}`);
      } catch { /* dangling link */ }
    }
  } catch { /* no by-id directory (containers, this sandbox) */ }
  return out;
}

/** Scans a node's block devices and proposes a tier for each. */
export async function discover(opts: DiscoverOptions = {}): Promise<DiscoveredDevice[]> {
  const sysRoot = opts.sysRoot ?? "/sys";
  const devRoot = opts.devRoot ?? "/dev";
  const query = opts.queryDevice ?? queryBlockDevice;
  const devices = await scanBlockDevices(sysRoot);
  const classes = classifyAll(devices, opts.overrides);
  const ids = await byIdLinks(devRoot);
  const out: DiscoveredDevice[] = [];
  for (const device of devices) {
    const path = `${devRoot}/${device.name}`;
    let ioctl: DiscoveredDevice["ioctl"];
    try {
      ioctl = { ok: true, info: query(path, device.zoned.model !== "none") };
    } catch (e) {
      ioctl = { ok: false, reason: `${(e as Error).message}; using sysfs alone` };
    }
    const classification = classes.get(device.name)!;
    const smart: SmartReport = opts.smart === false
      ? { available: false, reason: "SMART disabled (--no-smart)" }
      : classification.tier === "none" ||
          ["loop", "zram", "device-mapper", "md"].includes(device.transport)
      ? { available: false, reason: `not a physical disk (${device.transport})` }
      : await readSmart(path, device.controller, opts.smartTools);
    out.push({
      device,
      ioctl,
      smart,
      classification,
      stablePath: ids.get(device.name) ?? `/dev/${device.name}`,
    });
  }
  return out;
}

/** Publishes device health and tier on /metrics (when the operator runs with discovery on). */
export function recordDeviceMetrics(
  metrics: Metrics,
  node: string,
  found: DiscoveredDevice[],
): void {
  metrics.deviceInfo.reset();
  metrics.deviceHealthy.reset();
  metrics.deviceTemperature.reset();
  for (const d of found) {
    metrics.deviceInfo.set({
      node,
      device: d.device.name,
      transport: d.device.transport,
      tier: d.classification.tier,
      model: d.device.model ?? "",
    }, 1);
    if (!d.smart.available) continue;
    const tier = d.classification.tier;
    if (d.smart.healthy !== undefined) {
      metrics.deviceHealthy.set({ node, device: d.device.name, tier }, d.smart.healthy ? 1 : 0);
    }
    if (d.smart.temperatureCelsius !== undefined) {
      metrics.deviceTemperature.set({ node, device: d.device.name }, d.smart.temperatureCelsius);
    }
  }
}
