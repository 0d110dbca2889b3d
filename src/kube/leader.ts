/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it:
 * candidates poll every retryPeriod; a Lease is free when its holder is empty
 * or has not renewed for leaseDuration as observed on *our* clock (no clock
 * skew trust); the leader renews every retryPeriod and, if it cannot renew
 * within renewDeadline of its last success, aborts its leadership signal at
 * once. Writes carry the resourceVersion, so two candidates never both win.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/log.ts";
import type { KubeClient } from "./client.ts";
import { isAlreadyExists, isConflict, isNotFound } from "./errors.ts";
import { BuiltinResources, type KubeObject, microTime } from "./resource.ts";

/** The Lease spec fields used for election. */
export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

/** A Lease object. */
export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** Options of a LeaderElector. */
export interface LeaderElectorOptions {
  client: KubeClient;
  /** Namespace and name of the Lease. */
  namespace: string;
  name: string;
  /** This candidate's identity (the pod name). */
  identity: string;
  clock: Clock;
  logger: Logger;
  /** How long a lease stays valid without renewal (default 15 s). */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before giving up (default 10 s). */
  renewDeadlineMs?: number;
  /** Pause between attempts (default 2 s). */
  retryPeriodMs?: number;
}

/** What the elector calls as leadership comes and goes. */
export interface LeaderCallbacks {
  /** Starts the leader's work; `signal` aborts the moment leadership is lost or run stops. */
  onStartedLeading(signal: AbortSignal): Promise<void> | void;
  /** Called after leadership ended and the leader's work returned. */
  onStoppedLeading?(): void;
  /** Called when the observed holder changes (including to ourselves). */
  onNewLeader?(identity: string): void;
}

/** Campaigns for and holds one Lease. */
export class LeaderElector {
  readonly #o: Required<LeaderElectorOptions>;
  #observed?: { key: string; at: number; holder: string; durationMs: number };
  #leading = false;

