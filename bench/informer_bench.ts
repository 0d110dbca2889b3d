/**
 * Informer benchmark (NFR-108): initial sync of 10,000 custom objects and a
 * steady stream of 1,000 updates/s, measured in a separate operator-sized
 * process (bench/informer_child.ts) so the RSS figure is the informer's own.
 * Printed beside, from the same run: the RSS of a bare `deno eval`, of a
 * process that imports only our client, and of one that imports
 * @kubernetes/client-node.
 *
 * Run: deno run -A bench/informer_bench.ts [--objects 10000] [--rate 1000] [--seconds 10]
 */
import { parseArgs } from "node:util";
import { KubeClient } from "../src/kube/client.ts";
import { loadKubeconfigFile } from "../src/kube/kubeconfig.ts";
import type { KubeObject, ResourceRef } from "../src/kube/resource.ts";
import { BuiltinResources } from "../src/kube/resource.ts";
import { startSandbox } from "../src/sandbox/apiserver/mod.ts";
import { systemClock } from "../src/clock.ts";
import { silentLogger } from "../src/observability/log.ts";
import { Informer, stripManagedFields } from "../src/kube/informer.ts";
import { labelIndex } from "../src/kube/store.ts";

const BUDGET_MIB = 128;
const GROUP = "bench.couchestor.io";
const RES: ResourceRef = {
  group: GROUP,
  version: "v1",
  plural: "benchvolumes",
  namespaced: true,
  kind: "BenchVolume",
};

/** VmRSS (or, with `field` "VmHWM", the peak RSS) of a process in MiB, from /proc. */
async function rssMiB(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** RSS of a `deno eval` snippet once it has settled (ms after start). */
async function evalRss(code: string, settleMs = 1500): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", `${code}; await new Promise((r) => setTimeout(r, 60_000));`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await new Promise((r) => setTimeout(r, settleMs));
  const rss = await rssMiB(child.pid);
  child.kill("SIGKILL");
  await child.status;
  return rss;
}

function volume(i: number): KubeObject {
  const tiers = ["hot", "warm", "cold"];
  return {
    metadata: {
      name: `pvc-${i.toString().padStart(6, "0")}-${crypto.randomUUID().slice(0, 8)}`,
      namespace: `ns-${i % 20}`,
      labels: { tier: tiers[i % 3], "app.kubernetes.io/managed-by": "couchestor" },
    },
    spec: {
      capacityBytes: 10_737_418_240,
      pool: `pool-${i % 12}`,
      replicas: 3,
      storageClass: "mayastor-3",
      node: `node-${i % 6}`,
    },
    status: {
      tier: tiers[i % 3],
      iops: 0,
      conditions: [{
        type: "Ready",
        status: "True",
        reason: "Online",
        message: "",
        lastTransitionTime: "2026-01-01T00:00:00Z",
      }],
    },
  };
}

