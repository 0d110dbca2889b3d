/**
 * End-to-end set-up of the EC cold tier in the sandbox: the sandbox API server with the CRDs, a
 * PersistentVolume, the Mayastor simulator over HTTP (one hot pool, eight cold pools on their
 * own nodes), an ErasureCodingPolicy 4+2 with 256 KiB stripes, and the product's EC tier (the
 * composition root's buildEcTier: the ErasureCodingPolicy controller, the EcTierRunner and the
 * tiered cache over the EC L3 adapter) that can be stopped and built again over the same state
 * (a restart). Archives and restores are placed by the product's planner rules (ecPlacer).
 */
import { eventually as pollUntil } from "../controllers/ec_policy_helpers.ts";
import { couchestorCrds, type ErasureCodingPolicy, GROUP_VERSION } from "../../src/api/mod.ts";
import type { LabelSelector } from "../../src/api/meta.ts";
import { buildEcTier, type EcTier } from "../../src/app/ec_tier.ts";
import { runManager } from "../../src/app/manager.ts";
import { ManualClock, systemClock } from "../../src/clock.ts";
import { EC_POLICIES } from "../../src/controllers/ec-policy/reconcile.ts";
import { validatePolicy } from "../../src/controllers/ec-policy/validate.ts";
import { ecPlacer } from "../../src/controllers/storage-policy/ec_route.ts";
import type { EcStartResult } from "../../src/ectier/runner.ts";
import type { EcAction } from "../../src/ectier/step.ts";
import { type EcTierState } from "../../src/ectier/state.ts";
import { SimEcTierPorts } from "../../src/ectier/sim.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { BuiltinResources, type KubeObject } from "../../src/kube/resource.ts";
import { InFlight } from "../../src/machine/inflight.ts";
import { MayastorRestBackend } from "../../src/mayastor/rest.ts";
import type { Tier } from "../../src/model/storage.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { createMetrics, type Metrics } from "../../src/observability/metrics.ts";
import { type Sandbox, startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { type MayastorSim, startMayastorSim } from "../../src/sandbox/mayastor/server.ts";
import { TIER_LABEL } from "../../src/sandbox/mayastor/cluster.ts";
import { poolTiers } from "../../src/tiering/placement.ts";

/** Volume size: 5 MiB plus an odd tail, so the last block and stripe are short. */
export const VOLUME_BYTES = 5 * 1024 * 1024 + 12_345;
/** PersistentVolume name of the test volume. */
export const PV_NAME = "pv-cold";
/** The ErasureCodingPolicy's name. */
export const EC_POLICY = "ec-4-2";
/** Cold pools (one node each, so one failure domain each). */
export const COLD_POOLS = Array.from({ length: 8 }, (_, i) => `cold-${i + 1}`);

/** The StoragePolicy the archives and restores are planned under (its name and pool selectors). */
export const POLICY = {
  name: "tiering",
  selectors: {
    hot: { matchLabels: { [TIER_LABEL]: "hot" } } as LabelSelector,
    warm: { matchLabels: { [TIER_LABEL]: "warm" } } as LabelSelector,
    cold: { matchLabels: { [TIER_LABEL]: "cold" } } as LabelSelector,
  },
};

/** A running EC tier (the product's parts) and its runtime. */
export interface Operator extends EcTier {
  ctl: EcTier["controller"];
  metrics: Metrics;
  backend: MayastorRestBackend;
  /** Plans (ecPlacer on the simulator's pools) and starts the archive of the test volume. */
  archive(o?: { cold?: LabelSelector; sizeBytes?: number }): Promise<EcStartResult | Unplaced>;
  /** Plans and starts the restore of the test volume onto `to`. */
  restore(to: Tier): Promise<EcStartResult | Unplaced>;
  stop(): Promise<void>;
}

/** A placement the planner's EC rules refused. */
export interface Unplaced {
  started: false;
  reason: string;
  message: string;
}

/** The environment. */
export interface Env {
  dir: string;
  sb: Sandbox;
  client: KubeClient;
  sim: MayastorSim;
  volumeUuid: string;
  clock: ManualClock;
  /** Builds an operator over the current state (afterSave: crash injection hook). */
  operator(
    opts?: { afterSave?: (s: EcTierState, a: EcAction) => void | Promise<void> },
  ): Promise<Operator>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts everything but the operator. */
export async function startEnv(): Promise<Env> {
  const dir = await Deno.makeTempDir({ prefix: "couchestor-ectier-" });
  const sb = await startSandbox({ tls: false });
  const client = new KubeClient({ connection: { server: sb.httpUrl, token: sb.token } });
  for (const crd of couchestorCrds()) {
    await client.create(BuiltinResources.customResourceDefinitions, crd as unknown as KubeObject);
  }
  await client.create<KubeObject>(EC_POLICIES, {
    apiVersion: GROUP_VERSION,
    kind: "ErasureCodingPolicy",
    metadata: { name: EC_POLICY },
    spec: {
      dataShards: 4,
      parityShards: 2,
      stripeSizeBytes: 256 * 1024,
      scrub: { enabled: false },
    },
  });
  const clock = new ManualClock(Date.UTC(2026, 10, 27));
  const sim = await startMayastorSim({
    dataDir: `${dir}/sim`,
    clock,
    pools: [
      { id: "hot-1", node: "node-h1", capacityBytes: 1 << 30, tier: "hot" },
      ...COLD_POOLS.map((id, i) => ({
        id,
        node: `node-c${i + 1}`,
        capacityBytes: 1 << 30,
        tier: "cold" as const,
      })),
    ],
  });
  const volumeUuid = await sim.addVolume({
    sizeBytes: VOLUME_BYTES,
    pools: ["cold-1"],
  });
  await client.create(BuiltinResources.persistentVolumes, {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: PV_NAME },
    spec: {
      capacity: { storage: "6Mi" },
      accessModes: ["ReadWriteOnce"],
      csi: { driver: "io.openebs.csi-mayastor", volumeHandle: volumeUuid },
    },
  });
  const operator: Env["operator"] = (opts = {}) =>
    buildOperator({ client, simUrl: sim.url, adminUrl: sim.adminUrl, dir, volumeUuid, ...opts });

  return {
    dir,
    sb,
    client,
    sim,
    volumeUuid,
    clock,
    operator,
    async [Symbol.asyncDispose]() {
      client.close();
      await sim.close();
      await sb.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Where an operator finds the cluster. */
export interface OperatorConfig {
  client: KubeClient;
  /** Simulator api-rest URL (…/v0) and admin URL (…/sim). */
  simUrl: string;
  adminUrl: string;
  /** Environment directory (stores under `<dir>/stores`). */
  dir: string;
  /** The test volume's uuid. */
  volumeUuid: string;
  afterSave?: (s: EcTierState, a: EcAction) => void | Promise<void>;
}

/** Builds and starts the product's EC tier over the environment. */
export async function buildOperator(c: OperatorConfig): Promise<Operator> {
  const { client } = c;
  const metrics = createMetrics({ defaultMetrics: false });
  const ac = new AbortController();
  const backend = new MayastorRestBackend({
    baseUrl: c.simUrl,
    clock: systemClock,
    logger: silentLogger,
  });
  const tier = buildEcTier({
    ports: new SimEcTierPorts(c.adminUrl).ports(),
    storeRoot: `${c.dir}/stores`,
    cache: { l1MaxBytes: 2 << 20 },
  }, {
    client,
    backend,
    inFlight: new InFlight(),
    clock: systemClock,
    logger: silentLogger,
    metrics,
    identity: "node-op",
    pollIntervalMs: 20,
    timings: { syncIntervalMs: 50, progressIntervalMs: 20, rebuildRetryMs: 50 },
    afterSave: c.afterSave,
  });
  await tier.controller.init();
  const running = runManager(
    { runnables: tier.controller.runnables(), logger: silentLogger },
    ac.signal,
  );
  const place = async (
    kind: "archive" | "restore",
    to: Tier,
    cold?: LabelSelector,
    size?: number,
  ) => {
    const ecPolicy = await ecPolicyOf({ client });
    const pools = await backend.listPools();
    const tiers = poolTiers(pools, { ...POLICY.selectors, cold: cold ?? POLICY.selectors.cold });
    const vol = (await backend.listVolumes()).find((v) => v.uuid === c.volumeUuid)!;
    const v = { ...vol, sizeBytes: size ?? vol.sizeBytes };
    const placer = ecPlacer(ecPolicy);
    const placed = kind === "archive"
      ? placer.archive(v, pools, tiers)
      : placer.restore(v, to, pools, tiers);
    return { placed, ecPolicy, v };
  };
  return {
    ...tier,
    ctl: tier.controller,
    metrics,
    backend,
    async archive(o = {}) {
      const { placed, ecPolicy, v } = await place("archive", "cold", o.cold, o.sizeBytes);
      if (!placed.ok) return { started: false, reason: placed.reason, message: placed.message };
      return tier.runner.start({
        id: crypto.randomUUID(),
        policy: POLICY.name,
        volume: { name: PV_NAME, uuid: c.volumeUuid, sizeBytes: v.sizeBytes, tier: "cold" },
        ecPolicy,
        shardPools: placed.pools,
        triggerIOPS: 0,
        timeoutMs: 30 * 60_000,
      });
    },
    async restore(to) {
      const { placed } = await place("restore", to);
      if (!placed.ok) return { started: false, reason: placed.reason, message: placed.message };
      return tier.runner.rehydrate({
        id: crypto.randomUUID(),
        volume: PV_NAME,
        to,
        targetPools: placed.pools,
        triggerIOPS: 0,
        timeoutMs: 30 * 60_000,
      });
    },
    async stop() {
      await tier.runner.stop();
      ac.abort();
      await running;
      await tier.controller.close();
      tier.cache.close();
    },
  };
}

/** SHA-256 hex of bytes. */
export async function sha256(data: Uint8Array): Promise<string> {
  const d = new Uint8Array(
    await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>),
  );
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Polls until truthy (the EC policy tests' helper; this suite waits up to 15 s by default). */
export function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  ms = 15_000,
): Promise<T> {
  return pollUntil(what, fn, ms);
}

/** The ErasureCodingPolicy object (validated, defaults applied). */
export async function ecPolicyOf(env: Pick<Env, "client">): Promise<ErasureCodingPolicy> {
  const v = validatePolicy(await env.client.get<KubeObject>(EC_POLICIES, EC_POLICY));
  if (!v.ok) throw new Error(v.problem.message);
  return v.policy;
}
