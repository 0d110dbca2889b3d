/** Shared set-up for the Mayastor tests: a simulator on a temp dir, a REST adapter on it. */
import { ManualClock } from "../../src/clock.ts";
import { healthyReplicas } from "../../src/model/health.ts";
import { MayastorRestBackend, toVolume } from "../../src/mayastor/rest.ts";
import { type MayastorSim, startMayastorSim } from "../../src/sandbox/mayastor/server.ts";
import { renderVolume } from "../../src/sandbox/mayastor/render.ts";
import { silentLogger } from "../../src/observability/log.ts";
import type { SimVolumeConfig } from "../../src/sandbox/mayastor/cluster.ts";

/** 1 MiB volumes rebuilt at 256 KiB/s: a rebuild takes 4 simulated seconds. */
export const VOL_SIZE = 1024 * 1024;
/** Rebuild rate of the simulated pools, bytes per simulated second. */
export const REBUILD_RATE = 256 * 1024;

/** A running simulator, its clock, an adapter and a cleanup. */
export interface Harness {
  clock: ManualClock;
  sim: MayastorSim;
  backend: MayastorRestBackend;
  dir: string;
  volume: string;
  close(): Promise<void>;
}

/** Pools: two hot (node-1, node-2), two cold (node-3, node-1); one published 2-replica volume. */
export async function harness(
  opts: {
    volume?: Partial<SimVolumeConfig>;
    timeoutMs?: number;
    pageSize?: number;
    /** 1 for tests that do not drive the clock: a retry would wait on it forever. */
    maxAttempts?: number;
  } = {},
): Promise<Harness> {
  const clock = new ManualClock();
  const dir = await Deno.makeTempDir({ prefix: "mayastor-sim-" });
  const GiB = 1024 ** 3;
  const sim = await startMayastorSim({
    dataDir: dir,
    clock,
    rebuildBytesPerSec: REBUILD_RATE,
    pools: [
      { id: "hot-1", node: "node-1", capacityBytes: GiB, tier: "hot" },
      { id: "hot-2", node: "node-2", capacityBytes: GiB, tier: "hot" },
      { id: "cold-1", node: "node-3", capacityBytes: 4 * GiB, tier: "cold" },
      { id: "cold-2", node: "node-1", capacityBytes: 4 * GiB, tier: "cold" },
    ],
  });
  const volume = await sim.addVolume({
    sizeBytes: VOL_SIZE,
    pools: ["hot-1", "hot-2"],
    ...opts.volume,
  });
  const backend = new MayastorRestBackend({
    baseUrl: sim.url,
    clock,
    logger: silentLogger,
    timeoutMs: opts.timeoutMs ?? 30_000,
    backoffMs: 500,
    maxAttempts: opts.maxAttempts,
    pageSize: opts.pageSize,
    diskPools: { listDiskPools: () => Promise.resolve(sim.diskPools()) },
  });
  return {
    clock,
    sim,
    backend,
    dir,
    volume,
    close: async () => {
      await sim.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Healthy replicas of a volume, read straight from the simulator's model. */
export function simHealthy(sim: MayastorSim, volume: string): number {
  const v = sim.cluster.volumes.get(volume);
  if (!v) return 0;
  return healthyReplicas(toVolume(renderVolume(sim.cluster, v))).length;
}

/**
 * Runs `p` while advancing the manual clock in steps (real time only yields to the
 * HTTP round trips), calling `onStep` after each step; returns p's outcome.
 */
export async function drive<T>(
  clock: ManualClock,
  p: Promise<T>,
  onStep: () => void | Promise<void> = () => {},
  stepMs = 250,
): Promise<T> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  while (!done) {
    await clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 1));
    await onStep();
  }
  return p;
}
