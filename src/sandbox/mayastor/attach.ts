/**
 * `couchestor sandbox --with-mayastor`: a Mayastor v2 simulator (api-rest /v0, io-engine style
 * /metrics) with hot, warm and cold pools, mirrored into a running sandbox as DiskPool CRs.
 */
import { thirdPartyCrds } from "../../api/crd.ts";
import { type Clock, systemClock } from "../../clock.ts";
import { KubeClient } from "../../kube/client.ts";
import type { Logger } from "../../observability/log.ts";
import { applyObjects, type Sandbox } from "../apiserver/mod.ts";
import type { SimPoolConfig } from "./cluster.ts";
import { MayastorCrdSync } from "./crdsync.ts";
import { startMayastorSim } from "./server.ts";

const GiB = 1024 * 1024 * 1024;

/** Two pools per tier on three nodes (the demo's layout too). */
export const DEFAULT_SIM_POOLS: SimPoolConfig[] = [
  { id: "nvme-1", node: "node-1", capacityBytes: 4 * GiB, tier: "hot" },
  { id: "nvme-2", node: "node-2", capacityBytes: 4 * GiB, tier: "hot" },
  { id: "ssd-1", node: "node-2", capacityBytes: 8 * GiB, tier: "warm" },
  { id: "ssd-2", node: "node-3", capacityBytes: 8 * GiB, tier: "warm" },
  { id: "hdd-1", node: "node-3", capacityBytes: 16 * GiB, tier: "cold" },
  { id: "hdd-2", node: "node-1", capacityBytes: 16 * GiB, tier: "cold" },
];

/** Where the simulator answers, for the person who started it. */
export interface AttachedSim {
  restUrl: string;
  metricsUrl: string;
  /** Stops the CR sync and the simulator and removes its replica files. */
  stop(): Promise<void>;
}

/** Starts the simulator, installs the Mayastor CRDs and keeps DiskPool CRs in step with it. */
export async function attachMayastorSim(
  sb: Sandbox,
  opts: { logger: Logger; clock?: Clock; namespace?: string; pools?: SimPoolConfig[] },
): Promise<AttachedSim> {
  const clock = opts.clock ?? systemClock;
  const dir = await Deno.makeTempDir({ prefix: "couchestor-mayastor-sim-" });
  // The real DiskPool/MayastorVolume CRDs (with their schemas), not the sync's permissive ones.
  applyObjects(sb.core, thirdPartyCrds() as unknown as Parameters<typeof applyObjects>[1]);
  const sim = await startMayastorSim({
    dataDir: `${dir}/replicas`,
    clock,
    pools: opts.pools ?? DEFAULT_SIM_POOLS,
  });
  const ac = new AbortController();
  const kube = new KubeClient({
    connection: { server: sb.httpUrl, token: sb.token },
    userAgent: "couchestor-mayastor-sim",
  });
  let loop: Promise<void> = Promise.resolve();
  try {
    const sync = new MayastorCrdSync({
      kube,
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
    metricsUrl: sim.metricsUrl,
    async stop() {
      ac.abort();
      await loop;
      await sim.close();
      kube.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
