import assert from "node:assert/strict";
import {
  KubeconfigError,
  loadKubeconfigFile,
  resolveKubeconfig,
} from "../../src/kube/kubeconfig.ts";
import { inClusterConfig } from "../../src/kube/kubeconfig.ts";

const b64 = (s: string) => btoa(s);

const doc = `
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: ${b64("CA-PEM")}
- name: c2
  cluster:
    server: https://example:443
    certificate-authority: certs/ca.crt
    insecure-skip-tls-verify: true
users:
- name: u1
  user:
    token: abc
- name: u2
  user:
    client-certificate: certs/client.crt
    client-key-data: ${b64("KEY-PEM")}
    tokenFile: /var/token
contexts:
- name: dev
  context: { cluster: c1, user: u1, namespace: ops }
- name: other
  context: { cluster: c2, user: u2 }
`;

Deno.test("kubeconfig: current-context with inline data and token", () => {
  const c = resolveKubeconfig(doc);
  assert.deepEqual(c, {
    server: "https://127.0.0.1:6443",
    caData: "CA-PEM",
    token: "abc",
    namespace: "ops",
  });
});

Deno.test("kubeconfig: named context, relative files, insecure flag, tokenFile", () => {
  const c = resolveKubeconfig(doc, { context: "other", baseDir: "/home/me/.kube" });
  assert.deepEqual(c, {
    server: "https://example:443",
    caFile: "/home/me/.kube/certs/ca.crt",
    insecureSkipTlsVerify: true,
    tokenFile: "/var/token",
    clientCertFile: "/home/me/.kube/certs/client.crt",
    clientKeyData: "KEY-PEM",
  });
});

Deno.test("kubeconfig: clear errors for missing context, cluster or user", () => {
  assert.throws(() => resolveKubeconfig(doc, { context: "nope" }), /no context named "nope"/);
  assert.throws(
    () => resolveKubeconfig("clusters: []\ncontexts: []\nusers: []\n"),
    /current-context: is not set and no context was given/,
  );
  assert.throws(
    () =>
      resolveKubeconfig(
        "current-context: x\ncontexts: [{name: x, context: {cluster: y}}]\n",
      ),
    /context "x": contexts\[0\]\.context\.cluster: names cluster "y", which clusters does not have/,
  );
});

Deno.test("kubeconfig: a corrupt file names the file, the context and the field — never a raw ZodError", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string, string, RegExp][] = [
      [
        "bad base64",
        doc.replace(b64("KEY-PEM"), "not*base64!"),
        /^kubeconfig .*\/config: context "other": users\[1\]\.user\.client-key-data: is not valid base64/,
      ],
      [
        "server missing",
        doc.replace("server: https://127.0.0.1:6443/", "name2: x"),
        /^kubeconfig .*\/config: context "dev": clusters\[0\]\.cluster\.server: Invalid input/,
      ],
      [
        "server not a URL",
        doc.replace("https://127.0.0.1:6443/", "127.0.0.1:6443"),
        /^kubeconfig .*\/config: context "dev": clusters\[0\]\.cluster\.server: "127\.0\.0\.1:6443" is not an http/,
      ],
      ["not YAML", "clusters: [\n  - {", /^kubeconfig .*\/config: is not valid YAML: /],
      ["not a mapping", "- a\n- b\n", /^kubeconfig .*\/config: is not a kubeconfig/],
      [
        "wrong type",
        "current-context: dev\ncontexts: 7\n",
        /^kubeconfig .*\/config: context "dev": contexts: Invalid input: expected array/,
      ],
    ];
    for (const [name, text, re] of cases) {
      await Deno.writeTextFile(`${dir}/config`, text);
      const ctx = name === "bad base64" ? { context: "other" } : {};
      const e = await loadKubeconfigFile(`${dir}/config`, ctx).catch((x) => x);
      assert.ok(e instanceof KubeconfigError, `${name}: ${e}`);
      assert.match(e.message, re, name);
      assert.doesNotMatch(e.message, /ZodError|\n/, name);
    }
    const missing = await loadKubeconfigFile(`${dir}/nope`).catch((x) => x);
    assert.match(missing.message, /^kubeconfig .*\/nope: cannot read the file: /);
    await Deno.writeTextFile(`${dir}/config`, doc);
    const noCa = await loadKubeconfigFile(`${dir}/config`, { context: "other" }).catch((x) => x);
    assert.match(
      noCa.message,
      /^kubeconfig .*\/config: context "other": certificate-authority: cannot read .*certs\/ca\.crt/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kubeconfig: loadKubeconfigFile reads referenced files relative to the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/certs`);
    await Deno.writeTextFile(`${dir}/certs/ca.crt`, "CA-FROM-FILE");
    await Deno.writeTextFile(`${dir}/certs/client.crt`, "CERT-FROM-FILE");
    await Deno.writeTextFile(`${dir}/config`, doc);
    const c = await loadKubeconfigFile(`${dir}/config`, { context: "other" });
    assert.equal(c.caData, "CA-FROM-FILE");
    assert.equal(c.clientCertData, "CERT-FROM-FILE");
    assert.equal(c.clientKeyData, "KEY-PEM");
    assert.ok(!("caFile" in c));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kubeconfig: in-cluster config from the service-account directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ca.crt`, "SA-CA");
    await Deno.writeTextFile(`${dir}/token`, "tok");
    await Deno.writeTextFile(`${dir}/namespace`, "couchestor-system\n");
    const c = await inClusterConfig({ host: "10.0.0.1", port: 443, serviceAccountDir: dir });
    assert.deepEqual(c, {
      server: "https://10.0.0.1:443",
      tokenFile: `${dir}/token`,
      caData: "SA-CA",
      namespace: "couchestor-system",
    });
    const v6 = await inClusterConfig({ host: "fd00::1", port: "6443", serviceAccountDir: dir });
    assert.equal(v6.server, "https://[fd00::1]:6443");
    await assert.rejects(() => inClusterConfig({ host: "", port: "" }), /not running in a cluster/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
