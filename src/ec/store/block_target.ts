/**
 * Shard targets on raw block devices (or fixed-size files treated as such), in CoucheStor's
 * block-target format (docs/ec-block-target.md): a superblock naming the store, the target,
 * the shard index it holds and the geometry; two manifest slots (the newest intact copy wins);
 * then one fixed-size slot per stripe id holding that stripe's shard file (header with
 * identity, per-block checksums). A device whose superblock names another store, target or
 * shard index is refused and never written unless explicitly initialised for this store.
 */
import { z } from "zod";
import { alignUp, BlockDevice } from "./block_device.ts";
import type { BlockHasher } from "./checksum.ts";
import { parseShardFileName } from "./core.ts";
import {
  CodeParamsSchema,
  type DecodedManifest,
  decodeManifest,
  encodeManifest,
  type Manifest,
  ManifestError,
  type ManifestStore,
} from "./manifest.ts";
import { NoSpaceError } from "./nospace.ts";
import { decodeShardHeader, SHARD_HEADER_BYTES, shardFileSize } from "./shard_format.ts";
import type { ShardTarget } from "./target.ts";

const SB_MAGIC = "CSBLKDEV";
const MAN_MAGIC = "CSBLKMAN";
const SB_VERSION = 1;
/** Manifest bytes budgeted per stripe slot (compact JSON of a stripe and its extent). */
const MANIFEST_BYTES_PER_SLOT = 768;
const MANIFEST_BASE_BYTES = 64 * 1024;

/** What the superblock at offset 0 of a device says. */
export const SuperblockSchema = z.object({
  storeId: z.uuid(),
  targetId: z.string().min(1),
  shardIndex: z.number().int().min(0),
  code: CodeParamsSchema,
  blockSize: z.number().int().min(1),
  stripeSizeBytes: z.number().int().min(1),
  /** I/O unit every region is aligned to. */
  align: z.number().int().min(512),
  /** Offset and size of each of the two manifest slots. */
  manifestOffset: z.number().int().min(0),
  manifestSlotBytes: z.number().int().min(1),
  /** Offset of stripe slot 0, bytes per slot, and slot count. */
  dataOffset: z.number().int().min(0),
  slotBytes: z.number().int().min(1),
  slots: z.number().int().min(1),
});
/** A device's superblock. */
export type Superblock = z.infer<typeof SuperblockSchema>;

/** What a store expects of its device for target `targetId`. */
export type DeviceExpectation = Pick<
  Superblock,
  "storeId" | "targetId" | "shardIndex" | "code" | "blockSize" | "stripeSizeBytes"
>;

/** The device belongs to another store or holds another shard index: refused. */
export class ForeignDeviceError extends Error {
  constructor(readonly path: string, detail: string) {
    super(`device ${path} ${detail}; refusing to use or overwrite it`);
    this.name = "ForeignDeviceError";
  }
}

