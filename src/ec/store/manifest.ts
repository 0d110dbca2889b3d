/**
 * The store's manifest: the local source of truth for code parameters, targets, stripe
 * placement and health, and objects. Validated with zod on load, replaced atomically on save.
 */
import { z } from "zod";
import { writeFileAtomic } from "./atomic.ts";

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

/** One stripe: where its shards are and how it was last found. */
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
});
/** A contiguous piece of an object. */
export type Extent = z.infer<typeof ExtentSchema>;

/** A stored object. */
export const ObjectSchema = z.object({
  size: z.number().int().min(0),
  sha256: z.string(),
  extents: z.array(ExtentSchema),
  createdAt: z.number(),
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

/** The manifest file. */
export const ManifestSchema = z.object({
  version: z.literal(1),
  code: CodeParamsSchema,
  stripeSizeBytes: z.number().int().min(1),
  blockSize: z.number().int().min(1),
  targets: z.array(z.object({ id: z.string(), path: z.string() })),
  stripes: z.record(z.string(), StripeSchema),
  objects: z.record(z.string(), ObjectSchema),
  nextStripeId: z.number().int().min(0),
  journal: z.object({ destagedSeq: z.number().int().min(0) }),
  /** Consecutive stripes placed alike (EcStoreConfig.placementRun); absent means 1. */
  placementRun: z.number().int().min(1).optional(),
  lastScrub: ScrubSummarySchema.optional(),
});
/** The manifest file. */
export type Manifest = z.infer<typeof ManifestSchema>;

/** Reads and validates a manifest; null when the file does not exist. */
export async function loadManifest(path: string): Promise<Manifest | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const parsed = ManifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`invalid manifest ${path}: ${parsed.error.message}`);
  return parsed.data;
}

/** Writes the manifest atomically. */
export async function saveManifest(path: string, m: Manifest): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(m, null, 1)));
}
