/**
 * The ErasureCodingPolicy controller against the sandbox API server (real HTTP) and real
 * EcStores in temp dirs: validation, ECStripe records, status and metrics, rebuild after a lost
 * target, scrub repairing flipped bytes.
 */
import assert from "node:assert/strict";
import type { ECStripe, ErasureCodingPolicy } from "../../src/api/mod.ts";
import { EC_POLICIES } from "../../src/controllers/ec-policy/reconcile.ts";
import { EC_STRIPES } from "../../src/controllers/ec-policy/ecstripe_writer.ts";
import type { EcVolumeBinding } from "../../src/ectier/bindings.ts";
import type { KubeEvent } from "../../src/kube/events.ts";
import { BuiltinResources } from "../../src/kube/resource.ts";
import { createBlockHasher } from "../../src/ec/store/checksum.ts";
import { decodeShardFile } from "../../src/ec/store/shard_format.ts";
import {
  bytes,
  createPolicy,
  eventually,
  type Harness,
  metricValue,
  startHarness,
} from "./ec_policy_helpers.ts";

const STRIPE = 64 * 1024;
/** k=2 m=1, 64 KiB stripes, hourly unthrottled scrub. */
const COLD = {
  dataShards: 2,
  parityShards: 1,
  stripeSizeBytes: STRIPE,
  scrub: { interval: "1h", bandwidthLimitBytesPerSecond: 0 },
};

/** vol-a on policy cold: 4 targets (one spare), 4 stripes per ECStripe. */
const volA = (dir: string): EcVolumeBinding[] => [
  { volume: "vol-a", policy: "cold", dir: `${dir}/vol-a`, targets: 4, stripesPerRecord: 4 },
];

async function policy(h: Harness, name: string): Promise<ErasureCodingPolicy> {
  return await h.client.get(EC_POLICIES, name);
}

async function stripes(h: Harness): Promise<ECStripe[]> {
  const { items } = await h.client.listAll<ECStripe>(EC_STRIPES);
  return items.sort((a, b) => a.spec.stripeId - b.spec.stripeId);
}

async function events(h: Harness, regarding: string): Promise<KubeEvent[]> {
  const { items } = await h.client.listAll<KubeEvent>(BuiltinResources.events, {
    namespace: "default",
  });
  return items.filter((e) => e.regarding.name === regarding);
}

/** Starts the harness, creates policy cold, writes `stripeCount` stripes, waits until healthy. */
async function withData(
  stripeCount: number,
  timings: Parameters<typeof startHarness>[0]["timings"] = {},
): Promise<{ h: Harness; data: Uint8Array }> {
  const h = await startHarness({ volumes: volA, timings });
  await createPolicy(h.client, "cold", COLD);
  const vol = await eventually("vol-a opened", async () => await h.ctl.volume("vol-a"));
  const data = bytes(7, stripeCount * STRIPE);
  await vol.store.put("pv-data", data);
  h.ctl.controller.enqueue("cold");
  await eventually("stripes healthy", async () => {
    const p = await policy(h, "cold");
    return p.status?.stripes?.healthy === stripeCount;
  });
  return { h, data };
}

Deno.test("ec-policy: a policy failing the schema is Invalid with a condition naming the field", async () => {
  await using h = await startHarness({
    looseEcpCrd: true,
    volumes: (dir) => [{ volume: "vol-w", policy: "too-wide", dir: `${dir}/vol-w`, targets: 5 }],
  });
  await createPolicy(h.client, "lrc-bad", { algorithm: "LRC", dataShards: 4, parityShards: 2 });
  const bad = await eventually("lrc-bad Invalid", async () => {
    const p = await policy(h, "lrc-bad");
    return p.status?.phase === "Invalid" ? p : undefined;
  });
  const ready = bad.status!.conditions!.find((c) => c.type === "Ready")!;
  assert.equal(ready.status, "False");
  assert.equal(ready.reason, "InvalidSpec");
  assert.match(ready.message, /spec\.localGroups: localGroups is required/);
  assert.equal(bad.status!.stripes, undefined);

  // Placement: 4+2 needs six failure domains, the volume has five shard targets.
  await createPolicy(h.client, "too-wide", { dataShards: 4, parityShards: 2 });
  const wide = await eventually("too-wide Invalid", async () => {
    const p = await policy(h, "too-wide");
    return p.status?.phase === "Invalid" ? p : undefined;
  });
  const c = wide.status!.conditions!.find((c) => c.type === "Ready")!;
  assert.equal(c.reason, "PlacementUnsatisfiable");
  assert.match(c.message, /spec\.placement: volume vol-w has 5 failure domains .* = 6 shards/);
  // Nothing else happened for it: no store, no ECStripes.
  await assert.rejects(Deno.stat(`${h.dir}/vol-w`), Deno.errors.NotFound);
  assert.equal((await stripes(h)).length, 0);
  const evs = await eventually("warning event", async () => {
    const e = await events(h, "too-wide");
    return e.length > 0 ? e : undefined;
  });
  assert.equal(evs[0].type, "Warning");
  assert.equal(evs[0].reason, "PlacementUnsatisfiable");
});

