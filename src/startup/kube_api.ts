/**
 * Startup check of the Kubernetes API: the operator is not ready until `GET /version` answers.
 * Deliberately tiny (plain fetch, kubeconfig or in-cluster service account); the kube client
 * replaces the transport later, the readiness contract stays.
 */
import type { Clock } from "../clock.ts";
import { formatDuration } from "../config/duration.ts";
import { loadKubeconfigFile, SERVICE_ACCOUNT_DIR } from "../kube/kubeconfig.ts";
import type { Component } from "../lifecycle.ts";
import type { Logger } from "../observability/log.ts";
import type { Readiness } from "../observability/readiness.ts";

/** How to reach the API server. */
export interface KubeTarget {
  /** Base URL, e.g. https://10.0.0.1:443. */
  server: string;
  token?: string;
  /** PEM of the CA that signed the server certificate. */
  caPem?: string;
  /** PEM client certificate and key. */
  certPem?: string;
  keyPem?: string;
  /** Where the target came from, for logs ("kubeconfig /path" or "in-cluster"). */
  source: string;
}

/** Reads a text file; injectable so the resolution logic stays testable. */
export type ReadText = (path: string) => Promise<string>;

const SA_DIR = SERVICE_ACCOUNT_DIR;

/**
 * Finds the API server of the current context of a kubeconfig (data or file references,
 * relative to the file), with the same parser the controllers' client uses.
 */
export async function targetFromKubeconfig(
  path: string,
  readText: ReadText,
): Promise<KubeTarget> {
  const c = await loadKubeconfigFile(path, { readTextFile: readText });
  return {
    server: c.server,
    token: c.token ?? (c.tokenFile ? (await readText(c.tokenFile)).trim() : undefined),
    caPem: c.caData,
    certPem: c.clientCertData,
    keyPem: c.clientKeyData,
    source: `kubeconfig ${path}`,
  };
}

/** The kubeconfig target when one is given, else the in-cluster service account. */
export async function resolveKubeTarget(
  kubeconfig: string | undefined,
  env: Record<string, string | undefined>,
  readText: ReadText,
): Promise<KubeTarget> {
  if (kubeconfig) return await targetFromKubeconfig(kubeconfig, readText);
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  if (!host) {
    throw new Error("no --kubeconfig given and not running in a cluster (KUBERNETES_SERVICE_HOST)");
  }
  const h = host.includes(":") ? `[${host}]` : host;
  return {
    server: `https://${h}:${port}`,
    token: (await readText(`${SA_DIR}/token`)).trim(),
    caPem: await readText(`${SA_DIR}/ca.crt`),
    source: "in-cluster",
  };
}

/** Asks the API server for `/version`; returns its gitVersion or throws with the reason. */
export async function fetchKubeVersion(target: KubeTarget, signal: AbortSignal): Promise<string> {
  const client = target.caPem || target.certPem
    ? Deno.createHttpClient({
      caCerts: target.caPem ? [target.caPem] : undefined,
      ...(target.certPem && target.keyPem ? { cert: target.certPem, key: target.keyPem } : {}),
    })
    : undefined;
  try {
    const res = await fetch(`${target.server}/version`, {
      headers: target.token ? { authorization: `Bearer ${target.token}` } : {},
      signal,
      client,
    });
    const body = await res.text();
    if (!res.ok) throw new Error(`GET /version: HTTP ${res.status}`);
    const v = JSON.parse(body) as { gitVersion?: unknown };
    return typeof v.gitVersion === "string" ? v.gitVersion : "unknown";
  } finally {
    client?.close();
  }
}

/** Options for the Kubernetes API startup check. */
export interface KubeApiCheckOptions {
  /** Where to find the API server (re-resolved on each attempt, e.g. after a file appears). */
  resolve: () => Promise<KubeTarget>;
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
