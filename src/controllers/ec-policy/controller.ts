/**
 * The ErasureCodingPolicy controller: a policy informer (always running), the work queue and
 * reconcile (only while leading), the volumes (EcStores) it keeps healthy, and an Event
 * recorder. The composition root runs its `runnables()` under the manager.
 */
import type { ErasureCodingPolicy } from "../../api/mod.ts";
import type { Clock } from "../../clock.ts";
import type { Kernel } from "../../ec/kernels/kernel.ts";
import { selectKernel } from "../../ec/kernels/select.ts";
import { type BlockHasher, createBlockHasher } from "../../ec/store/checksum.ts";
import type { KubeClient } from "../../kube/client.ts";
import { Controller } from "../../kube/controller.ts";
import { EventRecorder } from "../../kube/events.ts";
import { Informer, stripManagedFields } from "../../kube/informer.ts";
import type { KubeObject } from "../../kube/resource.ts";
import type { Runnable } from "../../lifecycle.ts";
import type { Logger } from "../../observability/log.ts";
import type { Metrics } from "../../observability/metrics.ts";
import type { ReadinessHandle } from "../../observability/readiness.ts";
import { createEcPolicyReconciler, EC_POLICIES, type EcPolicyTimings } from "./reconcile.ts";
import { EC_STRIPES, syncRecords } from "./ecstripe_writer.ts";
import { EcVolume } from "./volume.ts";
import { currentBindings, type EcBindings, type EcVolumeBinding } from "../../ectier/bindings.ts";

export { EC_STRIPES };
export type { EcPolicyTimings } from "./reconcile.ts";

/** Controller name (logs, metrics, Events). */
export const EC_POLICY_CONTROLLER = "ec-policy";

/** What the controller needs beyond the run context. */
export interface EcPolicyOptions {
  /** Client of the cluster's API server. */
  client: KubeClient;
  /** Volumes this node stores erasure-coded, each bound to a policy (fixed or changing). */
  volumes: EcBindings;
  /** Node name in shard locations (default: the run identity). */
  node?: string;
  timings?: Partial<EcPolicyTimings>;
  /** Codec kernel (default: the fastest available) and block hasher (default: xxhash64). */
  kernel?: Kernel;
  hasher?: BlockHasher;
}

/** Collaborators taken from the run context. */
export interface EcPolicyRuntime {
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Event source instance (pod name). */
  identity: string;
  /** Reported ready once the policy cache has synced (optional). */
  readiness?: ReadinessHandle;
}

/** The controller; `volume()` gives other parts (cache L3) the open stores. */
export class EcPolicyController {
  readonly informer: Informer<KubeObject>;
  readonly controller: Controller;
  readonly #volumes = new Map<string, Promise<EcVolume>>();
  /** The last record write of each volume (publish and release run one at a time). */
  readonly #recordWrites = new Map<string, Promise<void>>();
  #deps?: { kernel: Kernel; hasher: BlockHasher };

  constructor(private readonly opts: EcPolicyOptions, private readonly rt: EcPolicyRuntime) {
    const { clock, logger, metrics } = rt;
    this.informer = new Informer<KubeObject>({
      client: opts.client,
      resource: EC_POLICIES,
      clock,
      logger: logger.child("ec-policy-informer"),
      transform: stripManagedFields,
    });
    const events = new EventRecorder({
      client: opts.client,
      clock,
      logger,
      reportingController: "couchestor.io/ec-policy-controller",
      reportingInstance: rt.identity,
    });
    this.controller = new Controller({
      name: EC_POLICY_CONTROLLER,
      clock,
      logger,
      metrics,
      reconcile: createEcPolicyReconciler({
        client: opts.client,
        policies: this.informer.store,
        bindings: opts.volumes,
        openVolume: (b, p) => this.open(b, p),
        publish: (v, desired, signal) =>
          this.#exclusive(v, async () => {
            // Still bound? The EC tier may have released the volume while this pass ran.
            if (!currentBindings(opts.volumes).some((b) => b.volume === v)) return;
            await syncRecords(opts.client, v, desired, signal);
          }),
        events,
        metrics,
        clock,
        node: opts.node ?? rt.identity,
        enqueue: (key) => this.controller.enqueue(key),
        timings: opts.timings,
      }),
    });
    this.controller.watch(this.informer);
  }

  /** Creates the codec kernel and hasher (before any store is opened). */
  async init(): Promise<void> {
    this.#deps = {
      kernel: this.opts.kernel ?? selectKernel().kernel,
      hasher: this.opts.hasher ?? await createBlockHasher(),
    };
  }

  /** The informer (always) and the reconcile loop (while leading). */
  runnables(): Runnable[] {
    return [
      {
        name: "ec-policy-informer",
        leaderOnly: false,
        run: (s) => {
          this.informer.waitForSync(s).then(() => this.rt.readiness?.ready(), () => {});
          return this.informer.run(s);
        },
      },
      { name: EC_POLICY_CONTROLLER, leaderOnly: true, run: (s) => this.controller.run(s) },
    ];
  }

  /** Closes the open stores (after the runnables stopped; scrubs and rebuilds end with them). */
  async close(): Promise<void> {
    const vols = await Promise.allSettled(this.#volumes.values());
    for (const v of vols) if (v.status === "fulfilled") await v.value.close();
    this.#volumes.clear();
  }

  /** The open volume of that name, once its policy was reconciled. */
  volume(name: string): Promise<EcVolume> | undefined {
    return this.#volumes.get(name);
  }

  /**
   * Closes a volume's store and deletes its ECStripes (the volume left the EC tier, or its
   * move was rolled back). The caller removes its binding first, so no reconcile reopens it.
   */
  async release(volume: string, signal?: AbortSignal): Promise<void> {
    await this.#exclusive(volume, async () => {
      const v = this.#volumes.get(volume);
      this.#volumes.delete(volume);
      if (v) await v.then((x) => x.close(), () => {});
      await syncRecords(this.opts.client, volume, [], signal);
    });
  }

  /** Runs `fn` after every earlier record write of the volume (one at a time per volume). */
  #exclusive(volume: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.#recordWrites.get(volume) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.#recordWrites.set(volume, tail);
    tail.then(() => {
      if (this.#recordWrites.get(volume) === tail) this.#recordWrites.delete(volume);
    });
    return next;
  }

  /** Publishes a volume's ECStripes now (the EC tier records stripes as soon as written). */
  async record(b: EcVolumeBinding, policy: ErasureCodingPolicy, signal?: AbortSignal) {
    const vol = await this.open(b, policy);
    const desired = await vol.records(
      policy,
      this.opts.node ?? this.rt.identity,
      await vol.observe(),
    );
    await this.#exclusive(b.volume, async () => {
      await syncRecords(this.opts.client, b.volume, desired, signal);
    });
  }

  /** Asks for a reconcile of a policy now (e.g. a volume was just bound to it). */
  enqueue(policy: string): void {
    this.controller.enqueue(policy);
  }

  /** Opens (once; shared by the controller and the EC tier) the volume of a binding. */
  open(b: EcVolumeBinding, policy: ErasureCodingPolicy): Promise<EcVolume> {
    let v = this.#volumes.get(b.volume);
    if (!v) {
      if (!this.#deps) throw new Error("ec-policy controller not started");
      v = EcVolume.open(b, policy, { ...this.#deps, ...this.rt });
      // A failed open is retried by the next reconcile.
      v.catch(() => this.#volumes.delete(b.volume));
      this.#volumes.set(b.volume, v);
    }
    return v;
  }
}
