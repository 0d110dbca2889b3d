/**
 * The contract between the operator and its data-mover Jobs (`couchestor ec-mover …`, the same
 * binary in a Job's container): what a Job is asked to do (its command line, built and parsed
 * here so both sides agree), the progress lines it prints, and the result it leaves in the
 * Pod's termination message (`terminationMessagePath`, at most 4096 bytes as the kubelet keeps).
 * Pure: no I/O.
 */
import { z } from "zod";

/** The subcommand the Jobs run. */
export const EC_MOVER_COMMAND = "ec-mover";

/** Where the Job's container writes its result (the kubelet's default path). */
export const TERMINATION_MESSAGE_PATH = "/dev/termination-log";

/** The kubelet keeps at most this many bytes of a termination message. */
export const TERMINATION_MESSAGE_MAX_BYTES = 4096;

const path = z.string().min(1).max(4096);
const uint = z.number().int().min(0);

/** An erasure code, as the Job is told it. */
export const EcMoverCode = z.discriminatedUnion("algorithm", [
  z.object({
    algorithm: z.literal("ReedSolomon"),
    k: z.number().int().min(1).max(128),
    m: z.number().int().min(1).max(128),
  }),
  z.object({
    algorithm: z.literal("LRC"),
    k: z.number().int().min(1).max(128),
    l: z.number().int().min(1).max(64),
    g: z.number().int().min(0).max(64),
  }),
]);

/** The store's identity and geometry, fixed when it is archived. */
const StoreRef = {
  /** Store id (written into every shard device's superblock). */
  storeId: z.string().min(1).max(128),
  /** The object's name in the store: the PV name. */
  object: z.string().min(1).max(253),
  /** Shard devices, shard i at index i (a lost one may be given as the replacement). */
  shards: z.array(path).min(2).max(256),
};

/** One Job's task. */
export const EcMoverSpec = z.discriminatedUnion("op", [
  z.object({
    op: z.literal("archive"),
    ...StoreRef,
    /** The source volume's block device (read only). */
    source: path,
    sizeBytes: uint,
    code: EcMoverCode,
    stripeSizeBytes: z.number().int().min(4096),
    blockSize: z.number().int().min(512),
  }),
  z.object({
    op: z.literal("restore"),
    ...StoreRef,
    /** The recreated volume's block device (written). */
    target: path,
    /** The whole volume's SHA-256 recorded by the archive: the restore must read it back. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** Scratch directory for the tiered read cache's L2. */
    cacheDir: path.optional(),
  }),
  z.object({
    op: z.literal("repair"),
    ...StoreRef,
    /** Shard indexes whose device in `shards` is a new, blank one to rebuild. */
    replaced: z.array(uint).min(1),
  }),
  z.object({
    op: z.literal("scrub"),
    ...StoreRef,
    /** Read at most this many bytes per second (the policy's scrub bandwidth). */
    bandwidthBytesPerSec: z.number().int().positive().optional(),
    /** Rewrite damaged shards found (else only report them). */
    repair: z.boolean(),
  }),
]);
/** One Job's task. */
export type EcMoverSpec = z.infer<typeof EcMoverSpec>;

/** What a Job prints on stdout while it works: one JSON object per line. */
export const EcMoverProgress = z.object({
  stage: z.string().min(1).max(64),
  /** Bytes done and the total, of the stage. */
  doneBytes: uint,
  totalBytes: uint,
});
/** A progress line. */
export type EcMoverProgress = z.infer<typeof EcMoverProgress>;

/** The Job's result (its termination message). */
export const EcMoverResult = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    op: z.enum(["archive", "restore", "repair", "scrub"]),
    /** Logical bytes archived, restored or checked. */
    bytes: uint,
    /** SHA-256 of the whole volume as read back from the stripes (archive, restore). */
    sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    stripes: uint,
    /** Shards rewritten (repair, scrub with repair). */
    repairedShards: uint.default(0),
    /** Shards read to rebuild lost ones (an LRC local repair reads fewer than k). */
    shardsRead: uint.default(0),
    /** Damage found, each for a person (shortened to fit the message). */
    problems: z.array(z.string().max(200)).max(10).default([]),
  }),
  z.object({
    ok: z.literal(false),
    op: z.enum(["archive", "restore", "repair", "scrub"]),
    /** The stage that failed (e.g. "read-source", "write-shards", "verify"). */
    stage: z.string().min(1).max(64),
    error: z.string().max(2000),
    /** True when nothing of the source or target was changed (a rollback may start). */
    untouched: z.boolean(),
  }),
]);
/** The Job's result. */
export type EcMoverResult = z.infer<typeof EcMoverResult>;

/** The ec-mover command line of a task (after the binary): `ec-mover <op> --spec <json>`. */
export function ecMoverArgs(spec: EcMoverSpec): string[] {
  return [EC_MOVER_COMMAND, spec.op, "--spec", JSON.stringify(EcMoverSpec.parse(spec))];
}

/** Reads a task from `--spec <json>`; a readable error naming the field when it is not one. */
export function parseEcMoverSpec(
  op: string,
  json: string,
): { ok: true; spec: EcMoverSpec } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    return { ok: false, error: `--spec is not JSON: ${(e as Error).message}` };
  }
  const r = EcMoverSpec.safeParse(raw);
  if (!r.success) return { ok: false, error: `--spec: ${z.prettifyError(r.error)}` };
  if (r.data.op !== op) return { ok: false, error: `--spec is a ${r.data.op} task, not ${op}` };
  return { ok: true, spec: r.data };
}

/** The termination message of a result, shortened to fit what the kubelet keeps. */
export function encodeResult(r: EcMoverResult): string {
  let out = EcMoverResult.parse(r);
  let text = JSON.stringify(out);
  while (new TextEncoder().encode(text).length > TERMINATION_MESSAGE_MAX_BYTES) {
    out = out.ok
      ? { ...out, problems: out.problems.slice(0, Math.max(0, out.problems.length - 1)) }
      : { ...out, error: out.error.slice(0, Math.floor(out.error.length / 2)) };
    text = JSON.stringify(out);
  }
  return text;
}

/** Reads a termination message back; a readable error when it is not a result. */
export function decodeResult(
  text: string,
): { ok: true; result: EcMoverResult } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `termination message is not JSON: ${(e as Error).message}` };
  }
  const r = EcMoverResult.safeParse(raw);
  if (!r.success) {
    return { ok: false, error: `not an ec-mover result: ${z.prettifyError(r.error)}` };
  }
  return { ok: true, result: r.data };
}
