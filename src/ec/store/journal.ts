/**
 * Write-ahead journal. A record is acknowledged only after fdatasync. Each record is framed by
 * its length and carries two checksums, one over its head (framing and key) and one over its
 * payload, so replay can step over a damaged record and keep every acknowledged record after
 * it:
 *
 *   head (40 bytes, little-endian): "CSJ2" | key length u16 | version u16 = 2 |
 *     payload length u32 | reserved u32 | sequence u64 | xxhash64 of the payload |
 *     xxhash64 of (head bytes 0..32, key)
 *   then the key, then the payload.
 *
 * Replay: a record whose head is intact but whose payload fails its checksum is skipped by its
 * length (its key is still known); a damaged head is skipped by scanning for the next intact
 * head. Damage followed by no intact record is a torn tail (a crash mid-append, never
 * acknowledged) and is ignored; a writable open cuts it off, a read-only open leaves the file
 * byte-identical.
 */
import type { BlockHasher } from "./checksum.ts";
import { namingNoSpace } from "./nospace.ts";

const MAGIC = 0x324a5343; // "CSJ2" little-endian
const VERSION = 2;
const HEAD = 40;
const HEAD_HASHED = 32;

/** A replayed record. */
export interface JournalRecord {
  seq: number;
  key: Uint8Array;
  payload: Uint8Array;
}

/** A damaged stretch of the journal found by replay. */
export interface JournalDamage {
  /** Byte offset of the damage in the file. */
  offset: number;
  /** Bytes skipped. */
  length: number;
  /** Sequence and key of the record, when its head was intact (only its payload is damaged). */
  seq?: number;
  key?: Uint8Array;
  /** What failed. */
  reason: string;
  /** True when nothing intact follows (a torn append, ignored). */
  tail: boolean;
}

/** How to open the journal. */
export interface JournalOpenOptions {
  /** Sequences keep increasing across resets: the first sequence at least this. */
  minNextSeq?: number;
  /** Never create, truncate or write the file (appends throw). */
  readOnly?: boolean;
}

/** What opening found. */
export interface JournalOpenResult {
  journal: Journal;
  records: JournalRecord[];
  damage: JournalDamage[];
}

type Parsed =
  | { kind: "ok"; record: JournalRecord; end: number }
  | { kind: "badPayload"; seq: number; key: Uint8Array; end: number }
  | { kind: "bad"; reason: string };

/** An open journal file. */
export class Journal {
  #size: number;
  #nextSeq: number;

  private constructor(
    readonly path: string,
    private readonly file: Deno.FsFile | null,
    private readonly hasher: BlockHasher,
    size: number,
    nextSeq: number,
  ) {
    this.#size = size;
    this.#nextSeq = nextSeq;
  }

  /** Opens the journal and replays it (see the module comment for what is kept). */
  static async open(
    path: string,
    hasher: BlockHasher,
    opts: JournalOpenOptions = {},
  ): Promise<JournalOpenResult> {
    const file = await openFile(path, opts.readOnly ?? false);
    const bytes = file ? await readAll(file) : new Uint8Array(0);
    const { records, damage, end } = scan(bytes, hasher);
    const lastSeq = records.at(-1)?.seq ?? 0;
    let size = bytes.length;
    if (file && !opts.readOnly && end !== bytes.length) {
      await file.truncate(end);
      await file.sync();
      size = end;
    }
    if (file && !opts.readOnly) await file.seek(size, Deno.SeekMode.Start);
    const nextSeq = Math.max(opts.minNextSeq ?? 1, lastSeq + 1);
    const journal = new Journal(path, opts.readOnly ? null : file, hasher, size, nextSeq);
    if (opts.readOnly) file?.close();
    return { journal, records, damage };
  }

  /** Bytes in the journal file. */
  get size(): number {
    return this.#size;
  }

  /** The sequence the next append gets. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Bytes a record with this key and payload takes in the file. */
  static recordBytes(keyBytes: number, payloadBytes: number): number {
    return HEAD + keyBytes + payloadBytes;
  }

