/**
 * A real Prometheus (Debian's `prometheus` binary) for the demo and the end-to-end tests:
 * temp directory, 127.0.0.1 on a free port, scraping the given targets every few seconds,
 * optionally over a TSDB backfilled with `promtool tsdb create-blocks-from openmetrics`.
 */
import type { Logger } from "../observability/log.ts";

/** The apt-get line that installs both binaries. */
export const PROMETHEUS_INSTALL = "apt-get install -y --no-install-recommends prometheus";

/** A running Prometheus. */
export interface LocalPrometheus {
  url: string;
  /** Temp directory (config and TSDB), removed by stop(). */
  dir: string;
  /** Listen port (a restart reuses it, so clients keep their URL). */
  port: number;
  /** Kills the process (SIGTERM, then SIGKILL after 5 s); keeps the TSDB when `keepData`. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

/** Options of startPrometheus. */
export interface PrometheusOptions {
  /** host:port of each /metrics target. */
  targets: string[];
  scrapeIntervalSeconds?: number;
  /** OpenMetrics text (ending in `# EOF`) backfilled before start. */
  backfill?: string;
  /** Reuse this directory (e.g. a restart after stop({ keepData: true })). */
  dir?: string;
  /** Listen on this port (default a free one). */
  port?: number;
  /** Binary paths (default found on PATH). */
  bins?: { prometheus: string; promtool: string };
  logger?: Logger;
}

/** Finds a binary on PATH (and /usr/bin, /usr/sbin); undefined when absent. */
export function findBinary(name: string, path: string | undefined): string | undefined {
  for (const dir of [...(path ?? "").split(":"), "/usr/bin", "/usr/sbin"]) {
    if (!dir) continue;
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch { /* not here */ }
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** The scrape configuration. */
export function prometheusConfig(targets: string[], intervalSeconds: number): string {
  return [
    "global:",
    `  scrape_interval: ${intervalSeconds}s`,
    `  evaluation_interval: ${intervalSeconds}s`,
    "scrape_configs:",
    "  - job_name: mayastor",
    `    scrape_interval: ${intervalSeconds}s`,
    "    static_configs:",
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(", ")}]`,
    "",
  ].join("\n");
}

/** Starts Prometheus and waits until /-/ready answers (30 s at most). */
export async function startPrometheus(o: PrometheusOptions): Promise<LocalPrometheus> {
  const bins = o.bins;
  if (!bins) throw new Error(`prometheus/promtool paths are required (${PROMETHEUS_INSTALL})`);
  const dir = o.dir ?? await Deno.makeTempDir({ prefix: "couchestor-prometheus-" });
  const data = `${dir}/data`;
  await Deno.mkdir(data, { recursive: true });
  if (o.backfill !== undefined) {
    await Deno.writeTextFile(`${dir}/history.om`, o.backfill);
    const out = await new Deno.Command(bins.promtool, {
      args: ["tsdb", "create-blocks-from", "openmetrics", `${dir}/history.om`, data],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`promtool backfill failed: ${new TextDecoder().decode(out.stderr)}`);
    }
  }
  await Deno.writeTextFile(
    `${dir}/prometheus.yml`,
    prometheusConfig(o.targets, o.scrapeIntervalSeconds ?? 1),
  );
  const port = o.port ?? freePort();
  const child = new Deno.Command(bins.prometheus, {
    args: [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${data}`,
      "--storage.tsdb.retention.time=100y",
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const drained = child.stderr.pipeTo(new WritableStream()).catch(() => {});
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async (so: { keepData?: boolean } = {}) => {
    if (!stopped) {
      stopped = true;
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      const t = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 5000);
      await child.status;
      clearTimeout(t);
      await drained;
    }
    if (!so.keepData) await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/-/ready`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error("prometheus did not become ready within 30s");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  o.logger?.info("prometheus ready", { url });
  return { url, dir, port, stop };
}
