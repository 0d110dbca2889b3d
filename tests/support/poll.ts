/**
 * The one real-time polling helper of the test suite, for waiting on work that runs outside
 * the test's injected clock (a child process, a real server, network I/O). It only ever waits
 * for something to *happen*; a test never polls to prove that nothing happened (assert on the
 * injected clock or on recorded events instead).
 */

/** Options of `eventually`. */
export interface PollOptions {
  /** Give up after this much real time (default 10 s). */
  timeoutMs?: number;
  /** Pause between checks (default 10 ms). */
  everyMs?: number;
}

/**
 * Calls `check` until it returns a value other than undefined, null or false (a thrown error
 * counts as "not yet"), and returns that value; fails naming `what` and the last error.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: PollOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== null && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (performance.now() > deadline) {
      const why = last === undefined ? "" : `: ${last instanceof Error ? last.message : last}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 10));
  }
}