Deno.test("ec-policy: a store with data gets ECStripes, status counts and metrics", async () => {
  const { h } = await withData(10);
  await using _h = h;
  const recs = await stripes(h);
  assert.deepEqual(recs.map((r) => [r.metadata.name, r.spec.stripeId, r.spec.stripeCount]), [
    ["vol-a-s000000", 0, 4],
    ["vol-a-s000004", 4, 4],
    ["vol-a-s000008", 8, 2],
  ]);
  const first = recs[0];
  assert.equal(first.spec.volume, "vol-a");
  assert.equal(first.spec.policy, "cold");
  // 1, or more when a reconcile ran while the put was writing (the record was then Writing).
  assert.ok(first.spec.generation >= 1);
  assert.deepEqual([first.spec.lbaStart, first.spec.lbaEnd], [0, (4 * STRIPE) / 512]);
  assert.deepEqual([recs[1].spec.lbaStart, recs[2].spec.lbaEnd], [512, (10 * STRIPE) / 512]);
  assert.deepEqual(first.spec.shards.map((s) => s.kind), ["Data", "Data", "Parity"]);
  assert.equal(new Set(first.spec.shards.map((s) => s.pool)).size, 3, "one target per shard");
  for (const s of first.spec.shards) {
    assert.equal(s.node, "node-a");
    assert.equal(s.sizeBytes, 4 * (STRIPE / 2));
    assert.match(s.checksum, /^xxh64:[0-9a-f]{16}$/);
  }
  assert.notEqual(first.spec.shards[0].checksum, recs[1].spec.shards[0].checksum);
  assert.equal(first.status?.state, "Healthy");
  assert.deepEqual(first.status?.shards?.map((s) => s.state), ["Healthy", "Healthy", "Healthy"]);

  const p = await policy(h, "cold");
  assert.equal(p.status?.phase, "Ready");
  assert.deepEqual(p.status?.stripes, {
    total: 10,
    healthy: 10,
    degraded: 0,
    rebuilding: 0,
    failed: 0,
  });
  assert.equal(p.status?.storageEfficiency, 0.667);
  assert.equal(
    await metricValue(h.metrics, 'couchestor_ec_stripes{policy="cold",state="healthy"}'),
    10,
  );
  assert.equal(
    await metricValue(h.metrics, 'couchestor_ec_bytes{policy="cold",kind="logical"}'),
    10 * STRIPE,
  );
  assert.equal(
    await metricValue(h.metrics, 'couchestor_ec_bytes{policy="cold",kind="stored"}'),
    10 * 3 * (STRIPE / 2),
  );

  // Two more stripes fill the third window: its record grows and its generation moves on.
  const before = recs[2].spec.generation;
  const vol = (await h.ctl.volume("vol-a"))!;
  await vol.store.put("pv-more", bytes(8, 2 * STRIPE));
  h.ctl.controller.enqueue("cold");
  const third = await eventually("third record grown", async () => {
    const r = (await stripes(h)).find((r) => r.spec.stripeId === 8);
    return r?.spec.stripeCount === 4 && r.status?.state === "Healthy" &&
        r.status.observedGeneration === r.metadata.generation
      ? r
      : undefined;
  });
  assert.ok(third.spec.generation > before);
  await eventually(
    "12 stripes counted",
    async () => (await policy(h, "cold")).status?.stripes?.total === 12,
  );

  // The policy's code changes after the data was written: the store keeps its code, and says so.
  await h.client.patch(EC_POLICIES, "cold", { spec: { parityShards: 2 } });
  const ev = await eventually(
    "code mismatch event",
    async () => (await events(h, "cold")).find((e) => e.reason === "StoreCodeDiffers"),
  );
  assert.match(ev.note ?? "", /volume vol-a was written as .*"m":1.*now says .*"m":2/);
  assert.equal((await policy(h, "cold")).status?.stripes?.total, 12);
  assert.ok((await stripes(h)).every((r) => r.spec.shards.length === 3));
});

