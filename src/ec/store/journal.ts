/**
 * Write-ahead journal. Each record: "CSJR" | payload length u32 | sequence u64 | xxhash64 of
 * (length, sequence, payload) | payload. A record is acknowledged only after fdatasync. Replay
 * stops at the first torn or corrupt record and cuts the file there, so a crash mid-append
 * loses only that unacknowledged record.
 */
import type { BlockHasher } from "./checksum.ts";

const MAGIC = 0x524a5343; // "CSJR" little-endian
const HEADER = 24;

/** A replayed record. */
export interface JournalRecord {
  seq: number;
  payload: Uint8Array;
}

/** An open journal file. */
export class Journal {
  #size: number;
  #nextSeq: number;

  private constructor(
    private readonly file: Deno.FsFile,
    private readonly hasher: BlockHasher,
    size: number,
    nextSeq: number,
  ) {
    this.#size = size;
    this.#nextSeq = nextSeq;
  }

  /**
   * Opens (creating) the journal, returns its intact records in order and truncates any torn
   * tail. `minNextSeq` keeps sequences increasing across resets (the destaged sequence + 1).
   */
  static async open(
    path: string,
    hasher: BlockHasher,
    minNextSeq = 1,
  ): Promise<{ journal: Journal; records: JournalRecord[] }> {
    const file = await Deno.open(path, { read: true, write: true, create: true });
    const bytes = await readAll(file);
    const records: JournalRecord[] = [];
    let at = 0;
    let lastSeq = 0;
    while (at + HEADER <= bytes.length) {
      const v = new DataView(bytes.buffer, bytes.byteOffset + at, HEADER);
      if (v.getUint32(0, true) !== MAGIC) break;
      const len = v.getUint32(4, true);
      const seq = Number(v.getBigUint64(8, true));
      if (at + HEADER + len > bytes.length || seq <= lastSeq) break;
      const payload = bytes.subarray(at + HEADER, at + HEADER + len);
      if (
        !sameBytes(
          recordHash(hasher, bytes.subarray(at + 4, at + 16), payload),
          bytes.subarray(at + 16, at + 24),
        )
      ) break;
      records.push({ seq, payload: payload.slice() });
      lastSeq = seq;
      at += HEADER + len;
    }
    if (at !== bytes.length) {
      await file.truncate(at);
      await file.sync();
    }
    await file.seek(at, Deno.SeekMode.Start);
    return { journal: new Journal(file, hasher, at, Math.max(minNextSeq, lastSeq + 1)), records };
  }

  /** Bytes in the journal file. */
  get size(): number {
    return this.#size;
  }

  /** The sequence the next append gets. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Appends a record and fdatasyncs; resolves with its sequence once durable. */
  async append(payload: Uint8Array): Promise<number> {
    const seq = this.#nextSeq++;
    const rec = new Uint8Array(HEADER + payload.length);
    const v = new DataView(rec.buffer);
    v.setUint32(0, MAGIC, true);
    v.setUint32(4, payload.length, true);
    v.setBigUint64(8, BigInt(seq), true);
    rec.set(payload, HEADER);
    rec.set(recordHash(this.hasher, rec.subarray(4, 16), payload), 16);
    let off = 0;
    while (off < rec.length) off += await this.file.write(rec.subarray(off));
    await this.file.syncData();
    this.#size += rec.length;
    return seq;
  }

  /** Empties the journal after its records were destaged (their sequences live on). */
  async reset(): Promise<void> {
    await this.file.truncate(0);
    await this.file.seek(0, Deno.SeekMode.Start);
    await this.file.sync();
    this.#size = 0;
  }

  /** Closes the file. */
  close(): void {
    this.file.close();
  }
}

function recordHash(h: BlockHasher, lenAndSeq: Uint8Array, payload: Uint8Array): Uint8Array {
  const buf = new Uint8Array(lenAndSeq.length + payload.length);
  buf.set(lenAndSeq);
  buf.set(payload, lenAndSeq.length);
  return h.sum(buf);
}

async function readAll(f: Deno.FsFile): Promise<Uint8Array> {
  const size = (await f.stat()).size;
  const out = new Uint8Array(size);
  let off = 0;
  while (off < size) {
    const n = await f.read(out.subarray(off));
    if (n === null) break;
    off += n;
  }
  return out.subarray(0, off);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
