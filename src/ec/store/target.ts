/**
 * The shard target port: one failure domain holding shard files (a directory on its own disk
 * here; block_target.ts puts them on a raw block device or a fixed-size file).
 */
import { syncDir, writeFileAtomic } from "./atomic.ts";

/** Where shards live; one target never holds two shards of one stripe. */
export interface ShardTarget {
  /** Stable id recorded in the manifest's placement. */
  readonly id: string;
  /** Stores a shard file atomically (durable after the next flush); throws when down. */
  write(name: string, data: Uint8Array): Promise<void>;
  /** Makes every completed write durable (file names included). */
  flush(): Promise<void>;
  /** The shard file's bytes, or null when it (or the whole target) is missing. */
  read(name: string): Promise<Uint8Array | null>;
  /** Removes a shard file if present. */
  remove(name: string): Promise<void>;
  /** True when the target is reachable and writable. */
  healthy(): Promise<boolean>;
  /** Makes a replaced (empty) target usable again, e.g. re-creating its directory. */
  provision(): Promise<void>;
  /** Releases what the target holds open (a device's file descriptor). */
  close?(): void;
  /** Writes back and drops what the OS caches of the target (a device's page cache). */
  dropCache?(): Promise<void>;
  /** Why the target is down, when it knows (set by healthy()). */
  readonly problem?: string | null;
}

/** A target backed by one directory. */
export class DirectoryTarget implements ShardTarget {
  constructor(readonly id: string, readonly dir: string) {}

  /** Writes `<dir>/<name>` via fsync'd temp file + rename; refuses when the directory is gone. */
  async write(name: string, data: Uint8Array): Promise<void> {
    if (!(await this.healthy())) throw new Error(`shard target ${this.id} (${this.dir}) is down`);
    // The directory is fsync'd once per batch in flush(), not once per shard.
    await writeFileAtomic(`${this.dir}/${name}`, data, {
      syncDir: false,
      where: `${this.dir} (shard target ${this.id})`,
    });
  }

  /** fsyncs the directory so renamed shard files survive a crash. */
  async flush(): Promise<void> {
    if (await this.healthy()) await syncDir(this.dir);
  }

  /** Reads `<dir>/<name>`; null when missing. */
  async read(name: string): Promise<Uint8Array | null> {
    try {
      return await Deno.readFile(`${this.dir}/${name}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  }

  /** Deletes `<dir>/<name>` if present. */
  async remove(name: string): Promise<void> {
    await Deno.remove(`${this.dir}/${name}`).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }

  /** The directory exists. */
  async healthy(): Promise<boolean> {
    try {
      return (await Deno.stat(this.dir)).isDirectory;
    } catch {
      return false;
    }
  }

  /** mkdir -p. */
  async provision(): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true });
  }
}
