/**
 * A store whose shard targets are k+m block devices, one per shard index (the archive Job's
 * shard volumes): shard i of every stripe lives on device i, in the slot of its stripe id; the
 * manifest lives on the devices themselves, so the store opens from its devices alone, in any
 * order and under any device names. Such a store has no journal: it takes `put`, not `write`.
 */
import { BlockDevice } from "./block_device.ts";
import {
  BlockDeviceTarget,
  type DeviceExpectation,
  DeviceManifestStore,
  initialiseDevice,
  planLayout,
  readSuperblock,
  type Superblock,
} from "./block_target.ts";
import type { BlockHasher } from "./checksum.ts";
import { createStripeCodec } from "./codec.ts";
import type { Manifest, TargetEntry } from "./manifest.ts";
import { EcStore, newManifest } from "./store.ts";
import type { EcStoreConfig, EcStoreDeps, EcStoreOptions } from "./types.ts";

/** None of the devices holds a store's superblock (all blank or unreadable). */
export class NoDeviceStoreError extends Error {
  constructor(readonly paths: readonly string[]) {
    super(`no store on the devices ${paths.join(", ")}`);
    this.name = "NoDeviceStoreError";
  }
}

/** One device of a device store: a stable target id and where the device is now. */
export interface DeviceSpec {
  id: string;
  path: string;
}

/** Parameters of a new device store. */
export type DeviceStoreConfig = Pick<EcStoreConfig, "code" | "stripeSizeBytes" | "blockSize"> & {
  /** Bytes of each of the two manifest slots per device (default: sized for every slot). */
  manifestSlotBytes?: number;
};

/** Options of creating or opening a device store. */
export interface DeviceStoreOptions extends EcStoreOptions {
  /** Initialise devices even when they hold another store's superblock (destroys it). */
  force?: boolean;
}

/** A device store and the handle to replace one of its devices. */
export interface DeviceStore {
  store: EcStore;
  /**
   * Initialises `path` as the new device of target `id` (a replaced disk or a new shard
   * volume), records it, and leaves the rebuild of its shards to `store.scrub({repair})`.
   * A device of another store is refused unless `force`.
   */
  replaceDevice(id: string, path: string, opts?: { force?: boolean }): Promise<void>;
}

/**
 * Creates a store on devices (exactly one per shard, in shard order): each gets a superblock
 * for this store and the same layout, then the manifest is written onto all of them.
 */
export async function createDeviceStore(
  devices: readonly DeviceSpec[],
  config: DeviceStoreConfig,
  deps: EcStoreDeps,
  opts: DeviceStoreOptions = {},
): Promise<DeviceStore> {
  const codec = createStripeCodec(config.code, deps.kernel);
  if (devices.length !== codec.totalShards) {
    throw new Error(
      `a device store needs exactly ${codec.totalShards} devices (one per shard), got ${devices.length}`,
    );
  }
  const targets: TargetEntry[] = devices.map((d) => ({ id: d.id, path: d.path, kind: "device" }));
  const manifest = newManifest(config.code, targets, config, { fixedPlacement: true });
  const plan = await commonLayout(devices, manifest, config.manifestSlotBytes);
  for (const [i, d] of devices.entries()) {
    await initialiseDevice(d.path, expectation(manifest, i), deps.hasher, {
      force: opts.force,
      slots: plan.slots,
      manifestSlotBytes: plan.manifestSlotBytes,
    });
  }
  const map = new Map(devices.map((d, i) => [d.id, target(manifest, i, d.path, deps.hasher)]));
  await new DeviceManifestStore(() => [...map.values()], devices.length).save(manifest);
  for (const t of map.values()) t.close();
  return await openDeviceStore(devices.map((d) => d.path), deps, opts);
}

/**
 * Opens a device store from its devices (any order; missing or dead ones are down targets
 * and their shards rebuilt on read). All initialised devices must belong to one store.
 */
