/**
 * The erasure-coded cold tier against the Mayastor simulator, assembled for the demo: the
 * ErasureCodingPolicy controller (records, rebuilds), the tiered cache reading EC-tiered
 * volumes, and the EcTierRunner with the simulator's ports; `hook` goes into
 * `StoragePolicyOperatorOptions.ecTier`. Its stores (manifest, journal) live under the caller's
 * `storeRoot`; the shard directories belong to the simulator (under its pools' data dirs).
 */
import type { ErasureCodingPolicy, ErasureCodingPolicyInput } from "../api/mod.ts";
import { GROUP_VERSION } from "../api/mod.ts";
import { EcL3Backend, EcVolumeReader } from "../cache/l3_ec.ts";
import { TieredCache } from "../cache/tiered.ts";
import type { Clock } from "../clock.ts";
import { EcPolicyController } from "../controllers/ec-policy/mod.ts";
import { EC_POLICIES } from "../controllers/ec-policy/reconcile.ts";
import { validatePolicy } from "../controllers/ec-policy/validate.ts";
import type { EcTierHook } from "../controllers/storage-policy/ec_tier.ts";
import { bindingOf, EcTierRunner, PvEcTierStore, SimEcTierPorts } from "../ectier/mod.ts";
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject } from "../kube/resource.ts";
import { MayastorRestBackend } from "../mayastor/rest.ts";
import type { Logger } from "../observability/log.ts";
import type { Metrics } from "../observability/metrics.ts";

const MiB = 1024 * 1024;

/** An ErasureCodingPolicy object with k data and m parity shards (no scrub: a short run). */
export function simEcPolicy(name: string, k: number, m: number): ErasureCodingPolicyInput {
  return {
    apiVersion: GROUP_VERSION,
    kind: "ErasureCodingPolicy",
    metadata: { name },
    spec: {
      dataShards: k,
      parityShards: m,
      stripeSizeBytes: 64 * 1024,
      scrub: { enabled: false },
    },
  } as ErasureCodingPolicyInput;
}

/** What startSimEcTier needs. */
export interface SimEcTierOptions {
  client: KubeClient;
  /** The simulator's REST base URL and its admin (`/sim`) URL. */
  simUrl: string;
  simAdminUrl: string;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Node name in shard locations. */
  node: string;
  /** Directory of the EC stores (the caller creates and removes it). */
  storeRoot: string;
  /** Stop signal of the caller (the controller's loops end with it). */
  signal: AbortSignal;
}

/** The running EC tier. */
export interface SimEcTier {
  hook: EcTierHook;
  runner: EcTierRunner;
  /** Stops the runner (operations stay persisted), the controller and the cache. */
  stop(): Promise<void>;
}

/** Starts the ErasureCodingPolicy controller and builds the runner over the simulator. */
export async function startSimEcTier(o: SimEcTierOptions): Promise<SimEcTier> {
  const { client, clock, logger } = o;
  const ecPolicy = async (name: string): Promise<ErasureCodingPolicy | undefined> => {
    const raw = await client.get<KubeObject>(EC_POLICIES, name).catch(() => undefined);
    if (!raw) return undefined;
    const v = validatePolicy(raw);
    return v.ok ? v.policy : undefined;
  };
  const mustPolicy = async (name: string): Promise<ErasureCodingPolicy> => {
    const p = await ecPolicy(name);
    if (!p) throw new Error(`ErasureCodingPolicy ${name} is missing or invalid`);
    return p;
  };
  // The controller and the runner refer to each other (bindings ↔ open stores).
  // deno-lint-ignore prefer-const
  let runner: EcTierRunner;
  const ctl = new EcPolicyController({
    client,
    volumes: { bindings: () => runner.bindings() },
    node: o.node,
  }, { clock, logger: logger.child("ec-policy"), metrics: o.metrics, identity: o.node });
  const cache = new TieredCache({
    l1MaxBytes: 4 * MiB,
    l3: new EcL3Backend(async (v) => {
      const s = runner.state(v);
      return s ? (await ctl.open(bindingOf(s), await mustPolicy(s.ecPolicy))).store : undefined;
    }),
  });
  const reader = new EcVolumeReader(cache, (v) => runner.state(v)?.blockSize ?? MiB);
  runner = new EcTierRunner({
    backend: new MayastorRestBackend({ baseUrl: o.simUrl, clock, logger }),
    ports: new SimEcTierPorts(o.simAdminUrl).ports(),
    store: new PvEcTierStore(client),
    host: ctl,
    ecPolicy: mustPolicy,
    reader,
    clock,
    logger: logger.child("ec-tier"),
    metrics: o.metrics,
    pollIntervalMs: 200,
  }, { storeRoot: o.storeRoot });
  try {
    await ctl.start(o.signal);
  } catch (e) {
    cache.close();
    throw e;
  }
  const r = runner;
  return {
    hook: { runner: r, ecPolicy },
    runner: r,
    stop: async () => {
      await r.stop();
      await ctl.stop();
      cache.close();
    },
  };
}
