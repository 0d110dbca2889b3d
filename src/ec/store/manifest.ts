/**
 * The store's manifest: the local source of truth for code parameters, targets, stripe
 * placement and health, and objects. It is saved inside an envelope that carries its SHA-256,
 * so a hand-edited or damaged manifest is recognised as such; each extent also carries the
 * identity of the stripe it expects (object id, stripe index, offset in the object), so
 * swapped extents are caught even when the checksum was recomputed. Validated with zod on
 * load, replaced atomically on save.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { dirname, writeFileAtomic } from "./atomic.ts";

/** Code parameters (Reed-Solomon k+m or LRC k+l+g). */
export const CodeParamsSchema = z.discriminatedUnion("algorithm", [
  z.object({
    algorithm: z.literal("ReedSolomon"),
    k: z.number().int().min(1),
    m: z.number().int().min(1),
  }),
  z.object({
    algorithm: z.literal("LRC"),
    k: z.number().int().min(1),
    l: z.number().int().min(1),
    g: z.number().int().min(0),
  }),
]);

/** Health of a stripe as last observed. */
export const StripeHealthSchema = z.enum(["healthy", "degraded", "lost"]);
/** Health of a stripe as last observed. */
export type StripeHealth = z.infer<typeof StripeHealthSchema>;

/** One stripe: where its shards are, whose data it holds and how it was last found. */
export const StripeSchema = z.object({
  id: z.number().int().min(0),
  /** Bumped whenever a shard of the stripe is rewritten (repair); mirrors ECStripe.generation. */
  generation: z.number().int().min(1),
  /** User bytes in the stripe (the last stripe of a put is short). */
  dataBytes: z.number().int().min(0),
  shardSize: z.number().int().min(1),
  /** Target id holding shard i. */
  placement: z.array(z.string()),
  health: StripeHealthSchema,
  /** The put (or destage batch) that wrote the stripe: the object id in shard headers. */
  writeId: z.number().int().min(1),
  /** Index of the stripe within that write. */
  index: z.number().int().min(0),
  /** xxhash64 (hex) of the stripe's user bytes, checked after every decode. */
  dataHash: z.string().regex(/^[0-9a-f]{16}$/),
  /** Epoch ms of the last scrub that covered this stripe. */
  lastScrub: z.number().optional(),
});
/** One stripe. */
export type Stripe = z.infer<typeof StripeSchema>;

/** A contiguous piece of an object inside one stripe's data bytes. */
export const ExtentSchema = z.object({
  stripe: z.number().int().min(0),
  offset: z.number().int().min(0),
  length: z.number().int().min(0),
  /** Identity of the stripe this extent expects (must equal the stripe's writeId and index). */
  writeId: z.number().int().min(1),
  index: z.number().int().min(0),
  /** Offset of this extent in the object (extents are in object order, without gaps). */
  at: z.number().int().min(0),
});
/** A contiguous piece of an object. */
export type Extent = z.infer<typeof ExtentSchema>;

/** A stored object. */
export const ObjectSchema = z.object({
  size: z.number().int().min(0),
  /** SHA-256 (hex) of the whole object, recorded at put and checked by every read. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  extents: z.array(ExtentSchema),
  createdAt: z.number(),
  /** Set when the object's latest acknowledged write was lost (damaged journal record). */
  damaged: z.string().optional(),
});
/** A stored object. */
export type StoredObject = z.infer<typeof ObjectSchema>;

/** Summary of the last full scrub. */
export const ScrubSummarySchema = z.object({
  at: z.number(),
  stripes: z.number().int(),
  problems: z.number().int(),
  repaired: z.number().int(),
  unrecoverable: z.number().int(),
});

/** A shard target: a directory (default) or a block device / fixed-size file. */
export const TargetSchema = z.object({
  id: z.string().min(1),
  path: z.string().min(1),
  kind: z.enum(["directory", "device"]).optional(),
});
/** A shard target as the manifest records it. */
export type TargetEntry = z.infer<typeof TargetSchema>;

/** Format version of the manifest (2: store id, stripe identities, checksummed envelope). */
export const MANIFEST_VERSION = 2;

/** The manifest. */
export const ManifestSchema = z.object({
  version: z.literal(MANIFEST_VERSION),
  /** UUID of the store, written into every shard header. */
  storeId: z.uuid(),
  code: CodeParamsSchema,
  stripeSizeBytes: z.number().int().min(1),
  blockSize: z.number().int().min(1),
  targets: z.array(TargetSchema),
  stripes: z.record(z.string(), StripeSchema),
  objects: z.record(z.string(), ObjectSchema),
  nextStripeId: z.number().int().min(0),
  nextWriteId: z.number().int().min(1),
  journal: z.object({ destagedSeq: z.number().int().min(0) }),
  /** Consecutive stripes placed alike (EcStoreConfig.placementRun); absent means 1. */
  placementRun: z.number().int().min(1).optional(),
  /** Shard i of every stripe on target i (device stores: one device per shard index). */
  fixedPlacement: z.boolean().optional(),
  lastScrub: ScrubSummarySchema.optional(),
});
/** The manifest. */
export type Manifest = z.infer<typeof ManifestSchema>;

