/**
 * Builds the VolumeBackend the command line selects (`--mayastor-api=rest|crd`):
 * the Mayastor 2.x REST adapter (pool labels from DiskPool CRs when a kube client
 * is given) or the legacy MayastorVolume CRD adapter.
 */
import type { Clock } from "../clock.ts";
import type { KubeClient } from "../kube/client.ts";
import type { Logger } from "../observability/log.ts";
import { MayastorCrdBackend } from "./crd.ts";
import { KubeDiskPoolSource } from "./kube_diskpools.ts";
import type { VolumeBackend } from "./port.ts";
import { MayastorRestBackend } from "./rest.ts";

/** Which Mayastor API to talk to. */
export type MayastorApi = "rest" | "crd";

/** What createVolumeBackend needs. */
export interface VolumeBackendConfig {
  api: MayastorApi;
  /** api-rest base URL including `/v0` (rest). */
  restUrl?: string;
  /** Kubernetes client: DiskPool labels (rest), everything (crd). */
  kube?: KubeClient;
  /** Namespace of Mayastor's CRs. */
  namespace: string;
  clock: Clock;
  logger: Logger;
  /** Per-call timeout for api-rest; default 10 s. */
  timeoutMs?: number;
}

/** The backend for the chosen API; throws a plain message when a dependency is missing. */
export function createVolumeBackend(c: VolumeBackendConfig): VolumeBackend {
  if (c.api === "crd") {
    if (!c.kube) throw new Error("--mayastor-api=crd needs a Kubernetes connection");
    return new MayastorCrdBackend({
      kube: c.kube,
      namespace: c.namespace,
      clock: c.clock,
      logger: c.logger,
    });
  }
  if (!c.restUrl) throw new Error("--mayastor-api=rest needs the api-rest URL (…/v0)");
  return new MayastorRestBackend({
    baseUrl: c.restUrl,
    clock: c.clock,
    logger: c.logger,
    timeoutMs: c.timeoutMs,
    diskPools: c.kube
      ? new KubeDiskPoolSource(
        c.kube,
        c.namespace,
        (name, problem) => c.logger.warn("ignoring malformed DiskPool", { name, problem }),
      )
      : undefined,
  });
}
