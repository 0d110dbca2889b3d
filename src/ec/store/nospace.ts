/** A full filesystem or device, reported as such and naming where, not as a generic failure. */

/** A write failed because `where` (a target, a directory, a device) has no space left. */
export class NoSpaceError extends Error {
  constructor(readonly where: string, options?: { cause?: unknown }) {
    super(`no space left on ${where}`, options);
    this.name = "NoSpaceError";
  }
}

/** True for ENOSPC (as Deno reports it: `code: "ENOSPC"`) and for NoSpaceError. */
export function isNoSpace(e: unknown): boolean {
  return e instanceof NoSpaceError ||
    (e instanceof Error && (e as Error & { code?: string }).code === "ENOSPC");
}

/** Runs fn; an ENOSPC from it becomes a NoSpaceError naming `where`. */
export async function namingNoSpace<T>(where: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isNoSpace(e) && !(e instanceof NoSpaceError)) throw new NoSpaceError(where, { cause: e });
    throw e;
  }
}