  /**
   * Appends a record and fdatasyncs; resolves with its sequence once durable. A failed append
   * (e.g. ENOSPC, thrown as NoSpaceError naming the journal) is cut off again, so the file
   * ends with the last acknowledged record.
   */
  async append(key: Uint8Array, payload: Uint8Array): Promise<number> {
    const file = this.#writable();
    const seq = this.#nextSeq;
    const rec = encodeRecord(this.hasher, seq, key, payload);
    await namingNoSpace(`the journal ${this.path}`, async () => {
      try {
        let off = 0;
        while (off < rec.length) off += await file.write(rec.subarray(off));
        await file.syncData();
      } catch (e) {
        await file.truncate(this.#size).catch(() => {});
        await file.seek(this.#size, Deno.SeekMode.Start).catch(() => {});
        throw e;
      }
    });
    this.#nextSeq++;
    this.#size += rec.length;
    return seq;
  }

  /** Empties the journal after its records were destaged (their sequences live on). */
  async reset(): Promise<void> {
    const file = this.#writable();
    await file.truncate(0);
    await file.seek(0, Deno.SeekMode.Start);
    await file.sync();
    this.#size = 0;
  }

  /** Closes the file. */
  close(): void {
    this.file?.close();
  }

  #writable(): Deno.FsFile {
    if (!this.file) throw new Error(`journal ${this.path} is open read-only`);
    return this.file;
  }
}

/** Encodes one record (exported for tests that build damaged journals). */
export function encodeRecord(
  hasher: BlockHasher,
  seq: number,
  key: Uint8Array,
  payload: Uint8Array,
): Uint8Array {
  if (key.length > 0xffff) throw new RangeError("journal key too long");
  const rec = new Uint8Array(HEAD + key.length + payload.length);
  const v = new DataView(rec.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint16(4, key.length, true);
  v.setUint16(6, VERSION, true);
  v.setUint32(8, payload.length, true);
  v.setBigUint64(16, BigInt(seq), true);
  rec.set(hasher.sum(payload), 24);
  rec.set(key, HEAD);
  rec.set(payload, HEAD + key.length);
  rec.set(headHash(hasher, rec.subarray(0, HEAD_HASHED), key), HEAD_HASHED);
  return rec;
}

/** Replays bytes: intact records in order, damaged stretches, and where the intact part ends. */
function scan(
  bytes: Uint8Array,
  hasher: BlockHasher,
): { records: JournalRecord[]; damage: JournalDamage[]; end: number } {
  const records: JournalRecord[] = [];
  const damage: JournalDamage[] = [];
  let at = 0;
  let end = 0; // just past the last intact record
  let lastSeq = 0;
  while (at < bytes.length) {
    const p = parseAt(bytes, at, hasher, lastSeq);
    if (p.kind === "ok") {
      records.push(p.record);
      lastSeq = p.record.seq;
      at = end = p.end;
      continue;
    }
    if (p.kind === "badPayload") {
      damage.push({
        offset: at,
        length: p.end - at,
        seq: p.seq,
        key: p.key,
        reason: "payload checksum mismatch",
        tail: false,
      });
      at = p.end;
      continue;
    }
    const next = resync(bytes, at + 1, hasher, lastSeq);
    damage.push({ offset: at, length: next - at, reason: p.reason, tail: false });
    at = next;
  }
  // Whatever lies after the last intact record was never acknowledged: a torn append.
  for (const d of damage) d.tail = d.offset >= end;
  return { records, damage, end };
}

/** The next offset at or after `from` where an intact head starts (the end when none). */
function resync(bytes: Uint8Array, from: number, hasher: BlockHasher, lastSeq: number): number {
  for (let at = from; at + HEAD <= bytes.length; at++) {
    // "CSJ2": the first byte is 'C' (0x43); cheap filter before parsing.
    if (bytes[at] !== 0x43) continue;
    if (parseAt(bytes, at, hasher, lastSeq).kind !== "bad") return at;
  }
  return bytes.length;
}

function parseAt(bytes: Uint8Array, at: number, hasher: BlockHasher, lastSeq: number): Parsed {
  if (at + HEAD > bytes.length) return { kind: "bad", reason: "truncated record head" };
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, HEAD);
  if (v.getUint32(0, true) !== MAGIC || v.getUint16(6, true) !== VERSION) {
    return { kind: "bad", reason: "no record head (bad magic)" };
  }
  const keyLen = v.getUint16(4, true);
  const payloadLen = v.getUint32(8, true);
  const end = at + HEAD + keyLen + payloadLen;
  if (at + HEAD + keyLen > bytes.length) return { kind: "bad", reason: "truncated record" };
  const key = bytes.subarray(at + HEAD, at + HEAD + keyLen);
  const head = bytes.subarray(at, at + HEAD_HASHED);
  if (!same(headHash(hasher, head, key), bytes.subarray(at + HEAD_HASHED, at + HEAD))) {
    return { kind: "bad", reason: "record head checksum mismatch" };
  }
  if (end > bytes.length) return { kind: "bad", reason: "truncated record payload" };
  const seq = Number(v.getBigUint64(16, true));
  if (seq <= lastSeq) return { kind: "bad", reason: `sequence ${seq} after ${lastSeq}` };
  const payload = bytes.subarray(at + HEAD + keyLen, end);
  if (!same(hasher.sum(payload), bytes.subarray(at + 24, at + 32))) {
    return { kind: "badPayload", seq, key: key.slice(), end };
  }
  return { kind: "ok", record: { seq, key: key.slice(), payload: payload.slice() }, end };
}

function headHash(h: BlockHasher, head: Uint8Array, key: Uint8Array): Uint8Array {
  const buf = new Uint8Array(head.length + key.length);
  buf.set(head);
  buf.set(key, head.length);
  return h.sum(buf);
}

async function openFile(path: string, readOnly: boolean): Promise<Deno.FsFile | null> {
  if (!readOnly) return await Deno.open(path, { read: true, write: true, create: true });
  try {
    return await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
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

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
