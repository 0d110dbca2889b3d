/**
 * The core agent's reconcilers (`core/controller/reconciler/`), one pass at a time, in the
 * poller's order (`poller.rs`): per volume the hot-spare reconciler (`volume/hot_spare.rs`),
 * every fifth pass the volume garbage collector (`volume/garbage_collector.rs`), the volume
 * nexus reconciler (`volume/nexus.rs` with `nexus/mod.rs` faulted_nexus_remover and
 * missing_nexus_recreate), and every fifth pass the replica garbage collector
 * (`replica/mod.rs`). A pass that did something is Busy and the next one comes after the
 * reconcile period (10 s), an idle one after the idle period (30 s) (`core/main.rs`).
 */
import type { ControlPlane } from "./controlplane.ts";
import type { SimChild, SimNexus, SimReplica, SimVolume } from "./model.ts";
import { stateChildren } from "./model.ts";
import { attachCandidates, nexusChildren, RemovalCandidates } from "./scheduler.ts";
import type { VolumeOps } from "./volumes.ts";

/** Timing of the reconcile loop. */
export interface ReconcileTiming {
  /** Period after a Busy pass (`--reconcile-period`, 10 s). */
  busyMs: number;
  /** Period after an Idle pass (`--reconcile-idle-period`, 30 s). */
  idleMs: number;
  /** How long a faulted child may come back for a partial rebuild (10 min, rebuild_policies.rs). */
  faultedChildWaitMs: number;
}

/** Upstream defaults. */
export const DEFAULT_TIMING: ReconcileTiming = {
  busyMs: 10_000,
  idleMs: 30_000,
  faultedChildWaitMs: 600_000,
};

/**
 * Events that wake the reconcile loop before its timer (`task_poller.rs` PollTriggerEvent):
 * the agent starting, an io-engine (re)registering (`core/node/service.rs`), a volume
 * published Degraded (`core/volume/operations.rs` notify_if_degraded).
 */
export type TriggerEvent = "Start" | "NodeStateChangeOnline" | "VolumeDegraded";

/** `PollTimer::from(5)`: true on every fifth poll. */
class PollTimer {
  left: number;
  constructor(readonly period: number) {
    this.left = period;
  }
  poll(): boolean {
    if (this.left <= 1) {
      this.left = this.period;
      return true;
    }
    this.left--;
    return false;
  }
}

/** One reconcile pass over every volume and replica. */
export class Reconcilers {
  readonly #volumeGc = new PollTimer(5);
  readonly #replicaGc = new PollTimer(5);
  #busy = false;

  constructor(
    readonly cp: ControlPlane,
    readonly vols: VolumeOps,
    readonly timing: ReconcileTiming,
  ) {}

