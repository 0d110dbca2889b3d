/**
 * The StoragePolicy controller as a `couchestor run` component: builds the Kubernetes client
 * (kubeconfig or in-cluster), the Mayastor REST backend, the Prometheus IOPS source and the
 * operator from the run configuration, then runs it.
 */
import type { Clock } from "../../clock.ts";
import type { Config } from "../../config/flags.ts";
import type { Env } from "../../config/load.ts";
import { KubeClient } from "../../kube/client.ts";
import {
  type ConnectionConfig,
  inClusterConfig,
  loadKubeconfigFile,
} from "../../kube/kubeconfig.ts";
import type { Component } from "../../lifecycle.ts";
import { MayastorRestBackend } from "../../mayastor/rest.ts";
import { PrometheusIopsSource } from "../../metrics/prometheus.ts";
import type { IopsSource } from "../../metrics/source.ts";
import type { Logger } from "../../observability/log.ts";
import type { Metrics } from "../../observability/metrics.ts";
import type { Readiness } from "../../observability/readiness.ts";
import { StoragePolicyOperator } from "./wiring.ts";

/** What the component needs from the run context. */
export interface StoragePolicyComponentDeps {
  config: Config;
  env: Env;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  /** IOPS source override (default: Prometheus at --prometheus-url). */
  iops?: IopsSource;
  /** This replica's identity as `couchestor run` chose it (default --pod-name, else the host name). */
  identity?: string;
}

/** The api-rest base URL with its `/v0` path. */
export function restBaseUrl(url: string): string {
  const u = url.replace(/\/+$/, "");
  return u.endsWith("/v0") ? u : `${u}/v0`;
}

/** Where the Kubernetes API is: --kubeconfig, else the pod's service account. */
export async function connectionFor(config: Config, env: Env): Promise<ConnectionConfig> {
  if (config.kubeconfig) return await loadKubeconfigFile(config.kubeconfig);
  return await inClusterConfig({
    host: env.KUBERNETES_SERVICE_HOST ?? "",
    port: env.KUBERNETES_SERVICE_PORT ?? "",
  });
}

/** Builds the operator from the configuration (throws when the connection cannot be set up). */
export async function buildStoragePolicyOperator(
  d: StoragePolicyComponentDeps,
): Promise<{ operator: StoragePolicyOperator; client: KubeClient }> {
  const c = d.config;
  if (c.mayastorApi !== "rest") {
    throw new Error(`--mayastor-api=${c.mayastorApi} is not supported by this build (use rest)`);
  }
  const client = new KubeClient({
    connection: await connectionFor(c, d.env),
    clock: d.clock,
    userAgent: `couchestor/${c.podName ?? "operator"}`,
  });
  const identity = d.identity ?? c.podName ?? Deno.hostname();
  const operator = new StoragePolicyOperator({
    client,
    backend: (diskPools) =>
      new MayastorRestBackend({
        baseUrl: restBaseUrl(c.mayastorRestUrl),
        clock: d.clock,
        logger: d.logger,
        diskPools,
      }),
    iops: d.iops ?? new PrometheusIopsSource({ baseUrl: c.prometheusUrl, clock: d.clock }),
    clock: d.clock,
    logger: d.logger,
    metrics: d.metrics,
    settings: {
      globalLimit: c.maxConcurrentMigrations,
      dryRun: c.dryRun,
      preservation: c.preservationMode,
      pollIntervalMs: c.syncPollIntervalMs,
      migrationTimeoutMs: c.migrationTimeoutMs,
    },
    identity,
    eventNamespace: c.namespace,
    leader: c.leaderElect
      ? {
        namespace: c.leaseNamespace,
        name: c.leaseName,
        leaseDurationMs: c.leaseDurationMs,
        renewDeadlineMs: c.leaseRenewDeadlineMs,
        retryPeriodMs: c.leaseRetryPeriodMs,
      }
      : undefined,
    readiness: d.readiness,
  });
  return { operator, client };
}

/** The component: builds the operator at start (reading the kubeconfig), runs it until stop. */
export function storagePolicyComponent(d: StoragePolicyComponentDeps): Component {
  let inner: Component | undefined;
  let client: KubeClient | undefined;
  return {
    name: "storage-policy",
    async start(signal) {
      const built = await buildStoragePolicyOperator(d);
      client = built.client;
      inner = built.operator.component();
      await inner.start(signal);
    },
    async stop() {
      await inner?.stop();
      client?.close();
    },
  };
}
