/** Shared set-up for ec-policy controller tests: a sandbox API server, CRDs, a controller. */
import { eventually as poll } from "../support/poll.ts";
import { couchestorCrds, type CustomResourceDefinition, GROUP_VERSION } from "../../src/api/mod.ts";
import { ManualClock } from "../../src/clock.ts";
import { selectKernel } from "../../src/ec/kernels/select.ts";
import { createBlockHasher } from "../../src/ec/store/checksum.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { BuiltinResources, type KubeObject } from "../../src/kube/resource.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { createMetrics, type Metrics } from "../../src/observability/metrics.ts";
import { type Sandbox, startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import {
  EcPolicyController,
  type EcPolicyTimings,
} from "../../src/controllers/ec-policy/controller.ts";
import type { EcVolumeBinding } from "../../src/ectier/bindings.ts";
import { runManager } from "../../src/app/manager.ts";
import { EC_POLICIES } from "../../src/controllers/ec-policy/reconcile.ts";

/** Everything a test drives. */
export interface Harness {
  sb: Sandbox;
  client: KubeClient;
  clock: ManualClock;
  metrics: Metrics;
  ctl: EcPolicyController;
  dir: string;
  /** Stops the controller and starts a fresh one over the same stores (a process restart). */
  restart(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of startHarness. */
export interface HarnessOptions {
  volumes: (dir: string) => EcVolumeBinding[];
  timings?: Partial<EcPolicyTimings>;
  /** Serve ErasureCodingPolicy with a schema that accepts anything (an older, looser CRD). */
  looseEcpCrd?: boolean;
}

/** Starts a sandbox (plain HTTP), installs the CRDs and starts the controller on a ManualClock. */
export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const dir = await Deno.makeTempDir({ prefix: "couchestor-ecctl-" });
  const sb = await startSandbox({ tls: false });
  // The client keeps real time for its request timeouts; the controller runs on the manual clock.
  const client = new KubeClient({ connection: { server: sb.httpUrl, token: sb.token } });
  for (const crd of couchestorCrds()) {
    if (opts.looseEcpCrd && crd.spec.names.kind === "ErasureCodingPolicy") loosen(crd);
    await client.create(BuiltinResources.customResourceDefinitions, crd as unknown as KubeObject);
  }
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 12));
  const metrics = createMetrics({ defaultMetrics: false });
  const hasher = await createBlockHasher();
  const volumes = opts.volumes(dir);
  let ac = new AbortController();
  let running: Promise<void> = Promise.resolve();
  const launch = async () => {
    const ctl = new EcPolicyController({
      client,
      volumes,
      node: "node-a",
      timings: opts.timings,
      kernel: selectKernel().kernel,
      hasher,
    }, { clock, logger: silentLogger, metrics, identity: "test-pod" });
    ac = new AbortController();
    await ctl.init();
    running = runManager({ runnables: ctl.runnables(), logger: silentLogger }, ac.signal);
    return ctl;
  };
  const stop = async () => {
    ac.abort();
    await running;
    await h.ctl.close();
  };
  const h: Harness = {
    sb,
    client,
    clock,
    metrics,
    ctl: await launch(),
    dir,
    async restart() {
      await stop();
      h.ctl = await launch();
    },
    async [Symbol.asyncDispose]() {
      await stop();
      client.close();
      await sb.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
  return h;
}

function loosen(crd: CustomResourceDefinition): void {
  const v = crd.spec.versions[0];
  v.schema = {
    openAPIV3Schema: {
      type: "object",
      properties: {
        spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      },
    },
  } as typeof v.schema;
}

/** Creates an ErasureCodingPolicy. */
export async function createPolicy(
  client: KubeClient,
  name: string,
  spec: Record<string, unknown>,
): Promise<KubeObject> {
  return await client.create<KubeObject>(EC_POLICIES, {
    apiVersion: GROUP_VERSION,
    kind: "ErasureCodingPolicy",
    metadata: { name },
    spec,
  });
}

/** Polls `fn` (real time, 20 ms steps) until it returns a truthy value; fails after `ms`. */
export function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  ms = 10_000,
): Promise<T> {
  // Any falsy value ("", 0 too) is "not yet" here.
  return poll(what, async () => (await fn()) || undefined, { timeoutMs: ms, everyMs: 20 });
}

/** The value of one sample line of the metrics text, or undefined. */
export async function metricValue(metrics: Metrics, series: string): Promise<number | undefined> {
  const text = await metrics.registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Deterministic pseudo-random bytes (the EC store tests' generator). */
export { seededBytes as bytes } from "../ec/store/helpers.ts";
