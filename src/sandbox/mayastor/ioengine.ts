/**
 * What the io-engines do below the control plane (openebs/mayastor `io-engine/src/bdev/nexus/`):
 * nexus status from its children (`nexus_bdev.rs` status), children added out of sync and
 * rebuilt from a healthy child (`nexus_bdev_children.rs` add_child_only, `nexus_bdev_rebuild.rs`),
 * child removal refused for the last (healthy) child (`check_child_remove_operation`), children
 * faulting when their replica's device goes away, and the NexusInfo they persist
 * (`nexus_persistence.rs`: Create, AddChild healthy=false, Update healthy=true after a rebuild,
 * RemoveChild, UpdateCond on retire unless it is the last healthy child, Shutdown on destroy).
 * Rebuilds copy real bytes between replica files at a set rate on the injected clock.
 */
import { Svc } from "./errors.ts";
import {
  type ChildReason,
  type NexusInfo,
  type SimChild,
  type SimNexus,
  type SimReplica,
  stateChildren,
  uriUuid,
  zeroCounters,
} from "./model.ts";
import type { ClusterState } from "./state.ts";

/** Rebuild fault modes (test faults). */
export type RebuildFault = "none" | "stall" | "fail";

/** The io-engine side of the simulated cluster. */
export class IoEngine {
  rebuildFault: RebuildFault = "none";
  /** Fault the next rebuild that starts once it reaches this percentage (one shot). */
  faultNextRebuildAt: number | undefined;
  /** Replicas whose child faults once its rebuild reaches a percentage. */
  readonly faultAt = new Map<string, number>();

  constructor(readonly s: ClusterState, public rebuildBytesPerSec: number) {}

  /** Nexus status (`Nexus::status`): all children healthy Online, some Degraded, none Faulted. */
  nexusStatus(n: SimNexus): "Online" | "Degraded" | "Faulted" {
    const children = stateChildren(n);
    const healthy = children.filter((c) => c.state === "Online").length;
    if (healthy === 0) return "Faulted";
    return healthy === children.length ? "Online" : "Degraded";
  }

  /** Creates a nexus on a node with in-sync children; persists NexusInfo (Create). */
  createNexus(
    n: { uuid: string; node: string; size: number; owner?: string },
    children: { uri: string; replica?: string }[],
  ): SimNexus {
    const nexus: SimNexus = {
      ...n,
      children: children.map((c) => ({ ...c, state: "Online", reason: "None" })),
      live: true,
      counters: zeroCounters(this.s.now()),
    };
    this.s.nexuses.set(n.uuid, nexus);
    // PersistOp::Create overwrites any entry: every child as healthy as it opened.
    this.s.nexusInfos.set(n.uuid, {
      cleanShutdown: false,
      children: children.map((c) => ({ uuid: uriUuid(c.uri) ?? "", healthy: true })),
    });
    this.s.touch();
    return nexus;
  }

  /**
   * Recreates a lost nexus in io-engine with the given children. The spec is not rewritten
   * (`missing_nexus_recreate` only sends the create): spec children left out are missing.
   */
  recreateNexus(n: SimNexus, children: { uri: string; replica?: string }[]): void {
    const uris = new Set(children.map((c) => c.uri));
    const kept = n.children.filter((c) => !uris.has(c.uri)).map((c): SimChild => ({
      uri: c.uri,
      replica: c.replica,
      state: "Unknown",
      reason: "None",
      missing: true,
    }));
    n.children = [
      ...children.map((c): SimChild => ({ ...c, state: "Online", reason: "None" })),
      ...kept,
    ];
    n.live = true;
    n.counters = zeroCounters(this.s.now());
    this.s.nexusInfos.set(n.uuid, {
      cleanShutdown: false,
      children: children.map((c) => ({ uuid: uriUuid(c.uri) ?? "", healthy: true })),
    });
    this.s.touch();
  }

  /** Destroys a nexus in io-engine; a live one records a clean shutdown (PersistOp::Shutdown). */
  destroyNexus(n: SimNexus): void {
    const info = this.s.nexusInfos.get(n.uuid);
    if (info && n.live) info.cleanShutdown = true;
    n.live = false;
    this.s.nexuses.delete(n.uuid);
    this.s.touch();
  }

  /** io-engine lost the nexus (io-engine restart or node down): no state, unclean shutdown. */
  loseNexus(n: SimNexus): void {
    n.live = false;
    for (const c of n.children) c.rebuild = undefined;
    this.s.touch();
  }