Deno.test("ec-policy: a lost target degrades stripes, a rebuild brings them back to healthy", async () => {
  // ~1 s of manual time per stripe read, so the rebuild's progress can be watched.
  const { h, data } = await withData(10, { rebuildBytesPerSecond: 100_000 });
  await using _h = h;
  await Deno.remove(`${h.dir}/vol-a/targets/t01`, { recursive: true });
  h.ctl.controller.enqueue("cold");
  // Windows 0 (t00 t01 t02) and 1 (t01 t02 t03) lose a shard; window 2 (t02 t03 t00) does not.
  const degraded = await eventually("degraded counted", async () => {
    const p = await policy(h, "cold");
    return p.status?.phase === "Degraded" ? p : undefined;
  });
  // The rebuild starts at once and does one stripe before pacing on the (manual) clock; a status
  // write triggers another reconcile, so that stripe may already count as healthy.
  const counts = degraded.status!.stripes!;
  assert.ok(counts.healthy === 2 || counts.healthy === 3, `healthy ${counts.healthy}`);
  assert.equal(counts.degraded + counts.rebuilding, 10 - counts.healthy);
  const rec4 = (await stripes(h)).find((r) => r.spec.stripeId === 4)!;
  assert.equal(rec4.spec.shards[0].pool, "t01");
  assert.ok(["Missing", "Rebuilding"].includes(rec4.status!.shards![0].state));
  assert.ok(["Degraded", "Rebuilding"].includes(rec4.status!.state!));
  assert.equal(rec4.status!.shards![1].state, "Healthy");

  // The pass repaired stripe 0 and now waits for manual time (its read budget): frozen there,
  // a reconcile publishes its progress on the rest of window 0.
  const vol = (await h.ctl.volume("vol-a"))!;
  await eventually("first stripe rebuilt", async () => (await vol.observe()).rebuild?.done === 1);
  h.ctl.controller.enqueue("cold");
  const progressing = await eventually(
    "progress published",
    async () =>
      (await stripes(h)).find((r) =>
        r.status?.state === "Rebuilding" && r.status.rebuildProgressPercent === 25
      ),
  );
  assert.equal(progressing.spec.stripeId, 1, "stripe 0 moved off t01 into its own record");
  assert.ok(progressing.status!.shards!.some((s) => s.state === "Rebuilding"));

  await eventually("rebuilt", async () => {
    await h.clock.advance(1000);
    const p = await policy(h, "cold");
    return p.status?.phase === "Ready" && p.status.stripes?.healthy === 10;
  }, 20_000);
  const recs = await stripes(h);
  assert.ok(recs.every((r) => r.status?.state === "Healthy"));
  assert.ok(recs.every((r) => r.spec.shards.every((s) => s.pool !== "t01")), "moved off t01");
  assert.ok(recs[0].spec.generation > 1, "rewritten extents bump the generation");
  assert.equal(
    await metricValue(h.metrics, 'couchestor_ec_stripes{policy="cold",state="degraded"}'),
    0,
  );
  assert.equal(
    await metricValue(h.metrics, 'couchestor_ec_stripes{policy="cold",state="healthy"}'),
    10,
  );
  assert.equal(await metricValue(h.metrics, "couchestor_ec_reconstructed_shards_total"), 8);
  const evs = await eventually("repair event", async () => {
    await h.clock.advance(1000); // the pass paces after its last stripe too
    const e = (await events(h, "cold")).filter((e) => e.reason === "ShardsReconstructed");
    return e.length > 0 ? e : undefined;
  });
  assert.match(evs[0].note ?? "", /repaired 8/);
  assert.deepEqual(await vol.store.get("pv-data"), data);
});

Deno.test("ec-policy: a scheduled scrub finds flipped bytes, repairs them and records the scrub", async () => {
  const { h, data } = await withData(3);
  await using _h = h;
  const file = `${h.dir}/vol-a/targets/t00/stripe-00000000-000.shard`;
  const good = await Deno.readFile(file);
  const bad = good.slice();
  bad[100] ^= 0xff;
  await Deno.writeFile(file, bad);
  assert.equal((await policy(h, "cold")).status?.lastScrubTime, undefined);

  // Not due yet: nothing runs. Then an hour passes and the next reconcile scrubs.
  await h.clock.advance(60 * 60 * 1000);
  h.ctl.controller.enqueue("cold");
  const p = await eventually("scrub recorded", async () => {
    const p = await policy(h, "cold");
    return p.status?.lastScrubTime ? p : undefined;
  });
  assert.equal(
    p.status!.lastScrubTime,
    new Date(h.clock.now()).toISOString().replace(/\.\d{3}Z$/, "Z"),
  );
  const healed = decodeShardFile(await Deno.readFile(file), await createBlockHasher())!;
  assert.deepEqual(healed.badBlocks, [], "shard rewritten with good checksums");
  assert.equal(healed.header.generation, 2);
  assert.deepEqual(healed.data, decodeShardFile(good, await createBlockHasher())!.data);
  // The status is written before the scrub's Events are: wait for them.
  const evs = await eventually("scrub Events", async () => {
    const e = await events(h, "cold");
    return e.some((x) => x.reason === "ScrubFoundProblems") &&
        e.some((x) => x.reason === "ScrubCompleted")
      ? e
      : undefined;
  });
  const found = evs.find((e) => e.reason === "ScrubFoundProblems");
  assert.ok(found, "scrub findings reported as an Event");
  assert.match(found.note ?? "", /stripe 0 shard 0 checksum repaired/);
  assert.ok(evs.some((e) => e.reason === "ScrubCompleted"));
  assert.equal(
    await metricValue(h.metrics, 'couchestor_ec_scrub_errors_total{kind="checksum"}'),
    1,
  );
  const rec = (await stripes(h))[0];
  assert.ok(rec.status?.shards?.every((s) => s.lastVerified === p.status!.lastScrubTime));
  assert.deepEqual(await (await h.ctl.volume("vol-a"))!.store.get("pv-data"), data);
});

