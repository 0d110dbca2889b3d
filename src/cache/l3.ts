/**
 * L3: the cold backend behind the cache (FR-303). `L3Backend` is the port; adapters
 * are the plain directory below and, later, the erasure-coded store (`src/ec/store`).
 * Keys are strings, values opaque bytes. `compressedBackend` wraps any adapter so the
 * bytes it stores are LZ4 frames (FR-304).
 */
import { frame, unframe } from "./codec.ts";
import { fmix32, hashString } from "./hash.ts";
import { syncDir, writeFileAtomic } from "../ec/store/atomic.ts";

/** The cold store the cache reads through and writes to. */
export interface L3Backend {
  /** The value, or undefined when the key is absent. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Stores durably; resolves only once the value survives a crash. */
  put(key: string, value: Uint8Array): Promise<void>;
  /** Removes the key (no error when absent). */
  delete(key: string): Promise<void>;
}

/** An adapter whose stored bytes are LZ4 frames of the values (kept raw when LZ4 doesn't help). */
export function compressedBackend(inner: L3Backend, enabled = true): L3Backend {
  return {
    get: async (key) => {
      const b = await inner.get(key);
      return b === undefined ? undefined : unframe(b);
    },
    put: (key, value) => inner.put(key, frame(value, enabled)),
    delete: (key) => inner.delete(key),
  };
}

/**
 * A file name for `key`: safe characters kept, the rest %-escaped; long keys become a
 * hash plus a readable prefix. Fanned out over 256 subdirectories by hash.
 */
export function keyPath(key: string): { dir: string; name: string } {
  let name = "";
  for (const ch of key) {
    name += /^[A-Za-z0-9_\-]$/.test(ch)
      ? ch
      : [...new TextEncoder().encode(ch)].map((b) => "%" + b.toString(16).padStart(2, "0"))
        .join("");
  }
  const h = hashString(key);
  if (name.length > 200) {
    name = `${name.slice(0, 120)}~${h.toString(16)}${fmix32(h ^ key.length).toString(16)}`;
  }
  return { dir: (h & 0xff).toString(16).padStart(2, "0"), name: "k" + name };
}

/** Options of the directory adapter. */
export interface DirectoryBackendOptions {
  /** Root directory (created if missing). */
  root: string;
  /** fsync files and directories before a put resolves (default true). */
  fsync?: boolean;
}

/**
 * One file per key under `root`. A put writes a temporary file, fsyncs it, renames it
 * over the target and fsyncs the directory, so a reader sees the old or the new value,
 * never a torn one, and a resolved put survives a crash.
 */
export class DirectoryBackend implements L3Backend {
  readonly #root: string;
  readonly #fsync: boolean;
  readonly #made = new Set<string>();

  /** Uses `opts.root`; directories are created on first write. */
  constructor(opts: DirectoryBackendOptions) {
    this.#root = opts.root;
    this.#fsync = opts.fsync ?? true;
  }

  #paths(key: string): { dir: string; file: string } {
    const { dir, name } = keyPath(key);
    const d = `${this.#root}/${dir}`;
    return { dir: d, file: `${d}/${name}` };
  }

  /** Reads the key's file; undefined when it doesn't exist. */
  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await Deno.readFile(this.#paths(key).file);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
  }

  /** Atomic, durable replace of the key's file. */
  async put(key: string, value: Uint8Array): Promise<void> {
    const { dir, file } = this.#paths(key);
    if (!this.#made.has(dir)) {
      await Deno.mkdir(dir, { recursive: true });
      this.#made.add(dir);
    }
    await writeFileAtomic(file, value, { fsync: this.#fsync });
  }

  /** Removes the key's file (and makes the removal durable). */
  async delete(key: string): Promise<void> {
    const { dir, file } = this.#paths(key);
    try {
      await Deno.remove(file);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    if (this.#fsync) await syncDir(dir);
  }
}