const FORMAT = "couchestor-ec-manifest";

const EnvelopeSchema = z.object({
  format: z.literal(FORMAT),
  /** Saves so far; the newest valid copy wins where several are kept (device stores). */
  generation: z.number().int().min(0),
  sha256: z.string(),
  manifest: z.unknown(),
});

/** A manifest that cannot be used: unreadable, invalid, or of another format version. */
export class ManifestError extends Error {
  constructor(readonly where: string, detail: string) {
    super(`manifest ${where}: ${detail}`);
    this.name = "ManifestError";
  }
}

/** The manifest's content does not match its recorded checksum (hand-edited or damaged). */
export class ManifestChecksumError extends ManifestError {
  constructor(where: string, readonly recorded: string, readonly actual: string) {
    super(
      where,
      `content does not match its recorded SHA-256 (hand-edited or damaged): recorded ` +
        `${recorded.slice(0, 16)}…, content ${actual.slice(0, 16)}…; refusing to trust it ` +
        `(ec verify reports what else is wrong)`,
    );
    this.name = "ManifestChecksumError";
  }
}

/** A decoded manifest; `checksumError` is set when the content fails its checksum. */
export interface DecodedManifest {
  manifest: Manifest;
  generation: number;
  checksumError?: ManifestChecksumError;
}

/** Serialises a manifest in its checksummed envelope (`pretty` indents it for people). */
export function encodeManifest(m: Manifest, generation: number, pretty = true): Uint8Array {
  const env = { format: FORMAT, generation, sha256: manifestSha(m), manifest: m };
  return new TextEncoder().encode(JSON.stringify(env, null, pretty ? 1 : undefined));
}

/**
 * Parses an envelope. Throws ManifestError when it is not JSON, not an envelope, of another
 * version or invalid; a checksum mismatch is returned (checksumError), not thrown, so a
 * read-only verify can still report what the manifest says.
 */
export function decodeManifest(bytes: Uint8Array, where: string): DecodedManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ManifestError(where, `not JSON (${(e as Error).message})`);
  }
  if (isRecord(raw) && raw.version === 1) {
    throw new ManifestError(
      where,
      "format 1 (shards without identity) is no longer read; re-create the store",
    );
  }
  const env = EnvelopeSchema.safeParse(raw);
  if (!env.success) {
    throw new ManifestError(where, `not a manifest envelope: ${env.error.issues[0]?.message}`);
  }
  const parsed = ManifestSchema.safeParse(env.data.manifest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ManifestError(
      where,
      `invalid at manifest.${issue?.path.join(".")}: ${issue?.message}`,
    );
  }
  const actual = manifestSha(env.data.manifest);
  return {
    manifest: parsed.data,
    generation: env.data.generation,
    checksumError: actual === env.data.sha256
      ? undefined
      : new ManifestChecksumError(where, env.data.sha256, actual),
  };
}

/** Where a store keeps its manifest: a file in its directory, or copies on its devices. */
export interface ManifestStore {
  /** Where, for messages. */
  readonly where: string;
  /** The newest saved manifest, or null when none was ever saved. */
  load(): Promise<DecodedManifest | null>;
  /** Saves durably and atomically (the old or the new manifest survives a crash). */
  save(m: Manifest): Promise<void>;
}

/** The manifest in `<dir>/manifest.json`. */
export class FileManifestStore implements ManifestStore {
  #generation = 0;
  constructor(readonly where: string) {}

  /** Reads and decodes the file; null when it does not exist. */
  async load(): Promise<DecodedManifest | null> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(this.where);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw new ManifestError(this.where, (e as Error).message);
    }
    const d = decodeManifest(bytes, this.where);
    this.#generation = d.generation;
    return d;
  }

  /** Replaces the file atomically. */
  async save(m: Manifest): Promise<void> {
    await writeFileAtomic(this.where, encodeManifest(m, this.#generation + 1), {
      where: `${dirname(this.where)} (writing the manifest)`,
    });
    this.#generation++;
  }
}

/**
 * Reads and validates a manifest file; null when it does not exist. Throws ManifestError
 * (ManifestChecksumError when the content fails its checksum).
 */
export async function loadManifest(path: string): Promise<Manifest | null> {
  const d = await new FileManifestStore(path).load();
  if (d?.checksumError) throw d.checksumError;
  return d?.manifest ?? null;
}

/** SHA-256 of the manifest's canonical JSON (key order as parsed, no whitespace). */
function manifestSha(m: unknown): string {
  return createHash("sha256").update(JSON.stringify(m)).digest("hex");
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null;
}
