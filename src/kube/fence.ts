/**
 * The write fence: with leader election on, no mutating request leaves this process unless it
 * is sure, right now, that it still holds the Lease. The elector (leader.ts) implements the
 * fence; KubeClient consults it before every write; a caller whose conditional write on state it
 * owns failed with 409 uses `writeOwned` (or `KubeClient.stepDown`) to give leadership up.
 */
import { isConflict } from "./errors.ts";

/** A write refused locally, before sending: this process can't be sure it leads. */
export class NotLeaderError extends Error {
  override readonly name = "NotLeaderError";
  /** The refused request, e.g. "PATCH /api/v1/persistentvolumes/pv-1". */
  readonly request: string;

  constructor(request: string, reason: string) {
    super(`not leader: ${request} refused (${reason})`);
    this.request = request;
  }
}

/** True for a write the fence refused. */
export function isNotLeader(e: unknown): e is NotLeaderError {
  return e instanceof NotLeaderError;
}

/** What KubeClient consults before each mutating request. */
export interface WriteFence {
  /** Throws NotLeaderError unless leadership is certain at this instant (`path` is exempted when it is the Lease's own). */
  check(method: string, path: string): void;
  /** Gives leadership up at once: the fence shuts, the leader's work is aborted. */
  stepDown(reason: string): void;
  /** Reads the Lease: true when this process (this very process) still holds it; else steps down. */
  confirm(signal?: AbortSignal): Promise<boolean>;
}

/** The part of KubeClient `writeOwned` needs. */
export interface FencedClient {
  /** See KubeClient.confirmLeadership. */
  confirmLeadership(signal?: AbortSignal): Promise<boolean>;
}

/**
 * Runs a conditional write (resourceVersion precondition) of state this leader owns. A 409
 * means someone wrote it since we read it: when the Lease is no longer ours (another leader
 * did), leadership is given up and NotLeaderError thrown; when it still is, the 409 is rethrown
 * for the caller to re-read and retry (e.g. a PV controller touched the object).
 */
export async function writeOwned<T>(
  client: FencedClient,
  what: string,
  write: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (!isConflict(e)) throw e;
    if (await client.confirmLeadership(signal)) throw e;
    throw new NotLeaderError(
      what,
      "a conditional write failed with 409 and the Lease is no longer ours",
    );
  }
}
