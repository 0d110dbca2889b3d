/**
 * L2: a log-structured cache in one preallocated, memory-mapped file (FR-302).
 *
 * File layout (little endian):
 * - bytes [0, 4096): file header — magic "CSL2", format version, region size, region
 *   count, file size, xxHash32 of those fields.
 * - then `regionCount` regions of `regionBytes`. A region starts with a 64-byte header
 *   (magic "REGN", version, sequence number, checksum) followed by 8-byte-aligned
 *   entries: magic "ENTY", xxHash32 checksum (seeded with the region sequence, so an
 *   entry left over from the region's previous life never validates), key length,
 *   flags (LZ4, tombstone), stored length, raw length, then key and value bytes.
 *
 * Writes append into the open region; when it is full the oldest region is reused
 * (FIFO eviction of whole regions) and the index forgets its keys. The index
 * (key → region, offset, lengths, checksum) lives in RAM and is rebuilt on open by
 * replaying regions in sequence order and stopping in each region at the first entry
 * whose magic, bounds or checksum is wrong — a torn or corrupt entry is dropped, never
 * returned. After a restart writing resumes in a fresh region, so nothing is appended
 * after a torn tail.
 *
 * Reads: `getView` returns a zero-copy view of the mapping. Lifetime caveat: such a
 * view is valid only until its region is reused by later puts (check with `isLive`)
 * and never after `close()` (the memory is unmapped: touching it crashes the process).
 * `get` returns a private copy (or the decompressed bytes) and is always safe to keep.
 *
 * Durability: `put(..., { durable: true })` and `delete(..., { durable: true })`
 * msync the touched pages (and the region header once) before returning; `sync()`
 * msyncs everything written since the last sync.
 *
 * Known limit: media corruption of a region can resurrect an older value of a key
 * whose newer entry or tombstone lived in that region. Crashes cannot, provided
 * invalidations that must survive are written durable (the tiered cache does so).
 */
import {
  closeFd,
  EFBIG,
  ENOSPC,
  EOPNOTSUPP,
  fallocate,
  ftruncate,
  LibcError,
  MADV_RANDOM,
  MADV_SEQUENTIAL,
  madvise,
  type Mapping,
  mmapShared,
  msync,
  munmap,
  O_CREAT,
  O_RDWR,
  openFd,
  pageSize,
} from "../ffi/libc.ts";
import { decodeValue, encodeValue } from "./codec.ts";
import { xxh32 } from "./hash.ts";

/** Size of the file header block. */
export const FILE_HEADER_BYTES = 4096;
/** Size of a region header. */
export const REGION_HEADER_BYTES = 64;
/** Size of an entry header. */
export const ENTRY_HEADER_BYTES = 24;
/** Format version written and accepted. */
export const L2_FORMAT_VERSION = 1;
const FILE_MAGIC = 0x324c5343; // "CSL2"
const REGION_MAGIC = 0x4e474552; // "REGN"
const ENTRY_MAGIC = 0x59544e45; // "ENTY"
/** Entry flag: value stored LZ4-compressed. */
export const FLAG_LZ4 = 1;
/** Entry flag: the key was deleted. */
export const FLAG_TOMBSTONE = 2;
const MAX_KEY_BYTES = 0xffff;

