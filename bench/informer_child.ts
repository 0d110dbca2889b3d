/**
 * The measured process of bench/informer_bench.ts: an operator-sized process
 * (the metrics registry and the kube runtime loaded) running one Informer over
 * the benchmark's custom resource. It prints
 * JSON lines: `synced` (count, ms) once, then `progress` (updates seen) every 250 ms.
 *
 * Usage: deno run -A bench/informer_child.ts <kubeconfig> <group> <version> <plural>
 */
import { systemClock } from "../src/clock.ts";
import { silentLogger } from "../src/observability/log.ts";
import { createMetrics } from "../src/observability/metrics.ts";
import { KubeClient } from "../src/kube/client.ts";
import { Informer, stripManagedFields } from "../src/kube/informer.ts";
import { loadKubeconfigFile } from "../src/kube/kubeconfig.ts";
import type { KubeObject } from "../src/kube/resource.ts";

const [kubeconfig, group, version, plural] = Deno.args;
// Loaded as the operator does, so its cost counts against the budget.
const metrics = createMetrics();
const client = new KubeClient({ connection: await loadKubeconfigFile(kubeconfig) });
const informer = new Informer<KubeObject>({
  client,
  resource: { group, version, plural, namespaced: true },
  clock: systemClock,
  logger: silentLogger,
  transform: stripManagedFields,
  indexers: { tier: (o) => [String(o.metadata.labels?.tier ?? "")] },
});
let updates = 0;
informer.addHandler({
  onUpdate: () => {
    updates++;
    metrics.reconcilesTotal.inc({ controller: "bench", result: "success" });
  },
});
const stop = new AbortController();
const t0 = performance.now();
const running = informer.run(stop.signal);
await informer.waitForSync();
const out = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
out({
  event: "synced",
  count: informer.store.size,
  ms: performance.now() - t0,
  ...Deno.memoryUsage(),
});
const timer = setInterval(
  () => out({ event: "progress", updates, ...Deno.memoryUsage() }),
  250,
);
Deno.addSignalListener("SIGTERM", () => {
  clearInterval(timer);
  stop.abort();
});
await running;
client.close();
// The signal listener keeps the event loop alive; leave explicitly.
Deno.exit(0);
