/**
 * The write-back journal: an append-only file of writes not yet in L3. A write-back
 * `set`/`delete` is acknowledged only after its record is fdatasync'ed here, so a
 * crash never loses it: on restart the records are replayed and flushed to L3 again
 * (L3 puts and deletes are idempotent, and replay keeps their order). The file is
 * truncated whenever everything in it has reached L3.
 *
 * Record: magic u32 "CSWB", xxHash32 of bytes 8.. u32, kind u8 (1 put, 2 delete),
 * 3 bytes zero, key length u32, value length u32, key (UTF-8), value. A torn or corrupt
 * tail (bad magic or checksum) ends the replay and is cut off.
 */
import { xxh32 } from "./hash.ts";

const MAGIC = 0x42575343; // "CSWB"
const HEADER = 20;
/** Journal record kind: put. */
export const JOURNAL_PUT = 1;
/** Journal record kind: delete. */
export const JOURNAL_DELETE = 2;

/** One replayed journal record. */
export interface JournalRecord {
  kind: typeof JOURNAL_PUT | typeof JOURNAL_DELETE;
  key: string;
  /** The value of a put (empty for a delete). */
  value: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The durable log of acknowledged, not yet flushed, write-back operations. */
export class WriteBackJournal {
  readonly #file: Deno.FsFile;
  #size: number;

  private constructor(file: Deno.FsFile, size: number) {
    this.#file = file;
    this.#size = size;
  }

  /**
   * Opens (creating) the journal, returns it with the valid records in order; a torn
   * tail is truncated so new records follow the last good one.
   */
  static open(path: string): { journal: WriteBackJournal; records: JournalRecord[] } {
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(path);
    } catch (e) {
      file.close();
      throw e;
    }
    const records: JournalRecord[] = [];
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let off = 0;
    while (off + HEADER <= bytes.length) {
      if (dv.getUint32(off, true) !== MAGIC) break;
      const kind = bytes[off + 8];
      const kl = dv.getUint32(off + 12, true);
      const vl = dv.getUint32(off + 16, true);
      const end = off + HEADER + kl + vl;
      if (end > bytes.length || (kind !== JOURNAL_PUT && kind !== JOURNAL_DELETE)) break;
      if (xxh32(bytes, off + 8, end) !== dv.getUint32(off + 4, true)) break;
      const kStart = off + HEADER;
      records.push({
        kind,
        key: dec.decode(bytes.subarray(kStart, kStart + kl)),
        value: bytes.slice(kStart + kl, end),
      });
      off = end;
    }
    if (off !== bytes.length) {
      file.truncateSync(off);
      file.syncDataSync();
    }
    file.seekSync(off, Deno.SeekMode.Start);
    return { journal: new WriteBackJournal(file, off), records };
  }

  /** Bytes currently in the journal. */
  get size(): number {
    return this.#size;
  }

  /** Appends one record and fdatasyncs it; returns once it would survive a crash. */
  append(kind: typeof JOURNAL_PUT | typeof JOURNAL_DELETE, key: string, value: Uint8Array): void {
    const k = enc.encode(key);
    const rec = new Uint8Array(HEADER + k.length + value.length);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, MAGIC, true);
    rec[8] = kind;
    dv.setUint32(12, k.length, true);
    dv.setUint32(16, value.length, true);
    rec.set(k, HEADER);
    rec.set(value, HEADER + k.length);
    dv.setUint32(4, xxh32(rec, 8, rec.length), true);
    let off = 0;
    while (off < rec.length) off += this.#file.writeSync(rec.subarray(off));
    this.#file.syncDataSync();
    this.#size += rec.length;
  }

  /** Empties the journal (everything in it reached L3). */
  reset(): void {
    this.#file.truncateSync(0);
    this.#file.seekSync(0, Deno.SeekMode.Start);
    this.#file.syncDataSync();
    this.#size = 0;
  }

  /** Closes the file (records stay for the next open). */
  close(): void {
    this.#file.close();
  }
}