/** Base class of L2 errors. */
export class L2Error extends Error {
  /** @param message what went wrong */
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** The entry cannot fit in one region. */
export class L2EntryTooLargeError extends L2Error {}
/** The file is not an L2 file of this format, size or geometry. */
export class L2FormatError extends L2Error {}
/** The device has no room for the preallocated file. */
export class L2DeviceFullError extends L2Error {}
/** The cache was closed. */
export class L2ClosedError extends L2Error {}

/** L2 configuration. */
export interface L2Options {
  /** The cache file. */
  path: string;
  /** Exact file size in bytes; an existing file of another size is refused. */
  sizeBytes: number;
  /** Region size, a multiple of the page size (default 1 MiB). */
  regionBytes?: number;
  /** LZ4-compress values when that saves space (default true). */
  compress?: boolean;
  /** Check the checksum on every read (default true). */
  verifyOnRead?: boolean;
  /** Create and format the file when missing or empty (default true). */
  create?: boolean;
}

/** Counters and occupancy. */
export interface L2Stats {
  hits: number;
  misses: number;
  puts: number;
  /** Entries dropped because their region was reused. */
  evictions: number;
  regionsReused: number;
  /** Entries found corrupt (on read or while recovering). */
  corrupt: number;
  /** Entries recovered when the file was opened. */
  recovered: number;
  /** Bytes of live entries (headers included). */
  liveBytes: number;
  entries: number;
}

/** Where an indexed entry lives. */
interface IndexEntry {
  region: number;
  /** Absolute file offset of the entry header. */
  off: number;
  total: number;
  keyLen: number;
  stored: number;
  raw: number;
  flags: number;
  sum: number;
}

/** A zero-copy read: the bytes, and the region generation they belong to. */
export interface L2View {
  bytes: Uint8Array;
  region: number;
  seq: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** The log-structured, memory-mapped L2 cache. */
export class L2Cache {
  /** The cache file. */
  readonly path: string;
  /** File size in bytes. */
  readonly sizeBytes: number;
  /** Region size in bytes. */
  readonly regionBytes: number;
  /** Number of regions. */
  readonly regionCount: number;
  readonly #fd: number;
  #map: Mapping | null;
  readonly #u8: Uint8Array;
  readonly #dv: DataView;
  readonly #compress: boolean;
  readonly #verify: boolean;
  readonly #index = new Map<string, IndexEntry>();
  readonly #seq: Float64Array;
  readonly #regionKeys: string[][];
  readonly #headerSynced: Uint8Array;
  /** Regions from oldest to newest; the last one is open for appends. */
  readonly #order: number[] = [];
  #open = -1;
  #writeOff = 0;
  #maxSeq = 0;
  #dirtyLo = Number.POSITIVE_INFINITY;
  #dirtyHi = 0;
  #stats = {
    hits: 0,
    misses: 0,
    puts: 0,
    evictions: 0,
    regionsReused: 0,
    corrupt: 0,
    recovered: 0,
    liveBytes: 0,
  };

  private constructor(fd: number, map: Mapping, opts: L2Options, regionBytes: number) {
    this.#fd = fd;
    this.#map = map;
    this.#u8 = new Uint8Array(map.buffer);
    this.#dv = new DataView(map.buffer);
    this.path = opts.path;
    this.sizeBytes = opts.sizeBytes;
    this.regionBytes = regionBytes;
    this.regionCount = Math.floor((opts.sizeBytes - FILE_HEADER_BYTES) / regionBytes);
    this.#compress = opts.compress ?? true;
    this.#verify = opts.verifyOnRead ?? true;
    this.#seq = new Float64Array(this.regionCount);
    this.#regionKeys = Array.from({ length: this.regionCount }, () => []);
    this.#headerSynced = new Uint8Array(this.regionCount);
  }