Deno.test("ec-policy: after a restart the same ECStripes are published, checksums from the sidecar", async () => {
  const { h } = await withData(6);
  await using _h = h;
  const before = await stripes(h);
  await h.restart();
  // Bitrot while the operator was down: the published checksum is the one written, not re-read.
  const file = `${h.dir}/vol-a/targets/t00/stripe-00000000-000.shard`;
  const bad = await Deno.readFile(file);
  bad[200] ^= 0x01;
  await Deno.writeFile(file, bad);
  await eventually("vol-a reopened", async () => await h.ctl.volume("vol-a"));
  h.ctl.controller.enqueue("cold");
  await eventually("status re-written", async () => {
    const p = await policy(h, "cold");
    return p.status?.stripes?.healthy === 6;
  });
  const after = await stripes(h);
  assert.deepEqual(
    after.map((r) => [r.metadata.name, r.spec.generation, r.spec.shards.map((s) => s.checksum)]),
    before.map((r) => [r.metadata.name, r.spec.generation, r.spec.shards.map((s) => s.checksum)]),
  );
});

Deno.test("ec-policy: a scrub keeps to the policy's bandwidth limit on the injected clock", async () => {
  const h = await startHarness({ volumes: volA });
  await using _h = h;
  // 3 shards of 32 KiB per stripe = 96 KiB read per stripe; 4 stripes at 96 KiB/s take 4 s.
  await createPolicy(h.client, "cold", {
    ...COLD,
    scrub: { interval: "1h", bandwidthLimitBytesPerSecond: 3 * 32 * 1024 },
  });
  const vol = await eventually("vol-a opened", async () => await h.ctl.volume("vol-a"));
  await vol.store.put("pv-data", bytes(3, 4 * STRIPE));
  await h.clock.advance(60 * 60 * 1000);
  h.ctl.controller.enqueue("cold");
  await eventually("scrub running", () => vol.running === "scrub");
  await eventually("first stripe verified", () => {
    const s = vol.store.stripes().find((s) => s.id === 0);
    return s?.lastScrub !== undefined;
  });
  // Without manual time passing the pass stays paced after its first stripe.
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(vol.running, "scrub");
  assert.equal(vol.store.stripes().filter((s) => s.lastScrub !== undefined).length, 1);
  await h.clock.advance(2000);
  await eventually(
    "third stripe verified",
    () => vol.store.stripes().filter((s) => s.lastScrub !== undefined).length === 3,
  );
  assert.equal(vol.running, "scrub");
  await eventually("scrub done", async () => {
    await h.clock.advance(1000);
    return (await policy(h, "cold")).status?.lastScrubTime !== undefined;
  });
});

Deno.test("ec-policy: journal writes are destaged at the policy's interval and then recorded", async () => {
  const h = await startHarness({ volumes: volA });
  await using _h = h;
  await createPolicy(h.client, "cold", { ...COLD, journal: { destageInterval: "10s" } });
  const vol = await eventually("vol-a opened", async () => await h.ctl.volume("vol-a"));
  const small = bytes(4, 1000);
  await vol.store.write("meta", small);
  h.ctl.controller.enqueue("cold");
  await eventually("status written", async () => (await policy(h, "cold")).status?.phase);
  assert.equal((await policy(h, "cold")).status?.stripes?.total, 0, "still in the journal");
  await h.clock.advance(10_000);
  await eventually("destaged", () => vol.store.stripes().length === 1);
  h.ctl.controller.enqueue("cold");
  await eventually(
    "recorded",
    async () => (await policy(h, "cold")).status?.stripes?.healthy === 1,
  );
  assert.deepEqual(await vol.store.get("meta"), small);
});