  /** The replica a child URI opens, or a CreateChild error (`device_create`). */
  resolveDevice(n: SimNexus, uri: string): SimReplica {
    const fail = () =>
      Svc.grpc(
        "InvalidArgument",
        "add_child_nexus",
        `status: InvalidArgument, message: "Failed to create child ${uri} of nexus ${n.uuid}"`,
      );
    const id = uriUuid(uri);
    const r = id ? this.s.replicas.get(id) : undefined;
    if (!r || !this.s.replicaLive(r)) throw fail();
    const node = this.s.nodeOf(r);
    if (uri.startsWith("nvmf://")) {
      // An NVMe-oF child only connects to a replica shared over nvmf from its node.
      if (r.share !== "nvmf" || new URL(uri).hostname !== node) throw fail();
    } else if (uri.startsWith("bdev:///")) {
      if (node !== n.node) throw fail();
    } else {
      throw fail();
    }
    return r;
  }

  /** Adds a child out of sync and starts its rebuild; NexusInfo AddChild (healthy=false). */
  addChild(n: SimNexus, uri: string, replica?: string): SimChild {
    if (stateChildren(n).some((c) => c.uri === uri)) {
      throw Svc.grpc(
        "AlreadyExists",
        "add_child_nexus",
        `status: AlreadyExists, message: "Child ${uri} of nexus ${n.uuid} already exists"`,
      );
    }
    const r = this.resolveDevice(n, uri);
    const child: SimChild = {
      uri,
      replica,
      state: "Degraded",
      reason: "OutOfSync",
      rebuild: { doneBytes: 0, lastMs: this.s.now() },
    };
    const at = this.faultAt.get(r.uuid) ?? this.faultNextRebuildAt;
    if (at !== undefined) {
      child.rebuild!.failAtBytes = (at * n.size) / 100;
      this.faultNextRebuildAt = undefined;
      this.faultAt.delete(r.uuid);
    }
    n.children = [...n.children.filter((c) => c.uri !== uri), child];
    this.#rebuilding.add(n.uuid);
    const info = this.#info(n);
    info.children = info.children.filter((c) => c.uuid !== r.uuid);
    info.children.push({ uuid: r.uuid, healthy: false });
    this.s.touch();
    return child;
  }

  /** Removes a child (its rebuild stops); refuses the last child and the last healthy one. */
  removeChild(n: SimNexus, uri: string): void {
    const children = stateChildren(n);
    const child = children.find((c) => c.uri === uri);
    if (!child) {
      throw Svc.grpc(
        "NotFound",
        "remove_child_nexus",
        `status: NotFound, message: "Child ${uri} of nexus ${n.uuid} not found"`,
      );
    }
    const healthy = children.filter((c) => c.state === "Online");
    if (children.length === 1 || (healthy.length === 1 && healthy[0] === child)) {
      const what = children.length === 1 ? "last child" : "last healthy child";
      throw Svc.grpc(
        "FailedPrecondition",
        "remove_child_nexus",
        `status: FailedPrecondition, message: "Cannot remove the ${what} ${uri} of nexus ${n.uuid}"`,
      );
    }
    n.children = n.children.filter((c) => c !== child);
    const id = uriUuid(uri);
    const info = this.#info(n);
    info.children = info.children.filter((c) => c.uuid !== id);
    this.s.touch();
  }

  /**
   * Faults a child (`child_retire`): the nexus keeps it as Faulted and persists it unhealthy,
   * unless it is the last healthy child in NexusInfo (then the state is not persisted).
   */
  faultChild(n: SimNexus, child: SimChild, reason: ChildReason): void {
    if (child.state === "Faulted") return;
    const wasHealthy = child.state === "Online";
    child.state = "Faulted";
    child.reason = reason;
    // A rebuilding child has no log of missed writes; a healthy one that lost its device does.
    child.ioLog = child.rebuild === undefined && reason !== "RebuildFailed";
    child.faultedAt = this.s.now();
    child.rebuild = undefined;
    const info = this.#info(n);
    const id = uriUuid(child.uri);
    if (wasHealthy && info.children.filter((c) => c.healthy).length > 1) {
      for (const c of info.children) if (c.uuid === id) c.healthy = false;
    }
    this.s.touch();
  }