  /**
   * Opens (or creates and preallocates) the file, maps it and rebuilds the index.
   * Throws L2FormatError for a foreign file or a size/geometry mismatch and
   * L2DeviceFullError when the device cannot hold the file.
   */
  static open(opts: L2Options): L2Cache {
    const page = pageSize();
    const regionBytes = opts.regionBytes ?? 1 << 20;
    if (regionBytes % page !== 0 || regionBytes < page) {
      throw new L2FormatError(`regionBytes ${regionBytes} must be a multiple of ${page}`);
    }
    if (
      !Number.isSafeInteger(opts.sizeBytes) || opts.sizeBytes < FILE_HEADER_BYTES + 2 * regionBytes
    ) {
      throw new L2FormatError(
        `sizeBytes ${opts.sizeBytes} too small: need at least ${
          FILE_HEADER_BYTES + 2 * regionBytes
        } (header + 2 regions of ${regionBytes})`,
      );
    }
    let existing = 0;
    try {
      existing = Deno.statSync(opts.path).size;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      existing = -1;
    }
    if (existing > 0 && existing !== opts.sizeBytes) {
      throw new L2FormatError(
        `${opts.path}: file is ${existing} bytes, expected ${opts.sizeBytes}; refusing to reuse it`,
      );
    }
    const fresh = existing <= 0;
    if (fresh && opts.create === false) {
      throw new L2FormatError(`${opts.path}: no L2 file (and create is false)`);
    }
    const fd = openFd(opts.path, O_RDWR | (fresh ? O_CREAT : 0));
    let map: Mapping | null = null;
    try {
      if (fresh) preallocate(fd, opts.sizeBytes, opts.path, existing === -1);
      map = mmapShared(fd, opts.sizeBytes);
      const c = new L2Cache(fd, map, opts, regionBytes);
      if (fresh) c.#format();
      else c.#recover();
      madvise(map, 0, map.length, MADV_RANDOM);
      return c;
    } catch (e) {
      if (map) munmap(map);
      closeFd(fd);
      throw e;
    }
  }