/** Reads a device's superblock: null when blank or unreadable as one (never initialised). */
export async function readSuperblock(
  dev: BlockDevice,
  hasher: BlockHasher,
): Promise<Superblock | null> {
  const b = await dev.readAt(0, dev.align);
  if (new TextDecoder().decode(b.subarray(0, 8)) !== SB_MAGIC) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const len = v.getUint32(12, true);
  if (v.getUint32(8, true) !== SB_VERSION || 16 + len + 8 > b.length) return null;
  const json = b.subarray(16, 16 + len);
  if (hasher.hex(json) !== hex(b.subarray(16 + len, 16 + len + 8))) return null;
  try {
    const parsed = SuperblockSchema.safeParse(JSON.parse(new TextDecoder().decode(json)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** How a new device is laid out: slots that fit it, given the geometry. */
export function planLayout(
  sizeBytes: number,
  align: number,
  g: Pick<Superblock, "code" | "blockSize" | "stripeSizeBytes">,
  manifestSlotBytes?: number,
): Pick<
  Superblock,
  "align" | "manifestOffset" | "manifestSlotBytes" | "dataOffset" | "slotBytes" | "slots"
> {
  const shard = Math.ceil(g.stripeSizeBytes / g.code.k);
  const slotBytes = alignUp(shardFileSize(shard, g.blockSize), align);
  const usable = sizeBytes - align;
  const perSlot = slotBytes + 2 * MANIFEST_BYTES_PER_SLOT;
  const estimate = Math.floor((usable - 2 * MANIFEST_BASE_BYTES) / perSlot);
  const man = manifestSlotBytes ??
    alignUp(MANIFEST_BASE_BYTES + Math.max(estimate, 1) * MANIFEST_BYTES_PER_SLOT, align);
  const slots = Math.floor((usable - 2 * man) / slotBytes);
  if (slots < 1) {
    throw new NoSpaceError(
      `a device of ${sizeBytes} bytes: one stripe slot needs ${slotBytes} bytes plus ` +
        `${align + 2 * man} of superblock and manifest`,
    );
  }
  return {
    align,
    manifestOffset: align,
    manifestSlotBytes: man,
    dataOffset: align + 2 * man,
    slotBytes,
    slots,
  };
}

/**
 * Writes a fresh superblock (and empty manifest slots) for this store's target. Refuses a
 * device that already belongs to another store or target unless `force`.
 */
export async function initialiseDevice(
  path: string,
  expect: DeviceExpectation,
  hasher: BlockHasher,
  opts: { force?: boolean; slots?: number; manifestSlotBytes?: number } = {},
): Promise<Superblock> {
  const dev = await BlockDevice.open(path);
  try {
    const old = await readSuperblock(dev, hasher);
    if (old && !opts.force) {
      const mismatch = foreignDetail(old, expect);
      if (mismatch) throw new ForeignDeviceError(path, mismatch);
    }
    const layout = planLayout(dev.sizeBytes, dev.align, expect, opts.manifestSlotBytes);
    if (opts.slots !== undefined) {
      if (layout.slots < opts.slots) {
        throw new NoSpaceError(
          `device ${path}: ${layout.slots} stripe slots fit, the store needs ${opts.slots}`,
        );
      }
      layout.slots = opts.slots;
    }
    const sb: Superblock = { ...expect, ...layout };
    for (const slot of [0, 1]) {
      await dev.writeAt(sb.manifestOffset + slot * sb.manifestSlotBytes, new Uint8Array(dev.align));
    }
    await dev.writeAt(0, encodeSuperblock(sb, dev.align, hasher));
    await dev.sync();
    return sb;
  } finally {
    dev.close();
  }
}

function encodeSuperblock(sb: Superblock, align: number, hasher: BlockHasher): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(sb));
  if (16 + json.length + 8 > align) throw new RangeError("superblock does not fit its block");
  const out = new Uint8Array(align);
  out.set(new TextEncoder().encode(SB_MAGIC));
  const v = new DataView(out.buffer);
  v.setUint32(8, SB_VERSION, true);
  v.setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(hasher.sum(json), 16 + json.length);
  return out;
}

/** How a superblock differs from what the store expects, in words; null when it is ours. */
function foreignDetail(sb: Superblock, want: DeviceExpectation): string | null {
  if (sb.storeId !== want.storeId) {
    return `belongs to store ${sb.storeId} (target ${sb.targetId}, shard ${sb.shardIndex}), ` +
      `not to store ${want.storeId}`;
  }
  if (sb.targetId !== want.targetId || sb.shardIndex !== want.shardIndex) {
    return `holds target ${sb.targetId} (shard ${sb.shardIndex}) of this store, not target ` +
      `${want.targetId} (shard ${want.shardIndex})`;
  }
  const g = (x: DeviceExpectation) => JSON.stringify([x.code, x.blockSize, x.stripeSizeBytes]);
  if (g(sb) !== g(want)) return `has geometry ${g(sb)}, the store ${g(want)}`;
  return null;
}

/** A shard target on one device; shard files live in the slot of their stripe id. */
export class BlockDeviceTarget implements ShardTarget {
  #dev: BlockDevice | null = null;
  #sb: Superblock | null = null;
  /** Why the device is unusable (absent, blank, foreign), when it is. */
  problem: string | null = null;

  constructor(
    readonly id: string,
    readonly path: string,
    private readonly expect: DeviceExpectation,
    private readonly hasher: BlockHasher,
    /** Open the device read-only (every write then fails). */
    private readonly readOnly = false,
  ) {}

  /** The superblock, once the device opened as this store's. */
  get superblock(): Superblock | null {
    return this.#sb;
  }

  /** Opens the device and checks its superblock; false (with `problem`) when unusable. */
  async healthy(): Promise<boolean> {
    if (this.#dev) return true;
    let dev: BlockDevice;
    try {
      dev = await BlockDevice.open(this.path, { readOnly: this.readOnly });
    } catch (e) {
      this.problem = (e as Error).message;
      return false;
    }
    const sb = await readSuperblock(dev, this.hasher).catch(() => null);
    const foreign = sb ? foreignDetail(sb, this.expect) : `device ${this.path} is not initialised`;
    if (!sb || foreign) {
      dev.close();
      this.problem = sb ? new ForeignDeviceError(this.path, foreign!).message : foreign;
      return false;
    }
    this.#dev = dev;
    this.#sb = sb;
    this.problem = null;
    return true;
  }

  /** Writes a shard file into its stripe's slot; refuses another shard index or a full device. */
  async write(name: string, data: Uint8Array): Promise<void> {
    const { dev, sb } = await this.#ready();
    const at = this.#slotOffset(name, sb);
    if (data.length > sb.slotBytes) {
      throw new RangeError(`device ${this.path}: ${name} (${data.length} bytes) exceeds its slot`);
    }
    await dev.writeAt(at, data);
  }

  /** fsyncs the device. */
  async flush(): Promise<void> {
    if (this.#dev) await this.#dev.sync();
  }

  /**
   * The shard file in the stripe's slot: null when the slot is empty (never written or
   * removed), the header block as is when it is not a shard header (so the store reports it
   * damaged), else exactly the shard file's bytes.
   */
  async read(name: string): Promise<Uint8Array | null> {
    if (!(await this.healthy())) return null;
    const dev = this.#dev!;
    const sb = this.#sb!;
    const at = this.#slotOffset(name, sb);
    const head = await dev.readAt(at, dev.align);
    const header = decodeShardHeader(head.subarray(0, SHARD_HEADER_BYTES), this.hasher);
    if (!header) return head.every((b) => b === 0) ? null : head;
    const size = shardFileSize(header.shardSize, header.blockSize);
    if (size > sb.slotBytes) return head;
    return await dev.readAt(at, size);
  }

  /** Empties the stripe's slot (zeroes its first block). */
  async remove(name: string): Promise<void> {
    if (!(await this.healthy())) return;
    await this.#dev!.writeAt(this.#slotOffset(name, this.#sb!), new Uint8Array(this.#dev!.align));
  }

  /**
   * Initialises a blank (or already own) device for this target. A device of another store is
   * refused: replacing it takes an explicit `EcStore.replaceDevice(…, { force: true })`.
   */
  async provision(): Promise<void> {
    this.close();
    await initialiseDevice(this.path, this.expect, this.hasher);
  }

  /** Reads manifest slot i (null when empty or not a manifest). */
  async readManifestSlot(i: number): Promise<Uint8Array | null> {
    const { dev, sb } = await this.#ready();
    const at = sb.manifestOffset + i * sb.manifestSlotBytes;
    const head = await dev.readAt(at, 16);
    if (new TextDecoder().decode(head.subarray(0, 8)) !== MAN_MAGIC) return null;
    const len = new DataView(head.buffer, head.byteOffset).getUint32(8, true);
    if (16 + len > sb.manifestSlotBytes) return null;
    return await dev.readAt(at + 16, len);
  }

  /** Writes manifest bytes into slot i and fsyncs. */
  async writeManifestSlot(i: number, bytes: Uint8Array): Promise<void> {
    const { dev, sb } = await this.#ready();
    if (16 + bytes.length > sb.manifestSlotBytes) {
      throw new NoSpaceError(
        `the manifest area of device ${this.path} (${sb.manifestSlotBytes} bytes; the ` +
          `manifest has ${bytes.length})`,
      );
    }
    const rec = new Uint8Array(16 + bytes.length);
    rec.set(new TextEncoder().encode(MAN_MAGIC));
    new DataView(rec.buffer).setUint32(8, bytes.length, true);
    rec.set(bytes, 16);
    await dev.writeAt(sb.manifestOffset + i * sb.manifestSlotBytes, rec);
    await dev.sync();
  }

  /** Drops the device's cached pages (see BlockDevice.dropCache); a down device is skipped. */
  async dropCache(): Promise<void> {
    if (await this.healthy()) await this.#dev!.dropCache();
  }

  /** Closes the device (reopened on next use). */
  close(): void {
    this.#dev?.close();
    this.#dev = null;
    this.#sb = null;
  }

  async #ready(): Promise<{ dev: BlockDevice; sb: Superblock }> {
    if (!(await this.healthy())) {
      throw new Error(`shard target ${this.id}: ${this.problem}`);
    }
    return { dev: this.#dev!, sb: this.#sb! };
  }

  #slotOffset(name: string, sb: Superblock): number {
    const p = parseShardFileName(name);
    if (!p) throw new Error(`device ${this.path}: ${name} is not a shard file name`);
    if (p.shard !== sb.shardIndex) {
      throw new Error(
        `device ${this.path} holds shard ${sb.shardIndex} of every stripe, not shard ${p.shard}`,
      );
    }
    if (p.stripe >= sb.slots) {
      throw new NoSpaceError(
        `device ${this.path}: stripe ${p.stripe} beyond its ${sb.slots} slots`,
      );
    }
    return sb.dataOffset + p.stripe * sb.slotBytes;
  }
}

/**
 * The manifest of a device store: a copy on every device, in the slot the generation picks
 * (alternating, so a torn write leaves the previous copy intact); the newest intact copy wins.
 */
export class DeviceManifestStore implements ManifestStore {
  #generation = 0;

  constructor(
    /** The store's device targets now (a replaced device takes its target's place). */
    readonly targets: () => readonly BlockDeviceTarget[],
    /** Copies that must be written for a save to count (the data needs k devices anyway). */
    readonly minCopies: number,
  ) {}

  /** Where, for messages. */
  get where(): string {
    return `the devices ${this.targets().map((t) => t.path).join(", ")}`;
  }

  /** The newest intact copy over all reachable devices; null when none holds one. */
  async load(): Promise<DecodedManifest | null> {
    let best: DecodedManifest | null = null;
    let damaged = 0;
    for (const t of this.targets()) {
      if (!(await t.healthy())) continue;
      for (const i of [0, 1]) {
        const bytes = await t.readManifestSlot(i).catch(() => null);
        if (!bytes) continue;
        let d: DecodedManifest;
        try {
          d = decodeManifest(bytes, `${t.path} slot ${i}`);
        } catch {
          damaged++;
          continue;
        }
        if (d.checksumError) damaged++;
        else if (!best || d.generation > best.generation) best = d;
      }
    }
    if (!best && damaged > 0) {
      throw new ManifestError(this.where, `no intact manifest copy (${damaged} damaged)`);
    }
    this.#generation = best?.generation ?? 0;
    return best;
  }

  /** Writes the next generation onto every reachable device; needs minCopies successes. */
  async save(m: Manifest): Promise<void> {
    const generation = this.#generation + 1;
    const bytes = encodeManifest(m, generation, false);
    let ok = 0;
    const errors: string[] = [];
    for (const t of this.targets()) {
      if (!(await t.healthy())) continue;
      try {
        await t.writeManifestSlot(generation % 2, bytes);
        ok++;
      } catch (e) {
        if (e instanceof NoSpaceError) throw e;
        errors.push(`${t.path}: ${(e as Error).message}`);
      }
    }
    if (ok < this.minCopies) {
      throw new Error(
        `manifest saved on ${ok} devices, needs ${this.minCopies}${
          errors.length ? ` (${errors.join("; ")})` : ""
        }`,
      );
    }
    this.#generation = generation;
  }
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}
