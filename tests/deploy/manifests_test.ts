/**
 * Everything in deploy/ is accepted by the sandbox API server: every manifest straight into the
 * server, and `kubectl apply -k deploy/` / `apply -f` with the machine's kubectl over HTTPS.
 * Broken manifests are rejected. The Deployment's env names and flags exist in the flag table.
 */
import assert from "node:assert/strict";
import { couchestorCrds, thirdPartyCrds } from "../../src/api/crd.ts";
import { runDiscover } from "../../src/cli/discover.ts";
import { FLAGS } from "../../src/config/flags.ts";
import {
  applyObjects,
  parseManifests,
  type Sandbox,
  startSandbox,
} from "../../src/sandbox/apiserver/mod.ts";
import type { KObj } from "../../src/sandbox/apiserver/store.ts";
import { kubectl, requireKubectl } from "../sandbox/kubectl.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const DEPLOY = `${ROOT}/deploy`;
const SERVICEMONITOR_CRD = new URL("./testdata/servicemonitor-crd.yaml", import.meta.url).pathname;
const PROMETHEUSRULE_CRD = new URL("./testdata/prometheusrule-crd.yaml", import.meta.url).pathname;

/**
 * Every Kubernetes manifest under deploy/ (kustomization.yaml, and deploy/prometheus/ — a plain
 * Prometheus rules file, not a Kubernetes object — excepted), repository-relative, sorted.
 */
async function deployYamlFiles(dir = DEPLOY, rel = "deploy"): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory && `${rel}/${e.name}` === "deploy/prometheus") continue;
    if (e.isDirectory) out.push(...await deployYamlFiles(`${dir}/${e.name}`, `${rel}/${e.name}`));
    else if (/\.ya?ml$/.test(e.name) && e.name !== "kustomization.yaml") {
      out.push(`${rel}/${e.name}`);
    }
  }
  return out.sort();
}

/** CRDs the manifests need: the product's, Mayastor's, the ServiceMonitor and PrometheusRule stand-ins. */
function installCrds(sb: Sandbox): void {
  applyObjects(sb.core, [
    ...couchestorCrds(),
    ...thirdPartyCrds(),
    ...parseManifests(Deno.readTextFileSync(SERVICEMONITOR_CRD)),
    ...parseManifests(Deno.readTextFileSync(PROMETHEUSRULE_CRD)),
  ] as unknown as KObj[]);
}

const kindOrder = (o: KObj) => (o.kind === "Namespace" ? 0 : 1);

Deno.test("deploy: every manifest under deploy/ is accepted by the sandbox API server", async () => {
  const sb = await startSandbox({ tls: false });
  try {
    installCrds(sb);
    const files = await deployYamlFiles();
    assert.ok(
      files.includes("deploy/rbac.yaml") && files.includes("deploy/examples/diskpools.yaml"),
    );
    const objs = files.flatMap((f) => parseManifests(Deno.readTextFileSync(`${ROOT}/${f}`)));
    const done = applyObjects(sb.core, [...objs].sort((a, b) => kindOrder(a) - kindOrder(b)));
    assert.equal(done.length, objs.length);
    for (
      const kind of [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "Deployment",
        "DaemonSet",
        "Service",
        "ServiceMonitor",
        "PrometheusRule",
        "PodDisruptionBudget",
        "StoragePolicy",
        "ErasureCodingPolicy",
        "DiskPool",
      ]
    ) {
      assert.ok(done.some((d) => d.startsWith(`${kind}/`)), `${kind} applied`);
    }
  } finally {
    await sb.close();
  }
});

Deno.test("deploy: kustomization.yaml lists every top-level manifest; the node agent's lists its own", async () => {
  const k = parseManifests(await Deno.readTextFile(`${DEPLOY}/kustomization.yaml`))[0];
  const top = (await deployYamlFiles()).filter((f) => f.split("/").length === 2)
    .map((f) => f.slice("deploy/".length));
  assert.deepEqual([...(k.resources as string[])].sort(), top);
  const agent =
    parseManifests(await Deno.readTextFile(`${DEPLOY}/node-agent/kustomization.yaml`))[0];
  const files = (await deployYamlFiles()).filter((f) => f.startsWith("deploy/node-agent/"))
    .map((f) => f.slice("deploy/node-agent/".length));
  assert.deepEqual([...(agent.resources as string[])].sort(), files);
});