export async function openDeviceStore(
  paths: readonly string[],
  deps: EcStoreDeps,
  opts: EcStoreOptions = {},
): Promise<DeviceStore> {
  const readOnly = opts.readOnly ?? false;
  const found = await superblocks(paths, deps.hasher);
  const stores = [...new Set(found.map((f) => f.sb.storeId))];
  if (stores.length === 0) throw new NoDeviceStoreError(paths);
  if (stores.length > 1) {
    const which = found.map((f) => `${f.path}: store ${f.sb.storeId}`).join(", ");
    throw new Error(`the devices belong to different stores (${which})`);
  }
  // Until the manifest is read, the devices are opened read-only and trusted as their
  // superblocks say; then each is reopened against what the manifest expects of its target
  // (store, shard index, geometry).
  const map = new Map<string, BlockDeviceTarget>();
  for (const f of found) {
    const twin = found.find((g) => g !== f && g.sb.targetId === f.sb.targetId);
    if (twin && found.indexOf(twin) > found.indexOf(f)) {
      throw new Error(
        `devices ${f.path} and ${twin.path} both hold target ${f.sb.targetId} of store ` +
          `${stores[0]} (one was replaced): give only the current one`,
      );
    }
    const t = new BlockDeviceTarget(f.sb.targetId, f.path, f.sb, deps.hasher, true);
    map.set(f.sb.targetId, t);
  }
  const manifests = new DeviceManifestStore(() => [...map.values()], found[0].sb.code.k);
  const slots = Math.min(...found.map((f) => f.sb.slots));
  const openTarget = (t: TargetEntry, i: number, m: Manifest) => {
    const path = found.find((f) => f.sb.targetId === t.id)?.path;
    // The manifest records where the device was; it is wherever it is now.
    if (path) t.path = path;
    const where = path ?? `${t.path} (not among the devices given)`;
    const opened = target(m, i, where, deps.hasher, readOnly);
    map.get(t.id)?.close();
    map.set(t.id, opened);
    return opened;
  };
  let store: EcStore;
  try {
    store = await EcStore.openLayout(undefined, { manifests, openTarget, slots }, deps, opts);
  } catch (e) {
    for (const t of map.values()) t.close();
    throw e;
  }
  // A device of this store whose target the manifest no longer lists gets no manifest copy.
  const listed = new Set(store.targets().map((t) => t.id));
  for (const [id, t] of map) {
    if (!listed.has(id)) {
      t.close();
      map.delete(id);
    }
  }
  return {
    store,
    replaceDevice: async (id, path, o = {}) => {
      await store.replaceTarget(id, path, async (shardIndex, m) => {
        await initialiseDevice(path, expectation(m, shardIndex), deps.hasher, {
          force: o.force,
          slots,
          manifestSlotBytes: found[0].sb.manifestSlotBytes,
        });
        const t = target(m, shardIndex, path, deps.hasher);
        // In the map before the manifest naming it is saved, so the new device gets a copy
        // and the old one (closed by replaceTarget) none.
        map.set(id, t);
        return t;
      });
    },
  };
}

/** The superblocks of the paths that have one (blank or unreadable devices are skipped). */
async function superblocks(
  paths: readonly string[],
  hasher: BlockHasher,
): Promise<{ path: string; sb: Superblock }[]> {
  const out: { path: string; sb: Superblock }[] = [];
  for (const path of paths) {
    const dev = await BlockDevice.open(path, { readOnly: true }).catch(() => null);
    if (!dev) continue;
    try {
      const sb = await readSuperblock(dev, hasher);
      if (sb) out.push({ path, sb });
    } finally {
      dev.close();
    }
  }
  return out;
}

/** One layout for all devices: the slots and manifest area the smallest one allows. */
async function commonLayout(
  devices: readonly DeviceSpec[],
  m: Manifest,
  manifestSlotBytes?: number,
): Promise<{ slots: number; manifestSlotBytes: number }> {
  let best: { slots: number; manifestSlotBytes: number } | null = null;
  for (const d of devices) {
    const dev = await BlockDevice.open(d.path, { readOnly: true });
    try {
      const p = planLayout(dev.sizeBytes, dev.align, m, manifestSlotBytes);
      if (!best || p.slots < best.slots) best = p;
    } finally {
      dev.close();
    }
  }
  return best!;
}

function expectation(m: Manifest, shardIndex: number): DeviceExpectation {
  return {
    storeId: m.storeId,
    targetId: m.targets[shardIndex].id,
    shardIndex,
    code: m.code,
    blockSize: m.blockSize,
    stripeSizeBytes: m.stripeSizeBytes,
  };
}

function target(
  m: Manifest,
  i: number,
  path: string,
  hasher: BlockHasher,
  readOnly = false,
): BlockDeviceTarget {
  return new BlockDeviceTarget(m.targets[i].id, path, expectation(m, i), hasher, readOnly);
}
