/**
 * Runs the operator's runnables, as controller-runtime's manager does: those that only read
 * (informers) run for the whole lifetime, so a follower's caches stay warm and failover is
 * quick; those that act (controllers, runners of moves) run only while this process leads,
 * when an elector is given, and get a signal that aborts the moment leadership is lost.
 */
import type { LeaderElector } from "../kube/leader.ts";
import type { Runnable } from "../lifecycle.ts";
import type { Logger } from "../observability/log.ts";

export type { Runnable };

/** What runManager runs. */
export interface ManagerOptions {
  runnables: Runnable[];
  /** Without an elector every runnable runs at once (single replica). */
  elector?: LeaderElector;
  logger: Logger;
  /** Told when leadership starts (true) and ends (false). */
  onLeadershipChange?: (leading: boolean) => void;
}

/** Runs until `signal` aborts; resolves after the runnables returned and the Lease was released. */
export async function runManager(opts: ManagerOptions, signal: AbortSignal): Promise<void> {
  const runAll = (list: Runnable[], s: AbortSignal) =>
    Promise.all(list.map((r) =>
      r.run(s).catch((e) => {
        if (!s.aborted) opts.logger.error("runnable failed", { runnable: r.name, error: e });
      })
    ));
  const always = runAll(opts.runnables.filter((r) => !r.leaderOnly), signal);
  const leaderOnly = opts.runnables.filter((r) => r.leaderOnly);
  if (opts.elector) {
    await opts.elector.run(signal, {
      onStartedLeading: async (s) => {
        opts.logger.info("leading: controllers start");
        opts.onLeadershipChange?.(true);
        await runAll(leaderOnly, s);
      },
      onStoppedLeading: () => {
        opts.logger.info("not leading: controllers stopped");
        opts.onLeadershipChange?.(false);
      },
    });
  } else {
    await runAll(leaderOnly, signal);
  }
  await always;
}
