/**
 * Destaging (FR-207): small writes acknowledged by the journal are packed into full stripes of
 * one write (one object id), the manifest names them, and only then is the journal emptied.
 * Also how journal replay turns records (and damaged records) into pending writes.
 */
import { createHash } from "node:crypto";
import type { StoreCore } from "./core.ts";
import { StripeWriter } from "./encode.ts";
import type { Journal, JournalDamage, JournalRecord } from "./journal.ts";
import type { Extent, StoredObject } from "./manifest.ts";

/** A write the journal holds and the stripes do not yet: its bytes, or why they were lost. */
export type PendingWrite = { seq: number; data: Uint8Array } | { seq: number; damaged: string };

const EMPTY_SHA256 = createHash("sha256").digest("hex");

/**
 * The pending writes a replay yields, by object name: the latest record of each name wins; a
 * damaged record whose name is known shadows older writes of that name (their bytes are not
 * the latest acknowledged ones), so reads of it fail instead of returning stale data.
 */
export function pendingFromReplay(
  records: readonly JournalRecord[],
  damage: readonly JournalDamage[],
  destagedSeq: number,
): Map<string, PendingWrite> {
  const dec = new TextDecoder();
  const events: { seq: number; name: string; w: PendingWrite }[] = [];
  for (const r of records) {
    // Records up to destagedSeq are already in stripes (crash between manifest and reset).
    if (r.seq > destagedSeq) {
      events.push({ seq: r.seq, name: dec.decode(r.key), w: { seq: r.seq, data: r.payload } });
    }
  }
  for (const d of damage) {
    if (d.tail || d.seq === undefined || d.key === undefined || d.seq <= destagedSeq) continue;
    const damaged = `its latest acknowledged write (journal record seq ${d.seq} at offset ` +
      `${d.offset}) is damaged (${d.reason}); the older stored version is not returned`;
    events.push({ seq: d.seq, name: dec.decode(d.key), w: { seq: d.seq, damaged } });
  }
  events.sort((a, b) => a.seq - b.seq);
  const pending = new Map<string, PendingWrite>();
  for (const e of events) pending.set(e.name, e.w);
  return pending;
}

/** Writes every pending write into stripes, commits, then empties the journal; returns stripes. */
export async function destageWrites(
  core: StoreCore,
  pending: Map<string, PendingWrite>,
  journal: Journal,
): Promise<number> {
  if (pending.size === 0) return 0;
  const entries = [...pending.entries()].sort((a, b) => a[1].seq - b[1].seq);
  const writeId = core.manifest.nextWriteId++;
  const writer = new StripeWriter(core, writeId);
  const placed = new Map<string, { index: number; offset: number; length: number }[]>();
  try {
    for (const [name, w] of entries) {
      if ("damaged" in w) continue;
      const pieces: { index: number; offset: number; length: number }[] = [];
      for (let off = 0; off < w.data.length;) {
        const n = Math.min(writer.room, w.data.length - off);
        pieces.push({ ...writer.position, length: n });
        await writer.append(w.data.subarray(off, off + n));
        off += n;
      }
      placed.set(name, pieces);
    }
    await writer.finish();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  const before = { ...core.manifest.objects };
  const destagedBefore = core.manifest.journal.destagedSeq;
  for (const [name, w] of entries) {
    core.manifest.objects[name] = "damaged" in w
      ? {
        size: 0,
        sha256: EMPTY_SHA256,
        extents: [],
        createdAt: core.deps.clock.now(),
        damaged: w.damaged,
      }
      : objectOf(core, w.data, placed.get(name)!, writer, writeId);
  }
  core.manifest.journal.destagedSeq = entries[entries.length - 1][1].seq;
  try {
    await core.commitManifest();
  } catch (e) {
    core.manifest.objects = before;
    core.manifest.journal.destagedSeq = destagedBefore;
    await writer.abort();
    throw e;
  }
  // Only now may the journal forget: the manifest names the stripes holding the writes.
  await journal.reset();
  pending.clear();
  core.stats.destagedStripes += writer.stripes.length;
  return writer.stripes.length;
}

function objectOf(
  core: StoreCore,
  data: Uint8Array,
  pieces: { index: number; offset: number; length: number }[],
  writer: StripeWriter,
  writeId: number,
): StoredObject {
  let at = 0;
  const extents: Extent[] = pieces.map((p) => {
    const e = { stripe: writer.stripes[p.index].id, ...p, writeId, at };
    at += p.length;
    return e;
  });
  return {
    size: data.length,
    sha256: createHash("sha256").update(data).digest("hex"),
    extents,
    createdAt: core.deps.clock.now(),
  };
}
