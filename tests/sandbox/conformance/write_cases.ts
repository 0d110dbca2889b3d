/** Writes: preconditions, dry run, query parameters, canonical forms, validation, subresources. */
import assert from "node:assert/strict";
import { type Case, configMap, kc, kjson, kok, manifest, persistentVolume, py } from "./case.ts";

type Obj = Record<string, unknown>;

const lease = (ns: string, spec: Obj = { holderIdentity: "a", leaseDurationSeconds: 15 }) => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: { name: "l", namespace: ns },
  spec,
});
const widget = (ns: string, tier = "hot") => ({
  apiVersion: "test.couchestor.io/v1",
  kind: "Widget",
  metadata: { name: "w", namespace: ns },
  spec: { tier },
});

/** Every write case. */
export const writeCases: Case[] = [{
  name: "an update of a CR or a Lease without metadata.resourceVersion is refused",
  expects:
    '422 Invalid naming metadata.resourceVersion ("must be specified for an update") for strategies whose AllowUnconditionalUpdate() is false',
  upstream:
    "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go (Update), pkg/registry/coordination/lease/strategy.go, staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/strategy.go",
  async kubectl(c) {
    for (const [name, obj] of [["lease", lease(c.ns)], ["widget", widget(c.ns)]] as const) {
      const file = await manifest(c, name, obj);
      await kok(c, "create", "-f", file);
      // `replace --raw` PUTs the file as it is (plain `replace` copies the live version in).
      const path = name === "lease"
        ? `/apis/coordination.k8s.io/v1/namespaces/${c.ns}/leases/l`
        : `/apis/test.couchestor.io/v1/namespaces/${c.ns}/widgets/w`;
      const r = await kc(c, "replace", "--raw", path, "-f", file);
      assert.notEqual(r.code, 0);
      assert.match(
        r.stderr,
        /metadata\.resourceVersion: Invalid value: 0: must be specified for an update/,
      );
    }
  },
  async python(c) {
    const r = await py(
      c,
      `
coord.create_namespaced_lease(NS, {"metadata": {"name": "l"}, "spec": {"holderIdentity": "a"}})
lease = fails(lambda: coord.replace_namespaced_lease("l", NS, {"metadata": {"name": "l"}, "spec": {"holderIdentity": "b"}}))
G = ("test.couchestor.io", "v1", NS, "widgets")
w = {"apiVersion": "test.couchestor.io/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"tier": "hot"}}
custom.create_namespaced_custom_object(*G, w)
cr = fails(lambda: custom.replace_namespaced_custom_object(*G, "w", w))
out({"lease": lease, "cr": cr})
`,
    );
    for (const k of ["lease", "cr"]) {
      const e = r[k] as { status: number; body: { details: { causes: { field: string }[] } } };
      assert.equal(e.status, 422, k);
      assert.equal(e.body.details.causes[0].field, "metadata.resourceVersion", k);
    }
  },
}, {
  name: "dryRun accepts only All and never persists",
  expects:
    'dryRun=All runs the write without storing it; any other value is 422 Invalid (Unsupported value, supported values: "All")',
  upstream:
    "staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go (ValidateDryRun), staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go",
  async kubectl(c) {
    const file = await manifest(c, "cm", configMap("dry", c.ns, { a: "1" }));
    await kok(c, "create", "-f", file, "--dry-run=server");
    assert.notEqual((await kc(c, "get", "configmap", "dry")).code, 0, "dry run stored nothing");
    const bad = await kc(
      c,
      "create",
      "--raw",
      `/api/v1/namespaces/${c.ns}/configmaps?dryRun=True`,
      "-f",
      file,
    );
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /supported values: "All"/);
    assert.notEqual(
      (await kc(c, "get", "configmap", "dry")).code,
      0,
      "a refused dry run stores nothing",
    );
  },
  async python(c) {
    const r = await py(
      c,
      `
body = {"metadata": {"name": "dry"}, "data": {"a": "1"}}
core.create_namespaced_config_map(NS, body, dry_run="All")
after_all = fails(lambda: core.read_namespaced_config_map("dry", NS))
bad = fails(lambda: core.create_namespaced_config_map(NS, body, dry_run="True"))
after_bad = fails(lambda: core.read_namespaced_config_map("dry", NS))
out({"after_all": after_all, "bad": bad, "after_bad": after_bad})
`,
    );
    assert.equal((r.after_all as Obj).status, 404);
    assert.equal((r.bad as Obj).status, 422);
    assert.match(
      JSON.stringify(r.bad),
      /dryRun: Unsupported value: \[\\"True\\"\]: supported values: \\"All\\"/,
    );
    assert.equal((r.after_bad as Obj).status, 404);
  },
}, {
  name: "boolean query parameters: any value but 0/false is true",
  expects: "watch=True (and watch=1, watch=) watches instead of listing",
  upstream:
    "staging/src/k8s.io/apimachinery/pkg/runtime/conversion.go (Convert_Slice_string_To_bool)",
  async kubectl(c) {
    await kok(c, "create", "configmap", "q", "--from-literal=a=b");
    const out = await kok(
      c,
      "get",
      "--raw",
      `/api/v1/namespaces/${c.ns}/configmaps?watch=True&timeoutSeconds=1`,
    );
    const first = JSON.parse(out.trim().split("\n")[0]);
    assert.equal(first.type, "ADDED");
    assert.equal(first.object.metadata.name, "q");
  },
  async python(c) {
    const r = await py<{ lines: string[] }>(
      c,
      `
core.create_namespaced_config_map(NS, {"metadata": {"name": "q"}})
resp = api.call_api("/api/v1/namespaces/" + NS + "/configmaps", "GET",
    query_params=[("watch", "True"), ("timeoutSeconds", "1")], auth_settings=["BearerToken"],
    _preload_content=False, _return_http_data_only=True)
out({"lines": resp.data.decode().strip().split("\\n")})
`,
    );
    const first = JSON.parse(r.lines[0]);
    assert.equal(first.type, "ADDED");
    assert.equal(first.object.metadata.name, "q");
  },
}, {
  name: "a PUT whose body namespace differs from the URL's is refused",
  expects:
    "400 BadRequest: the namespace of the provided object does not match the namespace sent on the request",
  upstream: "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go (checkName)",
  async kubectl(c) {
    await kok(c, "create", "configmap", "x");
    const cm = await kjson(c, "get", "configmap", "x");
    (cm.metadata as Obj).namespace = "default";
    const file = await manifest(c, "x", cm);
    const r = await kc(
      c,
      "replace",
      "--raw",
      `/api/v1/namespaces/${c.ns}/configmaps/x`,
      "-f",
      file,
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /does not match the namespace sent on the request/);
  },
  async python(c) {
    const r = await py(
      c,
      `
cm = core.create_namespaced_config_map(NS, {"metadata": {"name": "x"}})
cm.metadata.namespace = "default"
out({"err": fails(lambda: core.replace_namespaced_config_map("x", NS, cm))})
`,
    );
    assert.equal((r.err as Obj).status, 400);
  },
}, {
  name: "resourceVersionMatch=Exact lists the state at that version",
  expects:
    "a list with resourceVersion=N&resourceVersionMatch=Exact answers the collection as it was at N; a version newer than the store is 504 Too large resource version",
  upstream:
    "staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go (GetList), staging/src/k8s.io/apiserver/pkg/storage/errors.go (NewTooLargeResourceVersionError)",
  async kubectl(c) {
    const created = await kjson(c, "create", "configmap", "a");
    const rv = (created.metadata as Obj).resourceVersion as string;
    await kok(c, "create", "configmap", "b");
    const base = `/api/v1/namespaces/${c.ns}/configmaps`;
    const then = JSON.parse(
      await kok(c, "get", "--raw", `${base}?resourceVersion=${rv}&resourceVersionMatch=Exact`),
    );
    assert.deepEqual(then.items.map((i: Obj) => (i.metadata as Obj).name), ["a"]);
    assert.equal(then.metadata.resourceVersion, rv);
  },
  async python(c) {
    const r = await py(
      c,
      `
rv = core.create_namespaced_config_map(NS, {"metadata": {"name": "a"}}).metadata.resource_version
core.create_namespaced_config_map(NS, {"metadata": {"name": "b"}})
then = core.list_namespaced_config_map(NS, resource_version=rv, resource_version_match="Exact")
now = core.list_namespaced_config_map(NS)
out({"then": [i.metadata.name for i in then.items], "now": [i.metadata.name for i in now.items]})
`,
    );
    assert.deepEqual(r.then, ["a"]);
    assert.deepEqual(r.now, ["a", "b"]);
  },
}, {
  name: "empty labels/annotations are dropped, so an unchanged object diffs empty",
  expects:
    "ObjectMeta's omitempty maps vanish on decode; kubectl diff of an unchanged object prints nothing and exits 0; a no-op update keeps the resourceVersion",
  upstream:
    "staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go (ObjectMeta omitempty), staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta/coerce.go",
  async kubectl(c) {
    const file = await manifest(
      c,
      "cm",
      configMap("e", c.ns, { a: "1" }, { labels: {}, annotations: {} }),
    );
    await kok(c, "apply", "-f", file);
    const got = await kjson(c, "get", "configmap", "e");
    assert.equal((got.metadata as Obj).labels, undefined);
    const d = await kc(c, "diff", "-f", file);
    assert.equal(d.code, 0, d.stdout + d.stderr);
    assert.equal(d.stdout, "");
  },
  async python(c) {
    const r = await py(
      c,
      `
cm = core.create_namespaced_config_map(NS, {"metadata": {"name": "e", "labels": {}, "annotations": {}}, "data": {"a": "1"}})
again = core.replace_namespaced_config_map("e", NS, cm)
out({"labels": cm.metadata.labels, "annotations": cm.metadata.annotations,
     "rv": cm.metadata.resource_version, "rv_after": again.metadata.resource_version})
`,
    );
    assert.equal(r.labels, null);
    assert.equal(r.annotations, null);
    assert.equal(r.rv_after, r.rv, "a no-op replace keeps the resourceVersion");
  },
}, {
  name: "Lease fields are validated and MicroTimes normalised",
  expects:
    "leaseDurationSeconds must be greater than 0 (422); renewTime/acquireTime are stored in UTC with six fraction digits",
  upstream:
    "pkg/apis/coordination/validation/validation.go (ValidateLeaseSpec), staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/micro_time.go",
  async kubectl(c) {
    const bad = await manifest(c, "bad", lease(c.ns, { leaseDurationSeconds: 0 }));
    const r = await kc(c, "create", "-f", bad);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.leaseDurationSeconds: Invalid value: 0: must be greater than 0/);
    const good = await manifest(
      c,
      "good",
      lease(c.ns, { renewTime: "2026-01-01T02:00:00.500000+02:00" }),
    );
    const got = await kjson(c, "create", "-f", good);
    assert.equal((got.spec as Obj).renewTime, "2026-01-01T00:00:00.500000Z");
  },
  async python(c) {
    const r = await py(
      c,
      `
bad = fails(lambda: coord.create_namespaced_lease(NS, {"metadata": {"name": "bad"}, "spec": {"leaseDurationSeconds": 0}}))
tz = datetime.timezone(datetime.timedelta(hours=2))
t = datetime.datetime(2026, 1, 1, 2, 0, 0, 250000, tzinfo=tz)
created = coord.create_namespaced_lease(NS, client.V1Lease(metadata=client.V1ObjectMeta(name="l"),
    spec=client.V1LeaseSpec(holder_identity="a", renew_time=t)))
raw_lease = raw("GET", "/apis/coordination.k8s.io/v1/namespaces/" + NS + "/leases/l")
out({"bad": bad, "renewTime": raw_lease["spec"]["renewTime"]})
`,
    );
    assert.equal((r.bad as Obj).status, 422);
    assert.equal(r.renewTime, "2026-01-01T00:00:00.250000Z");
  },
}, {
  name: "PVs and PVCs get their protection finalizer",
  expects:
    "kubernetes.io/pv-protection on every new PV and kubernetes.io/pvc-protection on every new claim; an unbound PV is removed once deleted",
  upstream:
    "plugin/pkg/admission/storage/storageobjectinuseprotection/admission.go, pkg/controller/volume/pvprotection/pv_protection_controller.go",
  async kubectl(c) {
    const pv = await manifest(c, "pv", persistentVolume(`${c.ns}-pv`));
    const got = await kjson(c, "create", "-f", pv);
    assert.deepEqual((got.metadata as Obj).finalizers, ["kubernetes.io/pv-protection"]);
    await kok(c, "delete", "pv", `${c.ns}-pv`, "--timeout=10s");
    assert.notEqual((await kc(c, "get", "pv", `${c.ns}-pv`)).code, 0);
  },
  async python(c) {
    const r = await py(
      c,
      `
pvc = core.create_namespaced_persistent_volume_claim(NS, {"metadata": {"name": "c"},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
out({"finalizers": pvc.metadata.finalizers})
`,
    );
    assert.deepEqual(r.finalizers, ["kubernetes.io/pvc-protection"]);
  },
}, {
  name: "SelfSubjectAccessReview answers kubectl auth can-i",
  expects: "POST selfsubjectaccessreviews answers status.allowed for the caller",
  upstream: "pkg/registry/authorization/selfsubjectaccessreview/rest.go",
  async kubectl(c) {
    assert.equal((await kok(c, "auth", "can-i", "create", "configmaps")).trim(), "yes");
  },
  async python(c) {
    const r = await py(
      c,
      `
rev = authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(
    spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(
        namespace=NS, verb="delete", resource="leases", group="coordination.k8s.io"))))
out({"allowed": rev.status.allowed})
`,
    );
    assert.equal(r.allowed, true);
  },
}, {
  name: "the Deployment /scale subresource",
  expects:
    "autoscaling/v1 Scale over spec.replicas, with status.selector as a label selector string",
  upstream: "pkg/registry/apps/deployment/storage/storage.go (ScaleREST, scaleFromDeployment)",
  async kubectl(c) {
    await kok(c, "create", "deployment", "web", "--image=nginx");
    await kok(c, "scale", "deployment", "web", "--replicas=3");
    const scale = JSON.parse(
      await kok(c, "get", "--raw", `/apis/apps/v1/namespaces/${c.ns}/deployments/web/scale`),
    );
    assert.equal(scale.kind, "Scale");
    assert.equal(scale.spec.replicas, 3);
    assert.equal(scale.status.selector, "app=web");
  },
  async python(c) {
    const r = await py(
      c,
      `
apps.create_namespaced_deployment(NS, {"metadata": {"name": "web"}, "spec": {
    "selector": {"matchLabels": {"app": "web"}},
    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 2}})
s = apps.read_namespaced_deployment_scale("web", NS)
d = apps.read_namespaced_deployment("web", NS)
out({"scale": s.spec.replicas, "selector": s.status.selector, "deployment": d.spec.replicas})
`,
    );
    assert.deepEqual(r, { scale: 2, selector: "app=web", deployment: 2 });
  },
}, {
  name: "/openapi/v2 is served, so a kind: List file applies",
  expects:
    "kubectl validates a List against /openapi/v2 (protobuf); the document tags each kind with x-kubernetes-group-version-kind",
  upstream:
    "staging/src/k8s.io/kube-openapi/pkg/handler/handler.go, staging/src/k8s.io/kubectl/pkg/validation/validation.go (validateList)",
  async kubectl(c) {
    const file = await manifest(c, "list", {
      apiVersion: "v1",
      kind: "List",
      items: [configMap("l1", c.ns, { a: "1" }), configMap("l2", c.ns, { b: "2" })],
    });
    const out = await kok(c, "apply", "-f", file);
    assert.match(out, /configmap\/l1 created/);
    assert.match(out, /configmap\/l2 created/);
  },
  async python(c) {
    const r = await py(
      c,
      `
doc = api.call_api("/openapi/v2", "GET", header_params={"Accept": "application/json"},
    auth_settings=["BearerToken"], response_type="object", _return_http_data_only=True)
out({"gvk": doc["definitions"]["io.k8s.api.core.v1.ConfigMap"]["x-kubernetes-group-version-kind"]})
`,
    );
    assert.deepEqual(r.gvk, [{ group: "", kind: "ConfigMap", version: "v1" }]);
  },
}];