  /**
   * Runs one pass; true when it was Busy (did or tried something). A timed pass polls the
   * garbage collectors' timers; a triggered one runs the volume GC on Start and VolumeDegraded
   * and the replica GC on Start only (their `poll_event`).
   */
  async pass(opts: { gc?: boolean; event?: TriggerEvent } = {}): Promise<boolean> {
    this.#busy = false;
    const volumes = [...this.cp.s.volumes.values()];
    for (const v of volumes) await this.#guard(() => this.#hotSpare(v));
    const ev = opts.event;
    const gc = opts.gc ?? (ev ? ev !== "NodeStateChangeOnline" : this.#volumeGc.poll());
    if (gc) { for (const v of volumes) await this.#guard(() => this.#volumeGarbage(v)); }
    for (const v of volumes) await this.#guard(() => this.#volumeNexus(v));
    if (opts.gc ?? (ev ? ev === "Start" : this.#replicaGc.poll())) {
      for (const r of [...this.cp.s.replicas.values()]) {
        await this.#guard(() => this.#replicaGarbage(r));
      }
    }
    return this.#busy;
  }

  /** Counts `n` skipped idle passes (the GC timers still tick). */
  skip(n: number): void {
    for (let i = 0; i < n; i++) {
      this.#volumeGc.poll();
      this.#replicaGc.poll();
    }
  }

  /** Passes that will run no garbage collector. */
  quietPasses(): number {
    return Math.min(this.#volumeGc.left, this.#replicaGc.left) - 1;
  }

  /** True while some faulted child waits out its partial-rebuild window. */
  waiting(): boolean {
    for (const n of this.cp.s.nexuses.values()) {
      if (n.live && stateChildren(n).some((c) => c.state === "Faulted" && c.ioLog)) return true;
    }
    return false;
  }

  async #guard(f: () => Promise<void> | void): Promise<void> {
    try {
      await f();
    } catch {
      // A failed step is retried on a later pass, as PollResult errors are.
      this.#busy = true;
    }
  }

  #did(): void {
    this.#busy = true;
  }

  /** hot_spare.rs `hot_spare_reconcile`. */
  async #hotSpare(v: SimVolume): Promise<void> {
    if (!v.selfHeal || !this.cp.s.volumes.has(v.uuid)) return;
    const state = this.cp.volumeState(v);
    if (state.status === "Online") return await this.#replicaCount(v);
    if (state.status === "Faulted") return;
    const nexus = state.nexus;
    if (nexus) {
      await this.#faultedChildren(v, nexus);
      await this.#missingChildren(v, nexus);
      await this.#replicaCount(v);
      this.#nexusReplicaCount(v, nexus);
    } else {
      await this.#replicaCount(v);
    }
  }

  /**
   * nexus/mod.rs `handle_faulted_children` (a Degraded nexus with more than one child): a
   * faulted child with an IO log gets its replica back within the wait (partial rebuild);
   * otherwise, or once the wait is over, the child is removed and its replica disowned and
   * destroyed, so the replica count reconciler replaces it (the hot spare).
   */
  async #faultedChildren(v: SimVolume, nexus: SimNexus): Promise<void> {
    const children = stateChildren(nexus);
    if (this.cp.io.nexusStatus(nexus) !== "Degraded" || children.length <= 1) return;
    for (const c of children.filter((x) => x.state === "Faulted")) {
      const r = this.cp.childReplica(c.uri);
      if (c.replica && c.ioLog && r && this.cp.s.replicaLive(r)) {
        this.cp.io.onlineChild(nexus, c);
        this.#did();
        continue;
      }
      const waited = this.cp.s.now() - (c.faultedAt ?? 0);
      if (c.replica && c.ioLog && waited < this.timing.faultedChildWaitMs) continue;
      await this.#removeChild(v, nexus, c);
    }
  }

