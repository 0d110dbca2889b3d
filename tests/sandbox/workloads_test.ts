/**
 * The kinds later work needs: batch/v1 Job (generated selector, defaults, status subresource,
 * immutable template), core/v1 Pod (defaults, status subresource, graceful deletion of a
 * scheduled pod) and storage.k8s.io/v1 VolumeAttachment (cluster-scoped, status subresource,
 * immutable spec), over HTTP and with kubectl's tables.
 */
import assert from "node:assert/strict";
import { startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { api, readWatch, withSandbox } from "./helpers.ts";
import { kubectl, requireKubectl } from "./kubectl.ts";

type Obj = Record<string, unknown>;
const JOBS = "/apis/batch/v1/namespaces/default/jobs";
const PODS = "/api/v1/namespaces/default/pods";
const VAS = "/apis/storage.k8s.io/v1/volumeattachments";
const md = (o: Obj) => o.metadata as Obj;

const job = (name: string, restartPolicy = "Never") => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name },
  spec: {
    template: { spec: { restartPolicy, containers: [{ name: "mover", image: "couchestor:dev" }] } },
  },
});

Deno.test("job: the strategy's selector and labels, defaults, status kept apart, template immutable", async () => {
  await withSandbox(async (sb) => {
    const r = await api(sb, "POST", JOBS, { ...job("move"), status: { succeeded: 9 } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const uid = md(r.body).uid as string;
    const spec = r.body.spec as Obj & { template: Obj };
    assert.deepEqual(spec.selector, { matchLabels: { "batch.kubernetes.io/controller-uid": uid } });
    assert.deepEqual(md(spec.template).labels, {
      "batch.kubernetes.io/controller-uid": uid,
      "batch.kubernetes.io/job-name": "move",
      "controller-uid": uid,
      "job-name": "move",
    });
    assert.deepEqual([spec.completions, spec.parallelism, spec.backoffLimit, spec.completionMode], [
      1,
      1,
      6,
      "NonIndexed",
    ]);
    assert.equal(r.body.status, undefined, "status is cleared at create");
    const st = await api(sb, "PATCH", `${JOBS}/move/status`, {
      status: { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] },
    }, { "content-type": "application/merge-patch+json" });
    assert.equal(st.status, 200);
    assert.equal((st.body.status as Obj).succeeded, 1);
    const change = await api(sb, "PATCH", `${JOBS}/move`, {
      spec: { template: { spec: { containers: [{ name: "mover", image: "other" }] } } },
    }, { "content-type": "application/strategic-merge-patch+json" });
    assert.equal(change.status, 422);
    assert.match(
      String(change.body.message),
      /spec\.template: Invalid value: .*field is immutable/,
    );
    const always = await api(sb, "POST", JOBS, job("bad", "Always"));
    assert.equal(always.status, 422);
    assert.match(
      String(always.body.message),
      /spec\.template\.spec\.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"/,
    );
  });
});

Deno.test("pod: defaults, Pending status, watch, immediate delete when unscheduled, graceful when scheduled", async () => {
  await withSandbox(async (sb) => {
    const w = await fetch(`${sb.httpUrl}${PODS}?watch=true`, {
      headers: { authorization: `Bearer ${sb.token}` },
    });
    const created = await api(sb, "POST", PODS, {
      metadata: { name: "a" },
      spec: { containers: [{ name: "c", image: "busybox:1.36" }] },
      status: { phase: "Running" },
    });
    assert.equal(created.status, 201);
    const spec = created.body.spec as Obj & { containers: Obj[] };
    assert.deepEqual([spec.restartPolicy, spec.dnsPolicy, spec.terminationGracePeriodSeconds], [
      "Always",
      "ClusterFirst",
      30,
    ]);
    assert.equal(spec.containers[0].imagePullPolicy, "IfNotPresent");
    assert.equal((created.body.status as Obj).phase, "Pending", "status is the server's at create");
    const events = await readWatch(w.body!, (evs) => evs.length >= 1);
    assert.deepEqual(events.map((e) => e.type), ["ADDED"]);
    const del = await api(sb, "DELETE", `${PODS}/a`);
    assert.equal(del.status, 200);
    assert.equal((await api(sb, "GET", `${PODS}/a`)).status, 404, "unscheduled: deleted at once");
    await api(sb, "POST", PODS, {
      metadata: { name: "b" },
      spec: { nodeName: "node-1", containers: [{ name: "c", image: "busybox" }] },
    });
    const graceful = await api(sb, "DELETE", `${PODS}/b`);
    assert.equal(md(graceful.body).deletionGracePeriodSeconds, 30);
    assert.ok(
      md((await api(sb, "GET", `${PODS}/b`)).body).deletionTimestamp,
      "a kubelet would finish it",
    );
    await api(sb, "DELETE", `${PODS}/b`, { gracePeriodSeconds: 0 });
    assert.equal((await api(sb, "GET", `${PODS}/b`)).status, 404);
    const immut = await api(sb, "POST", PODS, {
      metadata: { name: "c" },
      spec: { containers: [{ name: "c", image: "x" }] },
    });
    assert.equal(immut.status, 201);
    const bad = await api(sb, "PATCH", `${PODS}/c`, { spec: { restartPolicy: "Never" } }, {
      "content-type": "application/merge-patch+json",
    });
    assert.equal(bad.status, 422);
    assert.match(
      String(bad.body.message),
      /spec: Forbidden: pod updates may not change fields other than/,
    );
    const img = await api(sb, "PATCH", `${PODS}/c`, {
      spec: { containers: [{ name: "c", image: "y" }] },
    }, {
      "content-type": "application/strategic-merge-patch+json",
    });
    assert.equal(img.status, 200, "images may change");
  });
});

Deno.test("volumeattachment: cluster-scoped, one source, status subresource, spec immutable", async () => {
  await withSandbox(async (sb) => {
    const va = {
      apiVersion: "storage.k8s.io/v1",
      kind: "VolumeAttachment",
      metadata: { name: "csi-abc" },
      spec: {
        attacher: "io.openebs.csi-mayastor",
        nodeName: "node-1",
        source: { persistentVolumeName: "pv-1" },
      },
    };
    assert.equal((await api(sb, "POST", VAS, va)).status, 201);
    const none = await api(sb, "POST", VAS, {
      ...va,
      metadata: { name: "x" },
      spec: { attacher: "a", nodeName: "n", source: {} },
    });
    assert.equal(none.status, 422);
    assert.match(
      String(none.body.message),
      /spec\.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName/,
    );
    const st = await api(sb, "PATCH", `${VAS}/csi-abc/status`, { status: { attached: true } }, {
      "content-type": "application/merge-patch+json",
    });
    assert.equal((st.body.status as Obj).attached, true);
    const move = await api(sb, "PATCH", `${VAS}/csi-abc`, { spec: { nodeName: "node-2" } }, {
      "content-type": "application/merge-patch+json",
    });
    assert.equal(move.status, 422);
    assert.match(String(move.body.message), /spec: Invalid value: .*field is immutable/);
    const disc = await api(sb, "GET", "/apis/storage.k8s.io/v1");
    const res = (disc.body.resources as Obj[]).find((r) => r.name === "volumeattachments");
    assert.equal(res?.namespaced, false);
    const v3 = (await api(sb, "GET", "/openapi/v3")).body.paths as Obj;
    for (const gv of ["api/v1", "apis/batch/v1", "apis/storage.k8s.io/v1"]) assert.ok(v3[gv], gv);
    const v2 = await api(sb, "GET", "/openapi/v2", undefined, { accept: "application/json" });
    const kinds = Object.values(v2.body.definitions as Obj).flatMap((d) =>
      ((d as Obj)["x-kubernetes-group-version-kind"] as Obj[] | undefined) ?? []
    ).map((g) => `${g.group}/${g.kind}`);
    for (const k of ["batch/Job", "/Pod", "storage.k8s.io/VolumeAttachment"]) {
      assert.ok(kinds.includes(k), k);
    }
  });
});

Deno.test("kubectl: typed run/create commands (protobuf bodies); get jobs, pods and volumeattachments print their tables", async () => {
  await requireKubectl();
  const home = await Deno.makeTempDir({ prefix: "kubectl-kinds-" });
  const sb = await startSandbox({});
  try {
    await api(sb, "POST", JOBS, job("move"));
    await api(sb, "POST", PODS, {
      metadata: { name: "p" },
      spec: { containers: [{ name: "c", image: "x" }] },
    });
    await api(sb, "POST", VAS, {
      metadata: { name: "va" },
      spec: {
        attacher: "io.openebs.csi-mayastor",
        nodeName: "node-1",
        source: { persistentVolumeName: "pv-1" },
      },
    });
    const head = async (...args: string[]) => {
      const r = await kubectl(sb, home, "get", ...args);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim().split("\n").map((l) => l.split(/\s{2,}/));
    };
    assert.deepEqual((await head("jobs"))[0], ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]);
    const pods = await head("pods");
    assert.deepEqual(pods[0], ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert.deepEqual(pods[1].slice(0, 4), ["p", "0/1", "Pending", "0"]);
    // Typed commands post protobuf bodies (protobuf_bodies.ts decodes them).
    for (
      const args of [
        ["run", "web", "--image=nginx:1.27", "--port=80", "--env=A=1"],
        ["create", "deployment", "d", "--image=nginx", "--replicas=2"],
        ["create", "job", "j", "--image=busybox", "--", "echo", "hi"],
        ["create", "clusterrole", "cr", "--verb=get", "--resource=configmaps"],
      ]
    ) {
      const r = await kubectl(sb, home, ...args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    }
    const web = await api(sb, "GET", `${PODS}/web`);
    assert.deepEqual(((web.body.spec as Obj).containers as Obj[])[0].ports, [{
      containerPort: 80,
      protocol: "TCP",
    }]);
    const d = await api(sb, "GET", "/apis/apps/v1/namespaces/default/deployments/d");
    assert.equal((d.body.spec as Obj).replicas, 2);
    const j = await api(sb, "GET", `${JOBS}/j`);
    const jc = ((((j.body.spec as Obj).template as Obj).spec as Obj).containers as Obj[])[0];
    assert.deepEqual(jc.command, ["echo", "hi"]);
    const cr = await api(sb, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/cr");
    assert.deepEqual(cr.body.rules, [{
      apiGroups: [""],
      resources: ["configmaps"],
      verbs: ["get"],
    }]);
    const vas = await head("volumeattachments");
    assert.deepEqual(vas[0], ["NAME", "ATTACHER", "PV", "NODE", "ATTACHED", "AGE"]);
    assert.deepEqual(vas[1].slice(0, 5), [
      "va",
      "io.openebs.csi-mayastor",
      "pv-1",
      "node-1",
      "false",
    ]);
  } finally {
    await sb.close();
    await Deno.remove(home, { recursive: true });
  }
});
