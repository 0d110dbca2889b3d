/**
 * PodSecurity admission as kubernetes/pod-security-admission applies it: the checks' wording
 * (policy/check_*.go, in check-ID order), enforce refusing Pods with 403, warn on pods and on the
 * pod templates of controllers (admission/admission.go), and the namespace labels (api/helpers.go).
 */
import assert from "node:assert/strict";
import { admitPodSpec, evaluate, policyOf } from "../../src/sandbox/apiserver/pod_security.ts";
import { api, withSandbox } from "./helpers.ts";
import { kubectl, requireKubectl } from "./kubectl.ts";
import { startSandbox } from "../../src/sandbox/apiserver/mod.ts";

type Obj = Record<string, unknown>;

const privileged = {
  hostNetwork: true,
  volumes: [{ name: "root", hostPath: { path: "/" } }],
  containers: [{
    name: "c",
    image: "busybox",
    ports: [{ containerPort: 80, hostPort: 8080 }],
    securityContext: { privileged: true, capabilities: { add: ["SYS_ADMIN"] } },
  }],
};

const hardened = {
  securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
  containers: [{
    name: "c",
    image: "busybox",
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
  }],
};

Deno.test("pod security: baseline forbids privileged, host namespaces, hostPath, hostPorts, added capabilities", () => {
  assert.equal(
    evaluate("baseline", privileged),
    'non-default capabilities (container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add), ' +
      "host namespaces (hostNetwork=true), " +
      'hostPath volumes (volume "root"), ' +
      'hostPort (container "c" uses hostPort 8080), ' +
      'privileged (container "c" must not set securityContext.privileged=true)',
  );
  assert.equal(evaluate("baseline", hardened), undefined);
  assert.equal(evaluate("privileged", privileged), undefined);
});

Deno.test("pod security: restricted adds escalation, capabilities, volumes, runAsNonRoot and seccomp", () => {
  const plain = {
    containers: [{ name: "app", image: "x" }],
    volumes: [{ name: "n", nfs: { server: "s", path: "/" } }],
  };
  assert.equal(
    evaluate("restricted", plain),
    'allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), ' +
      'unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]), ' +
      'restricted volume types (volume "n" uses restricted volume type "nfs"), ' +
      'runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), ' +
      'seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
  );
  assert.equal(evaluate("restricted", hardened), undefined);
  const explicit = {
    ...hardened,
    securityContext: { runAsNonRoot: false, seccompProfile: { type: "Unconfined" } },
  };
  assert.match(
    evaluate("restricted", explicit)!,
    /runAsNonRoot != true \(pod must not set securityContext\.runAsNonRoot=false\)/,
  );
  assert.match(
    evaluate("restricted", explicit)!,
    /seccompProfile \(pod must not set securityContext\.seccompProfile\.type to "Unconfined"\)/,
  );
});

Deno.test("pod security: namespace labels; warn follows a stricter enforce; versions print", () => {
  const p = policyOf({
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "v1.30",
  });
  assert.deepEqual(p, {
    enforce: { level: "restricted", version: "v1.30" },
    warn: { level: "restricted", version: "v1.30" },
  });
  assert.deepEqual(policyOf({}).enforce, { level: "privileged", version: "latest" });
  const d = admitPodSpec(
    policyOf({ "pod-security.kubernetes.io/warn": "baseline" }),
    privileged,
    {},
    true,
  );
  assert.equal(d.denied, undefined);
  assert.match(
    d.warnings[0],
    /^would violate PodSecurity "baseline:latest": non-default capabilities/,
  );
  const controller = admitPodSpec(p, privileged, {}, false);
  assert.equal(controller.denied, undefined, "pod controllers are never refused");
  assert.match(controller.warnings[0], /^would violate PodSecurity "restricted:v1.30": /);
});

Deno.test("pod security over HTTP: a privileged pod is refused in a restricted namespace, a Deployment only warned", async () => {
  await withSandbox(async (sb) => {
    await api(sb, "POST", "/api/v1/namespaces", {
      metadata: { name: "locked", labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
    });
    const pod = await api(sb, "POST", "/api/v1/namespaces/locked/pods", {
      metadata: { name: "p" },
      spec: privileged,
    });
    assert.equal(pod.status, 403);
    assert.equal(pod.body.reason, "Forbidden");
    assert.match(
      String(pod.body.message),
      /^pods "p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "c" must set securityContext\.allowPrivilegeEscalation=false\), unrestricted capabilities/,
    );
    const ok = await api(sb, "POST", "/api/v1/namespaces/locked/pods", {
      metadata: { name: "q" },
      spec: hardened,
    });
    assert.equal(ok.status, 201);
    const dep = await api(sb, "POST", "/apis/apps/v1/namespaces/locked/deployments", {
      metadata: { name: "d" },
      spec: {
        selector: { matchLabels: { app: "d" } },
        template: { metadata: { labels: { app: "d" } }, spec: privileged },
      },
    });
    assert.equal(dep.status, 201);
    assert.match(
      dep.headers.get("warning") ?? "",
      /would violate PodSecurity \\"restricted:latest\\": /,
    );
  });
});

Deno.test("pod security with kubectl: the refusal and the warning as a user sees them", async () => {
  await requireKubectl();
  const home = await Deno.makeTempDir({ prefix: "kubectl-psa-" });
  const sb = await startSandbox({});
  try {
    await kubectl(sb, home, "create", "namespace", "locked");
    const l = await kubectl(
      sb,
      home,
      "label",
      "namespace",
      "locked",
      "pod-security.kubernetes.io/enforce=restricted",
    );
    assert.equal(l.code, 0, l.stderr);
    const file = `${home}/pod.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p", namespace: "locked" },
        spec: privileged,
      }),
    );
    const r = await kubectl(sb, home, "apply", "-f", file);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pods "p" is forbidden: violates PodSecurity "restricted:latest": /);
    const dfile = `${home}/dep.json`;
    await Deno.writeTextFile(
      dfile,
      JSON.stringify(
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "d", namespace: "locked" },
          spec: {
            selector: { matchLabels: { app: "d" } },
            template: { metadata: { labels: { app: "d" } }, spec: privileged },
          },
        } satisfies Obj,
      ),
    );
    const d = await kubectl(sb, home, "apply", "-f", dfile);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /Warning: would violate PodSecurity "restricted:latest": /);
  } finally {
    await sb.close();
    await Deno.remove(home, { recursive: true });
  }
});
