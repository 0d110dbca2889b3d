/**
 * Proposes a storage tier for each block device, with the reason (pure).
 * NVMe → hot, non-rotational SAS/SATA → warm, rotational → cold; devices that
 * can't back a Mayastor DiskPool are excluded with the reason.
 */
import type { BlockDevice } from "./sysfs.ts";
import type { Tier } from "../model/storage.ts";

/** A tier proposal: a tier, or "none" when the device should not become a pool. */
export interface Classification {
  tier: Tier | "none";
  reason: string;
  /** True when the proposal came from an override rather than the rules. */
  overridden: boolean;
}

/** A user rule that forces a tier for devices matching a name, model or serial glob. */
export interface TierOverride {
  /** Glob (`*`, `?`) matched against the device name, model and serial. */
  match: string;
  tier: Tier | "none";
}

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".");
  return new RegExp(`^${esc}$`);
}

/** Parses `name=tier` override flags; throws with the accepted forms when malformed. */
export function parseOverride(text: string): TierOverride {
  const m = /^([^=]+)=(hot|warm|cold|none)$/.exec(text.trim());
  if (!m) {
    throw new Error(
      `invalid tier override "${text}": use GLOB=TIER with TIER one of hot, warm, cold, none (e.g. sdb=cold, "Samsung*"=warm)`,
    );
  }
  return { match: m[1], tier: m[2] as Tier | "none" };
}

/** Classifies one device; `byName` lets stacked devices (dm, md) inherit from what they sit on. */
export function classify(
  dev: BlockDevice,
  overrides: TierOverride[] = [],
  byName: Map<string, BlockDevice> = new Map(),
): Classification {
  for (const o of overrides) {
    const re = globToRegExp(o.match);
    if ([dev.name, dev.model, dev.serial].some((v) => v !== undefined && re.test(v))) {
      return { tier: o.tier, reason: `override ${o.match}=${o.tier}`, overridden: true };
    }
  }
  const none = (reason: string): Classification => ({ tier: "none", reason, overridden: false });
  const pick = (tier: Tier, reason: string): Classification => ({
    tier,
    reason,
    overridden: false,
  });

  if (dev.sizeBytes === 0) return none("no medium (size 0)");
  if (dev.readOnly) return none("read-only device");
  if (dev.removable) return none("removable device");
  if (dev.zoned.model === "host-managed") {
    return none(
      "host-managed zoned (ZNS/SMR) device: Mayastor pools need a conventional block device",
    );
  }
  switch (dev.transport) {
    case "loop":
      return none("loop device: backed by a file, not a disk");
    case "zram":
      return none("zram: compressed RAM, not persistent");
    case "optical":
      return none("optical drive");
    case "usb":
      return none("USB-attached disk: not suitable for a storage pool");
    case "nbd":
      return none("network block device");
    case "device-mapper":
    case "md": {
      const under = dev.slaves.map((s) => byName.get(s)).filter((d): d is BlockDevice => !!d);
      if (under.length === 0 || under.length !== dev.slaves.length) {
        return none(`${dev.transport} device whose underlying disks are unknown`);
      }
      const tiers = new Set(under.map((u) => classify(u, overrides, byName).tier));
      if (tiers.size === 1) {
        const [t] = tiers;
        if (t === "none") {
          return none(`${dev.transport} over ${dev.slaves.join(", ")}, which are excluded`);
        }
        return pick(t, `${dev.transport} over ${dev.slaves.join(", ")}, all ${t}`);
      }
      return none(`${dev.transport} over disks of mixed tiers (${[...tiers].join(", ")})`);
    }
    case "nvme":
      return pick("hot", `NVMe${dev.zoned.model === "host-aware" ? " (host-aware zoned)" : ""}`);
  }
  if (dev.rotational === undefined) return none("rotational flag unknown");
  const kind = dev.transport === "sata"
    ? "SATA"
    : dev.transport === "sas"
    ? "SAS"
    : dev.transport === "virtio"
    ? "virtio"
    : dev.transport.toUpperCase();
  if (dev.rotational) {
    const virt = dev.transport === "virtio" ? " (the hypervisor reports a rotational disk)" : "";
    return pick("cold", `rotational ${kind} disk${virt}`);
  }
  return pick("warm", `non-rotational ${kind} disk (SSD)`);
}

/** Classifies every device, letting stacked devices see their underlying disks. */
export function classifyAll(
  devices: BlockDevice[],
  overrides: TierOverride[] = [],
): Map<string, Classification> {
  const byName = new Map(devices.map((d) => [d.name, d]));
  return new Map(devices.map((d) => [d.name, classify(d, overrides, byName)]));
}