Deno.test("deploy: kubectl apply -f crds/, -k deploy/ and -f of the extras are accepted; broken manifests are rejected", async () => {
  await requireKubectl();
  const sb = await startSandbox();
  const home = await Deno.makeTempDir({ prefix: "couchestor-kubectl-" });
  try {
    // Mayastor's DiskPool CRD comes with Mayastor on a real cluster.
    applyObjects(sb.core, thirdPartyCrds() as unknown as KObj[]);
    const crds = await kubectl(
      sb,
      home,
      "apply",
      "-f",
      "crds/",
      "-f",
      SERVICEMONITOR_CRD,
      "-f",
      PROMETHEUSRULE_CRD,
    );
    assert.equal(crds.code, 0, crds.stderr);
    const k = await kubectl(sb, home, "apply", "-k", "deploy/");
    assert.equal(k.code, 0, k.stderr);
    for (
      const line of [
        "namespace/couchestor-system created",
        "clusterrole.rbac.authorization.k8s.io/couchestor-operator created",
        "rolebinding.rbac.authorization.k8s.io/couchestor-leader-election created",
        "deployment.apps/couchestor-operator created",
        "poddisruptionbudget.policy/couchestor-operator created",
        "servicemonitor.monitoring.coreos.com/couchestor created",
        "prometheusrule.monitoring.coreos.com/couchestor created",
      ]
    ) assert.ok(k.stdout.includes(line), `${line} in:\n${k.stdout}`);
    const again = await kubectl(sb, home, "apply", "-k", "deploy/");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /deployment\.apps\/couchestor-operator unchanged/);
    const agent = await kubectl(sb, home, "apply", "-k", "deploy/node-agent/");
    assert.equal(agent.code, 0, agent.stderr);
    assert.match(agent.stdout, /daemonset\.apps\/couchestor-node-agent created/);
    assert.match(
      agent.stdout,
      /servicemonitor\.monitoring\.coreos\.com\/couchestor-node-agent created/,
    );
    assert.doesNotMatch(agent.stderr, /would violate PodSecurity/, "its namespace allows it");
    const extras = await kubectl(sb, home, "apply", "-f", "deploy/examples/");
    assert.equal(extras.code, 0, extras.stderr);
    const get = await kubectl(sb, home, "get", "deploy,ds,pdb", "-n", "couchestor-system");
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /deployment\.apps\/couchestor-operator\s/);

    const broken = `${home}/broken.yaml`;
    const deployment = parseManifests(await Deno.readTextFile(`${DEPLOY}/deployment.yaml`))[0];
    const tpl = (deployment.spec as KObj).template as { metadata: { labels: KObj } };
    tpl.metadata.labels = { "app.kubernetes.io/name": "something-else" };
    (deployment.metadata as KObj).name = "broken";
    await Deno.writeTextFile(broken, JSON.stringify(deployment));
    const bad = await kubectl(sb, home, "apply", "-f", broken);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /selector` does not match template `labels`/);
    await Deno.writeTextFile(
      broken,
      JSON.stringify({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: "no-verbs" },
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: [] }],
      }),
    );
    const bad2 = await kubectl(sb, home, "apply", "-f", broken);
    assert.notEqual(bad2.code, 0);
    assert.match(bad2.stderr, /rules\[0\]\.verbs: Required value/);
  } finally {
    await sb.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("deploy: every env var and flag the Deployment sets is one of `run`'s flags", async () => {
  const d = parseManifests(await Deno.readTextFile(`${DEPLOY}/deployment.yaml`))[0];
  const spec = (d.spec as KObj).template as { spec: { containers: KObj[] } };
  const c = spec.spec.containers[0] as { args: string[]; env: { name: string }[] };
  const envs = new Set<string>(Object.values(FLAGS).map((f) => f.env));
  const flags = new Set<string>(Object.values(FLAGS).map((f) => f.flag));
  assert.equal(c.args[0], "run");
  for (const e of c.env) assert.ok(envs.has(e.name), `${e.name} is an env twin in FLAGS`);
  for (const a of c.args.slice(1)) {
    const name = a.replace(/^--(no-)?/, "").split("=")[0];
    assert.ok(flags.has(name), `${a} is a run flag`);
  }
  // The ports are the defaults of --metrics-addr and --health-addr (neither is overridden).
  const ports = (c as unknown as { ports: { name: string; containerPort: number }[] }).ports;
  const port = (n: string) => ports.find((p) => p.name === n)?.containerPort;
  assert.equal(`:${port("metrics")}`, FLAGS.metricsAddr.default);
  assert.equal(`:${port("health")}`, FLAGS.healthAddr.default);
  assert.ok(!c.args.some((a) => /--(metrics|health)-addr/.test(a)));
  assert.ok(!c.env.some((e) => e.name === "METRICS_ADDR" || e.name === "HEALTH_ADDR"));
});

Deno.test("deploy: the node agent's args are `discover` flags and its env names the node", async () => {
  const ds = parseManifests(await Deno.readTextFile(`${DEPLOY}/node-agent/daemonset.yaml`))
    .find((o) => o.kind === "DaemonSet")!;
  const spec = (ds.spec as KObj).template as { spec: { containers: KObj[] } };
  const c = spec.spec.containers[0] as { args: string[]; env: { name: string }[] };
  assert.equal(c.args[0], "discover");
  let help = "";
  assert.equal(await runDiscover(["--help"], { out: (s) => (help += s) }), 0);
  for (const a of c.args.slice(1).filter((x) => x.startsWith("--"))) {
    assert.match(help, new RegExp(`^\\s+${a.split("=")[0]}\\b`, "m"), `${a} is a discover flag`);
  }
  // --serve labels its metrics with the node name from env NODE_NAME.
  assert.ok(c.env.some((e) => e.name === "NODE_NAME"));
  assert.match(help, /NODE_NAME/);
});