async function pool<T>(items: T[], width: number, fn: (t: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** Starts a sandbox with the bench CRD and `n` objects; returns it and a client. */
async function seeded(n: number) {
  const dataDir = await Deno.makeTempDir();
  const sb = await startSandbox({ port: 0, dataDir, tls: false });
  const client = new KubeClient({ connection: await loadKubeconfigFile(sb.kubeconfigPath) });
  await installCrd(client);
  for (let i = 0; i < 20; i++) {
    await client.create(BuiltinResources.namespaces, { metadata: { name: `ns-${i}` } })
      .catch(() => {});
  }
  await pool(Array.from({ length: n }, (_, i) => volume(i)), 16, (o) => client.create(RES, o));
  const close = async () => {
    client.close();
    await sb.close();
    await Deno.remove(dataDir, { recursive: true });
  };
  return { sb, client, close };
}

async function installCrd(client: KubeClient): Promise<void> {
  await client.create(BuiltinResources.customResourceDefinitions, {
    metadata: { name: `benchvolumes.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: { plural: "benchvolumes", singular: "benchvolume", kind: "BenchVolume" },
      versions: [{
        name: "v1",
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        },
      }],
    },
  });
}

if (!import.meta.main) {
  // `deno bench`: informer initial sync of 2,000 objects beside its baseline, a bare paged list.
  const env = await seeded(2000);
  Deno.bench(
    "paged list of 2,000 objects (baseline)",
    { group: "sync", baseline: true },
    async () => {
      await env.client.listAll(RES);
    },
  );
  Deno.bench(
    "informer sync of 2,000 objects (list + cache + index)",
    { group: "sync" },
    async () => {
      const stop = new AbortController();
      const inf = new Informer<KubeObject>({
        client: env.client,
        resource: RES,
        clock: systemClock,
        logger: silentLogger,
        transform: stripManagedFields,
        indexers: { tier: labelIndex("tier") },
      });
      const run = inf.run(stop.signal);
      await inf.waitForSync();
      stop.abort();
      await run;
    },
  );
  globalThis.addEventListener("unload", () => void env.close());
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      objects: { type: "string", default: "10000" },
      rate: { type: "string", default: "1000" },
      seconds: { type: "string", default: "10" },
      "v8-flags": { type: "string", default: "" },
    },
  });
  const nObjects = Number(values.objects);
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);

  const bare = await evalRss("0");
  const ours = await evalRss(
    `await import(${JSON.stringify(new URL("../src/kube/client.ts", import.meta.url).href)})`,
  );
  const clientNode = await evalRss(`await import("@kubernetes/client-node")`, 3000);

  const dataDir = await Deno.makeTempDir();
  const sb = await startSandbox({ port: 0, dataDir });
  const client = new KubeClient({ connection: await loadKubeconfigFile(sb.kubeconfigPath) });
  try {
    await installCrd(client);
    for (let n = 0; n < 20; n++) {
      await client.create(BuiltinResources.namespaces, { metadata: { name: `ns-${n}` } }).catch(
        () => {},
      );
    }
    const objs = Array.from({ length: nObjects }, (_, i) => volume(i));
    const tCreate = performance.now();
    await pool(objs, 16, (o) => client.create(RES, o));
    const createMs = performance.now() - tCreate;

    // The measured process: list + watch, nothing else.
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        ...(values["v8-flags"] ? [`--v8-flags=${values["v8-flags"]}`] : []),
        new URL("./informer_child.ts", import.meta.url).pathname,
        sb.kubeconfigPath,
        RES.group,
        RES.version,
        RES.plural,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let lastUpdates = 0;
    let heapUsed = 0;
    const nextEvent = async (): Promise<Record<string, number | string>> => {
      for (;;) {
        const nl = buf.indexOf("\n");
        if (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          return JSON.parse(line);
        }
        const { value, done } = await lines.read();
        if (done) throw new Error("informer child exited");
        buf += value;
      }
    };
    const synced = await nextEvent();
    if (Deno.env.get("BENCH_DEBUG")) console.error(JSON.stringify(synced));
    const rssAfterSync = await rssMiB(child.pid);

    // Steady stream: `rate` status patches per second for `seconds` seconds, in 10 ms ticks.
    const total = rate * seconds;
    const perTick = Math.max(1, Math.round(rate / 100));
    let sent = 0;
    const tStream = performance.now();
    let peakRss = rssAfterSync;
    while (sent < total) {
      const due = Math.min(
        total,
        Math.floor(((performance.now() - tStream) / 1000) * rate) + perTick,
      );
      const batch: Promise<unknown>[] = [];
      for (; sent < due; sent++) {
        const o = objs[sent % objs.length];
        batch.push(
          client.patchStatus(RES, o.metadata.name!, { status: { iops: sent } }, {
            namespace: o.metadata.namespace,
          }),
        );
      }
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, 10));
      if (sent % (rate / 2) < perTick) peakRss = Math.max(peakRss, await rssMiB(child.pid));
    }
    const sendMs = performance.now() - tStream;
    // Wait until the child has seen every update (or 10 s).
    const deadline = performance.now() + 10_000;
    while (lastUpdates < total && performance.now() < deadline) {
      const ev = await nextEvent();
      if (ev.event === "progress") {
        lastUpdates = Number(ev.updates);
        heapUsed = Number(ev.heapUsed);
        if (Deno.env.get("BENCH_DEBUG")) console.error(JSON.stringify(ev));
      }
    }
    const handledMs = performance.now() - tStream;
    const rssEnd = await rssMiB(child.pid);
    const hwm = await rssMiB(child.pid, "VmHWM");
    peakRss = Math.max(peakRss, rssEnd);
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await child.status;
    clearTimeout(killer);
    await lines.cancel().catch(() => {});

    const f = (n: number, d = 1) => n.toFixed(d);
    console.log(`informer benchmark (${nObjects} objects, ${rate} updates/s for ${seconds} s)`);
    console.log(
      `  measured process: kube runtime + metrics registry, v8 flags: ${
        values["v8-flags"] || "(none)"
      }`,
    );
    console.log(`  created ${nObjects} objects in ${f(createMs, 0)} ms`);
    console.log(`  initial sync (list + cache): ${f(Number(synced.ms), 0)} ms for ${synced.count}`);
    console.log(
      `  updates: sent ${total} in ${f(sendMs / 1000, 2)} s (${
        f(total / (sendMs / 1000), 0)
      }/s), ` +
        `handled ${lastUpdates} (${f(lastUpdates / (handledMs / 1000), 0)}/s incl. drain)`,
    );
    console.log(`  informer V8 heap used at the end: ${f(heapUsed / 2 ** 20)} MiB`);
    console.log(`  RSS bare deno eval:            ${f(bare)} MiB`);
    console.log(`  RSS importing src/kube/client: ${f(ours)} MiB (${f(ours / bare, 2)}× bare)`);
    console.log(
      `  RSS importing client-node:     ${f(clientNode)} MiB (${f(clientNode / bare, 2)}× bare)`,
    );
    console.log(
      `  RSS informer after sync:       ${f(rssAfterSync)} MiB (${
        f(rssAfterSync / bare, 2)
      }× bare)`,
    );
    console.log(
      `  RSS informer during stream:    ${f(peakRss)} MiB max sampled (${
        f(peakRss / bare, 2)
      }× bare)`,
    );
    console.log(
      `  RSS informer high-water mark:  ${f(hwm)} MiB (${f(hwm / bare, 2)}× bare); ` +
        `budget ${BUDGET_MIB} MiB: ${hwm < BUDGET_MIB ? "OK" : "OVER"}`,
    );
  } finally {
    client.close();
    await sb.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}