  /** True while some live nexus has a rebuild that can progress. */
  rebuilding(): boolean {
    for (const id of this.#rebuilding) {
      const n = this.s.nexuses.get(id);
      if (n?.live && stateChildren(n).some((c) => c.rebuild)) return true;
    }
    return false;
  }

  /**
   * Brings io-engine to `now`: once a device may have gone, children whose device is gone
   * fault; rebuilds in progress copy the bytes due.
   */
  async step(now: number): Promise<void> {
    if (this.#scanned !== this.s.devicesEpoch) {
      this.#scanned = this.s.devicesEpoch;
      for (const n of this.s.nexuses.values()) if (n.live) this.#faultLostDevices(n);
    }
    for (const id of [...this.#rebuilding]) {
      const n = this.s.nexuses.get(id);
      const active = n?.live ? stateChildren(n).filter((c) => c.rebuild) : [];
      if (active.length === 0) this.#rebuilding.delete(id);
      for (const c of active) await this.#stepRebuild(n!, c, now);
    }
  }

  #faultLostDevices(n: SimNexus): void {
    for (const c of stateChildren(n)) {
      const r = this.#replicaOf(c);
      if (c.state !== "Faulted" && (!r || !this.s.replicaLive(r))) {
        this.faultChild(n, c, c.rebuild ? "RebuildFailed" : "IoFailure");
      }
    }
  }

  /** Nexuses that have (or had) a rebuild since the last step. */
  readonly #rebuilding = new Set<string>();
  #scanned = -1;

  async #stepRebuild(n: SimNexus, c: SimChild, now: number): Promise<void> {
    const rb = c.rebuild!;
    const dt = Math.max(0, now - rb.lastMs);
    rb.lastMs = now;
    if (this.rebuildFault === "fail") return this.faultChild(n, c, "RebuildFailed");
    if (this.rebuildFault === "stall" || dt === 0) return;
    const source = stateChildren(n).map((o) =>
      o.state === "Online" ? this.#replicaOf(o) : undefined
    )
      .find((r) => r && this.s.replicaLive(r));
    const target = this.#replicaOf(c);
    if (!source || !target) return this.faultChild(n, c, "RebuildFailed");
    // doneBytes keeps the fraction so many small steps add up to the exact rate.
    let next = Math.min(n.size, rb.doneBytes + (this.rebuildBytesPerSec * dt) / 1000);
    const failing = rb.failAtBytes !== undefined && next >= rb.failAtBytes;
    if (failing) next = Math.min(next, rb.failAtBytes!);
    const from = Math.floor(rb.doneBytes);
    await this.s.store.copyRange(source.path, target.path, from, Math.floor(next) - from);
    // A rebuild writes every block: the target ends fully allocated.
    this.s.setAllocated(target, Math.max(target.allocated, Math.floor(next)));
    rb.doneBytes = next;
    if (failing) return this.faultChild(n, c, "RebuildFailed");
    if (next >= n.size) {
      c.rebuild = undefined;
      c.state = "Online";
      c.reason = "None";
      // nexus_bdev_rebuild.rs: a completed rebuild persists the child healthy.
      for (const i of this.#info(n).children) if (i.uuid === target.uuid) i.healthy = true;
      this.s.touch();
    }
  }

  /** Rebuild progress in percent while rebuilding; 100 only once every byte is copied. */
  static progress(n: { size: number }, c: SimChild): number | undefined {
    if (!c.rebuild) return undefined;
    return n.size === 0 ? 100 : Math.min(99, Math.floor((c.rebuild.doneBytes * 100) / n.size));
  }

  /** Partial rebuild of a faulted child whose device is back (`online_child`). */
  onlineChild(n: SimNexus, child: SimChild): void {
    this.#rebuilding.add(n.uuid);
    child.state = "Degraded";
    child.reason = "OutOfSync";
    child.ioLog = false;
    child.faultedAt = undefined;
    child.rebuild = { doneBytes: 0, lastMs: this.s.now() };
    this.s.touch();
  }

  #replicaOf(c: SimChild): SimReplica | undefined {
    const id = uriUuid(c.uri);
    return id ? this.s.replicas.get(id) : undefined;
  }

  #info(n: SimNexus): NexusInfo {
    let info = this.s.nexusInfos.get(n.uuid);
    if (!info) {
      info = { cleanShutdown: false, children: [] };
      this.s.nexusInfos.set(n.uuid, info);
    }
    return info;
  }
}
