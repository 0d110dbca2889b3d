/**
 * `couchestor demo`: the whole product on one machine, in one process. The sandbox API server
 * (CRDs installed), the Mayastor simulator with hot/warm/cold pools (DiskPool CRs) and ~20
 * volumes on varied workloads (PersistentVolumes), a real Prometheus scraping the simulator
 * when the binary exists (else the direct-scrape source), the StoragePolicy operator, and a
 * policy with short windows, so volumes move within a minute. Prints the kubeconfig and a live
 * table; Ctrl-C (or --duration) stops everything and removes the temp dirs.
 */
import { seriesValue } from "../model/series.ts";
import { DEFAULT_SIM_POOLS } from "../sandbox/mayastor/attach.ts";
import { parseArgs } from "node:util";
import {
  EcBytesSchema,
  type StoragePolicyInput,
  StoragePolicySchema,
} from "../api/storage_policy.ts";
import { type Clock, systemClock } from "../clock.ts";
import { isDuration, parseDuration } from "../config/duration.ts";
import { STORAGE_POLICIES } from "../controllers/storage-policy/resources.ts";
import type { KubeObject } from "../kube/resource.ts";
import { MayastorRestBackend } from "../mayastor/rest.ts";
import { buildOperator, type Operator } from "../app/operator.ts";
import { SimEcTierPorts } from "../ectier/sim.ts";
import type { ErasureCodingPolicyInput } from "../api/mod.ts";
import { GROUP_VERSION } from "../api/meta.ts";
import { PrometheusIopsSource } from "../metrics/prometheus.ts";
import { ScrapeIopsSource } from "../metrics/scrape.ts";
import type { IopsSource } from "../metrics/source.ts";
import { decodeMoveState, MIGRATION_ANNOTATION } from "../migration/state.ts";
import { createLogger, type Logger, silentLogger } from "../observability/log.ts";
import { createMetrics } from "../observability/metrics.ts";
import {
  type LocalCluster,
  type LocalVolume,
  OPERATOR_NAMESPACE,
  startLocalCluster,
} from "../sandbox/local_cluster.ts";
import type { SimPoolConfig } from "../sandbox/mayastor/cluster.ts";
import {
  findBinary,
  type LocalPrometheus,
  PROMETHEUS_INSTALL,
  startPrometheus,
} from "../sandbox/prometheus.ts";
import { poolTiers, volumeTier } from "../tiering/placement.ts";
import { tierSelectors } from "../tiering/policy.ts";
import {
  applyEcState,
  type DemoRow,
  ecSummaryLine,
  redrawPrefix,
  renderDemoTable,
} from "./demo_table.ts";
import { EC_POLICIES } from "../controllers/ec-policy/reconcile.ts";
import type { EcTierRunner } from "../ectier/runner.ts";

const HELP = `couchestor demo: tiering end to end on this machine (sandbox API server, Mayastor
simulator, Prometheus, the operator) with a live table of volumes.

Usage: couchestor demo [flags]

Flags:
  --port n            Port of the sandbox API server (default: any free port)
  --duration d        Stop after this long (e.g. 90s); default: run until Ctrl-C
  --no-prometheus     Read IOPS by scraping the simulator directly, even if prometheus exists
  --refresh d         Table refresh interval (default 1s)
  --log-level level   Operator log level on stderr: debug, info, warn, error (default: none)
  -h, --help          Show this help
`;

const MiB = 1024 * 1024;

/**
 * The demo's pools: `sandbox --with-mayastor`'s (three per tier, one tier per node), so the
 * three cold pools sit on three nodes (one failure domain per shard of 2+1).
 */
export const DEMO_POOLS: SimPoolConfig[] = DEFAULT_SIM_POOLS;

/** The demo's ErasureCodingPolicy: 2 data + 1 parity shards. */
export const DEMO_EC = { name: "demo-ec", k: 2, m: 1 } as const;
/** Cold volumes at least this big go to EC stripes; smaller ones to a cold replica. */
export const DEMO_EC_MIN_BYTES = 16 * MiB;

