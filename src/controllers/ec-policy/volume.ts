/**
 * One erasure-coded volume on this node: its EcStore (opened with the policy's code), what the
 * node observes about it (targets down, unrepaired findings) and its one background job at a
 * time: a scrub at the policy's bandwidth limit, or a reconstruction of damaged stripes.
 */
import type { Clock } from "../../clock.ts";
import { parseDuration } from "../../config/duration.ts";
import type { ErasureCodingPolicy } from "../../api/mod.ts";
import type { Kernel } from "../../ec/kernels/kernel.ts";
import type { BlockHasher } from "../../ec/store/checksum.ts";
import { loadManifest } from "../../ec/store/manifest.ts";
import { EcStore, type ScrubReport, targetDir } from "../../ec/store/store.ts";
import { DirectoryTarget } from "../../ec/store/target.ts";
import type { Logger } from "../../observability/log.ts";
import type { Metrics } from "../../observability/metrics.ts";
import { ChecksumTap } from "./checksum_tap.ts";
import {
  buildRecords,
  type DesiredRecord,
  findingKey,
  type Observations,
  recordStripesFor,
  type ShardProblem,
  shardsPerStripe,
} from "./ecstripe_records.ts";
import { codeParams } from "./validate.ts";
import type { EcVolumeBinding } from "../../ectier/bindings.ts";

/** File beside the store's manifest holding the shard checksums the ECStripes publish. */
export const CHECKSUM_SIDECAR = "ecstripe-checksums.json";

/** Collaborators of a volume. */
export interface EcVolumeDeps {
  kernel: Kernel;
  hasher: BlockHasher;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
}

/** A finished background job. */
export interface JobResult {
  kind: "scrub" | "rebuild";
  report: ScrubReport;
}

interface Job {
  kind: JobResult["kind"];
  order: number[];
  progress: () => number;
  abort: () => void;
  done: Promise<void>;
}

/** Shard targets (failure domains) a binding has or will have, without opening the store. */
export async function bindingTargets(b: EcVolumeBinding, shards: number): Promise<number> {
  const m = await loadManifest(`${b.dir}/manifest.json`);
  return m ? m.targets.length : b.targetDirs?.length ?? b.targets ?? shards;
}

/** An open volume. */
export class EcVolume {
  readonly #findings = new Map<string, ShardProblem>();
  #job: Job | undefined;
  #lastRebuildEnd: number | undefined;
  readonly #stop = new AbortController();
  #destager: Promise<void> = Promise.resolve();
  readonly openedAt: number;

  private constructor(
    readonly binding: EcVolumeBinding,
    readonly store: EcStore,
    readonly tap: ChecksumTap,
    private readonly deps: EcVolumeDeps,
  ) {
    this.openedAt = deps.clock.now();
  }