  /** `remove_vol_child_by_uri`: a replica child is removed and its replica, if unused, goes. */
  async #removeChild(v: SimVolume, nexus: SimNexus, c: SimChild): Promise<void> {
    this.#did();
    const r = c.replica ? this.cp.s.replicas.get(c.replica) : undefined;
    if (c.replica && r) {
      this.cp.removeReplicaFromNexus(nexus, r);
      await this.#removeUnusedReplica(v, r).catch(() => {});
      return;
    }
    if (c.missing) nexus.children = nexus.children.filter((x) => x !== c);
    else this.cp.io.removeChild(nexus, c.uri);
  }

  /** nexus/mod.rs `missing_children_remover`: spec children io-engine does not have. */
  async #missingChildren(v: SimVolume, nexus: SimNexus): Promise<void> {
    for (const c of nexus.children.filter((x) => x.missing)) await this.#removeChild(v, nexus, c);
  }

  /**
   * `remove_unused_volume_replica` (volume/operations_helper.rs): refused for the last replica,
   * for one the nexus uses (InUse), and for the last healthy one; otherwise disowned from the
   * volume and destroyed (disown all), leaving a failed destroy to the garbage collector.
   */
  async #removeUnusedReplica(v: SimVolume, r: SimReplica): Promise<void> {
    const s = this.cp.s;
    if (![...v.replicas].some((id) => id !== r.uuid)) throw new Error("last replica");
    const nexus = s.targetNexus(v);
    if (nexus?.children.some((c) => c.replica === r.uuid)) throw new Error("in use");
    const info = s.nexusInfo(v.healthInfoId);
    const mine = info?.children.find((c) => c.uuid === r.uuid);
    if (mine?.healthy && !info!.children.some((c) => c.uuid !== r.uuid && c.healthy)) {
      throw new Error("last healthy replica");
    }
    s.disownVolume(r);
    this.#did();
    await this.cp.destroyReplica(r, "all").catch(() => {});
  }

  /**
   * hot_spare.rs `volume_replica_count_reconciler`: too few owned replicas, one new replica per
   * pass on the scheduler's pools; too many, unused ones are removed in the removal order.
   */
  async #replicaCount(v: SimVolume): Promise<void> {
    const owned = v.replicas.size;
    if (owned < v.numReplicas) {
      this.#did();
      await this.vols.createVolumeReplica(v);
    } else if (owned > v.numReplicas) {
      this.#did();
      const candidates = new RemovalCandidates(this.cp.s, v, v.numReplicas);
      let excess = owned - v.numReplicas;
      for (let c = candidates.next(); c && excess > 0; c = candidates.next()) {
        try {
          await this.#removeUnusedReplica(v, c.replica);
          excess--;
        } catch {
          // tries the next candidate, as remove_unused_volume_replicas does
        }
      }
    }
  }

  /**
   * hot_spare.rs `nexus_replica_count_reconciler`: fewer replica children than
   * `num_replicas` attaches owned replicas that are not children (`attach_replicas_to_nexus`,
   * counting every spec child, raw ones too); more removes the excess in the removal order.
   */
  #nexusReplicaCount(v: SimVolume, nexus: SimNexus): void {
    const s = this.cp.s;
    const replicaChildren = () =>
      nexus.children.filter((c) => c.replica && s.replicas.has(c.replica)).length;
    if (replicaChildren() < v.numReplicas) {
      const want = Math.min(v.replicas.size, v.numReplicas);
      let children = nexus.children.length;
      for (const r of attachCandidates(s, v, nexus)) {
        if (children >= want) break;
        this.#did();
        this.cp.attachReplica(nexus, r);
        children++;
      }
    } else if (replicaChildren() > v.numReplicas) {
      const candidates = new RemovalCandidates(s, v, v.numReplicas);
      for (
        let c = candidates.next();
        c && replicaChildren() > v.numReplicas;
        c = candidates.next()
      ) {
        if (!nexus.children.some((x) => x.replica === c!.replica.uuid)) continue;
        this.#did();
        this.cp.removeReplicaFromNexus(nexus, c.replica);
      }
    }
  }

  /**
   * volume/garbage_collector.rs `disown_unused_replicas`: with a created target and a volume
   * that is neither Faulted nor Unknown, an owned replica that is offline, owned by no nexus,
   * not in the target and not healthy in NexusInfo is disowned (the replica GC destroys it).
   * REST-created replicas are never owned, so nothing here ever touches them.
   */
  #volumeGarbage(v: SimVolume): void {
    const s = this.cp.s;
    const nexus = s.targetNexus(v);
    if (!nexus) return;
    const status = this.cp.volumeState(v).status;
    if (status === "Faulted" || status === "Unknown") return;
    const info = s.nexusInfo(v.healthInfoId);
    if (!info) return;
    for (const id of [...v.replicas]) {
      const r = s.replicas.get(id);
      if (!r || s.replicaLive(r) || r.owners.nexuses.length > 0) continue;
      if (nexus.children.some((c) => c.replica === id)) continue;
      if (info.children.find((c) => c.uuid === id)?.healthy) continue;
      s.disownVolume(r);
      this.#did();
    }
  }

  /**
   * volume/nexus.rs: a volume that is not Online gets its faulted nexus removed (when healthy
   * replicas are back) and a lost nexus recreated on its node from the nexus spec's Replica
   * children only (raw URI children are never reused), NexusInfo-healthy and Online; after an
   * unclean shutdown with just one of them.
   */
  #volumeNexus(v: SimVolume): void {
    if (!v.selfHeal || !v.target) return;
    const s = this.cp.s;
    const nexus = s.targetNexus(v);
    if (!nexus || this.cp.volumeState(v).status === "Online") return;
    const node = s.nodes.get(nexus.node);
    if (!node?.online) return;
    const specReplicas = nexus.children.filter((c) => c.replica).map((c) =>
      s.replicas.get(c.replica!)
    )
      .filter((r): r is SimReplica => r !== undefined);
    const pick = nexusChildren(s, specReplicas, nexus.size, s.nexusInfo(nexus.uuid), nexus.node);
    if (nexus.live && this.cp.io.nexusStatus(nexus) === "Faulted" && pick.items.length > 0) {
      this.cp.io.loseNexus(nexus); // faulted_nexus_remover: destroyed so it can be recreated
      this.#did();
    }
    if (nexus.live) return;
    const chosen = pick.one ? pick.items.slice(0, 1) : pick.items;
    if (chosen.length === 0) return;
    const children = chosen.map((r) => ({
      uri: this.cp.makeAccessible(r, nexus.node),
      replica: r.uuid,
    }));
    this.cp.io.recreateNexus(nexus, children);
    this.#did();
  }

  /**
   * replica/mod.rs: owners that no longer exist are removed; a Deleting replica is destroyed
   * again; a managed replica nobody owns is destroyed. Unmanaged (REST) replicas are never
   * collected.
   */
  async #replicaGarbage(r: SimReplica): Promise<void> {
    const s = this.cp.s;
    if (r.managed && (r.owners.volume !== undefined || r.owners.nexuses.length > 0)) {
      if (r.owners.volume !== undefined && !s.volumes.has(r.owners.volume)) s.disownVolume(r);
      r.owners.nexuses = r.owners.nexuses.filter((n) => s.nexuses.has(n));
    }
    const orphan = r.managed && r.owners.volume === undefined && r.owners.nexuses.length === 0;
    if (r.status === "Deleting" || orphan) {
      this.#did();
      await this.cp.destroyReplica(r, "all");
    }
  }
}

