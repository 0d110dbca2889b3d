/**
 * Conformance of the simulator's REST surface with api-rest v2: error statuses and bodies
 * (`control-plane/stor-port/src/types/mod.rs`, `agents/src/common/errors.rs`), volumes created,
 * published and deleted over REST (`rest/service/src/v0/volumes.rs`, `core/volume/`), one
 * metrics exporter per node (mayastor-extensions `metrics-exporter/src/bin/io_engine/`), and
 * the OpenAPI validation every test relies on. Each case says what the previous simulator did.
 */
import assert from "node:assert/strict";
import { SpecValidator } from "./openapi.ts";
import { poolsOf, SIZE, type V0Volume, withSim } from "./helpers.ts";

type Err = { kind: string; message: string; details: string };
const body = (replicas: number, extra: Record<string, unknown> = {}) => ({
  policy: { self_heal: true },
  replicas,
  size: SIZE,
  thin: false,
  ...extra,
});

Deno.test("errors: 422 AlreadyExists, 409 InUse, 404 bodies as api-rest builds them", async () => {
  // errors.rs SvcError→ReplyError (message "<Variant>: <display>", details = parent chain or
  // "id: <id>"), types/mod.rs (AlreadyExists→422, InUse→409, NotFound→404); the REST layer's
  // own 404s ("Requested <x> was not found", "<X> id : <id>", v0/nexuses.rs, v0/replicas.rs).
  // Before: AlreadyExists was 409, deleting an owned replica 204, bodies had no real message.
  await withSim(async (env) => {
    const r = crypto.randomUUID();
    const create = { size: SIZE, thin: false };
    assert.equal((await env.rest("PUT", `/pools/hot-1/replicas/${r}`, create)).status, 200);
    const dup = await env.rest<Err>("PUT", `/pools/hot-1/replicas/${r}`, create);
    assert.equal(dup.status, 422);
    assert.deepEqual(dup.body, {
      kind: "AlreadyExists",
      message: `AlreadyExists: Replica Resource id ${r} already exists`,
      details: `id: ${r}`,
    });
    const v = crypto.randomUUID();
    await env.rest("PUT", `/volumes/${v}`, body(1));
    assert.equal((await env.rest<Err>("PUT", `/volumes/${v}`, body(1))).status, 422);
    const owned = Object.entries(
      (await env.rest<V0Volume>("GET", `/volumes/${v}`)).body.state.replica_topology,
    )[0];
    const inUse = await env.rest<Err>("DELETE", `/pools/${owned[1].pool}/replicas/${owned[0]}`);
    assert.equal(inUse.status, 409);
    assert.equal(inUse.body.kind, "InUse");
    const missing = crypto.randomUUID();
    assert.deepEqual((await env.rest<Err>("GET", `/volumes/${missing}`)).body, {
      kind: "NotFound",
      message: `VolumeNotFound: Volume '${missing}' not found`,
      details: "",
    });
    assert.deepEqual((await env.rest<Err>("GET", `/nexuses/${missing}`)).body, {
      kind: "NotFound",
      message: "Requested nexus was not found",
      details: `Nexus id : ${missing}`,
    });
    const badId = await env.rest<Err>("GET", "/volumes/not-a-uuid");
    assert.equal(badId.status, 400);
    assert.equal(badId.body.kind, "Deserialize");
    assert.equal((await env.rest("DELETE", `/pools/hot-1/replicas/${r}`)).status, 204);
  });
});

Deno.test("errors: a busy resource answers 409 Conflict; injected statuses carry api-rest's kinds", async () => {
  // operations_helper.rs operation_guard_mode: a guard held by another operation → Conflict;
  // api-rest maps each status to its RestJsonError kind. Before: only 500/503 could be injected.
  await withSim(async (env) => {
    const id = await env.seed({ pools: ["hot-1"] });
    await env.admin("POST", "/faults", {
      kind: "api-hang",
      on: true,
      mode: "during",
      match: "/replica_count/",
    });
    const held = env.rest<V0Volume>("PUT", `/volumes/${id}/replica_count/2`);
    while (env.sim.faults.held() === 0) await new Promise((r) => setTimeout(r, 1));
    const busy = await env.rest<Err>("PUT", `/volumes/${id}/target`, {
      protocol: "nvmf",
      publish_context: {},
    });
    assert.equal(busy.status, 409);
    assert.equal(busy.body.kind, "Conflict");
    await env.admin("POST", "/faults", { kind: "api-hang", on: false });
    assert.equal((await held).status, 200, "the held call completes once released");
    await env.admin("POST", "/faults", { kind: "api-error", status: 412, method: "PUT", nth: 2 });
    assert.equal((await env.rest("GET", "/pools")).status, 200, "GET does not match");
    assert.equal((await env.rest("PUT", `/nodes/node-4/cordon/a`)).status, 200, "1st PUT passes");
    const second = await env.rest<Err>("PUT", `/nodes/node-4/cordon/b`);
    assert.equal(second.status, 412);
    assert.equal(second.body.kind, "FailedPrecondition");
    assert.equal((await env.rest("PUT", `/nodes/node-4/cordon/c`)).status, 200, "only the 2nd");
  });
});

