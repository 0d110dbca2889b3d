/** `couchestor discover`: what block devices this node has, and the tier each should serve. */
import { parseArgs } from "node:util";
import { parseOverride, type TierOverride } from "../hardware/classify.ts";
import { discover, type DiscoveredDevice, type DiscoverOptions } from "../hardware/discover.ts";
import { diskPoolManifests, renderManifests } from "../hardware/diskpool.ts";
import { discoveryComponent } from "../hardware/agent.ts";
import { isDuration, parseDuration } from "../config/duration.ts";

const HELP = `Usage: couchestor discover [options]

Scans sysfs for block devices (NVMe, SAS/SATA, virtio, ZNS), cross-checks them with
block ioctls, reads SMART health, and proposes a tier for each (hot, warm, cold).

Options:
  --json                 print the full report as JSON
  --diskpools NODE       print DiskPool manifests (openebs.io/v1beta2) for NODE, labelled
                         with the proposed tier, ready for kubectl apply -f -
  --namespace NS         namespace of the DiskPools (default: openebs)
  --tier GLOB=TIER       force a tier for devices whose name, model or serial matches GLOB
                         (TIER: hot, warm, cold, none); repeatable
  --no-smart             do not run smartctl / nvme smart-log
  --serve ADDR           keep running as a node agent: rescan every --interval and serve
                         device health and tier on ADDR/metrics (and /healthz, /readyz)
  --node NAME            node name for --serve metrics (default: env NODE_NAME)
  --interval DURATION    rescan interval for --serve (default: 10m)
  --sys-root DIR         sysfs root (default: /sys)
  --dev-root DIR         device node directory (default: /dev)
  -h, --help             show this help
`;

/** Human-readable byte size (binary units). */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** Renders the discovery report as an aligned table. */
export function renderTable(found: DiscoveredDevice[]): string {
  const rows = [[
    "DEVICE",
    "TRANSPORT",
    "SIZE",
    "LBS/PBS",
    "ROT",
    "ZONED",
    "MODEL",
    "HEALTH",
    "TEMP",
    "TIER",
    "REASON",
  ]];
  for (const d of found) {
    const dev = d.device;
    const health = d.smart.available
      ? d.smart.healthy === undefined ? "unknown" : d.smart.healthy ? "ok" : "FAILING"
      : "n/a";
    rows.push([
      dev.name,
      dev.transport,
      formatBytes(dev.sizeBytes),
      `${dev.logicalBlockSize ?? "?"}/${dev.physicalBlockSize ?? "?"}`,
      dev.rotational === undefined ? "?" : dev.rotational ? "1" : "0",
      dev.zoned.model === "none" ? "-" : `${dev.zoned.model} (${dev.zoned.nrZones ?? "?"} zones)`,
      dev.model ?? "-",
      health,
      d.smart.available && d.smart.temperatureCelsius !== undefined
        ? `${d.smart.temperatureCelsius}C`
        : "-",
      d.classification.tier,
      d.classification.reason,
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r.map((cell, c) => c === r.length - 1 ? cell : cell.padEnd(widths[c])).join("  ")
  )
    .join("\n");
}

/** Runs `couchestor discover`; returns the exit status. */
export async function runDiscover(
  args: string[],
  io: {
    out?: (s: string) => void;
    err?: (s: string) => void;
    options?: DiscoverOptions;
    env?: Record<string, string | undefined>;
  } = {},
): Promise<number> {
  const out = io.out ?? ((s: string) => console.log(s));
  const err = io.err ?? ((s: string) => console.error(s));
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        json: { type: "boolean", default: false },
        diskpools: { type: "string" },
        namespace: { type: "string", default: "openebs" },
        tier: { type: "string", multiple: true, default: [] },
        "no-smart": { type: "boolean", default: false },
        "sys-root": { type: "string", default: "/sys" },
        "dev-root": { type: "string", default: "/dev" },
        serve: { type: "string" },
        node: { type: "string" },
        interval: { type: "string", default: "10m" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    err(`discover: ${(e as Error).message} (see couchestor discover --help)`);
    return 2;
  }
  if (values.help) {
    out(HELP);
    return 0;
  }
  let overrides: TierOverride[];
  try {
    overrides = values.tier.map(parseOverride);
  } catch (e) {
    err(`discover: --tier ${(e as Error).message}`);
    return 2;
  }
  if (
    values.diskpools !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(values.diskpools)
  ) {
    err(
      `discover: --diskpools "${values.diskpools}": must be a Kubernetes node name (lowercase DNS-1123)`,
    );
    return 2;
  }
  if (values.serve !== undefined) {
    const node = values.node ?? io.env?.NODE_NAME;
    if (!node) {
      err("discover: --serve needs --node NAME (or env NODE_NAME) to label the metrics");
      return 2;
    }
    if (!isDuration(values.interval)) {
      err(`discover: --interval "${values.interval}": use a duration such as 90s, 10m, 1h`);
      return 2;
    }
    const intervalMs = parseDuration(values.interval);
    const options: DiscoverOptions = {
      sysRoot: values["sys-root"],
      devRoot: values["dev-root"],
      smart: !values["no-smart"],
      overrides,
      ...io.options,
    };
    // The node agent is the operator's run loop with one component: periodic discovery.
    const { runRun } = await import("./run.ts");
    return await runRun(
      ["--metrics-addr", values.serve, "--health-addr", values.serve],
      {
        env: {},
        out,
        err,
        components: (ctx) => [
          discoveryComponent({
            node,
            intervalMs,
            clock: ctx.clock,
            logger: ctx.logger.child("discovery"),
            metrics: ctx.metrics,
            readiness: ctx.readiness,
            discover: options,
          }),
        ],
      },
    );
  }
  const found = await discover({
    sysRoot: values["sys-root"],
    devRoot: values["dev-root"],
    smart: !values["no-smart"],
    overrides,
    ...io.options,
  });
  if (values.diskpools !== undefined) {
    out(renderManifests(diskPoolManifests(values.diskpools, found, values.namespace)));
  } else if (values.json) {
    out(JSON.stringify(found, null, 2));
  } else {
    out(renderTable(found));
  }
  return 0;
}
