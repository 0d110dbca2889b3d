/**
 * Starts a real Prometheus (Debian's binary) on 127.0.0.1 over a TSDB backfilled with
 * `promtool tsdb create-blocks-from openmetrics`, for deterministic queries at fixed times.
 */

/** A running Prometheus and how to stop it. */
export interface RunningPrometheus {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

const INSTALL = "apt-get install -y --no-install-recommends prometheus";

async function which(cmd: string): Promise<string | undefined> {
  for (const dir of [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/bin", "/usr/sbin"]) {
    if (!dir) continue;
    try {
      if ((await Deno.stat(`${dir}/${cmd}`)).isFile) return `${dir}/${cmd}`;
    } catch { /* not here */ }
  }
  return undefined;
}

/** The paths of prometheus and promtool, or a failure naming the install command. */
export async function requirePrometheus(): Promise<{ prometheus: string; promtool: string }> {
  const prometheus = await which("prometheus");
  const promtool = await which("promtool");
  if (!prometheus || !promtool) {
    throw new Error(`prometheus/promtool not found on PATH; install them with: ${INSTALL}`);
  }
  return { prometheus, promtool };
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function run(bin: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(bin, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(
      `${bin} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`,
    );
  }
}

/** Backfills `openMetrics` (ending in `# EOF`) into a fresh TSDB and starts Prometheus on it. */
export async function startBackfilledPrometheus(openMetrics: string): Promise<RunningPrometheus> {
  const { prometheus, promtool } = await requirePrometheus();
  const dir = await Deno.makeTempDir({ prefix: "couchestor-prom-" });
  const data = `${dir}/data`;
  await Deno.mkdir(data);
  await Deno.writeTextFile(`${dir}/history.om`, openMetrics);
  await run(promtool, ["tsdb", "create-blocks-from", "openmetrics", `${dir}/history.om`, data]);
  await Deno.writeTextFile(`${dir}/prometheus.yml`, "global:\n  scrape_interval: 15s\n");
  const port = freePort();
  const child = new Deno.Command(prometheus, {
    args: [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${data}`,
      "--storage.tsdb.retention.time=100y",
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeTo(new WritableStream()).catch(() => {});
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await stderr;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
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
  return { url, dir, stop };
}
