/**
 * The sandbox Kubernetes API server: `startSandbox()` wires the core, HTTP/HTTPS
 * listeners on 127.0.0.1, a bearer token, a kubeconfig, persistence, faults and the write log.
 */
import { type Clock, systemClock } from "../../clock.ts";
import { type Logger, silentLogger } from "../../observability/log.ts";
import { ApiCore } from "./api_core.ts";
import { Faults } from "./faults.ts";
import { createApiHandler } from "./http.ts";
import { writeKubeconfig } from "./kubeconfig.ts";
import { loadSnapshot, objectKey, Persister } from "./persist.ts";
import { ensureTls, haveOpenssl } from "./tls.ts";
import { startTlsProxy, type TlsProxy } from "./tlsproxy.ts";
import { WriteLog } from "./writelog.ts";

export { ApiCore } from "./api_core.ts";
export { Faults } from "./faults.ts";
export { WriteLog, type WriteRecord } from "./writelog.ts";
export { applyDirectory, applyObjects, parseManifests } from "./manifests.ts";

/** Options for startSandbox. */
export interface SandboxOptions {
  /** Port of the main listener (HTTPS when openssl is present); 0 or absent = any free port. */
  port?: number;
  /** Port of the plain-HTTP listener; 0 or absent = any free port. */
  httpPort?: number;
  /** Keeps objects, token and certificates here across restarts. */
  dataDir?: string;
  clock?: Clock;
  logger?: Logger;
  /** Bearer token; generated (or read from dataDir) when absent. */
  token?: string;
  /** Where to write the kubeconfig; default `<dataDir>/kubeconfig` or a temp dir. */
  kubeconfigPath?: string;
  /** Serve HTTPS (default: when `openssl` is available). */
  tls?: boolean;
  /** Interval between watch bookmarks (default 60 s, like the real server's ~1 min). */
  bookmarkIntervalMs?: number;
  /** Events kept for watch resumption before compaction (default 50,000). */
  historyLimit?: number;
}

/** A running sandbox. */
export interface Sandbox {
  /** The URL the kubeconfig points at (HTTPS when enabled). */
  url: string;
  /** Plain-HTTP URL (same API, same token). */
  httpUrl: string;
  /** HTTPS URL, when TLS is enabled. */
  httpsUrl?: string;
  kubeconfigPath: string;
  token: string;
  /** PEM of the CA that signed the HTTPS certificate. */
  caCert?: string;
  faults: Faults;
  writes: WriteLog;
  /** Every resource request with its RBAC verb (get, list, watch, create …), for RBAC audits. */
  requests: WriteLog;
  /** The API semantics, for in-process use by tests and the demo. */
  core: ApiCore;
  /** Stops listeners, ends watches, flushes the snapshot, removes temp files. */
  close(): Promise<void>;
}

async function readOrCreateToken(dataDir: string | undefined): Promise<string> {
  const fresh = () => {
    const b = new Uint8Array(24);
    crypto.getRandomValues(b);
    return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  };
  if (!dataDir) return fresh();
  const path = `${dataDir}/token`;
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch {
    const t = fresh();
    await Deno.writeTextFile(path, t, { mode: 0o600 });
    return t;
  }
}

/** Starts the sandbox API server. */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? silentLogger;
  const dataDir = opts.dataDir;
  if (dataDir) await Deno.mkdir(dataDir, { recursive: true });
  const tempDir = dataDir ? undefined : await Deno.makeTempDir({ prefix: "couchestor-sandbox-" });
  const workDir = dataDir ?? tempDir!;
  const token = opts.token ?? await readOrCreateToken(dataDir);

  let persister: Persister | undefined;
  const core = new ApiCore({
    clock,
    historyLimit: opts.historyLimit,
    onCommit: () => persister?.changed(),
  });
  if (dataDir) {
    const snap = await loadSnapshot(dataDir);
    if (snap) {
      core.store.restore(snap, objectKey);
      core.afterRestore();
    }
    persister = new Persister({
      dir: dataDir,
      snapshot: () => core.store.snapshot(),
      clock,
      logger,
    });
  }
  core.bootstrap();

  const writes = new WriteLog();
  const requests = new WriteLog();
  let httpsAddr = "";
  let httpAddr = "";
  // The fault hooks reach the handler lazily; both live as long as the sandbox.
  const faults: Faults = new Faults({
    closeWatches: () => handler.closeWatches(),
    compact: (rv) => {
      core.store.compact(rv);
      return core.store.compactedVersion;
    },
  });
  const handler = createApiHandler({
    core,
    token,
    clock,
    logger,
    faults: () => faults,
    writes,
    requests,
    serverAddress: () => httpsAddr || httpAddr,
    bookmarkIntervalMs: opts.bookmarkIntervalMs,
  });

  const useTls = opts.tls ?? await haveOpenssl();
  const tls = useTls ? await ensureTls(`${workDir}/tls`) : undefined;
  const onError = (e: unknown) => {
    logger.error("unhandled request error", { error: e });
    return new Response("internal error", { status: 500 });
  };
  const servers: Deno.HttpServer<Deno.NetAddr>[] = [];
  const httpServer = Deno.serve({
    hostname: "127.0.0.1",
    port: useTls ? (opts.httpPort ?? 0) : (opts.port ?? opts.httpPort ?? 0),
    onListen: () => {},
    onError,
  }, handler.handle);
  servers.push(httpServer);
  httpAddr = `127.0.0.1:${httpServer.addr.port}`;
  let httpsUrl: string | undefined;
  let proxy: TlsProxy | undefined;
  if (tls) {
    proxy = startTlsProxy({
      port: opts.port ?? 0,
      cert: tls.cert,
      key: tls.key,
      targetPort: httpServer.addr.port,
    });
    httpsAddr = `127.0.0.1:${proxy.port}`;
    httpsUrl = `https://${httpsAddr}`;
  }
  const httpUrl = `http://${httpAddr}`;
  const url = httpsUrl ?? httpUrl;
  const kubeconfigPath = opts.kubeconfigPath ?? `${workDir}/kubeconfig`;
  await writeKubeconfig(kubeconfigPath, { server: url, token, caCert: tls?.caCert });
  logger.info("sandbox API server listening", { url, httpUrl, kubeconfig: kubeconfigPath });

  let closed = false;
  return {
    url,
    httpUrl,
    httpsUrl,
    kubeconfigPath,
    token,
    caCert: tls?.caCert,
    faults,
    writes,
    requests,
    core,
    async close() {
      if (closed) return;
      closed = true;
      handler.closeWatches();
      proxy?.close();
      await Promise.all(servers.map((s) => s.shutdown()));
      await persister?.flush();
      if (tempDir) await Deno.remove(tempDir, { recursive: true }).catch(() => {});
    },
  };
}
