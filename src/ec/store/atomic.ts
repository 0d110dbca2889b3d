/** Crash-safe file replacement: write a temp file, fsync it, rename over, fsync the directory. */
import { namingNoSpace } from "./nospace.ts";

/** Prefix of the temp files writeFileAtomic creates beside their target (`<path>.tmp-<uuid>`). */
export const TMP_INFIX = ".tmp-";

/**
 * Replaces `path` with `data` atomically: readers see the old or the new file, never a mix.
 * With `syncDir: false` the caller fsyncs the directory itself (once for many files); with
 * `fsync: false` nothing is fsynced (still atomic, not crash-durable: for tests and scratch data).
 * On any failure the temp file is removed; ENOSPC is thrown as a NoSpaceError naming `where`
 * (default: the file's directory).
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array,
  opts: { syncDir?: boolean; fsync?: boolean; where?: string } = {},
): Promise<void> {
  const fsync = opts.fsync ?? true;
  const tmp = `${path}${TMP_INFIX}${crypto.randomUUID()}`;
  await namingNoSpace(opts.where ?? dirname(path), async () => {
    try {
      const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
      try {
        let off = 0;
        while (off < data.length) off += await f.write(data.subarray(off));
        if (fsync) await f.sync();
      } finally {
        f.close();
      }
      await Deno.rename(tmp, path);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
  });
  if (fsync && (opts.syncDir ?? true)) await syncDir(dirname(path));
}

/** fsyncs a directory so a rename or create inside it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  }
}

/** The parent directory of a path ("." when there is none). */
export function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}
