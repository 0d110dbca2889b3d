/**
 * End-to-end set-up of the EC cold tier in the sandbox: the sandbox API server with the CRDs, a
 * PersistentVolume, the Mayastor simulator over HTTP (one hot pool, eight cold pools on their
 * own nodes), an ErasureCodingPolicy 4+2 with 256 KiB stripes, and an "operator" (the
 * ErasureCodingPolicy controller, the EcTierRunner and a TieredCache over the EC L3 adapter)
 * that can be stopped and built again over the same state (a restart).
 */
import { eventually as pollUntil } from "../controllers/ec_policy_helpers.ts";
import { couchestorCrds, GROUP_VERSION } from "../../src/api/mod.ts";
import { EcL3Backend, EcVolumeReader } from "../../src/cache/l3_ec.ts";
import { TieredCache } from "../../src/cache/tiered.ts";
import { ManualClock, systemClock } from "../../src/clock.ts";
import { EcPolicyController } from "../../src/controllers/ec-policy/mod.ts";
import { EC_POLICIES } from "../../src/controllers/ec-policy/reconcile.ts";
import { validatePolicy } from "../../src/controllers/ec-policy/validate.ts";
import { selectKernel } from "../../src/ec/kernels/select.ts";
import { createBlockHasher } from "../../src/ec/store/checksum.ts";
import type { EcAction } from "../../src/ectier/step.ts";
import {
  bindingOf,
  type EcTierPolicy,
  EcTierRunner,
  type EcTierState,
  PvEcTierStore,
  SimEcTierPorts,
} from "../../src/ectier/mod.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { BuiltinResources, type KubeObject } from "../../src/kube/resource.ts";
import { MayastorRestBackend } from "../../src/mayastor/rest.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { createMetrics, type Metrics } from "../../src/observability/metrics.ts";
import { type Sandbox, startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { type MayastorSim, startMayastorSim } from "../../src/sandbox/mayastor/server.ts";
import { TIER_LABEL } from "../../src/sandbox/mayastor/cluster.ts";

/** Volume size: 5 MiB plus an odd tail, so the last block and stripe are short. */
export const VOLUME_BYTES = 5 * 1024 * 1024 + 12_345;
/** PersistentVolume name of the test volume. */
export const PV_NAME = "pv-cold";
/** The ErasureCodingPolicy's name. */
export const EC_POLICY = "ec-4-2";
/** Cold pools (one node each, so one failure domain each). */
export const COLD_POOLS = Array.from({ length: 8 }, (_, i) => `cold-${i + 1}`);

/** The StoragePolicy as the runner reads it. */
export const POLICY: EcTierPolicy = {
  name: "tiering",
  spec: {
    ecPolicyRef: EC_POLICY,
    ecMinVolumeSizeBytes: 1024 * 1024,
    preservationMode: false,
    hotPoolSelector: { matchLabels: { [TIER_LABEL]: "hot" } },
    warmPoolSelector: { matchLabels: { [TIER_LABEL]: "warm" } },
    coldPoolSelector: { matchLabels: { [TIER_LABEL]: "cold" } },
  },
};

/** A running operator (controller + runner + cache). */
export interface Operator {
  ctl: EcPolicyController;
  runner: EcTierRunner;
  cache: TieredCache;
  reader: EcVolumeReader;
  metrics: Metrics;
  stop(): Promise<void>;
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
    buildOperator({ client, simUrl: sim.url, adminUrl: sim.adminUrl, dir, ...opts });

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
  afterSave?: (s: EcTierState, a: EcAction) => void | Promise<void>;
}

/** Builds and starts an operator: ErasureCodingPolicy controller, EcTierRunner, cache. */
export async function buildOperator(c: OperatorConfig): Promise<Operator> {
  const { client } = c;
  const hasher = await createBlockHasher();
  const kernel = selectKernel().kernel;
  const metrics = createMetrics({ defaultMetrics: false });
  const ac = new AbortController();
  // deno-lint-ignore prefer-const
  let runner: EcTierRunner;
  const ctl = new EcPolicyController({
    client,
    volumes: { bindings: () => runner.bindings() },
    node: "node-op",
    kernel,
    hasher,
    timings: { syncIntervalMs: 50, progressIntervalMs: 20, rebuildRetryMs: 50 },
  }, { clock: systemClock, logger: silentLogger, metrics, identity: "op" });
  const ecPolicy = async (name: string) => {
    const raw = await client.get<KubeObject>(EC_POLICIES, name);
    const v = validatePolicy(raw);
    if (!v.ok) throw new Error(v.problem.message);
    return v.policy;
  };
  const cache = new TieredCache({
    l1MaxBytes: 2 << 20,
    l3: new EcL3Backend(async (volume) => {
      const s = runner.state(volume);
      if (!s) return undefined;
      return (await ctl.open(bindingOf(s), await ecPolicy(s.ecPolicy))).store;
    }),
  });
  const reader = new EcVolumeReader(cache, (v) => runner.state(v)?.blockSize ?? 1 << 20);
  runner = new EcTierRunner({
    backend: new MayastorRestBackend({
      baseUrl: c.simUrl,
      clock: systemClock,
      logger: silentLogger,
    }),
    ports: new SimEcTierPorts(c.adminUrl).ports(),
    store: new PvEcTierStore(client),
    host: ctl,
    ecPolicy,
    reader,
    clock: systemClock,
    logger: silentLogger,
    metrics,
    pollIntervalMs: 20,
    afterSave: c.afterSave,
  }, { storeRoot: `${c.dir}/stores` });
  await ctl.start(ac.signal);
  return {
    ctl,
    runner,
    cache,
    reader,
    metrics,
    async stop() {
      await runner.stop();
      ac.abort();
      await ctl.stop();
      cache.close();
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
export async function ecPolicyOf(env: Env) {
  const v = validatePolicy(await env.client.get<KubeObject>(EC_POLICIES, EC_POLICY));
  if (!v.ok) throw new Error(v.problem.message);
  return v.policy;
}
