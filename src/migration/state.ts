/**
 * The persisted state of one replica move and its JSON codec (zod). This is what the
 * PersistentVolume annotation `storage.billyronks.io/migration` holds while a move runs.
 */
import { z } from "zod";

/** Annotation holding a volume's move state (JSON of MoveState). */
export const MIGRATION_ANNOTATION = "storage.billyronks.io/migration";

/** Phases of a move. RollingBack is the one in-between phase of a rollback (resumable). */
export const MovePhase = z.enum([
  "Planned",
  "ReplicaAdded",
  "Rebuilding",
  "Verified",
  "OldReplicaRetired",
  "RollingBack",
  "Done",
  "RolledBack",
  "Failed",
]);
/** A phase of a move. */
export type MovePhase = z.infer<typeof MovePhase>;

/** Phases after which nothing more happens. */
export const TERMINAL_PHASES: ReadonlySet<MovePhase> = new Set(["Done", "RolledBack", "Failed"]);

/** How a finished move ended. */
export const MoveResult = z.enum(["Succeeded", "Preserved", "DryRun", "RolledBack", "Failed"]);
/** How a finished move ended. */
export type MoveResult = z.infer<typeof MoveResult>;

const TierSchema = z.enum(["hot", "warm", "cold"]);

/** One replica move, as persisted before each step. Times are ms since the epoch. */
export const MoveState = z.object({
  version: z.literal(1),
  /** Unique id of this move. */
  id: z.string().min(1),
  /** StoragePolicy that asked for it. */
  policy: z.string(),
  /** PersistentVolume name. */
  volume: z.string().min(1),
  /** Mayastor volume uuid (the PV's CSI volumeHandle). */
  volumeUuid: z.string().min(1),
  from: TierSchema,
  to: TierSchema,
  /** The replica being replaced and its pool. */
  oldReplica: z.string().min(1),
  oldPool: z.string().min(1),
  /** Pool the new replica goes to. */
  targetPool: z.string().min(1),
  /** Replica count when planned; the volume keeps at least this many healthy replicas. */
  originalReplicaCount: z.number().int().min(1),
  /** Replica uuids present just before the add was issued (to find ours after a crash). */
  replicasBefore: z.array(z.string()),
  /** True once addReplica has been (or is being) called. */
  addIssued: z.boolean(),
  /** Uuid of the replica this move added, once known. */
  newReplica: z.string().optional(),
  phase: MovePhase,
  result: MoveResult.optional(),
  error: z.string().optional(),
  /** Last rebuild progress seen (0..100). */
  rebuildProgress: z.number().optional(),
  triggerIOPS: z.number(),
  dryRun: z.boolean(),
  preservation: z.boolean(),
  startedAt: z.number(),
  updatedAt: z.number(),
  /** startedAt + migrationTimeout: past it, an unverified move rolls back. */
  deadline: z.number(),
  finishedAt: z.number().optional(),
});
/** One replica move, as persisted. */
export type MoveState = z.infer<typeof MoveState>;

/** Encodes a move state as the annotation's JSON. */
export function encodeMoveState(s: MoveState): string {
  return JSON.stringify(MoveState.parse(s));
}

/** Decodes the annotation's JSON; a readable error when it is not a valid move state. */
export function decodeMoveState(
  text: string,
): { ok: true; state: MoveState } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  const r = MoveState.safeParse(raw);
  if (!r.success) return { ok: false, error: `not a move state: ${z.prettifyError(r.error)}` };
  return { ok: true, state: r.data };
}

/** What a move needs to be planned. */
export interface PlanMoveInput {
  id: string;
  policy: string;
  volume: string;
  volumeUuid: string;
  from: "hot" | "warm" | "cold";
  to: "hot" | "warm" | "cold";
  oldReplica: string;
  oldPool: string;
  targetPool: string;
  /** The volume's current replica uuids. */
  replicas: readonly string[];
  /** spec num_replicas (or the current count, whichever is larger). */
  replicaCount: number;
  triggerIOPS: number;
  now: number;
  /** migrationTimeout in ms (30 min when the policy sets none). */
  timeoutMs?: number;
  dryRun: boolean;
  preservation: boolean;
}

/** Default migrationTimeout (NFR-204). */
export const DEFAULT_MIGRATION_TIMEOUT_MS = 30 * 60_000;

/** Builds the Planned state of a new move. Pure. */
export function planMove(i: PlanMoveInput): MoveState {
  return {
    version: 1,
    id: i.id,
    policy: i.policy,
    volume: i.volume,
    volumeUuid: i.volumeUuid,
    from: i.from,
    to: i.to,
    oldReplica: i.oldReplica,
    oldPool: i.oldPool,
    targetPool: i.targetPool,
    originalReplicaCount: Math.max(1, i.replicaCount, i.replicas.length),
    replicasBefore: [...i.replicas],
    addIssued: false,
    phase: "Planned",
    triggerIOPS: i.triggerIOPS,
    dryRun: i.dryRun,
    preservation: i.preservation,
    startedAt: i.now,
    updatedAt: i.now,
    deadline: i.now + (i.timeoutMs ?? DEFAULT_MIGRATION_TIMEOUT_MS),
  };
}
