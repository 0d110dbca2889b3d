/**
 * Periodic discovery as an operator component: rescans the node's disks on an interval and
 * publishes device health and tier on /metrics (node agent, or `run` with discovery on).
 */
import type { Clock } from "../clock.ts";
import type { Component } from "../lifecycle.ts";
import type { Logger } from "../observability/log.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Readiness } from "../observability/readiness.ts";
import { discover, type DiscoverOptions, recordDeviceMetrics } from "./discover.ts";

/** What the discovery component needs. */
export interface DiscoveryComponentOptions {
  node: string;
  intervalMs: number;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  discover?: DiscoverOptions;
}

/** A component that rescans every `intervalMs`; ready after the first scan. */
export function discoveryComponent(opts: DiscoveryComponentOptions): Component {
  const handle = opts.readiness.register("hardware-discovery", "first scan pending");
  let loop: Promise<void> | undefined;
  const scanOnce = async () => {
    const found = await discover(opts.discover);
    recordDeviceMetrics(opts.metrics, opts.node, found);
    const tiers = found.map((d) => `${d.device.name}=${d.classification.tier}`).join(" ");
    opts.logger.info("discovery scan", { node: opts.node, devices: found.length, tiers });
    handle.ready();
  };
  return {
    name: "hardware-discovery",
    start(signal) {
      loop = (async () => {
        while (!signal.aborted) {
          try {
            await scanOnce();
          } catch (err) {
            // A failed scan keeps the last published metrics; the next interval tries again.
            opts.logger.warn("discovery scan failed", { err });
          }
          try {
            await opts.clock.sleep(opts.intervalMs, signal);
          } catch {
            return;
          }
        }
      })();
      return Promise.resolve();
    },
    stop: () => loop ?? Promise.resolve(),
  };
}
