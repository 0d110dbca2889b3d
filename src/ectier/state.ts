/**
 * The persisted state of one EC tier operation and its JSON codec (zod): an EC move (replicas →
 * stripes) or a rehydration (stripes → replicas). The PersistentVolume annotation
 * `storage.billyronks.io/ec-tier` holds it; a finished EC move stays there, because it is also
 * the record that the volume lives in stripes (store, shard pools, content hash).
 */
import { z } from "zod";

/** Annotation holding a volume's EC tier state (JSON of EcTierState). */
export const EC_TIER_ANNOTATION = "storage.billyronks.io/ec-tier";

/** Phases of both kinds (each kind uses its own subset, see step.ts). */
export const EcTierPhase = z.enum([
  "Planned",
  // EC move
  "Writing",
  "Written",
  "Recorded",
  "Verified",
  "Retiring",
  // rehydration
  "Creating",
  "ReplicasCreated",
  "ReplicasWritten",
  "ReplicasVerified",
  "DeletingStripes",
  // both
  "RollingBack",
  "Done",
  "RolledBack",
  "Failed",
]);
/** A phase of an EC tier operation. */
export type EcTierPhase = z.infer<typeof EcTierPhase>;

/** Phases after which nothing more happens. */
export const EC_TERMINAL: ReadonlySet<EcTierPhase> = new Set(["Done", "RolledBack", "Failed"]);

const PlacementTier = z.enum(["hot", "warm", "cold", "ec"]);

/** One EC move or rehydration, as persisted before each step. Times are ms since the epoch. */
export const EcTierState = z.object({
  version: z.literal(1),
  kind: z.enum(["ec-move", "rehydrate"]),
  id: z.string().min(1),
  /** StoragePolicy that asked for it. */
  policy: z.string(),
  /** ErasureCodingPolicy of the stripes. */
  ecPolicy: z.string().min(1),
  /** PersistentVolume name (names the store and the ECStripes). */
  volume: z.string().min(1),
  /** Mayastor volume uuid. */
  volumeUuid: z.string().min(1),
  sizeBytes: z.number().int().min(0),
  from: PlacementTier,
  to: PlacementTier,
  /** The EC store's directory (manifest and journal). */
  storeDir: z.string().min(1),
  /** Cold pools holding shard targets, one failure domain each (first k+m: shards; rest spares). */
  shardPools: z.array(z.string()),
  /** Bytes per block object in the store (and per cache entry). */
  blockSize: z.number().int().min(1),
  phase: EcTierPhase,
  result: z.enum(["Succeeded", "RolledBack", "Failed"]).optional(),
  error: z.string().optional(),
  /** EC move: the volume's replicas when writing began (all of them are retired at the end). */
  replicas: z.array(z.string()),
  /** SHA-256 of the volume's bytes as written into the stripes (the content every copy must match). */
  sourceSha256: z.string().optional(),
  /** EC move: SHA-256 read back from the stripes and from a replica, once both matched. */
  verifiedSha256: z.string().optional(),
  /** Bytes of volume data in stripes and bytes the shards occupy. */
  logicalBytes: z.number().optional(),
  storedBytes: z.number().optional(),
  /** Rehydration: pools of the new replicas. */
  targetPools: z.array(z.string()),
  /** Rehydration: replica uuids before the creation was issued (to find ours after a crash). */
  replicasBefore: z.array(z.string()),
  /** Rehydration: replicas this operation created. */
  newReplicas: z.array(z.string()),
  triggerIOPS: z.number(),
  startedAt: z.number(),
  updatedAt: z.number(),
  /** Past it, an operation that has not verified its copy rolls back. */
  deadline: z.number(),
  finishedAt: z.number().optional(),
});
/** One EC tier operation, as persisted. */
export type EcTierState = z.infer<typeof EcTierState>;

/** Encodes a state as the annotation's JSON. */
export function encodeEcTierState(s: EcTierState): string {
  return JSON.stringify(EcTierState.parse(s));
}

/** Decodes the annotation's JSON; a readable error when it is not a valid state. */
export function decodeEcTierState(
  text: string,
): { ok: true; state: EcTierState } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  const r = EcTierState.safeParse(raw);
  if (!r.success) return { ok: false, error: `not an ec tier state: ${z.prettifyError(r.error)}` };
  return { ok: true, state: r.data };
}

/**
 * True when the volume's data lives in stripes: an EC move that began retiring replicas (or is
 * done), or any rehydration that has not started deleting the stripes.
 */
export function isEcTiered(s: EcTierState): boolean {
  if (s.kind === "ec-move") return s.phase === "Retiring" || s.phase === "Done";
  return s.phase !== "DeletingStripes" && s.phase !== "Done";
}

/** True while stripes of the volume exist or may exist (the store must stay bound). */
export function holdsStripes(s: EcTierState): boolean {
  if (s.kind === "ec-move") return s.phase !== "Planned" && s.phase !== "RolledBack";
  return s.phase !== "Done";
}

/** What an EC move needs to be planned. */
export interface PlanEcMoveInput {
  id: string;
  policy: string;
  ecPolicy: string;
  volume: string;
  volumeUuid: string;
  sizeBytes: number;
  from: "hot" | "warm" | "cold";
  storeDir: string;
  shardPools: readonly string[];
  blockSize: number;
  triggerIOPS: number;
  now: number;
  timeoutMs: number;
}

/** The Planned state of a new EC move. Pure. */
export function planEcMove(i: PlanEcMoveInput): EcTierState {
  return {
    version: 1,
    kind: "ec-move",
    id: i.id,
    policy: i.policy,
    ecPolicy: i.ecPolicy,
    volume: i.volume,
    volumeUuid: i.volumeUuid,
    sizeBytes: i.sizeBytes,
    from: i.from,
    to: "ec",
    storeDir: i.storeDir,
    shardPools: [...i.shardPools],
    blockSize: i.blockSize,
    phase: "Planned",
    replicas: [],
    targetPools: [],
    replicasBefore: [],
    newReplicas: [],
    triggerIOPS: i.triggerIOPS,
    startedAt: i.now,
    updatedAt: i.now,
    deadline: i.now + i.timeoutMs,
  };
}

/** The Planned rehydration of an EC-tiered volume (from its finished EC move's state). Pure. */
export function planRehydration(
  tiered: EcTierState,
  i: {
    id: string;
    to: "hot" | "warm" | "cold";
    targetPools: readonly string[];
    triggerIOPS: number;
    now: number;
    timeoutMs: number;
  },
): EcTierState {
  return {
    ...tiered,
    kind: "rehydrate",
    id: i.id,
    from: "ec",
    to: i.to,
    phase: "Planned",
    result: undefined,
    error: undefined,
    finishedAt: undefined,
    targetPools: [...i.targetPools],
    replicasBefore: [],
    newReplicas: [],
    triggerIOPS: i.triggerIOPS,
    startedAt: i.now,
    updatedAt: i.now,
    deadline: i.now + i.timeoutMs,
  };
}
