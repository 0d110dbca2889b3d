/**
 * The adapters and settings `couchestor run` gives the composition root, from its Config: the
 * Kubernetes client (kubeconfig or the pod's service account), the Mayastor REST backend, the
 * Prometheus IOPS source and, when configured, the EC tier's data path. Each of these rules
 * (connection settings, identity, the api-rest base URL, the operator settings) lives here once.
 */
import type { Clock } from "../clock.ts";
import type { Config } from "../config/flags.ts";
import type { Env } from "../config/load.ts";
import { SimEcTierPorts } from "../ectier/sim.ts";
import { KubeClient } from "../kube/client.ts";
import { type ConnectionConfig, inClusterConfig, loadKubeconfigFile } from "../kube/kubeconfig.ts";
import { MayastorRestBackend } from "../mayastor/rest.ts";
import { PrometheusIopsSource } from "../metrics/prometheus.ts";
import type { Logger } from "../observability/log.ts";
import type { OperatorAdapters, OperatorSettings } from "./operator.ts";

/** This replica's identity (Lease holder, Event source): --pod-name, else the host name. */
export function identityOf(config: Config): string {
  return config.podName ?? Deno.hostname();
}

/** The api-rest base URL with its `/v0` path. */
export function restBaseUrl(url: string): string {
  const u = url.replace(/\/+$/, "");
  return u.endsWith("/v0") ? u : `${u}/v0`;
}

/**
 * Where the Kubernetes API is: --kubeconfig, else the pod's service account. The one place the
 * operator's connection settings come from (the startup check and the client use it alike).
 */
export async function connectionFor(
  kubeconfig: string | undefined,
  env: Env,
): Promise<ConnectionConfig> {
  if (kubeconfig) return await loadKubeconfigFile(kubeconfig);
  if (!env.KUBERNETES_SERVICE_HOST) {
    throw new Error(
      "no --kubeconfig given and not running in a cluster (KUBERNETES_SERVICE_HOST is not set)",
    );
  }
  return await inClusterConfig({
    host: env.KUBERNETES_SERVICE_HOST,
    port: env.KUBERNETES_SERVICE_PORT ?? "443",
  });
}

/** The operator settings the flags give. */
export function operatorSettings(config: Config): OperatorSettings {
  return {
    reconcile: {
      globalLimit: config.maxConcurrentMigrations,
      dryRun: config.dryRun,
      preservation: config.preservationMode,
      migrationTimeoutMs: config.migrationTimeoutMs,
      freeSpaceHeadroom: config.freeSpaceHeadroom,
    },
    pollIntervalMs: config.syncPollIntervalMs,
    identity: identityOf(config),
    eventNamespace: config.namespace,
    leader: config.leaderElect
      ? {
        namespace: config.leaseNamespace,
        name: config.leaseName,
        leaseDurationMs: config.leaseDurationMs,
        renewDeadlineMs: config.leaseRenewDeadlineMs,
        retryPeriodMs: config.leaseRetryPeriodMs,
      }
      : undefined,
  };
}

/** The cluster's adapters (reads the kubeconfig; throws when the connection can't be set up). */
export async function clusterAdapters(
  config: Config,
  env: Env,
  rt: { clock: Clock; logger: Logger },
): Promise<OperatorAdapters> {
  const client = new KubeClient({
    connection: await connectionFor(config.kubeconfig, env),
    clock: rt.clock,
    userAgent: `couchestor/${identityOf(config)}`,
  });
  return {
    client,
    backend: (diskPools) =>
      new MayastorRestBackend({
        baseUrl: restBaseUrl(config.mayastorRestUrl),
        clock: rt.clock,
        logger: rt.logger,
        diskPools,
      }),
    iops: new PrometheusIopsSource({
      baseUrl: config.prometheusUrl,
      clock: rt.clock,
      maxPlausibleIops: config.maxPlausibleIops,
    }),
    ec: config.ecSimulatorUrl
      ? { ports: new SimEcTierPorts(config.ecSimulatorUrl).ports(), storeRoot: config.ecStoreDir! }
      : undefined,
  };
}
