/**
 * Startup check of the Kubernetes API: the operator is not ready until `GET /version` answers.
 * It reaches the API server exactly as the operator's client does (the same ConnectionConfig,
 * resolved by the same function, through the same KubeClient), so what it reports is what the
 * controllers will meet.
 */
import type { Clock } from "../clock.ts";
import { formatDuration } from "../config/duration.ts";
import { KubeClient } from "../kube/client.ts";
import type { ConnectionConfig } from "../kube/kubeconfig.ts";
import type { Component } from "../lifecycle.ts";
import type { Logger } from "../observability/log.ts";
import type { Readiness } from "../observability/readiness.ts";

/** Asks the API server for `/version`; returns its gitVersion or throws with the reason. */
export async function fetchKubeVersion(
  connection: ConnectionConfig,
  signal: AbortSignal,
): Promise<string> {
  const client = new KubeClient({ connection, userAgent: "couchestor-startup-check" });
  try {
    const v = await client.raw<{ gitVersion?: unknown }>("/version", signal);
    return typeof v.gitVersion === "string" ? v.gitVersion : "unknown";
  } finally {
    client.close();
  }
}

/** Options for the Kubernetes API startup check. */
export interface KubeApiCheckOptions {
  /** Where the API server is (re-resolved on each attempt, e.g. after a file appears). */
  resolve: () => Promise<ConnectionConfig>;
  readiness: Readiness;
  clock: Clock;
  logger: Logger;
  /** First retry delay; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Time allowed for one request. */
  requestTimeoutMs?: number;
}

function reasonOf(e: unknown): string {
  if (e instanceof Error) {
    const cause = e.cause instanceof Error ? `: ${e.cause.message}` : "";
    return (e.message + cause).split("\n")[0];
  }
  return String(e);
}

/**
 * A component that is ready once the Kubernetes API answered `GET /version`. Until then every
 * attempt is logged (the URL and the error) and `/readyz` says what is wrong; attempts back off
 * exponentially from retryMs to maxRetryMs.
 */
export function kubeApiCheck(opts: KubeApiCheckOptions): Component {
  const name = "kubernetes-api";
  let loop: Promise<void> = Promise.resolve();
  return {
    name,
    start(signal) {
      const handle = opts.readiness.register(name, "not checked yet");
      const log = opts.logger.child(name);
      let delay = opts.retryMs ?? 250;
      loop = (async () => {
        for (let attempt = 1; !signal.aborted; attempt++) {
          const attemptCtl = new AbortController();
          const onAbort = () => attemptCtl.abort(signal.reason);
          signal.addEventListener("abort", onAbort, { once: true });
          const timeout = opts.clock.sleep(opts.requestTimeoutMs ?? 5000, attemptCtl.signal).then(
            () => attemptCtl.abort(new Error("request timed out")),
            () => {},
          );
          let server: string | undefined;
          try {
            const target = await opts.resolve();
            server = target.server;
            const version = await fetchKubeVersion(target, attemptCtl.signal);
            handle.ready();
            log.info("kubernetes API reachable", { server, version, attempts: attempt });
            return;
          } catch (e) {
            if (signal.aborted) return;
            const error = reasonOf(e);
            const retry = `retrying in ${formatDuration(delay)}`;
            if (server === undefined) {
              // No target: the kubeconfig (or service account) itself is the problem.
              handle.notReady(`${error}; ${retry}`);
              log.error("cannot find the Kubernetes API server; retrying", {
                error,
                attempt,
                retryInMs: delay,
              });
            } else {
              handle.notReady(`API server ${server} not reachable: ${error}; ${retry}`);
              log.warn("kubernetes API not reachable; retrying", {
                server,
                error,
                attempt,
                retryInMs: delay,
              });
            }
          } finally {
            signal.removeEventListener("abort", onAbort);
            attemptCtl.abort();
            await timeout;
          }
          try {
            await opts.clock.sleep(delay, signal);
          } catch {
            return; // shutting down
          }
          delay = Math.min(delay * 2, opts.maxRetryMs ?? 5000);
        }
      })();
      return Promise.resolve();
    },
    stop: () => loop,
  };
}
