/** `couchestor sandbox`: runs the sandbox Kubernetes API server in the foreground until Ctrl-C. */
import { parseArgs } from "node:util";
import type { Clock } from "../clock.ts";
import { createLogger, type Logger } from "../observability/log.ts";
import { applyDirectory, type Sandbox, startSandbox } from "../sandbox/apiserver/mod.ts";
import { attachMayastorSim } from "../sandbox/mayastor/attach.ts";

/** Injected parts (tests pass their own; the CLI uses the process's). */
export interface SandboxDeps {
  /** Where stdout lines go (the first is the kubeconfig path). */
  print?: (line: string) => void;
  logger?: Logger;
  clock?: Clock;
  /** Aborting it stops the sandbox (the CLI wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
  /** Starts the Mayastor simulator against the sandbox; returns its stop function. */
  startMayastor?: (sb: Sandbox) => Promise<() => Promise<void>>;
  /** Called once the sandbox is ready (tests use it to reach the running instance). */
  onReady?: (sb: Sandbox) => void;
}

/** The CLI's dependencies: `--with-mayastor` attaches the simulator and prints where it answers. */
export function cliDeps(): SandboxDeps {
  return {
    startMayastor: async (sb) => {
      const logger = createLogger({ level: "info" }, "mayastor-sim");
      const sim = await attachMayastorSim(sb, { logger });
      console.log(`mayastor-rest: ${sim.restUrl}`);
      console.log(`mayastor-metrics: ${sim.metricsUrl}`);
      return () => sim.stop();
    },
  };
}

const HELP = `Usage: couchestor sandbox [options]

Runs a local Kubernetes API server (127.0.0.1 only) that kubectl and the operator use
unchanged, installs the CoucheStor CRDs and prints the kubeconfig path on the first line.

Options:
  --port N          HTTPS port (default: any free port)
  --http-port N     plain-HTTP port (default: any free port)
  --data-dir DIR    keep objects, token and certificates here across restarts
  --crds DIR        CRD manifests to install (default: crds, skipped when absent)
  --with-mayastor   also run the Mayastor v2 simulator against the sandbox
  --log-level L     debug | info | warn | error (default: info)
  -h, --help        this text

Admin endpoints (same bearer token): GET /sandbox/writes, GET|POST|DELETE /sandbox/faults,
GET /sandbox/state.`;

function portArg(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new Error(`${flag} must be a port number, got "${v}"`);
  }
  return n;
}

/** Runs the sandbox until the signal (or SIGINT/SIGTERM) fires; returns the exit code. */
export async function runSandbox(args: string[], deps: SandboxDeps = {}): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        port: { type: "string" },
        "http-port": { type: "string" },
        "data-dir": { type: "string" },
        crds: { type: "string" },
        "with-mayastor": { type: "boolean" },
        "log-level": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    console.error(`couchestor sandbox: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const print = deps.print ?? ((l: string) => console.log(l));
  if (values.help) {
    print(HELP);
    return 0;
  }
  const level = values["log-level"] ?? "info";
  if (!["debug", "info", "warn", "error"].includes(level)) {
    console.error(`couchestor sandbox: --log-level must be debug, info, warn or error`);
    return 2;
  }
  const logger = deps.logger ?? createLogger({ level: level as "info" }).child("sandbox");
  let port: number | undefined, httpPort: number | undefined;
  try {
    port = portArg(values.port, "--port");
    httpPort = portArg(values["http-port"], "--http-port");
  } catch (e) {
    console.error(`couchestor sandbox: ${(e as Error).message}`);
    return 2;
  }
  if (values["with-mayastor"] && !deps.startMayastor) {
    console.error("couchestor sandbox: --with-mayastor is not available in this build");
    return 2;
  }

  // Listen for signals before anything is printed, so a stop right after the first line is clean.
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  const signals: Deno.Signal[] = deps.signal ? [] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  deps.signal?.addEventListener("abort", onSignal, { once: true });
  if (deps.signal?.aborted) ac.abort();
  const stopped = new Promise<void>((resolve) => {
    if (ac.signal.aborted) resolve();
    ac.signal.addEventListener("abort", () => resolve(), { once: true });
  });

  let sb: Sandbox | undefined;
  let stopMayastor: (() => Promise<void>) | undefined;
  try {
    sb = await startSandbox({
      port,
      httpPort,
      dataDir: values["data-dir"],
      clock: deps.clock,
      logger,
    });
    const crdsDir = values.crds ?? "crds";
    let installed: string[] = [];
    try {
      if ((await Deno.stat(crdsDir)).isDirectory) {
        installed = await applyDirectory(sb.core, crdsDir);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      if (values.crds) logger.warn("CRD directory not found", { dir: crdsDir });
    }
    print(sb.kubeconfigPath);
    logger.info("sandbox ready", { url: sb.url, httpUrl: sb.httpUrl, crds: installed.length });
    if (values["with-mayastor"] && deps.startMayastor) stopMayastor = await deps.startMayastor(sb);
    deps.onReady?.(sb);

    await stopped;
    logger.info("sandbox stopping");
    return 0;
  } catch (e) {
    logger.error("sandbox failed", { error: e });
    return 1;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    await stopMayastor?.();
    await sb?.close();
  }
}
