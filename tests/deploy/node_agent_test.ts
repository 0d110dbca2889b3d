/**
 * The node agent's manifests against the sandbox's PodSecurity admission (modelled on
 * kube-apiserver's pod-security-admission): its namespace enforces the level the agent needs
 * (privileged), so its pods are admitted there; the same pods are refused in a namespace that
 * enforces `restricted` (the operator's) or `baseline`, and the DaemonSet itself is only warned
 * about there, as kube-apiserver does for pod controllers.
 */
import assert from "node:assert/strict";
import { parseManifests, startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import type { KObj } from "../../src/sandbox/apiserver/store.ts";
import { kubectl, requireKubectl } from "../sandbox/kubectl.ts";

const DIR = new URL("../../deploy/node-agent/", import.meta.url).pathname;
const objs = parseManifests(
  ["namespace.yaml", "daemonset.yaml", "service.yaml"].map((f) => Deno.readTextFileSync(DIR + f))
    .join("\n---\n"),
);
const ds = objs.find((o) => o.kind === "DaemonSet")!;
const template = (ds.spec as KObj).template as { metadata: KObj; spec: KObj };

/** The Pod the DaemonSet controller would create from the template, in `namespace`. */
function podIn(namespace: string): KObj {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "couchestor-node-agent-x", namespace, labels: template.metadata.labels },
    spec: { ...template.spec, nodeName: "node-1" },
  };
}

Deno.test("node agent: admitted in its privileged namespace; its pods refused under restricted and baseline", async () => {
  await requireKubectl();
  const sb = await startSandbox({});
  const home = await Deno.makeTempDir({ prefix: "couchestor-agent-" });
  try {
    const file = `${home}/agent.json`;
    await Deno.writeTextFile(file, JSON.stringify({ apiVersion: "v1", kind: "List", items: objs }));
    const ok = await kubectl(sb, home, "apply", "-f", file);
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr, /PodSecurity/);
    const podFile = `${home}/pod.json`;
    await Deno.writeTextFile(podFile, JSON.stringify(podIn("couchestor-node-agent")));
    const pod = await kubectl(sb, home, "apply", "-f", podFile);
    assert.equal(pod.code, 0, pod.stderr);

    for (const level of ["restricted", "baseline"]) {
      const ns = `locked-${level}`;
      assert.equal((await kubectl(sb, home, "create", "namespace", ns)).code, 0);
      const l = await kubectl(
        sb,
        home,
        "label",
        "namespace",
        ns,
        `pod-security.kubernetes.io/enforce=${level}`,
      );
      assert.equal(l.code, 0, l.stderr);
      await Deno.writeTextFile(podFile, JSON.stringify(podIn(ns)));
      const refused = await kubectl(sb, home, "apply", "-f", podFile);
      assert.notEqual(refused.code, 0, `${level} must refuse the agent's pod`);
      assert.match(refused.stderr, new RegExp(`violates PodSecurity "${level}:latest": `));
      assert.match(refused.stderr, /volumes "sys", "dev"/, "the hostPath volumes are named");
      assert.match(refused.stderr, /non-default capabilities|unrestricted capabilities/);
      // The DaemonSet is admitted with a warning, as kube-apiserver does for pod controllers.
      const dsFile = `${home}/ds.json`;
      const moved = { ...ds, metadata: { ...(ds.metadata as KObj), namespace: ns } };
      await Deno.writeTextFile(dsFile, JSON.stringify(moved));
      const warned = await kubectl(sb, home, "apply", "-f", dsFile);
      assert.equal(warned.code, 0, warned.stderr);
      assert.match(warned.stderr, new RegExp(`would violate PodSecurity "${level}:latest"`));
    }
  } finally {
    await sb.close();
    await Deno.remove(home, { recursive: true });
  }
});
