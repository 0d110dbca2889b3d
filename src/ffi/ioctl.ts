/**
 * Block-device ioctls through Deno FFI (libc `open`, `ioctl`, `close`), read-only.
 * Request numbers are the kernel's `_IO`/`_IOR` encodings from <linux/fs.h> and
 * <linux/blkzoned.h> for x86_64 and aarch64.
 */
import {
  closeFd,
  errno,
  LIBC_PATH,
  LibcError,
  O_RDONLY,
  openFd,
  openLibrary,
  strerror,
} from "./libc.ts";

/** ioctl request numbers used by hardware discovery. */
export const BLK = {
  /** _IOR(0x12, 114, size_t): device size in bytes (u64). */
  GETSIZE64: 0x80081272n,
  /** _IO(0x12, 104): logical sector size (int). */
  SSZGET: 0x1268n,
  /** _IO(0x12, 123): physical block size (unsigned int). */
  PBSZGET: 0x127bn,
  /** _IO(0x12, 126): rotational flag (unsigned short). */
  ROTATIONAL: 0x127en,
  /** _IOR(0x12, 132, __u32): zone size in 512-byte sectors. */
  GETZONESZ: 0x80041284n,
  /** _IOR(0x12, 133, __u32): number of zones. */
  GETNRZONES: 0x80041285n,
} as const;

// O_NONBLOCK: opening a drive's node must not wait for media (removable, tape).
const O_NONBLOCK = 0o4000;

const SYMBOLS = {
  // ioctl is variadic; on x86_64 and aarch64 SysV a pointer third argument is passed like a fixed one.
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** An ioctl or open failure, carrying errno and the C library's message. */
export class IoctlError extends Error {
  constructor(
    readonly op: string,
    readonly path: string,
    readonly errno: number,
    detail: string,
  ) {
    super(`${op} ${path}: ${detail} (errno ${errno})`);
    this.name = "IoctlError";
  }
}

/** What the block-device ioctls report for one device. */
export interface BlockIoctlInfo {
  sizeBytes: number;
  logicalBlockSize: number;
  physicalBlockSize: number;
  rotational: boolean;
  /** Zone size in bytes, for zoned devices only. */
  zoneSizeBytes?: number;
  /** Number of zones, for zoned devices only. */
  nrZones?: number;
}

/** Opens a block device read-only and asks the kernel for its geometry. Throws IoctlError. */
export function queryBlockDevice(path: string, zoned = false): BlockIoctlInfo {
  let fd: number;
  try {
    fd = openFd(path, O_RDONLY | O_NONBLOCK);
  } catch (e) {
    const code = e instanceof LibcError ? e.code : 0;
    throw new IoctlError("open", path, code, strerror(code));
  }
  const l = openLibrary(LIBC_PATH, SYMBOLS);
  try {
    const buf = new Uint8Array(8);
    const view = new DataView(buf.buffer);
    const call = (name: string, req: bigint) => {
      buf.fill(0);
      if (l.ioctl(fd, req, buf) < 0) {
        const code = errno();
        throw new IoctlError(name, path, code, strerror(code));
      }
    };
    call("BLKGETSIZE64", BLK.GETSIZE64);
    const sizeBytes = Number(view.getBigUint64(0, true));
    call("BLKSSZGET", BLK.SSZGET);
    const logicalBlockSize = view.getInt32(0, true);
    call("BLKPBSZGET", BLK.PBSZGET);
    const physicalBlockSize = view.getUint32(0, true);
    call("BLKROTATIONAL", BLK.ROTATIONAL);
    const rotational = view.getUint16(0, true) !== 0;
    const info: BlockIoctlInfo = { sizeBytes, logicalBlockSize, physicalBlockSize, rotational };
    if (zoned) {
      call("BLKGETZONESZ", BLK.GETZONESZ);
      info.zoneSizeBytes = view.getUint32(0, true) * 512;
      call("BLKGETNRZONES", BLK.GETNRZONES);
      info.nrZones = view.getUint32(0, true);
    }
    return info;
  } finally {
    closeFd(fd);
  }
}