/**
 * Runs reconcile passes on the injected clock: every due pass is replayed in order when the
 * cluster is next touched (a request, a scrape, a tick), io-engine state is brought to each
 * pass's time first, and a run of idle passes over an unchanged cluster is skipped in one go.
 */
export class ReconcileLoop {
  #nextAt: number;
  /** A triggered pass waiting to run, and when it was triggered. */
  #trigger: { event: TriggerEvent; at: number } | undefined;

  constructor(
    readonly r: Reconcilers,
    readonly step: (t: number) => Promise<void>,
    readonly epoch: () => number,
    now: number,
    /** False: passes run only when asked for (`runNow`). */
    public auto = true,
  ) {
    this.#nextAt = now;
    this.#trigger = { event: "Start", at: now };
  }

  /** Wakes the loop now (the pass runs when the cluster is next brought to the clock). */
  trigger(event: TriggerEvent, at: number): void {
    if (!this.#trigger || this.#trigger.at > at) this.#trigger = { event, at };
  }

  /** Replays every pass due up to `now`, then brings io-engine to `now`. */
  async catchUp(now: number): Promise<void> {
    while (this.auto) {
      const trig = this.#trigger && this.#trigger.at <= now && this.#trigger.at <= this.#nextAt
        ? this.#trigger
        : undefined;
      if (!trig && this.#nextAt > now) break;
      const at = trig?.at ?? this.#nextAt;
      if (trig) this.#trigger = undefined;
      await this.step(at);
      const before = this.epoch();
      const busy = await this.r.pass({ event: trig?.event });
      const t = this.r.timing;
      // The poller sleeps for a period after every pass, timed or triggered.
      this.#nextAt = at + (busy ? t.busyMs : t.idleMs);
      const settled = !busy && this.epoch() === before && !this.r.cp.io.rebuilding() &&
        !this.r.waiting();
      if (settled && this.#nextAt <= now) {
        // Nothing changes between identical idle passes: skip them, but stop before the next
        // garbage-collecting pass (it may have work the others do not see).
        const skipped = Math.min(Math.floor((now - this.#nextAt) / t.idleMs), this.r.quietPasses());
        this.r.skip(skipped);
        this.#nextAt += skipped * t.idleMs;
      }
    }
    await this.step(now);
  }

  /** Runs one pass now (garbage collectors too when `gc`). */
  async runNow(now: number, gc = false): Promise<void> {
    await this.step(now);
    await this.r.pass({ gc: gc || undefined });
  }
}
