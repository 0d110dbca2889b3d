/**
 * Reads block devices and NVMe controllers from sysfs. The root is a parameter
 * (default `/sys`) so fixture trees stand in for real hardware in tests.
 */

/** How a block device is attached. */
export type Transport =
  | "nvme"
  | "sata"
  | "sas"
  | "scsi"
  | "usb"
  | "virtio"
  | "mmc"
  | "loop"
  | "device-mapper"
  | "md"
  | "zram"
  | "nbd"
  | "optical"
  | "unknown";

/** Zoned-storage properties from `queue/` (FR-403). */
export interface ZonedInfo {
  /** `queue/zoned`: none, host-aware or host-managed. */
  model: "none" | "host-aware" | "host-managed";
  nrZones?: number;
  /** Zone size in bytes (`queue/chunk_sectors` × 512). */
  zoneSizeBytes?: number;
  zoneAppendMaxBytes?: number;
  maxOpenZones?: number;
  maxActiveZones?: number;
}

/** An NVMe controller from /sys/class/nvme. */
export interface NvmeController {
  name: string;
  model?: string;
  serial?: string;
  firmware?: string;
  /** pcie, tcp, rdma, fc or loop. */
  transport?: string;
  state?: string;
}

/** One whole block device (partitions are listed inside it). */
export interface BlockDevice {
  name: string;
  /** Resolved sysfs path of the device. */
  sysPath: string;
  sizeBytes: number;
  logicalBlockSize?: number;
  physicalBlockSize?: number;
  rotational?: boolean;
  removable: boolean;
  readOnly: boolean;
  transport: Transport;
  model?: string;
  serial?: string;
  firmware?: string;
  vendor?: string;
  /** For NVMe namespaces: the controller this namespace belongs to. */
  controller?: string;
  /** For device-mapper devices: the dm name (e.g. an LVM volume). */
  dmName?: string;
  partitions: string[];
  /** Devices stacked on top of this one (dm, md). */
  holders: string[];
  /** Devices this one is stacked on (dm, md). */
  slaves: string[];
  zoned: ZonedInfo;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch {
    return undefined;
  }
}

async function readInt(path: string): Promise<number | undefined> {
  const t = await readText(path);
  if (t === undefined || !/^-?\d+$/.test(t)) return undefined;
  return Number(t);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function listDir(path: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(path)) out.push(e.name);
  } catch { /* absent directory: empty list */ }
  return out.sort();
}

async function realPath(path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch {
    return undefined;
  }
}

function basename(p: string): string {
  return p.replace(/\/+$/, "").split("/").pop() ?? p;
}

const NVME_NS = /^nvme(\d+)(?:c(\d+))?n(\d+)$/;

