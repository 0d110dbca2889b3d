/**
 * libc through Deno FFI: file descriptors, preallocation and memory mapping.
 *
 * The library is opened lazily, once per process, by `libc()`; other FFI modules
 * (e.g. `src/ffi/ioctl.ts`) reuse `openLibrary` with their own symbol table.
 * Every wrapper turns a -1 / MAP_FAILED return into a `LibcError` carrying errno and
 * strerror, read right after the failing call (nothing runs in between on this thread).
 */

/** Linux x86-64 / aarch64 constants used by the wrappers (asm-generic values). */
export const O_RDONLY = 0x0;
/** Open for reading and writing. */
export const O_RDWR = 0x2;
/** Create the file when missing. */
export const O_CREAT = 0x40;
/** Close the descriptor across exec (children must not inherit it). */
export const O_CLOEXEC = 0x80000;
/** mmap protection: readable. */
export const PROT_READ = 0x1;
/** mmap protection: writable. */
export const PROT_WRITE = 0x2;
/** mmap flag: writes reach the file and other mappings. */
export const MAP_SHARED = 0x01;
/** msync: write back and wait. */
export const MS_SYNC = 4;
/** msync: schedule write-back without waiting. */
export const MS_ASYNC = 1;
/** madvise: no particular pattern. */
export const MADV_NORMAL = 0;
/** madvise: random access, so read-ahead is wasted. */
export const MADV_RANDOM = 1;
/** madvise: sequential access (used while scanning at recovery). */
export const MADV_SEQUENTIAL = 2;
/** madvise: the range will be needed soon. */
export const MADV_WILLNEED = 3;
/** errno: no space left on device. */
export const ENOSPC = 28;
/** errno: operation not supported (fallocate on some filesystems). */
export const EOPNOTSUPP = 95;
/** errno: file too large. */
export const EFBIG = 27;
/** errno: interrupted system call. */
export const EINTR = 4;

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  fallocate: { parameters: ["i32", "i32", "i64", "i64"], result: "i32" },
  fsync: { parameters: ["i32"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  msync: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
  sysconf: { parameters: ["i32"], result: "i64" },
  posix_fadvise: { parameters: ["i32", "i64", "i64", "i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The libc symbols this module binds. */
export type LibcSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

const opened = new Map<string, Deno.DynamicLibrary<Deno.ForeignLibraryInterface>>();

/**
 * Opens `path` once per (path, symbol set) and returns its symbol table; other FFI
 * modules (e.g. `src/ffi/ioctl.ts`) call it with their own symbols, so libc is loaded
 * lazily and each symbol set bound once per process.
 */
export function openLibrary<S extends Deno.ForeignLibraryInterface>(
  path: string,
  symbols: S,
): Deno.DynamicLibrary<S>["symbols"] {
  const cacheKey = `${path}|${Object.keys(symbols).sort().join(",")}`;
  let lib = opened.get(cacheKey) as Deno.DynamicLibrary<S> | undefined;
  if (!lib) {
    lib = Deno.dlopen(path, symbols);
    opened.set(cacheKey, lib as unknown as Deno.DynamicLibrary<Deno.ForeignLibraryInterface>);
  }
  return lib.symbols;
}

/** The shared libc soname on glibc systems. */
export const LIBC_PATH = "libc.so.6";

/** The lazily-opened libc symbol table (open, mmap, msync, ...). */
export function libc(): LibcSymbols {
  return openLibrary(LIBC_PATH, SYMBOLS);
}

/** errno of the last failed libc call on this thread. */
export function errno(): number {
  const p = libc().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32(0);
}

/** The C library's message for an errno value. */
export function strerror(code: number): string {
  const p = libc().strerror(code);
  return p === null ? `errno ${code}` : Deno.UnsafePointerView.getCString(p);
}

/** A failed libc call: which call, errno and its message. */
export class LibcError extends Error {
  /** @param call the libc function; @param code errno; @param detail what it was doing */
  constructor(readonly call: string, readonly code: number, detail = "") {
    super(`${call}${detail ? ` (${detail})` : ""}: ${strerror(code)} (errno ${code})`);
    this.name = "LibcError";
  }
}

function check(call: string, rc: number | bigint, detail?: string): void {
  if (rc === -1 || rc === -1n) throw new LibcError(call, errno(), detail);
}

const encoder = new TextEncoder();

/** open(2): returns a file descriptor or throws LibcError. */
export function openFd(path: string, flags: number, mode = 0o644): number {
  const cpath = encoder.encode(path + "\0");
  for (;;) {
    const fd = libc().open(cpath, flags | O_CLOEXEC, mode);
    if (fd === -1 && errno() === EINTR) continue;
    check("open", fd, path);
    return fd;
  }
}

/** close(2). */
export function closeFd(fd: number): void {
  check("close", libc().close(fd));
}

/** ftruncate(2): sets the file length (sparse). */
export function ftruncate(fd: number, size: number): void {
  check("ftruncate", libc().ftruncate(fd, BigInt(size)));
}

/**
 * fallocate(2) with mode 0: reserves real blocks for [offset, offset+len) so later
 * writes through a mapping cannot hit SIGBUS on a full device; ENOSPC surfaces here.
 */
export function fallocate(fd: number, offset: number, len: number): void {
  for (;;) {
    const rc = libc().fallocate(fd, 0, BigInt(offset), BigInt(len));
    if (rc === -1 && errno() === EINTR) continue;
    check("fallocate", rc, `${len} bytes`);
    return;
  }
}

/** posix_fadvise advice: the cached pages of the range are not needed (clean ones are dropped). */
export const POSIX_FADV_DONTNEED = 4;

/**
 * posix_fadvise(2) over the whole file. Unlike other calls it returns the error number
 * instead of setting errno.
 */
export function fadvise(fd: number, advice: number): void {
  const rc = libc().posix_fadvise(fd, 0n, 0n, advice);
  if (rc !== 0) throw new LibcError("posix_fadvise", rc);
}

/** fsync(2). */
export function fsyncFd(fd: number): void {
  check("fsync", libc().fsync(fd));
}

/** A shared read-write mapping of a file, with a zero-copy ArrayBuffer over it. */
export interface Mapping {
  /** Start of the mapping. */
  ptr: Deno.PointerObject;
  /** Length in bytes. */
  length: number;
  /** The mapped bytes; valid only until `munmap`. */
  buffer: ArrayBuffer;
}

/** mmap(2) of `length` bytes of `fd` from offset 0, shared, read-write. */
export function mmapShared(fd: number, length: number): Mapping {
  const p = libc().mmap(null, BigInt(length), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0n);
  if (p === null || Deno.UnsafePointer.value(p) === 0xffff_ffff_ffff_ffffn) {
    throw new LibcError("mmap", errno(), `${length} bytes`);
  }
  return { ptr: p, length, buffer: Deno.UnsafePointerView.getArrayBuffer(p, length) };
}

/** munmap(2); every view over the mapping is dangling afterwards. */
export function munmap(m: Mapping): void {
  check("munmap", libc().munmap(m.ptr, BigInt(m.length)));
}

/** Page size of this machine (sysconf(_SC_PAGESIZE)). */
export function pageSize(): number {
  if (cachedPage === 0) {
    const v = Number(libc().sysconf(30));
    cachedPage = v > 0 ? v : 4096;
  }
  return cachedPage;
}
let cachedPage = 0;

/**
 * msync(2) of [offset, offset+len) of a mapping; the start is rounded down to a page
 * boundary as the kernel demands.
 */
export function msync(m: Mapping, offset: number, len: number, flags = MS_SYNC): void {
  const page = pageSize();
  const start = offset - (offset % page);
  const end = Math.min(m.length, offset + len);
  if (end <= start) return;
  const p = Deno.UnsafePointer.offset(m.ptr, start);
  check("msync", libc().msync(p, BigInt(end - start), flags));
}

/** madvise(2) over [offset, offset+len) of a mapping (page-rounded like msync). */
export function madvise(m: Mapping, offset: number, len: number, advice: number): void {
  const page = pageSize();
  const start = offset - (offset % page);
  const end = Math.min(m.length, offset + len);
  if (end <= start) return;
  const p = Deno.UnsafePointer.offset(m.ptr, start);
  check("madvise", libc().madvise(p, BigInt(end - start), advice));
}