  #format(): void {
    const dv = this.#dv;
    dv.setUint32(0, FILE_MAGIC, true);
    dv.setUint32(4, L2_FORMAT_VERSION, true);
    dv.setUint32(8, this.regionBytes, true);
    dv.setUint32(12, this.regionCount, true);
    dv.setFloat64(16, this.sizeBytes, true);
    dv.setUint32(24, xxh32(this.#u8, 0, 24), true);
    msync(this.#map!, 0, FILE_HEADER_BYTES);
    for (let r = 0; r < this.regionCount; r++) this.#order.push(r);
  }

  #recover(): void {
    const dv = this.#dv;
    const p = this.path;
    if (dv.getUint32(0, true) !== FILE_MAGIC) {
      throw new L2FormatError(`${p}: not a CoucheStor L2 cache file (bad magic)`);
    }
    if (dv.getUint32(24, true) !== xxh32(this.#u8, 0, 24)) {
      throw new L2FormatError(`${p}: L2 file header checksum mismatch`);
    }
    const ver = dv.getUint32(4, true);
    if (ver !== L2_FORMAT_VERSION) {
      throw new L2FormatError(
        `${p}: L2 format version ${ver}, this build reads ${L2_FORMAT_VERSION}`,
      );
    }
    const rb = dv.getUint32(8, true);
    const rc = dv.getUint32(12, true);
    const size = dv.getFloat64(16, true);
    if (rb !== this.regionBytes || rc !== this.regionCount || size !== this.sizeBytes) {
      throw new L2FormatError(
        `${p}: geometry ${rc} regions × ${rb} B (${size} B) differs from the configured ${this.regionCount} × ${this.regionBytes} B (${this.sizeBytes} B)`,
      );
    }
    madvise(this.#map!, 0, this.sizeBytes, MADV_SEQUENTIAL);
    const valid: number[] = [];
    const empty: number[] = [];
    for (let r = 0; r < this.regionCount; r++) {
      const base = this.#regionBase(r);
      if (
        dv.getUint32(base, true) === REGION_MAGIC &&
        dv.getUint32(base + 4, true) === L2_FORMAT_VERSION &&
        dv.getUint32(base + 16, true) === xxh32(this.#u8, base, base + 16)
      ) {
        this.#seq[r] = dv.getFloat64(base + 8, true);
        this.#headerSynced[r] = 1;
        valid.push(r);
      } else {
        if (dv.getUint32(base, true) !== 0) this.#stats.corrupt++;
        empty.push(r);
      }
    }
    valid.sort((a, b) => this.#seq[a] - this.#seq[b]);
    for (const r of valid) {
      this.#maxSeq = Math.max(this.#maxSeq, this.#seq[r]);
      this.#replay(r);
    }
    // Unused or unreadable regions are reused first, then the oldest valid ones.
    this.#order.push(...empty, ...valid);
  }

  #replay(r: number): void {
    const dv = this.#dv;
    const base = this.#regionBase(r);
    const end = base + this.regionBytes;
    const seed = this.#seedOf(r);
    let off = base + REGION_HEADER_BYTES;
    while (off + ENTRY_HEADER_BYTES <= end) {
      if (dv.getUint32(off, true) !== ENTRY_MAGIC) break;
      const keyLen = dv.getUint16(off + 8, true);
      const flags = dv.getUint16(off + 10, true);
      const stored = dv.getUint32(off + 12, true);
      const raw = dv.getUint32(off + 16, true);
      const body = ENTRY_HEADER_BYTES + keyLen + stored;
      if (off + body > end) {
        this.#stats.corrupt++;
        break;
      }
      const sum = dv.getUint32(off + 4, true);
      if (xxh32(this.#u8, off + 8, off + body, seed) !== sum) {
        this.#stats.corrupt++;
        break;
      }
      const key = decoder.decode(
        this.#u8.subarray(off + ENTRY_HEADER_BYTES, off + ENTRY_HEADER_BYTES + keyLen),
      );
      const total = align8(body);
      if (flags & FLAG_TOMBSTONE) this.#unindex(key);
      else {
        this.#indexPut(key, { region: r, off, total, keyLen, stored, raw, flags, sum });
        this.#stats.recovered++;
      }
      off += total;
    }
  }

  #regionBase(r: number): number {
    return FILE_HEADER_BYTES + r * this.regionBytes;
  }

  #seedOf(r: number): number {
    const s = this.#seq[r];
    return (s ^ (s / 4294967296) ^ Math.imul(r, 0x9e3779b1)) >>> 0;
  }

  #indexPut(key: string, e: IndexEntry): void {
    const old = this.#index.get(key);
    if (old) this.#stats.liveBytes -= old.total;
    this.#index.set(key, e);
    this.#regionKeys[e.region].push(key);
    this.#stats.liveBytes += e.total;
  }

  #unindex(key: string): boolean {
    const old = this.#index.get(key);
    if (!old) return false;
    this.#index.delete(key);
    this.#stats.liveBytes -= old.total;
    return true;
  }

  #checkOpen(): void {
    if (!this.#map) throw new L2ClosedError("L2 cache is closed");
  }

  /** Starts the next region: the oldest is evicted, its header rewritten. */
  #rotate(): void {
    const r = this.#order.shift()!;
    this.#order.push(r);
    let dropped = 0;
    for (const key of this.#regionKeys[r]) {
      const e = this.#index.get(key);
      if (e && e.region === r) {
        this.#unindex(key);
        dropped++;
      }
    }
    if (this.#seq[r] > 0) this.#stats.regionsReused++;
    this.#stats.evictions += dropped;
    this.#regionKeys[r] = [];
    const base = this.#regionBase(r);
    this.#seq[r] = ++this.#maxSeq;
    const dv = this.#dv;
    dv.setUint32(base, REGION_MAGIC, true);
    dv.setUint32(base + 4, L2_FORMAT_VERSION, true);
    dv.setFloat64(base + 8, this.#seq[r], true);
    dv.setUint32(base + 16, xxh32(this.#u8, base, base + 16), true);
    // Make the first entry slot fail the magic test until an entry lands there.
    dv.setUint32(base + REGION_HEADER_BYTES, 0, true);
    this.#headerSynced[r] = 0;
    this.#markDirty(base, REGION_HEADER_BYTES + 4);
    this.#open = r;
    this.#writeOff = base + REGION_HEADER_BYTES;
  }

  #markDirty(off: number, len: number): void {
    if (off < this.#dirtyLo) this.#dirtyLo = off;
    if (off + len > this.#dirtyHi) this.#dirtyHi = off + len;
  }

  /** Appends one entry; returns its index record (not yet indexed). */
  #append(
    keyBytes: Uint8Array,
    payload: Uint8Array,
    raw: number,
    flags: number,
    durable: boolean,
  ): IndexEntry {
    const body = ENTRY_HEADER_BYTES + keyBytes.byteLength + payload.byteLength;
    const total = align8(body);
    const room = this.regionBytes - REGION_HEADER_BYTES;
    if (total > room) {
      throw new L2EntryTooLargeError(
        `L2 entry of ${total} bytes (key ${keyBytes.byteLength} B, value ${payload.byteLength} B stored) exceeds the region payload of ${room} bytes`,
      );
    }
    if (
      this.#open === -1 || this.#writeOff + total > this.#regionBase(this.#open) + this.regionBytes
    ) {
      this.#rotate();
    }
    const r = this.#open;
    const off = this.#writeOff;
    const dv = this.#dv;
    const u8 = this.#u8;
    dv.setUint16(off + 8, keyBytes.byteLength, true);
    dv.setUint16(off + 10, flags, true);
    dv.setUint32(off + 12, payload.byteLength, true);
    dv.setUint32(off + 16, raw, true);
    dv.setUint32(off + 20, 0, true);
    u8.set(keyBytes, off + ENTRY_HEADER_BYTES);
    u8.set(payload, off + ENTRY_HEADER_BYTES + keyBytes.byteLength);
    const sum = xxh32(u8, off + 8, off + body, this.#seedOf(r));
    dv.setUint32(off + 4, sum, true);
    dv.setUint32(off, ENTRY_MAGIC, true);
    // Terminate the log so recovery stops here rather than at a stale entry.
    if (off + total + 4 <= this.#regionBase(r) + this.regionBytes) {
      dv.setUint32(off + total, 0, true);
    }
    this.#writeOff = off + total;
    this.#markDirty(off, total + 4);
    if (durable) {
      const base = this.#regionBase(r);
      if (!this.#headerSynced[r]) {
        msync(this.#map!, base, off + total - base);
        this.#headerSynced[r] = 1;
      } else msync(this.#map!, off, total);
    }
    return {
      region: r,
      off,
      total,
      keyLen: keyBytes.byteLength,
      stored: payload.byteLength,
      raw,
      flags,
      sum,
    };
  }

  /**
   * Stores `value` under `key`, LZ4-compressed when that saves space. With
   * `durable`, returns only after the entry is on stable storage.
   * Throws L2EntryTooLargeError when the entry cannot fit in a region.
   */
  put(key: string, value: Uint8Array, opts: { durable?: boolean } = {}): void {
    this.#checkOpen();
    const keyBytes = encoder.encode(key);
    if (keyBytes.byteLength > MAX_KEY_BYTES) {
      throw new L2EntryTooLargeError(
        `L2 key of ${keyBytes.byteLength} bytes exceeds ${MAX_KEY_BYTES}`,
      );
    }
    const enc = encodeValue(value, this.#compress);
    const e = this.#append(
      keyBytes,
      enc.bytes,
      value.byteLength,
      enc.compressed ? FLAG_LZ4 : 0,
      opts.durable ?? false,
    );
    this.#stats.puts++;
    this.#indexPut(key, e);
  }

  /**
   * Forgets `key`, writing a tombstone so the entry does not come back after a
   * restart (durable when asked). Returns whether the key was present.
   */
  delete(key: string, opts: { durable?: boolean } = {}): boolean {
    this.#checkOpen();
    if (!this.#unindex(key)) return false;
    const keyBytes = encoder.encode(key);
    this.#append(keyBytes, new Uint8Array(0), 0, FLAG_TOMBSTONE, opts.durable ?? false);
    return true;
  }

  /** True when `key` is indexed (no statistics, no checksum). */
  has(key: string): boolean {
    return this.#index.has(key);
  }

  /**
   * A zero-copy view of the stored bytes (still LZ4-compressed when `compressed`);
   * valid until the region is reused (`isLive`) and never after close.
   */
  getStored(key: string): { view: L2View; compressed: boolean; rawLength: number } | undefined {
    this.#checkOpen();
    const e = this.#index.get(key);
    if (!e) {
      this.#stats.misses++;
      return undefined;
    }
    const start = e.off + ENTRY_HEADER_BYTES + e.keyLen;
    if (
      this.#verify && xxh32(this.#u8, e.off + 8, start + e.stored, this.#seedOf(e.region)) !== e.sum
    ) {
      this.#stats.corrupt++;
      this.#stats.misses++;
      this.#unindex(key);
      return undefined;
    }
    this.#stats.hits++;
    return {
      view: {
        bytes: new Uint8Array(this.#u8.buffer, start, e.stored),
        region: e.region,
        seq: this.#seq[e.region],
      },
      compressed: (e.flags & FLAG_LZ4) !== 0,
      rawLength: e.raw,
    };
  }

  /**
   * The value as a zero-copy view of the mapping when stored uncompressed (a fresh
   * buffer when it had to be decompressed). See the lifetime caveat above.
   */
  getView(key: string): L2View | undefined {
    const s = this.getStored(key);
    if (!s) return undefined;
    if (!s.compressed) return s.view;
    return { ...s.view, bytes: decodeValue(s.view.bytes, true) };
  }

  /** The value as a private buffer, safe to keep after later puts or close. */
  get(key: string): Uint8Array | undefined {
    const s = this.getStored(key);
    if (!s) return undefined;
    return s.compressed ? decodeValue(s.view.bytes, true) : s.view.bytes.slice();
  }

  /** True while the region a view points into has not been reused (and L2 is open). */
  isLive(v: L2View): boolean {
    return this.#map !== null && this.#seq[v.region] === v.seq;
  }

  /** Writes back every page touched since the last sync and waits for it. */
  sync(): void {
    this.#checkOpen();
    if (this.#dirtyHi === 0) return;
    msync(this.#map!, this.#dirtyLo, this.#dirtyHi - this.#dirtyLo);
    this.#dirtyLo = Number.POSITIVE_INFINITY;
    this.#dirtyHi = 0;
    this.#headerSynced.fill(1);
  }

  /** Keys currently indexed (allocates; for tests and tooling). */
  keys(): string[] {
    return [...this.#index.keys()];
  }

  /** Counters and occupancy. */
  stats(): L2Stats {
    return { ...this.#stats, entries: this.#index.size };
  }

  /** Syncs, unmaps and closes the file; every outstanding view becomes invalid. */
  close(): void {
    if (!this.#map) return;
    this.sync();
    munmap(this.#map);
    this.#map = null;
    closeFd(this.#fd);
  }
}

function preallocate(fd: number, size: number, path: string, created: boolean): void {
  try {
    fallocate(fd, 0, size);
  } catch (e) {
    if (e instanceof LibcError && e.code === EOPNOTSUPP) {
      // Filesystems without fallocate: a sparse file; a full device then shows up as
      // SIGBUS on write, so prefer a filesystem that supports fallocate.
      ftruncate(fd, size);
      return;
    }
    // Leave no half-allocated file behind.
    try {
      ftruncate(fd, 0);
      if (created) Deno.removeSync(path);
    } catch { /* best effort */ }
    if (e instanceof LibcError && (e.code === ENOSPC || e.code === EFBIG)) {
      throw new L2DeviceFullError(
        `${path}: no space for an L2 file of ${size} bytes (${e.message})`,
      );
    }
    throw e;
  }
}