/** Transport from the kernel name and the resolved device path. */
export function transportOf(name: string, resolvedPath: string, hints: {
  hasVpdPg89?: boolean;
  hasSasAddress?: boolean;
} = {}): Transport {
  if (NVME_NS.test(name)) return "nvme";
  if (/^vd[a-z]+$/.test(name)) return "virtio";
  if (/^loop\d+$/.test(name)) return "loop";
  if (/^dm-\d+$/.test(name)) return "device-mapper";
  if (/^md\d+$/.test(name)) return "md";
  if (/^zram\d+$/.test(name)) return "zram";
  if (/^nbd\d+$/.test(name)) return "nbd";
  if (/^sr\d+$/.test(name)) return "optical";
  if (/^mmcblk\d+$/.test(name)) return "mmc";
  if (/^(sd|hd)[a-z]+$/.test(name)) {
    if (/\/usb\d+\//.test(resolvedPath)) return "usb";
    // libata hosts sit under .../ataN/; SATA drives behind a SAS HBA answer VPD page 0x89.
    if (/\/ata\d+\//.test(resolvedPath) || hints.hasVpdPg89) return "sata";
    if (/\/(end_device-|port-)\d/.test(resolvedPath) || hints.hasSasAddress) return "sas";
    return "scsi";
  }
  return "unknown";
}

async function readZoned(queueDir: string): Promise<ZonedInfo> {
  const raw = await readText(`${queueDir}/zoned`);
  const model = raw === "host-aware" || raw === "host-managed" ? raw : "none";
  if (model === "none") return { model };
  const chunk = await readInt(`${queueDir}/chunk_sectors`);
  return {
    model,
    nrZones: await readInt(`${queueDir}/nr_zones`),
    zoneSizeBytes: chunk !== undefined ? chunk * 512 : undefined,
    zoneAppendMaxBytes: await readInt(`${queueDir}/zone_append_max_bytes`),
    maxOpenZones: await readInt(`${queueDir}/max_open_zones`),
    maxActiveZones: await readInt(`${queueDir}/max_active_zones`),
  };
}

/** Reads every NVMe controller under `<root>/class/nvme`. */
export async function scanNvmeControllers(root = "/sys"): Promise<NvmeController[]> {
  const out: NvmeController[] = [];
  for (const name of await listDir(`${root}/class/nvme`)) {
    if (!/^nvme\d+$/.test(name)) continue;
    const d = `${root}/class/nvme/${name}`;
    out.push({
      name,
      model: await readText(`${d}/model`),
      serial: await readText(`${d}/serial`),
      firmware: await readText(`${d}/firmware_rev`),
      transport: await readText(`${d}/transport`),
      state: await readText(`${d}/state`),
    });
  }
  return out;
}

/** The controller an NVMe namespace belongs to, from its `device` link, else from its name. */
async function nvmeControllerOf(blockDir: string, name: string): Promise<string | undefined> {
  // The device link points at the controller (nvme1), so nvme1n1 and nvme10n1 can't be confused.
  const dev = await realPath(`${blockDir}/device`);
  if (dev && /^nvme\d+$/.test(basename(dev))) return basename(dev);
  const m = NVME_NS.exec(name);
  // Multipath names (nvme0c1n1) carry the controller in the c-part.
  if (m) return `nvme${m[2] ?? m[1]}`;
  return undefined;
}

/** Scans `<root>/class/block` for whole block devices with their partitions and stacking. */
export async function scanBlockDevices(root = "/sys"): Promise<BlockDevice[]> {
  const controllers = new Map((await scanNvmeControllers(root)).map((c) => [c.name, c]));
  const names = await listDir(`${root}/class/block`);
  const devices: BlockDevice[] = [];
  for (const name of names) {
    const link = `${root}/class/block/${name}`;
    const dir = (await realPath(link)) ?? link;
    // Partitions are listed under their disk, not as devices of their own.
    if (await exists(`${dir}/partition`)) continue;
    const queue = `${dir}/queue`;
    const sectors = (await readInt(`${dir}/size`)) ?? 0;
    const devDir = `${dir}/device`;
    const transport = transportOf(name, dir, {
      hasVpdPg89: await exists(`${devDir}/vpd_pg89`),
      hasSasAddress: await exists(`${devDir}/sas_address`),
    });
    const partitions: string[] = [];
    for (const child of await listDir(dir)) {
      if (await exists(`${dir}/${child}/partition`)) partitions.push(child);
    }
    const rot = await readInt(`${queue}/rotational`);
    const dev: BlockDevice = {
      name,
      sysPath: dir,
      sizeBytes: sectors * 512,
      logicalBlockSize: await readInt(`${queue}/logical_block_size`),
      physicalBlockSize: await readInt(`${queue}/physical_block_size`),
      rotational: rot === undefined ? undefined : rot !== 0,
      removable: (await readInt(`${dir}/removable`)) === 1,
      readOnly: (await readInt(`${dir}/ro`)) === 1,
      transport,
      model: await readText(`${devDir}/model`),
      serial: (await readText(`${devDir}/serial`)) ?? (await readText(`${dir}/serial`)),
      firmware: (await readText(`${devDir}/firmware_rev`)) ?? (await readText(`${devDir}/rev`)),
      vendor: await readText(`${devDir}/vendor`),
      partitions,
      holders: await listDir(`${dir}/holders`),
      slaves: await listDir(`${dir}/slaves`),
      zoned: await readZoned(queue),
    };
    if (transport === "nvme") {
      const c = await nvmeControllerOf(dir, name);
      const ctrl = c ? controllers.get(c) : undefined;
      dev.controller = c;
      dev.model ??= ctrl?.model;
      dev.serial ??= ctrl?.serial;
      dev.firmware ??= ctrl?.firmware;
    }
    if (transport === "device-mapper") dev.dmName = await readText(`${dir}/dm/name`);
    if (dev.serial === "") dev.serial = undefined;
    devices.push(dev);
  }
  return devices;
}
