/** `couchestor sandbox --with-mayastor` as a real process: DiskPools in the API, the simulator's REST. */
import assert from "node:assert/strict";
import { KubeClient } from "../../src/kube/client.ts";
import { loadKubeconfigFile } from "../../src/kube/kubeconfig.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CRDS = new URL("../../crds", import.meta.url).pathname;

Deno.test("sandbox --with-mayastor serves tier-labelled DiskPools and the simulator's /v0 API", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "sandbox", "--with-mayastor", "--crds", CRDS, "--log-level", "warn"],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  try {
    while (!/mayastor-metrics: \S+\n/.test(out)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`exited early:\n${out}`);
      out += value;
    }
    const [kubeconfig] = out.split("\n");
    const rest = /mayastor-rest: (\S+)/.exec(out)![1];
    const metrics = /mayastor-metrics: (\S+)/.exec(out)![1];
    const conn = await loadKubeconfigFile(kubeconfig);
    const client = new KubeClient({ connection: conn });
    const pools = await client.list(
      { group: "openebs.io", version: "v1beta2", plural: "diskpools", namespaced: true },
      { namespace: "mayastor", labelSelector: "storage.billyronks.io/tier=cold" },
    );
    assert.deepEqual(pools.items.map((p) => p.metadata.name).sort(), ["hdd-1", "hdd-2", "hdd-3"]);
    for (
      const p of pools.items as unknown as {
        spec: { topology: { labelled: Record<string, string> } };
        status: { pool_status: string; capacity: number };
      }[]
    ) {
      // The operator's CR: topology labels in the spec, the control plane's status mirrored.
      assert.equal(p.spec.topology.labelled["storage.billyronks.io/tier"], "cold");
      assert.equal(p.status.pool_status, "Online");
      assert.equal(p.status.capacity, 16 * 1024 ** 3);
    }
    client.close();
    const v0 = await (await fetch(`${rest}/pools`)).json() as { id: string }[];
    assert.equal(v0.length, 9);
    const text = await (await fetch(metrics)).text();
    assert.match(text, /diskpool_total_size_bytes\{[^}]*name="nvme-1"/);
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0, await stderr);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await reader.cancel().catch(() => {});
    await stderr.catch(() => "");
  }
});
