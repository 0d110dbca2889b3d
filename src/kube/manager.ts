/**
 * Runs an operator's informers and controllers together: informers run for
 * the whole lifetime (a follower's caches stay warm, so failover is quick);
 * controllers run only while this process leads, when an elector is given.
 */
import type { Logger } from "../observability/log.ts";
import type { Controller } from "./controller.ts";
import type { Informer } from "./informer.ts";
import type { LeaderElector } from "./leader.ts";
import type { KubeObject } from "./resource.ts";

/** What runManager runs. */
export interface ManagerOptions {
  // Informers of different kinds share the list; their object type does not matter here.
  informers: Informer<KubeObject>[];
  controllers: Controller[];
  /** Without an elector every controller runs at once (single replica). */
  elector?: LeaderElector;
  logger: Logger;
  /** Told when leadership starts (true) and ends (false). */
  onLeadershipChange?: (leading: boolean) => void;
}

/** True once every informer has synced (for a readiness probe). */
export function managerReady(opts: Pick<ManagerOptions, "informers">): boolean {
  return opts.informers.every((i) => i.hasSynced());
}

/** Runs until `signal` aborts; resolves after controllers drained and the Lease was released. */
export async function runManager(opts: ManagerOptions, signal: AbortSignal): Promise<void> {
  const informers = opts.informers.map((i) => i.run(signal));
  const runControllers = (s: AbortSignal) => Promise.all(opts.controllers.map((c) => c.run(s)));
  if (opts.elector) {
    await opts.elector.run(signal, {
      onStartedLeading: async (s) => {
        opts.logger.info("leading: controllers start");
        opts.onLeadershipChange?.(true);
        await runControllers(s);
      },
      onStoppedLeading: () => {
        opts.logger.info("not leading: controllers stopped");
        opts.onLeadershipChange?.(false);
      },
    });
  } else {
    await runControllers(signal);
  }
  await Promise.all(informers);
}
