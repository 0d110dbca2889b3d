/**
 * The simulator's replica bytes: one file per replica under
 * `<dataDir>/<pool>/<replica>.img`, so a move can be checked to lose nothing by
 * hashing every replica's file.
 */

const CHUNK = 1 << 20;

/** File-backed replica data. */
export class ReplicaStore {
  constructor(readonly dataDir: string) {}

  /** Path of a replica's file. */
  pathOf(pool: string, replica: string): string {
    return `${this.dataDir}/${pool}/${replica}.img`;
  }

  /** Creates a replica file of `size` bytes: the given content, or zeros. */
  async create(pool: string, replica: string, size: number, content?: Uint8Array) {
    await Deno.mkdir(`${this.dataDir}/${pool}`, { recursive: true });
    const path = this.pathOf(pool, replica);
    if (content) {
      await Deno.writeFile(path, content);
    } else {
      using f = await Deno.open(path, { create: true, write: true, truncate: true });
      await f.truncate(size);
    }
  }

  /** Copies bytes [offset, offset+length) from one replica file to another. */
  async copyRange(src: string, dst: string, offset: number, length: number): Promise<void> {
    if (length <= 0) return;
    using from = await Deno.open(src, { read: true });
    using to = await Deno.open(dst, { write: true });
    const buf = new Uint8Array(Math.min(CHUNK, length));
    let done = 0;
    while (done < length) {
      const want = Math.min(buf.length, length - done);
      await from.seek(offset + done, Deno.SeekMode.Start);
      let got = 0;
      while (got < want) {
        const n = await from.read(buf.subarray(got, want));
        if (n === null) throw new Error(`short read in ${src} at ${offset + done + got}`);
        got += n;
      }
      await to.seek(offset + done, Deno.SeekMode.Start);
      let put = 0;
      while (put < want) put += await to.write(buf.subarray(put, want));
      done += want;
    }
  }

  /** Directory holding a pool's EC shard directories (one per volume). */
  ecRoot(pool: string): string {
    return `${this.dataDir}/${pool}/ec`;
  }

  /** Bytes [offset, offset+length) of a replica file. */
  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    using f = await Deno.open(path, { read: true });
    await f.seek(offset, Deno.SeekMode.Start);
    const out = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = await f.read(out.subarray(got));
      if (n === null) throw new Error(`short read in ${path} at ${offset + got}`);
      got += n;
    }
    return out;
  }

  /** Writes bytes at `offset` of a replica file. */
  async writeRange(path: string, offset: number, data: Uint8Array): Promise<void> {
    using f = await Deno.open(path, { write: true });
    await f.seek(offset, Deno.SeekMode.Start);
    let put = 0;
    while (put < data.length) put += await f.write(data.subarray(put));
  }

  /** Removes a replica's file (missing is fine). */
  async remove(path: string): Promise<void> {
    await Deno.remove(path).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
}

/** Random bytes of the given length (crypto.getRandomValues takes 64 KiB per call). */
export function randomBytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let o = 0; o < size; o += 65536) crypto.getRandomValues(out.subarray(o, o + 65536));
  return out;
}

/** SHA-256 of bytes, as hex. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 of a file's content, as hex. */
export async function fileSha256(path: string): Promise<string> {
  return sha256Hex(await Deno.readFile(path));
}