Deno.test("volumes over REST: a chosen uuid, pool topology, publish body, unpublish and delete", async () => {
  // v0/volumes.rs put_volume / put_volume_target (PublishVolumeBody: protocol and
  // publish_context required) / del_volume_target / del_volume; core/volume/operations.rs.
  // Before: the body's topology was ignored and publish took any body.
  await withSim(async (env) => {
    const id = crypto.randomUUID();
    const created = await env.rest<V0Volume>(
      "PUT",
      `/volumes/${id}`,
      body(2, {
        topology: {
          pool_topology: {
            labelled: { inclusion: { "storage.billyronks.io/tier": "cold" }, exclusion: {} },
          },
        },
      }),
    );
    assert.equal(created.body.spec.uuid, id);
    assert.deepEqual(poolsOf(created.body), ["cold-1", "cold-2"]);
    assert.equal(created.body.state.target, undefined);
    const noContext = await env.rest<Err>("PUT", `/volumes/${id}/target`, { protocol: "nvmf" });
    assert.equal(noContext.status, 400);
    assert.equal(noContext.body.kind, "Deserialize");
    const iscsi = await env.rest<Err>("PUT", `/volumes/${id}/target`, {
      protocol: "iscsi",
      publish_context: {},
    });
    assert.equal(iscsi.status, 400);
    const pub = await env.rest<V0Volume>("PUT", `/volumes/${id}/target`, {
      protocol: "nvmf",
      publish_context: { ctrl_loss_timeout: "1980" },
      node: "node-3",
    });
    assert.equal(pub.body.spec.target?.node, "node-3");
    assert.equal(pub.body.state.target?.children.length, 2);
    const again = await env.rest<Err>("PUT", `/volumes/${id}/target`, {
      protocol: "nvmf",
      publish_context: {},
    });
    assert.equal(again.status, 412);
    assert.equal(again.body.kind, "AlreadyPublished");
    const unpub = await env.rest<V0Volume>("DELETE", `/volumes/${id}/target`);
    assert.equal(unpub.body.state.target, undefined);
    assert.equal(
      (await env.rest<Err>("DELETE", `/volumes/${id}/target`)).body.kind,
      "NotPublished",
    );
    assert.equal((await env.rest("DELETE", `/volumes/${id}`)).status, 204);
    const pools = await env.rest<{ state: { used: number } }[]>("GET", "/pools");
    assert.ok(pools.body.every((p) => p.state.used === 0), "its replicas were destroyed");
  });
});

Deno.test("metrics: one exporter per node, its own pools and nexuses, pvc-<uuid>, none when unpublished, reset on recreate", async () => {
  // metrics-exporter/src/bin/io_engine/collector/{pool,nexus_stat}.rs (labels node/name and
  // node/pv_name = "pvc-" + nexus name), main.rs (MY_NODE_NAME: one exporter per node).
  // Before: one exporter for the whole cluster, pv_name a free-form PV name, series kept for
  // unpublished volumes, counters that survived a nexus recreation.
  await withSim(async (env) => {
    const id = await env.seed({
      pools: ["cold-1"],
      profile: { kind: "steady", iops: 100, readRatio: 1 },
    });
    await env.advance(10_000);
    const text = async (node: string) => await (await fetch(env.sim.metricsUrls[node])).text();
    const n3 = await text("node-3");
    assert.match(
      n3,
      new RegExp(`volume_num_read_ops\\{node="node-3",pv_name="pvc-${id}"\\} 1000\\n`),
    );
    assert.match(n3, /diskpool_total_size_bytes\{name="cold-1",node="node-3"\} 4294967296/);
    assert.doesNotMatch(n3, /name="hot-1"/, "other nodes' pools are not here");
    assert.doesNotMatch(await text("node-1"), /volume_/, "no nexus on node-1");
    assert.match(n3, /# TYPE volume_num_read_ops gauge/);
    // The restarted io-engine registers again, which wakes the core agent's reconcilers
    // (NodeStateChangeOnline): the lost nexus is recreated at once, its counters from zero.
    env.sim.faults.restartIoEngine("node-3");
    assert.match(await text("node-3"), /volume_num_read_ops\{[^}]*\} 0\n/);
    await env.advance(5_000);
    assert.match(await text("node-3"), /volume_num_read_ops\{[^}]*\} 500\n/);
    await env.rest("DELETE", `/volumes/${id}/target`);
    assert.doesNotMatch(await text("node-3"), /volume_/, "unpublished: no series");
  });
});

Deno.test("the OpenAPI validation the suite relies on rejects what the spec rejects", async () => {
  // Not a rule of the simulator: proof that helpers.ts's checks can fail.
  const v = await SpecValidator.load();
  const ok = {
    spec: {
      uuid: crypto.randomUUID(),
      size: 1,
      num_replicas: 1,
      status: "Created",
      policy: { self_heal: true },
      thin: false,
      num_snapshots: 0,
    },
    state: { uuid: crypto.randomUUID(), size: 1, status: "Online", replica_topology: {} },
  };
  assert.match(v.check("GET", `/volumes/${crypto.randomUUID()}`, 200, ok), /Volume|volumes/);
  const noTopology = { ...ok, state: { ...ok.state, replica_topology: undefined } };
  assert.throws(() => v.check("GET", `/volumes/${crypto.randomUUID()}`, 200, noTopology));
  const badStatus = { ...ok, state: { ...ok.state, status: "Healthy" } };
  assert.throws(() => v.check("GET", `/volumes/${crypto.randomUUID()}`, 200, badStatus));
  assert.throws(() => v.check("GET", "/volumes/x", 404, { kind: "NotFound" }), "message required");
  assert.throws(() => v.check("GET", "/nope", 200, {}), /no operation/);
});
