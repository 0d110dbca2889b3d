/**
 * Assembles the erasure-coded cold tier: the ErasureCodingPolicy controller (health, records,
 * rebuilds of the stores), the tiered read cache over the stores (L1 RAM → L2 file → stripes)
 * that rehydrations read through, and the EcTierRunner that runs archives and restores on the
 * given data ports, persisted on PVs. Called only by the composition root (operator.ts).
 */
import type { ErasureCodingPolicy } from "../api/mod.ts";
import { buildTieredCache, type BuiltCache, type CacheConfig } from "../cache/config.ts";
import { EcL3Backend, EcVolumeReader } from "../cache/l3_ec.ts";
import type { Clock } from "../clock.ts";
import { EcPolicyController } from "../controllers/ec-policy/controller.ts";
import { EC_POLICIES } from "../controllers/ec-policy/reconcile.ts";
import { validatePolicy } from "../controllers/ec-policy/validate.ts";
import type { EcTierHook } from "../controllers/storage-policy/ec_route.ts";
import { bindingOf } from "../ectier/executor.ts";
import type { EcTierPorts } from "../ectier/ports.ts";
import { EcTierRunner } from "../ectier/runner.ts";
import type { EcTierState } from "../ectier/state.ts";
import type { EcAction } from "../ectier/step.ts";
import type { EcPolicyTimings } from "../controllers/ec-policy/reconcile.ts";
import { pvEcTierStore } from "../ectier/store.ts";
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject } from "../kube/resource.ts";
import type { InFlight } from "../machine/inflight.ts";
import type { VolumeBackend } from "../mayastor/port.ts";
import type { Logger } from "../observability/log.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { ReadinessHandle } from "../observability/readiness.ts";

const MiB = 1024 * 1024;

/** The EC tier's data path and where its stores live. */
export interface EcTierAdapters {
  ports: EcTierPorts;
  /** Directory of the EC stores (manifest and journal), one subdirectory per volume. */
  storeRoot: string;
  /** The read cache in front of the stripes (default: 64 MiB of L1, no L2). */
  cache?: Partial<CacheConfig>;
}

/** What the EC tier is built from. */
export interface EcTierDeps {
  client: KubeClient;
  backend: VolumeBackend;
  inFlight: InFlight;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Node name in shard locations and Events. */
  identity: string;
  /** How often an operation polls while it waits. */
  pollIntervalMs: number;
  readiness?: ReadinessHandle;
  /** The ErasureCodingPolicy controller's cadences (defaults: the controller's). */
  timings?: Partial<EcPolicyTimings>;
  /** Test hook: after each persisted state, before its action (crash injection). */
  afterSave?: (state: EcTierState, action: EcAction) => void | Promise<void>;
}

/** The running EC tier's parts. */
export interface EcTier {
  hook: EcTierHook;
  runner: EcTierRunner;
  controller: EcPolicyController;
  cache: BuiltCache;
  /** Reads of EC-tiered volumes through the cache. */
  reader: EcVolumeReader;
}

/** Builds the EC tier (nothing runs until the manager runs the controller's runnables). */
export function buildEcTier(a: EcTierAdapters, d: EcTierDeps): EcTier {
  const { client, clock, logger } = d;
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
  const controller = new EcPolicyController({
    client,
    volumes: { bindings: () => runner.bindings() },
    node: d.identity,
    timings: d.timings,
  }, {
    clock,
    logger: logger.child("ec-policy"),
    metrics: d.metrics,
    identity: d.identity,
    readiness: d.readiness,
  });
  // The stores hold raw volume blocks: the L3 adapter must not expect LZ4 frames.
  const cache = buildTieredCache({ l1MaxBytes: 64 * MiB, ...a.cache, l3Compress: false }, {
    metrics: d.metrics,
    logger,
    clock,
    l3: new EcL3Backend(async (v) => {
      const s = runner.state(v);
      return s
        ? (await controller.open(bindingOf(s), await mustPolicy(s.ecPolicy))).store
        : undefined;
    }),
  });
  const reader = new EcVolumeReader(cache.cache, (v) => runner.state(v)?.blockSize ?? MiB);
  runner = new EcTierRunner({
    backend: d.backend,
    ports: a.ports,
    store: pvEcTierStore(client),
    inFlight: d.inFlight,
    host: controller,
    ecPolicy: mustPolicy,
    reader,
    clock,
    logger: logger.child("ec-tier"),
    metrics: d.metrics,
    pollIntervalMs: d.pollIntervalMs,
    afterSave: d.afterSave,
  }, { storeRoot: a.storeRoot });
  return { hook: { runner, ecPolicy }, runner, controller, cache, reader };
}
