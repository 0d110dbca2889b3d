/**
 * The persisted state of one volume migration and its JSON codec (zod): what the PV annotation
 * `storage.billyronks.io/migration` holds while it runs. A migration moves every replica of the
 * volume that is not on the target tier, one at a time (one `step` each), through the levers
 * Mayastor v2 supports (../shared/MAYASTOR.md): cordon every other node → `replica_count` n+1
 * (the control plane creates its own replica, on the one node left) → uncordon → wait for the
 * rebuild → detach the old replica's child → `replica_count` n.
 */
import { z } from "zod";

/** Annotation holding a volume's migration state (JSON of MoveState). */
export const MIGRATION_ANNOTATION = "storage.billyronks.io/migration";

/** The cordon label CoucheStor puts on nodes while its scheduler may only use one node. */
export const MOVE_CORDON_LABEL = "couchestor.io-move";

/**
 * Phases of a migration; each replica step goes Planned → Cordoning → Scaling → Uncordoning →
 * Landing → Rebuilding → Verified → Detaching → Trimming, then the next step's Planned or Done.
 */
export const MovePhase = z.enum([
  "Planned",
  "Cordoning",
  "Scaling",
  "Uncordoning",
  "Landing",
  "Rebuilding",
  "Verified",
  "Detaching",
  "Trimming",
  "RollingBack",
  "Done",
  "RolledBack",
  "Failed",
]);
/** A phase of a migration. */
export type MovePhase = z.infer<typeof MovePhase>;

/** Phases after which nothing more happens. */
export const TERMINAL_PHASES: ReadonlySet<MovePhase> = new Set(["Done", "RolledBack", "Failed"]);

/** How a finished migration ended. */
export const MoveResult = z.enum(["Succeeded", "Preserved", "DryRun", "RolledBack", "Failed"]);
/** How a finished migration ended. */
export type MoveResult = z.infer<typeof MoveResult>;

const TierSchema = z.enum(["hot", "warm", "cold"]);

/** One replica of the volume being replaced by a new one on the target tier. */
export const ReplicaStep = z.object({
  /** The replica leaving, and its pool. */
  old: z.string().min(1),
  oldPool: z.string().min(1),
  /**
   * Where its replacement may land: the target tier's pools on the one node left uncordoned
   * (the first is the one the planner reserved space on).
   */
  targetPools: z.array(z.string().min(1)).min(1),
  targetNode: z.string().min(1),
  /** The control plane's new replica for this step, once seen. */
  newReplica: z.string().optional(),
  /** The pool the new replica landed on when it is not targetPool (it is then removed). */
  landedOn: z.string().optional(),
  /** True once this step finished (its old replica retired, or kept in preservation mode). */
  done: z.boolean().default(false),
});
/** One replica step. */
export type ReplicaStep = z.infer<typeof ReplicaStep>;

/** One migration, as persisted before each action. Times are ms since the epoch. */
export const MoveState = z.object({
  version: z.literal(2),
  id: z.string().min(1),
  /** StoragePolicy that asked for it. */
  policy: z.string(),
  /** PersistentVolume name. */
  volume: z.string().min(1),
  /** Mayastor volume uuid (the PV's CSI volumeHandle). */
  volumeUuid: z.string().min(1),
  from: TierSchema,
  to: TierSchema,
  steps: z.array(ReplicaStep).min(1),
  /** Index of the step in progress. */
  current: z.number().int().min(0),
  /** The volume's healthy replicas at the start: it never has fewer because of this move. */
  originalReplicaCount: z.number().int().min(1),
  /** num_replicas when the current step began (what the volume goes back to). */
  baseCount: z.number().int().min(1),
  /** Replicas that were on the target tier already and stay (no step moves them). */
  keep: z.array(z.string()).default([]),
  /** Replica uuids just before the current step's increase (to find the newcomer). */
  replicasBefore: z.array(z.string()),
  /** True once an increase of the current step was (or is being) issued, in any attempt. */
  scaleIssued: z.boolean(),
  /** Attempts of the current step that ended without a new replica (capped, then rolled back). */
  stepAttempts: z.number().int().min(0).default(0),
  /** The replica the current step detaches and trims (the old one, or a hot spare in its place). */
  retiring: z.string().optional(),
  /** Nodes this move cordons (with MOVE_CORDON_LABEL) right now, and since when. */
  cordon: z.object({ nodes: z.array(z.string()), since: z.number() }).optional(),
  /** How long each cordon window lasted (ms): a cordon affects every volume's scheduling. */
  cordonWindowsMs: z.array(z.number()).default([]),
  phase: MovePhase,
  result: MoveResult.optional(),
  error: z.string().optional(),
  /**
   * The last failure of the current action, kept to judge what the next observation means:
   * `definite` when the backend refused it (it did nothing), not when the answer was lost.
   */
  lastFailure: z.object({
    error: z.string(),
    status: z.number().optional(),
    kind: z.string().optional(),
    definite: z.boolean(),
  }).optional(),
  /** Last rebuild progress seen (0..100). */
  rebuildProgress: z.number().optional(),
  triggerIOPS: z.number(),
  dryRun: z.boolean(),
  preservation: z.boolean(),
  startedAt: z.number(),
  updatedAt: z.number(),
  /** migrationTimeout (ms): the time one replica step has until it is verified. */
  timeoutMs: z.number().int().positive(),
  /** When the current step started + timeoutMs: past it, an unverified step rolls back. */
  deadline: z.number(),
  finishedAt: z.number().optional(),
});
/** One migration, as persisted. */
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
  const problem = inconsistency(r.data);
  if (problem) return { ok: false, error: `inconsistent move state: ${problem}` };
  return { ok: true, state: r.data };
}

