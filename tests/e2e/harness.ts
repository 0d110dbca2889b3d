/**
 * End-to-end helpers: the operator as a child process (`deno run -A main.ts run …`) against
 * the sandbox and the simulator, a real Prometheus over backfilled history, and polling.
 */
import { eventually } from "../support/poll.ts";
import {
  findBinary,
  freePort,
  type LocalPrometheus,
  PROMETHEUS_INSTALL,
  startPrometheus,
} from "../../src/sandbox/prometheus.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** prometheus and promtool, or a failure naming the apt-get command. */
export function requirePrometheus(): { prometheus: string; promtool: string } {
  const path = Deno.env.get("PATH");
  const prometheus = findBinary("prometheus", path);
  const promtool = findBinary("promtool", path);
  if (!prometheus || !promtool) {
    throw new Error(`prometheus/promtool not found; install them with: ${PROMETHEUS_INSTALL}`);
  }
  return { prometheus, promtool };
}

/**
 * OpenMetrics history of `volume_num_read_ops` per volume: a cumulative counter sampled every
 * `stepMs` from `fromMs` to `toMs`, whose rate at time t is `iops(pv, t)`.
 */
export function backfill(
  pvs: string[],
  iops: (pv: string, t: number) => number,
  fromMs: number,
  toMs: number,
  stepMs = 1000,
): string {
  const lines = ["# HELP volume_num_read_ops Read ops", "# TYPE volume_num_read_ops gauge"];
  for (const pv of pvs) {
    let total = 0;
    for (let t = fromMs; t <= toMs; t += stepMs) {
      lines.push(
        `volume_num_read_ops{pv_name="${pv}",node="node-1"} ${Math.round(total)} ${t / 1000}`,
      );
      total += (iops(pv, t) * stepMs) / 1000;
    }
  }
  lines.push("# EOF");
  return lines.join("\n") + "\n";
}

/** Prometheus over backfilled history only (no scrape targets). */
export function startBackfilledPrometheus(
  history: string,
  o: { dir?: string; port?: number } = {},
): Promise<LocalPrometheus> {
  return startPrometheus({
    targets: [],
    backfill: o.dir ? undefined : history,
    dir: o.dir,
    port: o.port,
    bins: requirePrometheus(),
  });
}

/** A running operator process. */
export interface OperatorProcess {
  child: Deno.ChildProcess;
  metricsUrl: string;
  /** Everything it logged so far. */
  logs(): string;
  /** SIGKILL, then wait for it. */
  kill(): Promise<void>;
  /** SIGTERM, then wait for its exit status. */
  stop(): Promise<number>;
}

/** Starts `couchestor run` with the given extra flags. */
export function startOperator(o: {
  kubeconfig: string;
  prometheusUrl: string;
  mayastorUrl: string;
  extra?: string[];
  identity?: string;
}): OperatorProcess {
  const metricsPort = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "run",
      `--kubeconfig=${o.kubeconfig}`,
      `--prometheus-url=${o.prometheusUrl}`,
      `--mayastor-rest-url=${o.mayastorUrl}`,
      `--metrics-addr=127.0.0.1:${metricsPort}`,
      `--health-addr=127.0.0.1:${freePort()}`,
      "--sync-poll-interval=200ms",
      "--log-format=json",
      "--log-level=info",
      `--pod-name=${o.identity ?? "operator-1"}`,
      "--namespace=couchestor-system",
      "--shutdown-timeout=5s",
      ...(o.extra ?? []),
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let text = "";
  const dec = new TextDecoder();
  const pump = (s: ReadableStream<Uint8Array>) =>
    s.pipeTo(new WritableStream({ write: (c) => void (text += dec.decode(c)) })).catch(() => {});
  const drained = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited: Promise<Deno.CommandStatus> | undefined;
  const wait = async () => {
    exited ??= child.status;
    const s = await exited;
    await drained;
    return s;
  };
  return {
    child,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    logs: () => text,
    kill: async () => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await wait();
    },
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      return (await wait()).code;
    },
  };
}

/** Polls `f` every `everyMs` until it returns a value other than undefined/false. */
export function waitFor<T>(
  what: string,
  f: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  return eventually(what, f, { timeoutMs, everyMs });
}

/** Sum of a metric's samples whose labels include `labels`, from Prometheus text. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/**
 * The StoragePolicy spec the end-to-end scenarios use: watermarks that sort the backfilled
 * volumes into hot, warm and cold over a 4 s window, and a cooldown longer than any test.
 */
export function e2ePolicySpec(maxConcurrentMigrations = 4): Record<string, unknown> {
  return {
    highWatermarkIOPS: 2000,
    warmWatermarkIOPS: 1200,
    lowWatermarkIOPS: 100,
    samplingWindow: "4s",
    cooldownPeriod: "1h",
    maxConcurrentMigrations,
  };
}
