import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { runDiscover } from "../../src/cli/discover.ts";
import { discover, recordDeviceMetrics } from "../../src/hardware/discover.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { buildMixedNode } from "./fixtures/sysfs.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { BuiltinResources, type ResourceRef } from "../../src/kube/resource.ts";
import { applyDirectory, startSandbox } from "../../src/sandbox/apiserver/mod.ts";

const DISKPOOLS: ResourceRef = {
  group: "openebs.io",
  version: "v1beta2",
  plural: "diskpools",
  namespaced: true,
};

async function run(
  args: string[],
  sys?: string,
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const extra = sys ? ["--sys-root", sys, "--dev-root", `${sys}/../dev`, "--no-smart"] : [];
  const code = await runDiscover([...args, ...extra], {
    out: (s) => (out += s + "\n"),
    err: (s) => (err += s + "\n"),
  });
  return { code, out, err };
}

async function withNode(fn: (sys: string) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "couchestor-discover-" });
  try {
    await fn(await buildMixedNode(base));
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

Deno.test("discover prints a table with every device, its tier and reason", async () => {
  await withNode(async (sys) => {
    const r = await run([], sys);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split("\n");
    assert.match(
      lines[0],
      /^DEVICE\s+TRANSPORT\s+SIZE\s+LBS\/PBS\s+ROT\s+ZONED\s+MODEL\s+HEALTH\s+TEMP\s+TIER\s+REASON$/,
    );
    assert.equal(lines.length, 9);
    assert.match(
      r.out,
      /nvme10n2\s+nvme\s+3\.6 TiB\s+4096\/4096\s+0\s+host-managed \(3726 zones\)/,
    );
    assert.match(r.out, /sda\s+sata\s+.*\s+warm\s+non-rotational SATA disk/);
  });
});

Deno.test("discover --json gives the full report, ioctl failures with their reason", async () => {
  await withNode(async (sys) => {
    const r = await run(["--json"], sys);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out);
    assert.equal(report.length, 8);
    const nvme = report.find((d: { device: { name: string } }) => d.device.name === "nvme1n1");
    assert.equal(nvme.classification.tier, "hot");
    assert.equal(nvme.ioctl.ok, false);
    assert.match(nvme.ioctl.reason, /using sysfs alone/);
    assert.equal(nvme.smart.reason, "SMART disabled (--no-smart)");
  });
});

Deno.test("discover --diskpools prints labelled DiskPool manifests for eligible disks only", async () => {
  await withNode(async (sys) => {
    const r = await run(["--diskpools", "worker-1", "--namespace", "mayastor"], sys);
    assert.equal(r.code, 0, r.err);
    const docs = parseAllDocuments(r.out).map((d) => d.toJS());
    const byName = Object.fromEntries(docs.map((d) => [d.metadata.name, d]));
    // sdb is held by dm-0 (LVM), so the pool goes on dm-0; the partitioned nvme1n1, the ZNS
    // namespace and the loop device are left out.
    assert.deepEqual(Object.keys(byName).sort(), [
      "pool-worker-1-dm-0",
      "pool-worker-1-nvme10n1",
      "pool-worker-1-sda",
      "pool-worker-1-vda",
    ]);
    const p = byName["pool-worker-1-nvme10n1"];
    assert.equal(p.apiVersion, "openebs.io/v1beta2");
    assert.equal(p.kind, "DiskPool");
    assert.equal(p.metadata.namespace, "mayastor");
    assert.equal(p.metadata.labels["storage.billyronks.io/tier"], "hot");
    assert.deepEqual(p.spec, { node: "worker-1", disks: ["/dev/nvme10n1"] });
    assert.equal(byName["pool-worker-1-sda"].metadata.labels["storage.billyronks.io/tier"], "warm");
  });
});

Deno.test("discover --tier overrides the proposal", async () => {
  await withNode(async (sys) => {
    const r = await run(["--diskpools", "n1", "--tier", "sda=cold"], sys);
    const sda = parseAllDocuments(r.out).map((d) => d.toJS()).find((d) =>
      d.metadata.name === "pool-n1-sda"
    );
    assert.equal(sda.metadata.labels["storage.billyronks.io/tier"], "cold");
  });
});

Deno.test("discover rejects bad flags with exit 2 and names the fix", async () => {
  const bad = await run(["--tier", "sda=lukewarm"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--tier .*TIER one of hot, warm, cold, none/);
  const node = await run(["--diskpools", "Bad_Node"]);
  assert.equal(node.code, 2);
  assert.match(node.err, /--diskpools "Bad_Node": must be a Kubernetes node name/);
  const unknown = await run(["--frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /frobnicate.*--help/);
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /--diskpools NODE/);
});

Deno.test("device health and temperature become metrics", async () => {
  await withNode(async (sys) => {
    const found = await discover({ sysRoot: sys, smart: false });
    const sda = found.find((d) => d.device.name === "sda")!;
    sda.smart = {
      available: true,
      source: "smartctl",
      healthy: false,
      temperatureCelsius: 51,
      warnings: [],
    };
    const m = createMetrics({ defaultMetrics: false });
    recordDeviceMetrics(m, "worker-1", found);
    const text = await m.registry.metrics();
    assert.match(text, /couchestor_device_healthy\{node="worker-1",device="sda",tier="warm"\} 0/);
    assert.match(text, /couchestor_device_temperature_celsius\{node="worker-1",device="sda"\} 51/);
    // No SMART for nvme1n1: its health is absent (unknown), not 0; its tier is still published.
    assert.doesNotMatch(text, /couchestor_device_healthy\{[^}]*device="nvme1n1"/);
    assert.match(
      text,
      /couchestor_device_info\{node="worker-1",device="nvme1n1",transport="nvme",tier="hot"/,
    );
  });
});

Deno.test("discover --diskpools output is accepted by the sandbox API server with the DiskPool CRD", async () => {
  await withNode(async (sys) => {
    const r = await run(["--diskpools", "worker-1"], sys);
    assert.equal(r.code, 0, r.err);
    const sb = await startSandbox({ tls: false });
    try {
      await applyDirectory(sb.core, new URL("../../crds/thirdparty", import.meta.url).pathname);
      const client = new KubeClient({ connection: { server: sb.httpUrl, token: sb.token } });
      await client.create(BuiltinResources.namespaces, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "openebs" },
      });
      const docs = parseAllDocuments(r.out).map((d) => d.toJS());
      assert.equal(docs.length, 4);
      for (const doc of docs) {
        // Over real HTTP, through the CRD's structural schema and defaulting.
        const created = await client.create(DISKPOOLS, doc, { namespace: "openebs" });
        assert.equal(created.metadata.name, doc.metadata.name);
      }
      const listed = await client.list(DISKPOOLS, {
        namespace: "openebs",
        labelSelector: "storage.billyronks.io/tier=hot",
      });
      assert.deepEqual(listed.items.map((p) => p.metadata.name), ["pool-worker-1-nvme10n1"]);
      // A manifest the schema refuses is refused: the CRD requires spec.node.
      const bad = structuredClone(docs[0]);
      bad.metadata.name = "pool-broken";
      delete bad.spec.node;
      await assert.rejects(
        client.create(DISKPOOLS, bad, { namespace: "openebs" }),
        (e: Error) => /spec\.node/.test(e.message),
      );
    } finally {
      await sb.close();
    }
  });
});