  /** Opens (or creates with the policy's code) the volume's store. */
  static async open(
    binding: EcVolumeBinding,
    policy: ErasureCodingPolicy,
    deps: EcVolumeDeps,
  ): Promise<EcVolume> {
    if (binding.existingOnly && !(await loadManifest(`${binding.dir}/manifest.json`))) {
      throw new Error(`volume ${binding.volume}: no EC store in ${binding.dir}`);
    }
    const tap = new ChecksumTap(deps.hasher);
    await tap.load(`${binding.dir}/${CHECKSUM_SIDECAR}`);
    const stripeSizeBytes = policy.spec.stripeSizeBytes;
    const store = await EcStore.openOrCreate(binding.dir, {
      code: codeParams(policy),
      stripeSizeBytes,
      targets: binding.targets,
      targetDirs: binding.targetDirs,
      placementRun: binding.stripesPerRecord ?? recordStripesFor(stripeSizeBytes),
    }, {
      kernel: deps.kernel,
      hasher: deps.hasher,
      clock: deps.clock,
      logger: deps.logger,
      metrics: deps.metrics,
      openTarget: (id, path) => tap.wrap(new DirectoryTarget(id, targetDir(binding.dir, path))),
    }, {
      destageThresholdPercent: policy.spec.journal.destageThresholdPercent,
      journalCapacityBytes: policy.spec.journal.sizeBytes,
      destageIntervalMs: parseDuration(policy.spec.journal.destageInterval),
    });
    const vol = new EcVolume(binding, store, tap, deps);
    // Journal writes are destaged every destageInterval (and when the journal fills).
    vol.#destager = store.runDestager(vol.#stop.signal).catch((e) =>
      deps.logger.error("destager failed", { volume: binding.volume, error: e })
    );
    return vol;
  }

  /** The running job's kind, if any. */
  get running(): JobResult["kind"] | undefined {
    return this.#job?.kind;
  }

  /** When the last rebuild ended (epoch ms). */
  get lastRebuildEnd(): number | undefined {
    return this.#lastRebuildEnd;
  }

  /** Targets down, unrepaired findings and the running rebuild. */
  async observe(): Promise<Observations> {
    const stat = await this.store.stat();
    const downTargets = new Set(stat.targets.filter((t) => !t.healthy).map((t) => t.id));
    const job = this.#job;
    // Findings of stripes that no longer exist (overwritten objects) would keep asking for
    // rebuilds that have nothing to do.
    const live = new Set(this.store.stripes().map((s) => s.id));
    for (const key of [...this.#findings.keys()]) {
      if (!live.has(Number(key.split("/")[0]))) this.#findings.delete(key);
    }
    const committed = new Set<number>();
    for (const name of this.store.list()) {
      for (const e of this.store.objectInfo(name)?.extents ?? []) committed.add(e.stripe);
    }
    const writing = new Set(
      this.store.stripes().filter((s) => !committed.has(s.id)).map((s) => s.id),
    );
    return {
      downTargets,
      findings: new Map(this.#findings),
      writing,
      rebuild: job?.kind === "rebuild" ? { order: job.order, done: job.progress() } : undefined,
    };
  }

  /** True when some stripe has a shard on a down target, a finding, or a non-healthy state. */
  needsRebuild(obs: Observations): boolean {
    if (obs.findings.size > 0) return true;
    return this.store.stripes().some((s) =>
      s.health !== "healthy" || s.placement.some((t) => obs.downTargets.has(t))
    );
  }

  /** When the next scrub is due (epoch ms): one interval after the last, or after opening. */
  scrubDueAt(intervalMs: number, lastScrubAt: number | undefined): number {
    return (lastScrubAt ?? this.openedAt) + intervalMs;
  }

  /** Starts a scrub (verify and repair, parity included) paced to `bytesPerSecond` (0: no limit). */
  startScrub(bytesPerSecond: number, onDone: (r: JobResult) => void): void {
    const ac = new AbortController();
    let done = 0;
    const order = this.#order();
    this.#run("scrub", order, () => done, () => ac.abort(), () =>
      this.store.scrub({
        repair: true,
        parity: true,
        reprovision: this.binding.reprovision,
        bytesPerSecond: bytesPerSecond > 0 ? bytesPerSecond : undefined,
        signal: ac.signal,
        onProgress: (p) => (done = p.done),
      }), onDone);
  }

  /** Starts rebuilding missing and corrupt shards onto healthy targets (0: no rate limit). */
  startRebuild(bytesPerSecond: number, onDone: (r: JobResult) => void): void {
    const job = this.store.startReconstruction({
      reprovision: this.binding.reprovision,
      bytesPerSecond: bytesPerSecond > 0 ? bytesPerSecond : undefined,
    });
    this.#run(
      "rebuild",
      this.#order(),
      () => job.progress().done,
      () => job.abort(),
      () => job.done,
      onDone,
    );
  }

  /** Desired ECStripes of this volume. */
  async records(
    policy: ErasureCodingPolicy,
    node: string,
    obs: Observations,
  ): Promise<DesiredRecord[]> {
    const stripes = this.store.stripes();
    await this.tap.prefetch(stripes);
    await this.tap.save(`${this.binding.dir}/${CHECKSUM_SIDECAR}`);
    const code = this.store.code;
    return buildRecords({
      volume: this.binding.volume,
      policy: this.binding.policy,
      policyUid: policy.metadata.uid,
      node,
      code,
      stripes,
      stripesPerRecord: this.binding.stripesPerRecord ??
        recordStripesFor(policy.spec.stripeSizeBytes),
      observed: obs,
      poolOf: this.binding.poolOf,
      checksum: (run, i) => this.tap.extentSum(run, i),
      now: this.deps.clock.now(),
    });
  }

  /** Shards per stripe of the store's code. */
  get shards(): number {
    return shardsPerStripe(this.store.code);
  }

  /** Stops the destager, aborts the running job, waits for both, closes the store. */
  async close(): Promise<void> {
    this.#stop.abort();
    const job = this.#job;
    job?.abort();
    await Promise.all([job?.done, this.#destager]);
    this.store.close();
  }

  #order(): number[] {
    return this.store.stripes().map((s) => s.id).sort((a, b) => a - b);
  }

  #run(
    kind: JobResult["kind"],
    order: number[],
    progress: () => number,
    abort: () => void,
    work: () => Promise<ScrubReport>,
    onDone: (r: JobResult) => void,
  ): void {
    const done = work().then((report) => {
      // A pass covers every stripe it visited: old findings there are replaced by its own.
      const visited = new Set(order.slice(0, report.stripes));
      for (const key of [...this.#findings.keys()]) {
        if (visited.has(Number(key.split("/")[0]))) this.#findings.delete(key);
      }
      for (const f of report.findings) {
        if (!f.repaired && f.shard >= 0) {
          this.#findings.set(
            findingKey(f.stripe, f.shard),
            f.kind === "missing" ? "Missing" : "Corrupt",
          );
        }
      }
      if (kind === "rebuild") this.#lastRebuildEnd = this.deps.clock.now();
      this.#job = undefined;
      onDone({ kind, report });
    }, (e) => {
      this.#job = undefined;
      if (kind === "rebuild") this.#lastRebuildEnd = this.deps.clock.now();
      this.deps.logger.error("ec job failed", { volume: this.binding.volume, kind, error: e });
    });
    this.#job = { kind, order, progress, abort, done };
  }
}
