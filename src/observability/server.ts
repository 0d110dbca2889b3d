/**
 * The operator's HTTP endpoints: `/metrics` on the metrics address, `/healthz` and `/readyz`
 * on the health address (one server when both addresses are the same fixed port).
 */
import type { Registry } from "prom-client";
import { formatListenAddr, type ListenAddr } from "../config/listen.ts";
import type { Logger } from "./log.ts";
import type { Readiness } from "./readiness.ts";
import type { Watchdog } from "./watchdog.ts";

/** A request handler for one of the servers. */
export type Handler = (req: Request) => Promise<Response>;

const TEXT = { "content-type": "text/plain; charset=utf-8" };

/** Serves the registry in Prometheus text format on GET /metrics. */
export function metricsHandler(registry: Registry): Handler {
  return async (req) => {
    const path = new URL(req.url).pathname;
    if (path !== "/metrics") return new Response("not found\n", { status: 404, headers: TEXT });
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: TEXT });
    }
    const body = await registry.metrics();
    return new Response(body, { headers: { "content-type": registry.contentType } });
  };
}

/** Serves /healthz (event loop alive) and /readyz (every component ready). */
export function healthHandler(readiness: Readiness, watchdog: Watchdog): Handler {
  return (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/healthz" || path === "/livez") {
      const s = watchdog.status();
      return Promise.resolve(
        s.alive
          ? new Response("ok\n", { headers: TEXT })
          : new Response(`event loop stalled for ${Math.round(s.lagMs)}ms\n`, {
            status: 500,
            headers: TEXT,
          }),
      );
    }
    if (path === "/readyz") {
      const s = readiness.status();
      const lines = readiness.components().map((c) =>
        c.ready ? `[+]${c.name} ok` : `[-]${c.name}: ${c.reason}`
      );
      if (s.ready) {
        return Promise.resolve(new Response([...lines, "ok", ""].join("\n"), { headers: TEXT }));
      }
      const body = ["not ready: " + s.reasons.join("; "), ...lines, ""].join("\n");
      return Promise.resolve(new Response(body, { status: 503, headers: TEXT }));
    }
    return Promise.resolve(new Response("not found\n", { status: 404, headers: TEXT }));
  };
}

/** Options for startServers. */
export interface ServersOptions {
  metricsAddr: ListenAddr;
  healthAddr: ListenAddr;
  registry: Registry;
  readiness: Readiness;
  watchdog: Watchdog;
  logger: Logger;
}

/** The servers once bound: the actual addresses (port 0 resolved) and a way to stop them. */
export interface RunningServers {
  metrics: ListenAddr;
  health: ListenAddr;
  /** Stops accepting connections and waits for in-flight requests to finish. */
  close(): Promise<void>;
}

function serve(addr: ListenAddr, handler: Handler, logger: Logger): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: addr.hostname,
    port: addr.port,
    onListen: () => {}, // the caller logs the bound addresses once, together
    onError: (err) => {
      logger.error("http handler failed", { err });
      return new Response("internal error\n", { status: 500, headers: TEXT });
    },
  }, handler);
}

function bound(server: Deno.HttpServer<Deno.NetAddr>): ListenAddr {
  return { hostname: server.addr.hostname, port: server.addr.port };
}

/** Binds the metrics and health servers; throws when an address cannot be bound. */
export function startServers(opts: ServersOptions): RunningServers {
  const metrics = metricsHandler(opts.registry);
  const health = healthHandler(opts.readiness, opts.watchdog);
  const same = opts.metricsAddr.port !== 0 &&
    formatListenAddr(opts.metricsAddr) === formatListenAddr(opts.healthAddr);
  if (same) {
    const server = serve(opts.metricsAddr, (req) => {
      const path = new URL(req.url).pathname;
      return path === "/metrics" ? metrics(req) : health(req);
    }, opts.logger);
    return { metrics: bound(server), health: bound(server), close: () => server.shutdown() };
  }
  const m = serve(opts.metricsAddr, metrics, opts.logger);
  let h: Deno.HttpServer<Deno.NetAddr>;
  try {
    h = serve(opts.healthAddr, health, opts.logger);
  } catch (e) {
    void m.shutdown();
    throw e;
  }
  return {
    metrics: bound(m),
    health: bound(h),
    close: async () => {
      await Promise.all([m.shutdown(), h.shutdown()]);
    },
  };
}