  constructor(opts: LeaderElectorOptions) {
    this.#o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      ...opts,
    };
    if (this.#o.renewDeadlineMs >= this.#o.leaseDurationMs) {
      throw new Error("leaseDuration must be greater than renewDeadline");
    }
  }

  /** True while this candidate holds the Lease. */
  isLeader(): boolean {
    return this.#leading;
  }

  /** The holder last seen on the Lease. */
  get observedLeader(): string | undefined {
    return this.#observed?.holder || undefined;
  }

  /**
   * Campaigns until `signal` aborts: acquire, lead (callbacks), and after a
   * loss campaign again. On abort while leading, the leader's work is stopped
   * and awaited, then the Lease is released.
   */
  async run(signal: AbortSignal, cb: LeaderCallbacks): Promise<void> {
    while (!signal.aborted) {
      const acquiredAt = await this.#acquire(signal, cb);
      if (acquiredAt === undefined) return;
      await this.#lead(acquiredAt, signal, cb);
    }
  }

  /** Polls until we hold the Lease; returns the time the winning request was sent. */
  async #acquire(signal: AbortSignal, cb: LeaderCallbacks): Promise<number | undefined> {
    const { clock, retryPeriodMs } = this.#o;
    while (!signal.aborted) {
      const sentAt = clock.now();
      if (await this.#tryAcquireOrRenew(signal, cb)) return sentAt;
      try {
        await clock.sleep(retryPeriodMs, signal);
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  async #lead(acquiredAt: number, signal: AbortSignal, cb: LeaderCallbacks): Promise<void> {
    const { clock, logger, renewDeadlineMs, retryPeriodMs, identity } = this.#o;
    this.#leading = true;
    logger.info("became leader", { identity, lease: this.#o.name });
    const leadership = new AbortController();
    const onOuterAbort = () => leadership.abort(signal.reason);
    signal.addEventListener("abort", onOuterAbort, { once: true });
    // Start the leader's work without awaiting it: renewal must go on beside it.
    const work = Promise.resolve().then(() => cb.onStartedLeading(leadership.signal)).catch(
      (e) => logger.error("leader work failed", { error: e }),
    );
    let lastRenew = acquiredAt;
    while (!leadership.signal.aborted) {
      const remaining = lastRenew + renewDeadlineMs - clock.now();
      if (remaining <= 0) break;
      try {
        await clock.sleep(Math.min(retryPeriodMs, remaining), leadership.signal);
      } catch {
        break;
      }
      const left = lastRenew + renewDeadlineMs - clock.now();
      if (left <= 0) break;
      // The renewal may not outlive the deadline: abort it when the deadline passes.
      const attempt = new AbortController();
      const stopTimer = new AbortController();
      clock.sleep(left, stopTimer.signal).then(() => attempt.abort(), () => {});
      const sentAt = clock.now();
      const ok = await this.#tryAcquireOrRenew(
        AbortSignal.any([attempt.signal, leadership.signal]),
        cb,
      );
      stopTimer.abort();
      if (ok) lastRenew = sentAt;
    }
    const lost = !signal.aborted;
    this.#leading = false;
    leadership.abort(new Error("leadership lost"));
    signal.removeEventListener("abort", onOuterAbort);
    if (lost) logger.warn("leadership lost: could not renew in time", { identity });
    await work;
    if (!lost) await this.#release();
    cb.onStoppedLeading?.();
  }

  /** One attempt to take or keep the Lease; false when someone else validly holds it. */
  async #tryAcquireOrRenew(signal: AbortSignal, cb: LeaderCallbacks): Promise<boolean> {
    const { client, namespace, name, identity, clock, logger } = this.#o;
    const res = BuiltinResources.leases;
    const durationSec = Math.max(1, Math.ceil(this.#o.leaseDurationMs / 1000));
    const now = clock.now();
    let lease: Lease;
    try {
      lease = await client.get<Lease>(res, name, { namespace, signal });
    } catch (e) {
      if (!isNotFound(e)) {
        if (!signal.aborted) logger.debug("lease read failed", { error: e });
        return false;
      }
      try {
        const created = await client.create<Lease>(res, {
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: durationSec,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        }, { signal });
        this.#observe(created, cb);
        return true;
      } catch (e2) {
        if (!isAlreadyExists(e2) && !signal.aborted) {
          logger.debug("lease create failed", { error: e2 });
        }
        return false;
      }
    }
    this.#observe(lease, cb);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const obs = this.#observed!;
    if (holder && holder !== identity && obs.at + obs.durationMs > clock.now()) return false;
    const next: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSec,
        renewTime: microTime(now),
        acquireTime: holder === identity ? spec.acquireTime ?? microTime(now) : microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1),
      },
    };
    try {
      const updated = await client.update<Lease>(res, next, { signal });
      this.#observe(updated, cb);
      return true;
    } catch (e) {
      if (!isConflict(e) && !signal.aborted) logger.debug("lease update failed", { error: e });
      return false;
    }
  }

  /** Notes a change of the Lease record and when we saw it (our clock decides expiry). */
  #observe(lease: Lease, cb: LeaderCallbacks): void {
    const s = lease.spec ?? {};
    const key = `${s.holderIdentity ?? ""}|${s.renewTime ?? ""}|${s.leaseDurationSeconds ?? ""}`;
    if (this.#observed?.key === key) return;
    const holder = s.holderIdentity ?? "";
    const prevHolder = this.#observed?.holder;
    this.#observed = {
      key,
      at: this.#o.clock.now(),
      holder,
      durationMs: (s.leaseDurationSeconds ?? 15) * 1000,
    };
    if (holder && holder !== prevHolder) cb.onNewLeader?.(holder);
  }

  /** Gives the Lease up so a successor needn't wait for it to expire (as client-go does). */
  async #release(): Promise<void> {
    const { client, namespace, name, identity, clock, logger } = this.#o;
    const res = BuiltinResources.leases;
    try {
      const lease = await client.get<Lease>(res, name, { namespace });
      if ((lease.spec?.holderIdentity ?? "") !== identity) return;
      const now = microTime(clock.now());
      await client.update<Lease>(res, {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: "",
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
        },
      });
      logger.info("lease released", { identity, lease: name });
    } catch (e) {
      logger.warn("lease release failed", { error: e });
    }
  }
}
