import assert from "node:assert/strict";
import {
  selectorMatches,
  validateBuiltin,
} from "../../src/sandbox/apiserver/builtin_validation.ts";

const deployment = (labels: Record<string, string>) => ({
  spec: {
    selector: { matchLabels: { app: "x" } },
    template: {
      metadata: { labels },
      spec: {
        containers: [{ name: "c", image: "i", volumeMounts: [{ name: "tmp", mountPath: "/tmp" }] }],
        volumes: [{ name: "tmp", emptyDir: {} }],
      },
    },
  },
});

const fields = (errs: { field: string }[]) => errs.map((e) => e.field);

Deno.test("builtin validation: Deployment selector must match the template labels", () => {
  assert.deepEqual(validateBuiltin("apps/deployments", deployment({ app: "x", more: "y" })), []);
  assert.deepEqual(fields(validateBuiltin("apps/deployments", deployment({ app: "z" }))), [
    "spec.template.metadata.labels",
  ]);
  assert.deepEqual(fields(validateBuiltin("apps/daemonsets", { spec: {} })), [
    "spec.selector",
    "spec.template.spec",
  ]);
});

Deno.test("builtin validation: containers need name and image; mounts need a volume", () => {
  const d = deployment({ app: "x" });
  d.spec.template.spec.containers = [{
    name: "",
    image: "",
    volumeMounts: [{ name: "nope", mountPath: "/x" }],
  }];
  assert.deepEqual(fields(validateBuiltin("apps/deployments", d)), [
    "spec.template.spec.containers[0].name",
    "spec.template.spec.containers[0].image",
    "spec.template.spec.containers[0].volumeMounts[0].name",
  ]);
});

Deno.test("builtin validation: Deployment selector is immutable", () => {
  const old = deployment({ app: "x", b: "1" });
  const next = deployment({ app: "x", b: "1" });
  next.spec.selector = { matchLabels: { app: "x", b: "1" } } as typeof next.spec.selector;
  assert.deepEqual(fields(validateBuiltin("apps/deployments", next, old)), ["spec.selector"]);
});

Deno.test("builtin validation: RBAC rules need verbs, groups and resources; bindings a roleRef", () => {
  assert.deepEqual(
    fields(validateBuiltin("rbac.authorization.k8s.io/clusterroles", {
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }, { resources: ["x"] }],
    })),
    ["rules[1].verbs", "rules[1].apiGroups"],
  );
  assert.deepEqual(
    fields(validateBuiltin("rbac.authorization.k8s.io/roles", {
      rules: [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }],
    })),
    ["rules[0].nonResourceURLs"],
  );
  assert.deepEqual(
    fields(validateBuiltin("rbac.authorization.k8s.io/clusterrolebindings", {
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" },
      subjects: [{ kind: "ServiceAccount", name: "sa" }],
    })),
    ["roleRef.kind", "subjects[0].namespace"],
  );
  const rb = {
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" },
    subjects: [{ kind: "ServiceAccount", name: "sa" }],
  };
  assert.deepEqual(validateBuiltin("rbac.authorization.k8s.io/rolebindings", rb), []);
  assert.deepEqual(
    fields(validateBuiltin("rbac.authorization.k8s.io/rolebindings", {
      ...rb,
      roleRef: { ...rb.roleRef, name: "other" },
    }, rb)),
    ["roleRef"],
  );
});

Deno.test("builtin validation: PodDisruptionBudget takes minAvailable or maxUnavailable", () => {
  assert.deepEqual(
    validateBuiltin("policy/poddisruptionbudgets", { spec: { minAvailable: 1 } }),
    [],
  );
  assert.deepEqual(
    fields(validateBuiltin("policy/poddisruptionbudgets", {
      spec: { minAvailable: "50%", maxUnavailable: 1 },
    })),
    ["spec"],
  );
  assert.deepEqual(
    fields(validateBuiltin("policy/poddisruptionbudgets", { spec: { minAvailable: "150%" } })),
    ["spec.minAvailable"],
  );
});

Deno.test("builtin validation: label selector matching", () => {
  const sel = {
    matchLabels: { a: "1" },
    matchExpressions: [{ key: "b", operator: "In", values: ["2", "3"] }, {
      key: "c",
      operator: "DoesNotExist",
    }],
  };
  assert.equal(selectorMatches(sel, { a: "1", b: "3" }), true);
  assert.equal(selectorMatches(sel, { a: "1", b: "4" }), false);
  assert.equal(selectorMatches(sel, { a: "1", b: "2", c: "" }), false);
});
