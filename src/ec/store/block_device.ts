/**
 * Aligned positional I/O on a raw block device, or on a fixed-size file treated as one. Every
 * read and write covers whole units of `align` bytes (the device's logical block size from
 * BLKSSZGET, at least 4 KiB) at aligned offsets, as O_DIRECT and 4Kn drives demand; durability
 * comes from fsync. One process owns a device; calls are serialised per device.
 */
import { queryBlockDevice } from "../../ffi/ioctl.ts";
import { closeFd, fadvise, O_RDONLY, openFd, POSIX_FADV_DONTNEED } from "../../ffi/libc.ts";
import { namingNoSpace } from "./nospace.ts";

/** The smallest I/O unit used, whatever smaller sector size a device reports. */
export const MIN_ALIGN = 4096;

/** Rounds n up to a multiple of unit. */
export function alignUp(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}

/** An open device (or file) with its size and I/O unit. */
export class BlockDevice {
  #lock: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly file: Deno.FsFile,
    /** Usable bytes (a multiple of align). */
    readonly sizeBytes: number,
    /** Logical block size the kernel reports (512 for plain files). */
    readonly logicalBlockSize: number,
    /** I/O unit: max(logicalBlockSize, MIN_ALIGN). */
    readonly align: number,
    /** True for a real block device, false for a plain file. */
    readonly isBlockDevice: boolean,
  ) {}

  /**
   * Opens a block device or a regular file, read-write unless `readOnly` (a volume attached
   * read-only); throws naming the path.
   */
  static async open(path: string, opts: { readOnly?: boolean } = {}): Promise<BlockDevice> {
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(path);
    } catch (e) {
      throw new Error(`device ${path}: ${(e as Error).message}`);
    }
    const isBlock = st.isBlockDevice === true;
    if (!isBlock && !st.isFile) {
      throw new Error(`device ${path} is neither a block device nor a regular file`);
    }
    // BLKGETSIZE64 and BLKSSZGET through src/ffi/ioctl.ts; a file is its stat size, 512-byte sectors.
    const info = isBlock ? queryBlockDevice(path) : { sizeBytes: st.size, logicalBlockSize: 512 };
    const align = Math.max(MIN_ALIGN, info.logicalBlockSize);
    // Linux opens a read-only block device for writing and fails each write (EPERM): ask first.
    if (isBlock && !opts.readOnly && await readOnlyBlockDevice(st)) {
      throw new Error(`device ${path} is read-only (attached read-only); it cannot take writes`);
    }
    const file = await Deno.open(path, { read: true, write: !opts.readOnly });
    const size = Math.floor(info.sizeBytes / align) * align;
    return new BlockDevice(path, file, size, info.logicalBlockSize, align, isBlock);
  }

  /** Reads [offset, offset+length), reading whole aligned units around it. */
  readAt(offset: number, length: number): Promise<Uint8Array> {
    return this.#serial(async () => {
      const start = offset - (offset % this.align);
      const end = Math.min(alignUp(offset + length, this.align), this.sizeBytes);
      if (offset < 0 || offset + length > this.sizeBytes) {
        throw new RangeError(`device ${this.path}: read of ${length} at ${offset} past its end`);
      }
      const buf = new Uint8Array(end - start);
      await this.file.seek(start, Deno.SeekMode.Start);
      let got = 0;
      while (got < buf.length) {
        const n = await this.file.read(buf.subarray(got));
        if (n === null) break;
        got += n;
      }
      return buf.subarray(offset - start, offset - start + length);
    });
  }

  /** Writes data at an aligned offset, zero-padding it to whole units. */
  writeAt(offset: number, data: Uint8Array): Promise<void> {
    return this.#serial(async () => {
      if (offset % this.align !== 0) {
        throw new RangeError(`device ${this.path}: unaligned write at ${offset}`);
      }
      const len = alignUp(data.length, this.align);
      if (offset + len > this.sizeBytes) {
        throw new RangeError(`device ${this.path}: write of ${len} at ${offset} past its end`);
      }
      const buf = len === data.length ? data : new Uint8Array(len);
      if (buf !== data) buf.set(data);
      await namingNoSpace(`device ${this.path}`, async () => {
        await this.file.seek(offset, Deno.SeekMode.Start);
        let off = 0;
        while (off < buf.length) off += await this.file.write(buf.subarray(off));
      });
    });
  }

  /** fsyncs the device (its cache flushed to the medium). */
  sync(): Promise<void> {
    return this.#serial(() => this.file.sync());
  }

  /**
   * Writes back and drops the device's cached pages, so the next reads come from the medium:
   * a verify after a put then checks what the device holds, not what the page cache kept.
   */
  dropCache(): Promise<void> {
    return this.#serial(async () => {
      await this.file.sync();
      // The page cache belongs to the device inode, so advice through any descriptor applies.
      const fd = openFd(this.path, O_RDONLY);
      try {
        fadvise(fd, POSIX_FADV_DONTNEED);
      } finally {
        closeFd(fd);
      }
    });
  }

  /** Closes the device. */
  close(): void {
    this.file.close();
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => {});
    return run;
  }
}

/**
 * Whether the kernel marks a block device read-only: /sys/dev/block/MAJOR:MINOR/ro, found by
 * the device number (a container's device node may have another name than the host's).
 * Unknown (no sysfs) counts as writable.
 */
async function readOnlyBlockDevice(st: Deno.FileInfo): Promise<boolean> {
  if (st.rdev === null) return false;
  // glibc's gnu_dev_major / gnu_dev_minor encoding of dev_t.
  const dev = BigInt(st.rdev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  try {
    return (await Deno.readTextFile(`/sys/dev/block/${major}:${minor}/ro`)).trim() === "1";
  } catch {
    return false;
  }
}