const vol = (
  name: string,
  pools: string[],
  profile: LocalVolume["profile"],
  sizeBytes = 8 * MiB,
): LocalVolume => ({
  name,
  sizeBytes,
  pools,
  profile,
  labels: { "app.kubernetes.io/part-of": "couchestor-demo" },
});

/**
 * ~20 volumes: hot ones on HDD, idle ones on NVMe, ramps, bursts, and some already right. The
 * two idle ones are big (24 MiB, above DEMO_EC_MIN_BYTES): they go to EC stripes.
 */
export function demoVolumes(): LocalVolume[] {
  return [
    vol("pvc-db-orders", ["hdd-1"], { kind: "steady", iops: 4000 }),
    vol("pvc-db-payments", ["hdd-2"], { kind: "steady", iops: 2500 }),
    vol("pvc-cache-sessions", ["ssd-1"], { kind: "steady", iops: 3000 }),
    vol("pvc-analytics", ["hdd-1"], {
      kind: "bursty",
      baseIops: 200,
      burstIops: 6000,
      periodMs: 20_000,
      burstMs: 10_000,
    }),
    vol("pvc-ml-features", ["hdd-2"], {
      kind: "heating-up",
      fromIops: 0,
      toIops: 5000,
      durationMs: 40_000,
    }),
    vol("pvc-geo-tiles", ["hdd-1"], { kind: "steady", iops: 1800 }),
    vol("pvc-web-assets", ["nvme-1"], { kind: "steady", iops: 400 }),
    vol("pvc-wiki", ["hdd-2"], { kind: "steady", iops: 350 }),
    vol("pvc-user-uploads", ["ssd-1"], { kind: "steady", iops: 300 }),
    vol("pvc-crm", ["ssd-2"], { kind: "steady", iops: 200 }),
    vol("pvc-queue", ["ssd-2"], { kind: "steady", iops: 1000 }),
    vol("pvc-search-index", ["nvme-2"], { kind: "steady", iops: 2000 }),
    vol("pvc-logs-archive", ["nvme-2"], { kind: "idle" }, 24 * MiB),
    vol("pvc-backups-2025", ["nvme-1"], { kind: "idle" }, 24 * MiB),
    vol("pvc-metrics-old", ["ssd-2"], { kind: "steady", iops: 10 }),
    vol("pvc-tmp-scratch", ["nvme-2"], { kind: "steady", iops: 5 }),
    vol("pvc-audit", ["nvme-1"], { kind: "steady", iops: 30 }),
    vol("pvc-mail", ["hdd-1"], { kind: "steady", iops: 20 }),
    vol("pvc-reports", ["nvme-1"], {
      kind: "going-cold",
      fromIops: 3000,
      toIops: 0,
      durationMs: 40_000,
    }),
    vol("pvc-ci-cache", ["ssd-1"], {
      kind: "diurnal",
      minIops: 0,
      maxIops: 4000,
      periodMs: 120_000,
    }),
  ];
}

/**
 * The demo policy: 15 s window, 2 min cooldown, hot >= 1500, warm (50, 600], cold <= 50; cold
 * volumes of at least DEMO_EC_MIN_BYTES go to the `demo-ec` 2+1 stripes.
 */
export function demoPolicy(): StoragePolicyInput {
  return {
    apiVersion: "storage.billyronks.io/v1",
    kind: "StoragePolicy",
    metadata: { name: "demo" },
    spec: {
      highWatermarkIOPS: 1500,
      warmWatermarkIOPS: 600,
      lowWatermarkIOPS: 50,
      samplingWindow: "15s",
      cooldownPeriod: "2m",
      maxConcurrentMigrations: 4,
      migrationTimeout: "5m",
      ecPolicyRef: DEMO_EC.name,
      ecMinVolumeSizeBytes: DEMO_EC_MIN_BYTES,
    },
  };
}

/** An ErasureCodingPolicy object with k data and m parity shards (no scrub: a short run). */
export function demoEcPolicy(name: string, k: number, m: number): ErasureCodingPolicyInput {
  return {
    apiVersion: GROUP_VERSION,
    kind: "ErasureCodingPolicy",
    metadata: { name },
    spec: {
      dataShards: k,
      parityShards: m,
      stripeSizeBytes: 64 * 1024,
      scrub: { enabled: false },
    },
  } as ErasureCodingPolicyInput;
}

