/** Test helper: starts the real `couchestor` process (deno run -A main.ts …) and reads its logs. */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A running couchestor child with its stderr collected line by line. */
export interface Couchestor {
  child: Deno.ChildProcess;
  /** Every stderr line so far. */
  lines: string[];
  /** Resolves with the first stderr line matching `re` (waiting up to `ms`). */
  waitForLine(re: RegExp, ms?: number): Promise<string>;
  /** Resolves with the exit status, or rejects when it takes longer than `ms`. */
  exit(ms: number): Promise<Deno.CommandStatus>;
  /** Sends SIGKILL if still running (cleanup). */
  kill(): void;
}

/**
 * Deno's own notice when another deno process holds the project's node_modules lock (tests
 * start several children at once): the runtime's, not the program's, so not one of its lines.
 */
const DENO_LOCK_NOTICE = /^Blocking waiting for file lock on /;

/** A child's stderr without deno's lock notices. */
export function programStderr(text: string): string {
  return text.split("\n").filter((l) => !DENO_LOCK_NOTICE.test(l)).join("\n");
}

/** The environment a child gets: only what deno itself needs, plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const keep: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "NO_COLOR"]) {
    const v = Deno.env.get(k);
    if (v !== undefined) keep[k] = v;
  }
  return { ...keep, NO_COLOR: "1", ...extra };
}

/** Starts `deno run -A main.ts <args>` with a clean environment plus `env`. */
export function startCouchestor(args: string[], env: Record<string, string> = {}): Couchestor {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: childEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const reading = (async () => {
    let rest = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        if (DENO_LOCK_NOTICE.test(line)) continue;
        lines.push(line);
        for (const w of waiters.filter((w) => w.re.test(line))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
    if (rest) lines.push(rest);
  })();
  let killed = false;
  const deadline = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
    let t: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      p,
      new Promise<never>((_, reject) => {
        t = setTimeout(
          () => reject(new Error(`${what} within ${ms} ms:\n${lines.join("\n")}`)),
          ms,
        );
      }),
    ]).finally(() => clearTimeout(t));
  };
  const status = child.status.then(async (s) => {
    await reading;
    return s;
  });
  return {
    child,
    lines,
    waitForLine: (re, ms = 10_000) => {
      const hit = lines.find((l) => re.test(l));
      if (hit) return Promise.resolve(hit);
      return deadline(new Promise((resolve) => waiters.push({ re, resolve })), ms, `no ${re}`);
    },
    exit: (ms) => deadline(status, ms, "no exit"),
    kill: () => {
      if (killed) return;
      killed = true;
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
    },
  };
}

/** Runs `deno run -A main.ts <args>` to completion; returns status and outputs. */
export function runCouchestor(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runScript(MAIN, args, env);
}

/** Runs `deno run -A <script> <args>` to completion with a clean environment plus `env`. */
export async function runScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    env: childEnv(env),
    clearEnv: true,
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: programStderr(dec.decode(out.stderr)),
  };
}
