/**
 * `couchestor sandbox --with-mayastor`: a Mayastor v2 simulator (api-rest /v0, one metrics
 * exporter per node) with hot, warm and cold pools, mirrored into a running sandbox as
 * DiskPool CRs.
 */
import { type Clock, systemClock } from "../../clock.ts";
import type { Logger } from "../../observability/log.ts";
import type { Sandbox } from "../apiserver/mod.ts";
import type { SimPoolConfig } from "./cluster.ts";
import { MayastorCrdSync } from "./crdsync.ts";
import { startMayastorSim } from "./server.ts";

const GiB = 1024 * 1024 * 1024;

/**
 * Nine nodes, one tier each, three pools per tier (the demo's layout too). One tier per node
 * because the supported way to steer a replica is to cordon every other node: a node holding
 * pools of two tiers could not be steered to one of them. Three nodes per tier let a
 * 3-replica volume live on one tier (never two replicas of a volume on a node).
 */
export const DEFAULT_SIM_POOLS: SimPoolConfig[] = [
  { id: "nvme-1", node: "node-1", capacityBytes: 4 * GiB, tier: "hot" },
  { id: "nvme-2", node: "node-2", capacityBytes: 4 * GiB, tier: "hot" },
  { id: "nvme-3", node: "node-3", capacityBytes: 4 * GiB, tier: "hot" },
  { id: "ssd-1", node: "node-4", capacityBytes: 8 * GiB, tier: "warm" },
  { id: "ssd-2", node: "node-5", capacityBytes: 8 * GiB, tier: "warm" },
  { id: "ssd-3", node: "node-6", capacityBytes: 8 * GiB, tier: "warm" },
  { id: "hdd-1", node: "node-7", capacityBytes: 16 * GiB, tier: "cold" },
  { id: "hdd-2", node: "node-8", capacityBytes: 16 * GiB, tier: "cold" },
  { id: "hdd-3", node: "node-9", capacityBytes: 16 * GiB, tier: "cold" },
];

/** Where the simulator answers, for the person who started it. */
export interface AttachedSim {
  restUrl: string;
  /** Each node's metrics exporter, by node. */
  metricsUrls: Record<string, string>;
  /** Every exporter's series in one endpoint (a test fixture). */
  metricsUrl: string;
  /** Stops the CR sync and the simulator and removes its replica files. */
  stop(): Promise<void>;
}

/** Starts the simulator, installs the DiskPool CRD and keeps DiskPool CRs in step with it. */
export async function attachMayastorSim(
  sb: Sandbox,
  opts: { logger: Logger; clock?: Clock; namespace?: string; pools?: SimPoolConfig[] },
): Promise<AttachedSim> {
  const clock = opts.clock ?? systemClock;
  const dir = await Deno.makeTempDir({ prefix: "couchestor-mayastor-sim-" });
  const sim = await startMayastorSim({
    dataDir: `${dir}/replicas`,
    clock,
    pools: opts.pools ?? DEFAULT_SIM_POOLS,
  });
  const ac = new AbortController();
  let loop: Promise<void> = Promise.resolve();
  try {
    const sync = new MayastorCrdSync({
      server: sb.httpUrl,
      token: sb.token,
      sim,
      namespace: opts.namespace ?? "mayastor",
      logger: opts.logger,
    });
    await sync.install();
    loop = sync.run(2000, ac.signal);
  } catch (e) {
    await sim.close();
    await Deno.remove(dir, { recursive: true });
    throw e;
  }
  return {
    restUrl: sim.url,
    metricsUrls: sim.metricsUrls,
    metricsUrl: sim.metricsUrl,
    async stop() {
      ac.abort();
      await loop;
      await sim.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