/** What runDemo takes from its caller (tests pass their own output). */
export interface DemoDeps {
  out?: (text: string) => void;
  err?: (text: string) => void;
  /** Whether stdout is a terminal (in-place redraw); default Deno.stdout.isTerminal(). */
  isTty?: boolean;
  clock?: Clock;
  /** The process environment (PATH locates prometheus; /usr/bin and /usr/sbin are always tried). */
  env?: Record<string, string | undefined>;
  /** Stops the demo like Ctrl-C. */
  signal?: AbortSignal;
  /** Parent of the demo's work dir (replicas, EC shards and stores); default the OS temp dir. */
  tempRoot?: string;
}

/** Runs the demo; returns the exit status. */
export async function runDemo(args: string[], deps: DemoDeps = {}): Promise<number> {
  const enc = new TextEncoder();
  const out = deps.out ?? ((t: string) => Deno.stdout.writeSync(enc.encode(t)));
  const err = deps.err ?? ((t: string) => console.error(t));
  let flags;
  try {
    flags = parseArgs({
      args,
      options: {
        port: { type: "string" },
        duration: { type: "string" },
        "no-prometheus": { type: "boolean" },
        refresh: { type: "string", default: "1s" },
        "log-level": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (e) {
    err(`couchestor demo: ${(e as Error).message}`);
    return 2;
  }
  if (flags.help) {
    out(HELP);
    return 0;
  }
  for (const k of ["duration", "refresh"] as const) {
    const v = flags[k];
    if (v !== undefined && !isDuration(v)) {
      err(`couchestor demo: --${k} must be a duration such as 20s or 2m, got "${v}"`);
      return 2;
    }
  }
  const port = flags.port === undefined ? 0 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    err(`couchestor demo: --port must be 0-65535, got "${flags.port}"`);
    return 2;
  }
  const level = flags["log-level"];
  if (level !== undefined && !["debug", "info", "warn", "error"].includes(level)) {
    err(`couchestor demo: --log-level must be debug, info, warn or error`);
    return 2;
  }
  const logger: Logger = level
    ? createLogger({ level: level as "info", format: "text" })
    : silentLogger;
  const clock = deps.clock ?? systemClock;
  const isTty = deps.isTty ?? Deno.stdout.isTerminal();
  const refreshMs = parseDuration(flags.refresh ?? "1s");

  const stop = new AbortController();
  const onSignal = () => stop.abort(new Error("interrupted"));
  const sigs: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of sigs) Deno.addSignalListener(s, onSignal);
  deps.signal?.addEventListener("abort", onSignal, { once: true });
  if (flags.duration) {
    clock.sleep(parseDuration(flags.duration), stop.signal).then(
      () => stop.abort(new Error("duration reached")),
      () => {},
    );
  }

  let cluster: LocalCluster | undefined;
  let prom: LocalPrometheus | undefined;
  const background: Promise<unknown>[] = [];
  let stopOperator: (() => Promise<void>) | undefined;
  let workDir: string | undefined;
  try {
    // One work dir for replica files, EC shard directories (the simulator's, under its pools)
    // and EC stores: removed as a whole when the demo ends.
    workDir = await Deno.makeTempDir({ dir: deps.tempRoot, prefix: "couchestor-demo-" });
    cluster = await startLocalCluster({
      dataDir: `${workDir}/cluster`,
      pools: DEMO_POOLS,
      volumes: demoVolumes(),
      rebuildBytesPerSec: 4 * MiB,
      port,
      tls: "auto",
      logger,
    });
    const metricsTarget = new URL(cluster.sim.metricsUrl).host;
    let iops: IopsSource;
    let source: string;
    const env = deps.env ?? {};
    const promBin = findBinary("prometheus", env.PATH);
    const promtool = findBinary("promtool", env.PATH);
    if (!flags["no-prometheus"] && promBin && promtool) {
      prom = await startPrometheus({
        targets: [metricsTarget],
        scrapeIntervalSeconds: 1,
        bins: { prometheus: promBin, promtool },
        logger,
      });
      iops = new PrometheusIopsSource({ baseUrl: prom.url, clock });
      source = `Prometheus ${prom.url} (scraping the simulator every 1s)`;
    } else {
      const scrape = new ScrapeIopsSource({ targets: [cluster.sim.metricsUrl], clock, logger });
      background.push(scrape.run(1000, stop.signal));
      iops = scrape;
      source = flags["no-prometheus"]
        ? "direct scrape of the simulator (--no-prometheus)"
        : `direct scrape of the simulator (no prometheus binary; ${PROMETHEUS_INSTALL})`;
    }
    // The policy is created once a whole window of metrics exists: a rate over a window that
    // is mostly empty reads low, and a decision on it would hold for the whole cooldown.
    const windowMs = parseDuration(StoragePolicySchema.parse(demoPolicy()).spec.samplingWindow);
    const policyAt = clock.now() + windowMs;
    const client = cluster.client;
    background.push(
      clock.sleep(windowMs, stop.signal).then(
        () => client.create(STORAGE_POLICIES, demoPolicy() as unknown as KubeObject),
        () => {},
      ).catch((e) => err(`couchestor demo: creating the policy failed: ${(e as Error).message}`)),
    );
    const c = cluster;
    const metrics = createMetrics({ defaultMetrics: false });
    await c.client.create(
      EC_POLICIES,
      demoEcPolicy(DEMO_EC.name, DEMO_EC.k, DEMO_EC.m) as unknown as KubeObject,
    );
    // The product's composition root, handed the sandbox's adapters.
    const operator = buildOperator({
      client: c.client,
      backend: (diskPools) =>
        new MayastorRestBackend({ baseUrl: c.sim.url, clock, logger, diskPools }),
      iops,
      ec: {
        ports: new SimEcTierPorts(c.sim.adminUrl).ports(),
        storeRoot: `${workDir}/ec-stores`,
        cache: { l1MaxBytes: 4 * MiB },
      },
    }, {
      reconcile: {
        globalLimit: 4,
        dryRun: false,
        preservation: false,
        migrationTimeoutMs: parseDuration("5m"),
        freeSpaceHeadroom: 0.05,
        resyncMs: 5_000,
      },
      pollIntervalMs: 500,
      identity: "couchestor-demo",
      eventNamespace: OPERATOR_NAMESPACE,
    }, { clock, logger, metrics });
    const comp = operator.component();
    await comp.start(stop.signal);
    stopOperator = () => comp.stop();

    const header = [
      "CoucheStor demo: volumes move between NVMe (hot), SSD (warm) and HDD (cold) pools by IOPS",
      `kubeconfig: ${c.sandbox.kubeconfigPath}`,
      `  try: kubectl --kubeconfig ${c.sandbox.kubeconfigPath} get sp,pv -w`,
      `data: ${workDir} (replica files; EC shards in cluster/replicas/<cold pool>/ec/<volume>)`,
      `IOPS from: ${source}`,
      "policy demo: hot >= 1500 IOPS, warm 51-600, cold <= 50 over 15s; cooldown 2m " +
      "(created once 15s of metrics exist)",
      `  cold volumes >= ${DEMO_EC_MIN_BYTES / MiB} MiB go to erasure-coded stripes ` +
      `(${DEMO_EC.name}: ${DEMO_EC.k}+${DEMO_EC.m} over cold pools on distinct nodes), ` +
      "smaller ones to a cold replica",
    ];
    out(header.join("\n") + "\n\n");
    const ec = operator.ecTier!.runner;
    let drawn = 0;
    let lastPlain = 0;
    while (!stop.signal.aborted) {
      const text = await snapshotText(c, operator, ec, iops, policyAt, clock, stop.signal).catch((
        e,
      ) => `(table unavailable: ${(e as Error).message})`);
      if (stop.signal.aborted) break;
      if (isTty) {
        out(redrawPrefix(drawn) + text + "\n");
        drawn = text.split("\n").length;
      } else if (clock.now() - lastPlain >= Math.max(refreshMs, 5000)) {
        lastPlain = clock.now();
        out(`--- ${new Date(clock.now()).toISOString()}\n${text}\n`);
      }
      await clock.sleep(refreshMs, stop.signal).catch(() => {});
    }
    out("\nstopping …\n");
    return 0;
  } catch (e) {
    err(`couchestor demo: ${(e as Error).message}`);
    return 1;
  } finally {
    stop.abort(new Error("demo ended"));
    for (const s of sigs) Deno.removeSignalListener(s, onSignal);
    await stopOperator?.().catch(() => {});
    await Promise.allSettled(background);
    await prom?.stop();
    await cluster?.close();
    if (workDir) await Deno.remove(workDir, { recursive: true }).catch(() => {});
  }
}

/** Builds the table text of the current state. */
async function snapshotText(
  c: LocalCluster,
  operator: Operator,
  ec: EcTierRunner,
  iops: IopsSource,
  policyAt: number,
  clock: Clock,
  signal: AbortSignal,
): Promise<string> {
  const spec = StoragePolicySchema.parse(demoPolicy()).spec;
  const [reading, pools, volumes, pvs, sp] = await Promise.all([
    iops.fetchIops({ windowMs: parseDuration(spec.samplingWindow), signal }),
    operator.backend.listPools(signal),
    operator.backend.listVolumes(signal),
    c.client.listAll({ group: "", version: "v1", plural: "persistentvolumes", namespaced: false }),
    c.client.get(STORAGE_POLICIES, "demo").catch(() => undefined),
  ]);
  const tiers = poolTiers(pools, tierSelectors(spec));
  const byUuid = new Map(volumes.map((v) => [v.uuid, v]));
  const rows: DemoRow[] = [];
  for (const [name, uuid] of c.volumes) {
    const v = byUuid.get(uuid);
    const pv = pvs.items.find((p) => p.metadata.name === name);
    let migration = "";
    const ann = pv?.metadata.annotations?.[MIGRATION_ANNOTATION];
    if (ann) {
      const d = decodeMoveState(ann);
      if (d.ok) {
        const s = d.state;
        const pct = s.phase === "Rebuilding" && s.rebuildProgress !== undefined
          ? ` ${s.rebuildProgress}%`
          : "";
        const of = s.steps.length > 1 ? ` ${s.current + 1}/${s.steps.length}` : "";
        migration = `${s.from} → ${s.to}${of} ${s.phase}${pct}`;
      }
    }
    const row: DemoRow = {
      volume: name,
      iops: reading.ok ? seriesValue(reading.iops, name, uuid) : undefined,
      tier: v ? (volumeTier(v, tiers) ?? "?") : "?",
      pools: v ? v.replicas.map((r) => r.pool) : [],
      migration,
    };
    const es = ec.state(name);
    if (es) applyEcState(row, es, DEMO_EC, ec.isEcTiered(name));
    rows.push(row);
  }
  if (!sp) {
    const wait = Math.max(0, Math.ceil((policyAt - clock.now()) / 1000));
    return renderDemoTable({
      header: [`policy: created in ${wait}s, once a whole window of metrics exists`],
      rows,
    });
  }
  const st = (sp.status ?? {}) as Record<string, unknown>;
  const summary =
    `policy ${st.phase ?? "Pending"}: hot ${st.hotVolumes ?? 0}, warm ${
      st.warmVolumes ?? 0
    }, cold ${st.coldVolumes ?? 0}; migrations done ${st.totalMigrations ?? 0} (failed ${
      st.failedMigrations ?? 0
    }), running ${operator.inFlight.count()}` +
    (reading.ok ? "" : `; IOPS: ${reading.message}`);
  const ecBytes = EcBytesSchema.safeParse(st.ecBytes);
  const ecLine = ecSummaryLine({
    ecPolicy: DEMO_EC.name,
    k: DEMO_EC.k,
    m: DEMO_EC.m,
    volumes: typeof st.ecVolumes === "number" ? st.ecVolumes : 0,
    bytes: ecBytes.success ? ecBytes.data : undefined,
  });
  return renderDemoTable({ header: [summary, ecLine], rows });
}
