/**
 * `couchestor explain <pvc or pv>`: one volume's whole story — which policy selects it and why
 * not the others, its IOPS over the policy's window (the operator's own query, from
 * Prometheus), band, tier, pins, cooldown, backoff, windows, approval, last moves, and what the
 * operator does next. Also `kubectl couchestor explain …` through the kubectl plugin launcher.
 */
import { type Clock, systemClock } from "../clock.ts";
import { parseDuration } from "../config/duration.ts";
import { FLAGS } from "../config/flags.ts";
import { restBaseUrl } from "../app/cluster.ts";
import { DISK_POOLS } from "../controllers/storage-policy/resources.ts";
import {
  type PersistentVolume,
  STORAGE_POLICIES,
} from "../controllers/storage-policy/resources.ts";
import type { KubeClient } from "../kube/client.ts";
import { BuiltinResources, type KubeObject } from "../kube/resource.ts";
import { diskPoolsOf } from "../mayastor/diskpool.ts";
import { MayastorRestBackend } from "../mayastor/rest.ts";
import { PrometheusIopsSource } from "../metrics/prometheus.ts";
import { readPolicyIops } from "../metrics/read.ts";
import type { IopsResult } from "../metrics/source.ts";
import { silentLogger } from "../observability/log.ts";
import { buildStory, type ClusterView, type VolumeStory } from "./explain_story.ts";
import { renderStory } from "./explain_render.ts";
import {
  type CommandIo,
  type Pvc,
  resolveVolume,
  runVolumeCommand,
  type VolumeFlags,
} from "./volume_target.ts";

const HELP = `Usage: couchestor explain <pvc> [-n NAMESPACE] [options]

Prints one volume's whole story: which StoragePolicy selects it (and why the others do
not), its IOPS over the policy's sampling window (the operator's own PromQL, asked of
Prometheus), the band those IOPS fall in, the tier its replicas are on, pins and opt-outs,
cooldown, backoff, move windows, approval, its last moves, and what the operator would do
next — computed with the rules the operator itself runs.

  <pvc>                      NAME (in --namespace), NAMESPACE/NAME, or pv/NAME for a volume
  -n, --namespace N          namespace of the PVC (default: the kubeconfig context's, or default)
  --kubeconfig FILE          kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)
  --prometheus-url URL       Prometheus (default: $PROMETHEUS_URL, else ${FLAGS.prometheusUrl.default})
  --mayastor-rest-url URL    Mayastor api-rest (default: $MAYASTOR_REST_URL, else ${FLAGS.mayastorRestUrl.default})
  --max-concurrent-migrations N
                             the operator's global limit (default: ${FLAGS.maxConcurrentMigrations.default})
  --json                     the story as JSON
  -h, --help                 this help

Run it where those URLs resolve (in the cluster), or forward them first, e.g.
  kubectl -n monitoring port-forward svc/prometheus-operated 9090 &
  couchestor explain shop/db-data --prometheus-url http://127.0.0.1:9090 ...
`;

/** What explain needs besides its arguments. */
export interface ExplainDeps extends CommandIo {
  clock?: Clock;
}

/** Runs `couchestor explain`; returns the exit status (1 for a failure, 2 for bad usage). */
export function runExplain(args: string[], deps: ExplainDeps = {}): Promise<number> {
  const env = deps.env ?? {};
  const clock = deps.clock ?? systemClock;
  const limit = (v: VolumeFlags) =>
    Number(v["max-concurrent-migrations"] ?? FLAGS.maxConcurrentMigrations.default);
  return runVolumeCommand("explain", args, deps, {
    help: HELP,
    options: {
      "prometheus-url": { type: "string" },
      "mayastor-rest-url": { type: "string" },
      "max-concurrent-migrations": { type: "string" },
      json: { type: "boolean" },
    },
    check: (v) =>
      Number.isInteger(limit(v)) && limit(v) >= 1
        ? undefined
        : `--max-concurrent-migrations "${v["max-concurrent-migrations"]}": use an integer >= 1`,
    body: async (client, target, namespace, v) => {
      const story = await explain(client, target, {
        namespace,
        prometheusUrl: (v["prometheus-url"] as string | undefined) ?? env.PROMETHEUS_URL ??
          FLAGS.prometheusUrl.default,
        mayastorUrl: (v["mayastor-rest-url"] as string | undefined) ?? env.MAYASTOR_REST_URL ??
          FLAGS.mayastorRestUrl.default,
        globalLimit: limit(v),
        clock,
      });
      return v.json ? JSON.stringify(story, null, 2) : renderStory(story, clock.now());
    },
  });
}

/** Where explain reads from. */
export interface ExplainOptions {
  namespace: string;
  prometheusUrl: string;
  mayastorUrl: string;
  globalLimit: number;
  clock: Clock;
}

/** Reads the cluster and builds the story of one volume. */
export async function explain(
  client: KubeClient,
  target: string,
  o: ExplainOptions,
): Promise<VolumeStory> {
  const t = await resolveVolume(client, target, o.namespace);
  const [policies, pvs, pvcs, namespaces] = await Promise.all([
    client.listAll<KubeObject>(STORAGE_POLICIES),
    client.listAll<PersistentVolume>(BuiltinResources.persistentVolumes),
    client.listAll<Pvc>(BuiltinResources.persistentVolumeClaims),
    client.listAll<KubeObject>(BuiltinResources.namespaces),
  ]);
  const view: ClusterView = {
    target: t,
    policies: policies.items,
    pvs: pvs.items,
    pvcs: pvcs.items,
    namespaces: new Map(
      namespaces.items.map((n) => [n.metadata.name ?? "", n.metadata.labels ?? {}]),
    ),
    mayastor: await readMayastor(client, o),
  };
  // Find the owning policy first, then ask Prometheus for IOPS over that policy's window.
  const first = buildStory(view, undefined, { now: o.clock.now(), globalLimit: o.globalLimit });
  if (!first.policy || !first.spec) return first;
  const reading = await readIops(o, first.policy, first.spec);
  return buildStory(view, reading, { now: o.clock.now(), globalLimit: o.globalLimit });
}

async function readMayastor(
  client: KubeClient,
  o: ExplainOptions,
): Promise<ClusterView["mayastor"]> {
  const backend = new MayastorRestBackend({
    baseUrl: restBaseUrl(o.mayastorUrl),
    clock: o.clock,
    logger: silentLogger,
    diskPools: {
      listDiskPools: async (signal) =>
        diskPoolsOf((await client.listAll(DISK_POOLS, { signal })).items),
    },
    maxAttempts: 1,
  });
  try {
    const [pools, volumes] = await Promise.all([backend.listPools(), backend.listVolumes()]);
    return { pools, volumes };
  } catch (e) {
    return { error: `${o.mayastorUrl}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function readIops(
  o: ExplainOptions,
  policy: string,
  spec: NonNullable<VolumeStory["spec"]>,
): Promise<IopsResult> {
  const source = new PrometheusIopsSource({ baseUrl: o.prometheusUrl, clock: o.clock });
  return readPolicyIops(source, {
    policy,
    windowMs: parseDuration(spec.samplingWindow),
    ...(spec.metricsQuery ? { metricsQuery: spec.metricsQuery } : {}),
    at: o.clock.now(),
  }).then((r) => r.result);
}
