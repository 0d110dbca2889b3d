/**
 * Subcommand dispatch for the couchestor binary. Each subcommand lives in `src/cli/<cmd>.ts`
 * and is loaded on demand, so `version` or `--help` never pay for the Kubernetes client.
 */
import type { Env } from "../config/load.ts";
import { VERSION } from "../version.ts";

/** What the dispatcher hands a subcommand besides its arguments. */
export interface CliContext {
  /** The process environment, read once by main.ts. */
  env: Env;
}

/** A subcommand: arguments after its name → exit status. */
export type CommandFn = (args: string[], ctx: CliContext) => Promise<number>;

/** Every subcommand, in help order, with its one-line summary. */
export const COMMANDS = {
  run: "Run the operator (controllers, /metrics, /healthz, /readyz)",
  demo: "Run the tiering demo against the local sandbox",
  crds: "Generate the CustomResourceDefinitions from the schemas",
  ec: "Erasure-coded store on local directories: put, get, verify, repair, stat",
  discover: "Scan local block devices and suggest a tier for each",
  explain: "Why a volume is (not) moving: its policy, IOPS, band, holds and next step",
  approve: "Approve a volume's pending move proposal (policies with approval: Manual)",
  sandbox: "Serve the embedded Kubernetes API and Mayastor simulator",
  version: "Print version and build information",
} as const;

/** A subcommand name. */
export type CommandName = keyof typeof COMMANDS;

/**
 * The subcommands present in this build, one line each. A command missing here prints
 * "not available in this build" and exits 2.
 */
const WIRED: Partial<Record<CommandName, CommandFn>> = {
  run: (a, c) => import("./run.ts").then((m) => m.runRun(a, { env: c.env })),
  version: (a) => import("./version.ts").then((m) => m.runVersion(a)),
  demo: (a, c) => import("./demo.ts").then((m) => m.runDemo(a, { env: c.env })),
  crds: (a) => import("./crds.ts").then((m) => m.runCrds(a)),
  ec: (a) => import("./ec.ts").then((m) => m.runEc(a)),
  discover: (a, c) => import("./discover.ts").then((m) => m.runDiscover(a, { env: c.env })),
  sandbox: (a) => import("./sandbox.ts").then((m) => m.runSandbox(a, m.cliDeps())),
  explain: (a, c) => import("./explain.ts").then((m) => m.runExplain(a, { env: c.env })),
  approve: (a, c) => import("./approve.ts").then((m) => m.runApprove(a, { env: c.env })),
};

/** The top-level help text. */
export function formatTopHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  const lines = Object.entries(COMMANDS).map(([name, summary]) =>
    `  ${name.padEnd(width)}${summary}${WIRED[name as CommandName] ? "" : " (not in this build)"}`
  );
  return [
    `couchestor ${VERSION}: tiered storage for OpenEBS Mayastor volumes on Kubernetes`,
    "",
    "Usage: couchestor <command> [flags]",
    "",
    "Commands:",
    ...lines,
    "",
    'Run "couchestor <command> --help" for the flags of a command.',
    "",
  ].join("\n");
}

/** Runs the CLI with the given arguments and returns the exit status. */
export async function runCli(args: string[], env: Env = {}): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined) {
    console.error(formatTopHelp());
    return 2;
  }
  if (first === "--help" || first === "-h") {
    console.log(formatTopHelp());
    return 0;
  }
  if (first === "help") {
    return rest.length ? await runCli([rest[0], "--help"], env) : await runCli(["--help"], env);
  }
  if (first === "--version") return await runCli(["version"], env);
  if (!(first in COMMANDS)) {
    console.error(`unknown command "${first}" (see couchestor --help)`);
    return 2;
  }
  const name = first as CommandName;
  const fn = WIRED[name];
  if (!fn) {
    console.error(`couchestor ${name}: ${COMMANDS[name]}; not available in this build`);
    return 2;
  }
  return await fn(rest, { env });
}
