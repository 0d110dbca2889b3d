/**
 * `couchestor run`: the operator process. Builds config, logger, metrics, the HTTP servers and
 * the lifecycle, then starts the components — the Kubernetes API startup check and the operator
 * the composition root (src/app/operator.ts) builds from the cluster's adapters — and waits for
 * shutdown.
 */
import { type Clock, systemClock } from "../clock.ts";
import type { Config } from "../config/flags.ts";
import { formatRunHelp } from "../config/help.ts";
import { formatListenAddr } from "../config/listen.ts";
import { type Env, loadConfig } from "../config/load.ts";
import {
  type Component,
  denoSignals,
  handleSignals,
  Lifecycle,
  type SignalSource,
  startComponents,
} from "../lifecycle.ts";
import { createLogger, type Logger } from "../observability/log.ts";
import { createMetrics, type Metrics } from "../observability/metrics.ts";
import { Readiness } from "../observability/readiness.ts";
import { type RunningServers, startServers } from "../observability/server.ts";
import { Watchdog } from "../observability/watchdog.ts";
import { kubeApiCheck } from "../startup/kube_api.ts";
import { clusterAdapters, connectionFor, identityOf, operatorSettings } from "../app/cluster.ts";
import { buildOperator } from "../app/operator.ts";
import { VERSION } from "../version.ts";

/** Everything a component factory may use; built once by `runRun`. */
export interface RunContext {
  config: Config;
  /** This replica's identity (Lease holder, Event source): --pod-name, else the host name. */
  identity: string;
  env: Env;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  lifecycle: Lifecycle;
}

/** Builds the components to start, in order (stopped by phase at shutdown). */
export type ComponentFactory = (ctx: RunContext) => Component[];

/** The operator's components: the Kubernetes API startup check, then the operator. */
export const defaultComponents: ComponentFactory = (ctx) => [
  kubeApiCheck({
    resolve: () => connectionFor(ctx.config.kubeconfig, ctx.env),
    readiness: ctx.readiness,
    clock: ctx.clock,
    logger: ctx.logger,
  }),
  operatorComponent(ctx),
];

/** The operator as a component: its adapters are built at start (reading the kubeconfig). */
export function operatorComponent(ctx: RunContext): Component {
  let inner: Component | undefined;
  let close: (() => void) | undefined;
  return {
    name: "operator",
    async start(signal) {
      const adapters = await clusterAdapters(ctx.config, ctx.env, ctx);
      close = () => adapters.client.close();
      inner = buildOperator(adapters, operatorSettings(ctx.config), ctx).component();
      await inner.start(signal);
    },
    async stop() {
      await inner?.stop();
      close?.();
    },
  };
}

/** What `runRun` takes from its caller (the CLI passes the real process's env). */
export interface RunDeps {
  env?: Env;
  clock?: Clock;
  signals?: SignalSource;
  /** Where help goes (stdout) and where config errors go (stderr). */
  out?: (text: string) => void;
  err?: (text: string) => void;
  components?: ComponentFactory;
  /** Where log lines go (stderr by default). */
  log?: (line: string) => void;
}

/** Runs the operator until SIGTERM/SIGINT; returns the exit status (2 for bad config). */
export async function runRun(args: string[], deps: RunDeps = {}): Promise<number> {
  const out = deps.out ?? ((t: string) => console.log(t));
  const err = deps.err ?? ((t: string) => console.error(t));
  const loaded = loadConfig(args, deps.env ?? {});
  if (loaded.kind === "help") {
    out(formatRunHelp());
    return 0;
  }
  if (loaded.kind === "error") {
    for (const m of loaded.messages) err(m);
    return 2;
  }
  const config = loaded.config;
  const clock = deps.clock ?? systemClock;
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    write: deps.log,
  });
  const metrics = createMetrics();
  const readiness = new Readiness();
  const watchdog = new Watchdog({ clock });
  const lifecycle = new Lifecycle({ clock, logger, deadlineMs: config.shutdownTimeoutMs });
  const identity = identityOf(config);
  logger.info("starting couchestor", {
    version: VERSION,
    identity,
    dryRun: config.dryRun,
    ecTier: config.ecSimulatorUrl ? "simulator" : "off",
    leaderElect: config.leaderElect,
  });

  let servers: RunningServers;
  try {
    servers = startServers({
      metricsAddr: config.metricsAddr,
      healthAddr: config.healthAddr,
      registry: metrics.registry,
      readiness,
      watchdog,
      logger: logger.child("http"),
    });
  } catch (e) {
    logger.error("cannot listen", {
      metrics: formatListenAddr(config.metricsAddr),
      health: formatListenAddr(config.healthAddr),
      err: e,
    });
    return 1;
  }
  logger.info("listening", {
    metrics: formatListenAddr(servers.metrics),
    health: formatListenAddr(servers.health),
  });

  const unhandle = handleSignals(lifecycle, logger, deps.signals ?? denoSignals);
  // Go not-ready first so traffic drains while in-flight work finishes; servers close last.
  lifecycle.onStop("readiness", () => Promise.resolve(readiness.markShuttingDown()));
  lifecycle.onStop("http-servers", () => servers.close(), "close");
  const beating = watchdog.run(lifecycle.signal);
  lifecycle.onStop("watchdog", () => beating, "close");

  const ctx: RunContext = {
    config,
    identity,
    env: deps.env ?? {},
    clock,
    logger,
    metrics,
    readiness,
    lifecycle,
  };
  await startComponents((deps.components ?? defaultComponents)(ctx), lifecycle, logger);
  const code = await lifecycle.done;
  unhandle();
  return code;
}
