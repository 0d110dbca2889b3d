/**
 * The stricter HTTP behaviours of issue 18 over a real listener: create-on-update, unconditional
 * updates of CRDs, verbs a resource does not serve, /openapi/v2 negotiation, /scale validation,
 * access review validation and lists at a compacted version.
 */
import assert from "node:assert/strict";
import { api, widgetCrd, withSandbox } from "./helpers.ts";

type Obj = Record<string, unknown>;
const LEASES = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
const CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

Deno.test("strict: a PUT of a missing Lease creates it (AllowCreateOnUpdate); of a missing ConfigMap is 404", async () => {
  await withSandbox(async (sb) => {
    const put = await api(sb, "PUT", `${LEASES}/new`, {
      metadata: { name: "new" },
      spec: { holderIdentity: "a" },
    });
    assert.equal(put.status, 201);
    assert.equal((put.body.spec as Obj).holderIdentity, "a");
    const cm = await api(sb, "PUT", "/api/v1/namespaces/default/configmaps/nope", {
      metadata: { name: "nope" },
    });
    assert.equal(cm.status, 404);
  });
});

Deno.test("strict: a CRD update without resourceVersion is 422 naming metadata.resourceVersion", async () => {
  await withSandbox(async (sb) => {
    const crd = widgetCrd();
    assert.equal((await api(sb, "POST", CRDS, crd)).status, 201);
    const name = (crd.metadata as Obj).name as string;
    const r = await api(sb, "PUT", `${CRDS}/${name}`, crd);
    assert.equal(r.status, 422);
    assert.equal(
      r.body.message,
      `customresourcedefinitions.apiextensions.k8s.io "${name}" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update`,
    );
    const details = r.body.details as Obj;
    assert.equal(details.kind, "customresourcedefinitions");
  });
});

Deno.test("strict: verbs a resource does not serve are 405; access reviews need exactly one attribute set", async () => {
  await withSandbox(async (sb) => {
    const ssar = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    assert.equal((await api(sb, "GET", ssar)).status, 405);
    const both = await api(sb, "POST", ssar, {
      spec: {
        resourceAttributes: { verb: "get" },
        nonResourceAttributes: { path: "/x", verb: "get" },
      },
    });
    assert.equal(both.status, 422);
    const ok = await api(sb, "POST", ssar, {
      spec: { nonResourceAttributes: { path: "/healthz", verb: "get" } },
    });
    assert.equal(ok.status, 201);
    assert.equal((ok.body.status as Obj).allowed, true);
    const disc = await api(sb, "GET", "/apis/authorization.k8s.io/v1");
    const res = (disc.body.resources as Obj[]).find((r) => r.name === "selfsubjectaccessreviews");
    assert.deepEqual(res?.verbs, ["create"]);
  });
});

Deno.test("strict: /openapi/v2 answers protobuf or JSON by Accept, else 406", async () => {
  await withSandbox(async (sb) => {
    const get = (accept: string) =>
      fetch(`${sb.httpUrl}/openapi/v2`, {
        headers: { authorization: `Bearer ${sb.token}`, accept },
      });
    const pb = await get("application/com.github.proto-openapi.spec.v2@v1.0+protobuf");
    assert.equal(pb.status, 200);
    assert.equal(
      pb.headers.get("content-type"),
      "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
    );
    const bytes = new Uint8Array(await pb.arrayBuffer());
    // Field 1 (swagger, length-delimited) = "2.0".
    assert.deepEqual([...bytes.subarray(0, 5)], [0x0a, 3, 0x32, 0x2e, 0x30]);
    const json = await get("application/json");
    assert.equal((await json.json()).swagger, "2.0");
    const no = await get("text/html");
    assert.equal(no.status, 406);
    await no.body?.cancel();
  });
});

Deno.test("strict: /scale refuses negative replicas and a foreign uid", async () => {
  await withSandbox(async (sb) => {
    const base = "/apis/apps/v1/namespaces/default/deployments";
    const dep = await api(sb, "POST", base, {
      metadata: { name: "web" },
      spec: {
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "c", image: "x" }] },
        },
      },
    });
    assert.equal(dep.status, 201);
    const neg = await api(sb, "PUT", `${base}/web/scale`, {
      metadata: { name: "web" },
      spec: { replicas: -1 },
    });
    assert.equal(neg.status, 422);
    assert.match(
      String(neg.body.message),
      /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/,
    );
    const uid = await api(sb, "PUT", `${base}/web/scale`, {
      metadata: { name: "web", uid: "other" },
      spec: { replicas: 1 },
    });
    assert.equal(uid.status, 409);
    const ok = await api(sb, "PATCH", `${base}/web/scale`, { spec: { replicas: 4 } }, {
      "content-type": "application/merge-patch+json",
    });
    assert.equal((ok.body.spec as Obj).replicas, 4);
  });
});

Deno.test("strict: a list at a compacted version is 410; Exact after a delete still shows the object", async () => {
  await withSandbox(async (sb) => {
    const cms = "/api/v1/namespaces/default/configmaps";
    const a = await api(sb, "POST", cms, { metadata: { name: "a" } });
    const rv = (a.body.metadata as Obj).resourceVersion as string;
    await api(sb, "DELETE", `${cms}/a`);
    const then = await api(sb, "GET", `${cms}?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    assert.deepEqual(then.body.items?.map((i) => (i.metadata as Obj).name), ["a"]);
    assert.deepEqual((await api(sb, "GET", cms)).body.items, []);
    sb.faults.compact();
    const gone = await api(sb, "GET", `${cms}?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    assert.equal(gone.status, 410);
    assert.equal(gone.body.reason, "Expired");
  });
});
