/** The machine's kubectl against the sandbox over HTTPS, as a user would run it. */
import assert from "node:assert/strict";
import { startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { api, FIXTURES, WIDGETS } from "./helpers.ts";
import { kubectl, kubectlCmd, requireKubectl } from "./kubectl.ts";

/** Reads a child's stdout until `pred` holds for the text so far. */
async function readUntil(stream: ReadableStream<Uint8Array>, pred: (text: string) => boolean) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!pred(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return text;
}

Deno.test("kubectl: CRD workflow against the sandbox over HTTPS", async (t) => {
  await requireKubectl();
  const home = await Deno.makeTempDir({ prefix: "kubectl-home-" });
  const sb = await startSandbox({});
  assert.ok(sb.httpsUrl, "openssl is needed for HTTPS (apt-get install -y openssl)");
  try {
    await t.step("apply -f the CRD, then wait for Established", async () => {
      const r = await kubectl(sb, home, "apply", "-f", `${FIXTURES}widget-crd.yaml`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /customresourcedefinition.apiextensions.k8s.io\/widgets.test.couchestor.io created/,
      );
      const w = await kubectl(
        sb,
        home,
        "wait",
        "--for=condition=Established",
        "crd/widgets.test.couchestor.io",
        "--timeout=10s",
      );
      assert.equal(w.code, 0, w.stderr);
    });

    await t.step("apply -f objects; get by short name shows printer columns", async () => {
      const r = await kubectl(sb, home, "apply", "-f", `${FIXTURES}widgets.yaml`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /widget.test.couchestor.io\/alpha created/);
      const again = await kubectl(sb, home, "apply", "-f", `${FIXTURES}widgets.yaml`);
      assert.match(again.stdout, /alpha unchanged/);
      const g = await kubectl(sb, home, "get", "wd");
      assert.equal(g.code, 0, g.stderr);
      const lines = g.stdout.trim().split("\n").map((l) => l.split(/\s+/));
      assert.deepEqual(lines[0], ["NAME", "TIER", "LOW", "READY", "AGE"]);
      assert.deepEqual(lines[1].slice(0, 3), ["alpha", "hot", "100"]);
      assert.deepEqual(lines[2].slice(0, 3), ["beta", "cold", "100"]);
    });

    await t.step("get -w streams an update", async () => {
      const child = kubectlCmd(sb, home, ["get", "wd", "-w"]).spawn();
      try {
        const seen = readUntil(child.stdout, (s) => /beta\s+warm/.test(s));
        // Patch once the watch is open (the initial listing is printed first).
        for (let i = 0; i < 200; i++) {
          if ((await api(sb, "GET", "/sandbox/state")).body.watches as number > 0) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        const p = await kubectl(
          sb,
          home,
          "patch",
          "wd",
          "beta",
          "--type=merge",
          "-p",
          '{"spec":{"tier":"warm"}}',
        );
        assert.equal(p.code, 0, p.stderr);
        assert.match(await seen, /beta\s+warm/);
      } finally {
        child.kill("SIGTERM");
        await child.status;
        await child.stderr.cancel();
      }
    });

    await t.step("patch --type=merge and get -o jsonpath", async () => {
      const p = await kubectl(
        sb,
        home,
        "patch",
        "wd",
        "alpha",
        "--type=merge",
        "-p",
        '{"spec":{"lowWatermarkIOPS":250}}',
      );
      assert.equal(p.code, 0, p.stderr);
      assert.match(p.stdout, /widget.test.couchestor.io\/alpha patched/);
      const j = await kubectl(
        sb,
        home,
        "get",
        "wd",
        "alpha",
        "-o",
        "jsonpath={.spec.lowWatermarkIOPS}/{.metadata.generation}",
      );
      assert.equal(j.stdout, "250/2");
    });

    await t.step("wait --for=condition=Ready returns once the status says so", async () => {
      const child = kubectlCmd(sb, home, [
        "wait",
        "--for=condition=Ready",
        "wd/alpha",
        "--timeout=20s",
      ]).spawn();
      const out = child.output();
      await new Promise((r) => setTimeout(r, 300));
      const st = await api(sb, "PATCH", `${WIDGETS}/alpha/status`, {
        status: {
          conditions: [{
            type: "Ready",
            status: "True",
            reason: "Test",
            message: "ok",
            lastTransitionTime: "2026-01-01T00:00:00Z",
          }],
        },
      }, { "content-type": "application/merge-patch+json" });
      assert.equal(st.status, 200);
      const r = await out;
      assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
      assert.match(new TextDecoder().decode(r.stdout), /alpha condition met/);
    });

    await t.step("delete is held by a finalizer until it is removed", async () => {
      const f = await kubectl(
        sb,
        home,
        "patch",
        "wd",
        "beta",
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":["test.couchestor.io/hold"]}}',
      );
      assert.equal(f.code, 0, f.stderr);
      const d = await kubectl(sb, home, "delete", "wd", "beta", "--wait=false");
      assert.equal(d.code, 0, d.stderr);
      const still = await kubectl(
        sb,
        home,
        "get",
        "wd",
        "beta",
        "-o",
        "jsonpath={.metadata.deletionTimestamp}",
      );
      assert.equal(still.code, 0);
      assert.match(still.stdout, /^\d{4}-/);
      const rm = await kubectl(
        sb,
        home,
        "patch",
        "wd",
        "beta",
        "--type=json",
        "-p",
        '[{"op":"remove","path":"/metadata/finalizers"}]',
      );
      assert.equal(rm.code, 0, rm.stderr);
      const gone = await kubectl(sb, home, "get", "wd", "beta");
      assert.notEqual(gone.code, 0);
      assert.match(gone.stderr, /NotFound|not found/);
    });

    await t.step("explain uses the OpenAPI v3 schema", async () => {
      const e = await kubectl(sb, home, "explain", "widget.spec");
      assert.equal(e.code, 0, e.stderr);
      assert.match(e.stdout, /lowWatermarkIOPS\s+<integer>/);
      assert.match(e.stdout, /tier\s+<string> -required-/);
    });

    await t.step("an invalid object is rejected naming the field", async () => {
      const r = await kubectl(sb, home, "apply", "-f", `${FIXTURES}widget-bad.yaml`);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /spec\.lowWatermarkIOPS: Invalid value: -5/);
      const cel = await kubectl(
        sb,
        home,
        "patch",
        "wd",
        "alpha",
        "--type=merge",
        "-p",
        '{"spec":{"lowWatermarkIOPS":999999}}',
      );
      assert.notEqual(cel.code, 0);
      assert.match(cel.stderr, /lowWatermarkIOPS must not exceed highWatermarkIOPS/);
    });

    await t.step("server-side apply and built-in kinds", async () => {
      const r = await kubectl(sb, home, "apply", "--server-side", "-f", `${FIXTURES}widgets.yaml`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /serverside-applied/);
      const ns = await kubectl(sb, home, "get", "ns", "default", "-o", "jsonpath={.status.phase}");
      assert.equal(ns.stdout, "Active");
      // Typed kubectl commands post protobuf; `create namespace` is the one users run.
      const cns = await kubectl(sb, home, "create", "namespace", "couchestor-system");
      assert.equal(cns.code, 0, cns.stderr);
      const lbl = await kubectl(
        sb,
        home,
        "get",
        "ns",
        "couchestor-system",
        "--show-labels",
        "--no-headers",
      );
      assert.match(
        lbl.stdout,
        /couchestor-system\s+Active\s+\S+\s+kubernetes.io\/metadata.name=couchestor-system/,
      );
      const cm = await kubectl(sb, home, "create", "configmap", "cfg", "--from-literal=a=b");
      assert.equal(cm.code, 0, cm.stderr);
      const sec = await kubectl(
        sb,
        home,
        "create",
        "secret",
        "generic",
        "sec",
        "--from-literal=k=v",
      );
      assert.equal(sec.code, 0, sec.stderr);
      const got = await kubectl(
        sb,
        home,
        "get",
        "cm/cfg",
        "secret/sec",
        "-o",
        "jsonpath={.items[*].data}",
      );
      assert.equal(got.stdout, '{"a":"b"} {"k":"dg=="}');
      const ci = await kubectl(sb, home, "cluster-info");
      assert.equal(ci.code, 0, ci.stderr);
      assert.match(ci.stdout, /control plane is running at https:\/\/127\.0\.0\.1:\d+/);
      const del = await kubectl(sb, home, "delete", "ns", "couchestor-system");
      assert.equal(del.code, 0, del.stderr);
    });
  } finally {
    await sb.close();
    await Deno.remove(home, { recursive: true });
  }
});