/**
 * What makes a well-formed state impossible (a hand edit, another tool's write): acting on it
 * could delete the wrong replica, so it is reported and left alone.
 */
export function inconsistency(s: MoveState): string | undefined {
  if (s.current >= s.steps.length) return `current step ${s.current} of ${s.steps.length}`;
  const olds = new Set(s.steps.map((x) => x.old));
  for (const st of s.steps) {
    if (st.newReplica === undefined) continue;
    if (olds.has(st.newReplica)) return `replica ${st.newReplica} is both moved and added`;
    if (st === s.steps[s.current] && s.replicasBefore.includes(st.newReplica)) {
      return `replica ${st.newReplica} existed before this move added it`;
    }
  }
  const nodes = s.steps.map((x) => x.targetNode);
  if (new Set(nodes).size !== nodes.length) return "two steps target one node";
  if (s.steps.slice(0, s.current).some((x) => !x.done)) return "an earlier step is not done";
  return undefined;
}

/** What a migration needs to be planned. */
export interface PlanMoveInput {
  id: string;
  policy: string;
  volume: string;
  volumeUuid: string;
  from: "hot" | "warm" | "cold";
  to: "hot" | "warm" | "cold";
  /** The replicas to replace, each with its target pool and that pool's node. */
  steps: readonly { old: string; oldPool: string; targetPools: string[]; targetNode: string }[];
  /** The volume's current replica uuids. */
  replicas: readonly string[];
  /** spec num_replicas. */
  replicaCount: number;
  /** Healthy replicas now (the floor the move keeps). */
  healthyReplicas: number;
  triggerIOPS: number;
  now: number;
  /** migrationTimeout in ms (30 min when neither the policy nor the operator sets one). */
  timeoutMs?: number;
  dryRun: boolean;
  preservation: boolean;
}

/** Default migrationTimeout (NFR-204). */
export const DEFAULT_MIGRATION_TIMEOUT_MS = 30 * 60_000;

/** Builds the Planned state of a new migration. Pure. */
export function planMove(i: PlanMoveInput): MoveState {
  return {
    version: 2,
    id: i.id,
    policy: i.policy,
    volume: i.volume,
    volumeUuid: i.volumeUuid,
    from: i.from,
    to: i.to,
    steps: i.steps.map((s) => ({ ...s, done: false })),
    current: 0,
    originalReplicaCount: Math.max(1, i.healthyReplicas),
    baseCount: Math.max(1, i.replicaCount),
    keep: i.replicas.filter((r) => !i.steps.some((x) => x.old === r)),
    replicasBefore: [...i.replicas],
    scaleIssued: false,
    stepAttempts: 0,
    cordonWindowsMs: [],
    phase: "Planned",
    triggerIOPS: i.triggerIOPS,
    dryRun: i.dryRun,
    preservation: i.preservation,
    startedAt: i.now,
    updatedAt: i.now,
    timeoutMs: i.timeoutMs ?? DEFAULT_MIGRATION_TIMEOUT_MS,
    deadline: i.now + (i.timeoutMs ?? DEFAULT_MIGRATION_TIMEOUT_MS),
  };
}

/** "poolA → poolB, poolC → poolD": where each replica step of a move goes (or went). */
export function describeSteps(s: MoveState): string {
  return s.steps.map((x) => `${x.oldPool} → ${x.landedOn ?? x.targetPools[0]}`).join(", ");
}
