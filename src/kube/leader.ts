/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it
 * (`tools/leaderelection/leaderelection.go`): candidates poll every retryPeriod; a Lease is free
 * when its holder is empty or has not renewed for leaseDuration as observed on *our* clock (no
 * clock-skew trust); the leader renews every retryPeriod and, if it cannot renew within
 * renewDeadline of its last success, aborts its leadership signal at once. Writes carry the
 * resourceVersion, so two candidates never both win.
 *
 * Beyond client-go: the elector is the process's write fence (fence.ts). Leadership is judged
 * on monotonic time at the instant of every write, not only in the renew loop, so a leader
 * that was paused (SIGSTOP, a long GC) past its deadline refuses its own writes the moment it
 * wakes. And the holder is this *process*, not only this identity: client-go's `IsLeader()`
 * compares the identity alone (two replicas given one name both lead, which is why its example
 * defaults the identity to a fresh UUID, `examples/leader-election/main.go`); here the Lease
 * also carries a per-process nonce, and a valid Lease naming our identity with another nonce is
 * someone else's.
 */
import { type Clock, monotonicNow } from "../clock.ts";
import type { Logger } from "../observability/log.ts";
import type { KubeClient } from "./client.ts";
import { isAlreadyExists, isConflict, isNotFound } from "./errors.ts";
import { NotLeaderError, type WriteFence } from "./fence.ts";
import { BuiltinResources, type KubeObject, microTime, resourcePath } from "./resource.ts";

/** Annotation on the Lease naming the process (not only the identity) that holds it. */
export const HOLDER_NONCE_ANNOTATION = "storage.billyronks.io/leader-nonce";

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
  /** This candidate's identity (the pod name); must not be empty. */
  identity: string;
  clock: Clock;
  logger: Logger;
  /** How long a lease stays valid without renewal (default 15 s). */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before giving up (default 10 s). */
  renewDeadlineMs?: number;
  /** Pause between attempts (default 2 s). */
  retryPeriodMs?: number;
  /**
   * Bound on releasing the Lease at shutdown: client-go uses RenewDeadline; the default here is
   * that, capped at 5 s, so it fits inside the default 10 s --shutdown-timeout.
   */
  releaseTimeoutMs?: number;
  /** This process's nonce (default a random UUID; tests pass one to play two processes). */
  nonce?: string;
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

/** The Lease record as last observed, and when (monotonic) it was first seen like this. */
interface Observed {
  key: string;
  atMono: number;
  holder: string;
  nonce: string;
  durationMs: number;
}

/** Campaigns for and holds one Lease; while it runs, gates every write of its client. */
export class LeaderElector implements WriteFence {
  readonly #o: Required<LeaderElectorOptions>;
  readonly #leasePath: string;
  readonly #leasesPath: string;
  #observed?: Observed;
  #leading = false;
  /** Monotonic time the last successful acquire/renew request was sent. */
  #lastRenewMono = -Infinity;
  #leadership?: AbortController;
  #warnedTwin = false;

  constructor(opts: LeaderElectorOptions) {
    const renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.#o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs,
      retryPeriodMs: 2_000,
      releaseTimeoutMs: Math.min(renewDeadlineMs, 5_000),
      nonce: crypto.randomUUID(),
      ...opts,
    };
    // client-go's NewLeaderElector refuses an empty identity ("Lock identity is empty").
    if (this.#o.identity.trim() === "") {
      throw new Error("leader election needs a non-empty identity");
    }
    if (this.#o.renewDeadlineMs >= this.#o.leaseDurationMs) {
      throw new Error("leaseDuration must be greater than renewDeadline");
    }
    this.#leasePath = resourcePath(BuiltinResources.leases, opts.namespace, opts.name);
    this.#leasesPath = resourcePath(BuiltinResources.leases, opts.namespace);
  }

  /** True while this process holds the Lease and its last renewal is within the deadline. */
  isLeader(): boolean {
    return this.#leading && this.#sinceRenew() < this.#o.renewDeadlineMs;
  }

  /** The holder last seen on the Lease. */
  get observedLeader(): string | undefined {
    return this.#observed?.holder || undefined;
  }

  /** This process's nonce, as written on the Lease it holds. */
  get nonce(): string {
    return this.#o.nonce;
  }

  /** WriteFence: refuses a write (other than the Lease's own) unless leadership is certain. */
  check(method: string, path: string): void {
    if (path === this.#leasePath || (method === "POST" && path === this.#leasesPath)) return;
    const request = `${method} ${path}`;
    if (!this.#leading) {
      throw new NotLeaderError(request, `${this.#o.identity} does not hold Lease ${this.#o.name}`);
    }
    const since = this.#sinceRenew();
    if (since >= this.#o.renewDeadlineMs) {
      const why = `last renewal ${
        Math.round(since)
      } ms ago, renew deadline ${this.#o.renewDeadlineMs} ms`;
      this.stepDown(why);
      throw new NotLeaderError(request, why);
    }
  }

  /** WriteFence: gives leadership up at once; the campaign goes on (and may win again). */
  stepDown(reason: string): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#o.logger.warn("stepping down", { identity: this.#o.identity, reason });
    this.#leadership?.abort(new NotLeaderError("leadership", reason));
  }

  /** WriteFence: reads the Lease; true when this process holds it, else steps down. */
  async confirm(signal?: AbortSignal): Promise<boolean> {
    const { client, namespace, name } = this.#o;
    let lease: Lease;
    try {
      lease = await client.get<Lease>(BuiltinResources.leases, name, { namespace, signal });
    } catch (e) {
      this.stepDown(`cannot read Lease ${name} to confirm leadership: ${errText(e)}`);
      return false;
    }
    if (this.#ours(lease)) return this.isLeader();
    this.stepDown(`Lease ${name} is held by ${holderOf(lease) || "nobody"} (another process)`);
    return false;
  }

  /**
   * Campaigns until `signal` aborts: acquire, lead (callbacks), and after a
   * loss campaign again. On abort while leading, the leader's work is stopped
   * and awaited, then the Lease is released (within releaseTimeoutMs).
   * From the first call on, the client's writes are gated on this elector.
   */
  async run(signal: AbortSignal, cb: LeaderCallbacks): Promise<void> {
    this.#o.client.fenceWrites(this);
    while (!signal.aborted) {
      const acquiredAt = await this.#acquire(signal, cb);
      if (acquiredAt === undefined) return;
      await this.#lead(acquiredAt, signal, cb);
    }
  }

  #mono(): number {
    return monotonicNow(this.#o.clock);
  }

  #sinceRenew(): number {
    return this.#mono() - this.#lastRenewMono;
  }

  /** Polls until we hold the Lease; returns the monotonic time the winning request was sent. */
  async #acquire(signal: AbortSignal, cb: LeaderCallbacks): Promise<number | undefined> {
    const { clock, retryPeriodMs } = this.#o;
    while (!signal.aborted) {
      const sentAt = this.#mono();
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
    const { logger, identity } = this.#o;
    this.#lastRenewMono = acquiredAt;
    this.#leading = true;
    logger.info("became leader", { identity, lease: this.#o.name });
    const leadership = new AbortController();
    this.#leadership = leadership;
    const onOuterAbort = () => leadership.abort(signal.reason);
    signal.addEventListener("abort", onOuterAbort, { once: true });
    // Start the leader's work without awaiting it: renewal must go on beside it.
    const work = Promise.resolve().then(() => cb.onStartedLeading(leadership.signal)).catch(
      (e) => logger.error("leader work failed", { error: e }),
    );
    await this.#renewLoop(leadership.signal, cb);
    const lost = !signal.aborted;
    const wasLeading = this.#leading;
    this.#leading = false;
    leadership.abort(new Error("leadership lost"));
    signal.removeEventListener("abort", onOuterAbort);
    if (lost && wasLeading) logger.warn("leadership lost: could not renew in time", { identity });
    await work;
    if (!lost) await this.#release();
    cb.onStoppedLeading?.();
    // After a loss, campaign again only after a retry period (a step-down is not undone at once).
    if (lost) await this.#o.clock.sleep(this.#o.retryPeriodMs, signal).catch(() => {});
  }

  /** Renews every retryPeriod until the deadline passes without success or `signal` aborts. */
  async #renewLoop(signal: AbortSignal, cb: LeaderCallbacks): Promise<void> {
    const { clock, renewDeadlineMs, retryPeriodMs } = this.#o;
    while (!signal.aborted) {
      const remaining = renewDeadlineMs - this.#sinceRenew();
      if (remaining <= 0) return;
      try {
        await clock.sleep(Math.min(retryPeriodMs, remaining), signal);
      } catch {
        return;
      }
      const left = renewDeadlineMs - this.#sinceRenew();
      if (left <= 0) return;
      // The renewal may not outlive the deadline: abort it when the deadline passes.
      const attempt = new AbortController();
      const stopTimer = new AbortController();
      clock.sleep(left, stopTimer.signal).then(() => attempt.abort(), () => {});
      const sentAt = this.#mono();
      const ok = await this.#tryAcquireOrRenew(AbortSignal.any([attempt.signal, signal]), cb);
      stopTimer.abort();
      if (ok && !signal.aborted) this.#lastRenewMono = sentAt;
    }
  }

  /** True when the Lease names this identity *and* this process's nonce. */
  #ours(lease: Lease): boolean {
    return holderOf(lease) === this.#o.identity && nonceOf(lease) === this.#o.nonce;
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
          metadata: { name, namespace, annotations: { [HOLDER_NONCE_ANNOTATION]: this.#o.nonce } },
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
    const holder = holderOf(lease);
    const ours = this.#ours(lease);
    const obs = this.#observed!;
    if (holder && !ours && obs.atMono + obs.durationMs > this.#mono()) {
      if (holder === identity) this.#warnTwin(obs.nonce);
      return false;
    }
    const next: Lease = {
      ...lease,
      metadata: {
        ...lease.metadata,
        annotations: { ...lease.metadata.annotations, [HOLDER_NONCE_ANNOTATION]: this.#o.nonce },
      },
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSec,
        renewTime: microTime(now),
        acquireTime: ours ? spec.acquireTime ?? microTime(now) : microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
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

  /** Says once that another process holds the Lease under our identity. */
  #warnTwin(nonce: string): void {
    if (this.#warnedTwin) return;
    this.#warnedTwin = true;
    this.#o.logger.error(
      "the Lease is held under this identity by another process: two replicas share one " +
        "--pod-name; this one waits until that Lease expires",
      {
        identity: this.#o.identity,
        lease: this.#o.name,
        theirNonce: nonce,
        ourNonce: this.#o.nonce,
      },
    );
  }

  /** Notes a change of the Lease record and when we saw it (our clock decides expiry). */
  #observe(lease: Lease, cb: LeaderCallbacks): void {
    const s = lease.spec ?? {};
    const nonce = nonceOf(lease);
    const key = `${s.holderIdentity ?? ""}|${nonce}|${s.renewTime ?? ""}|${
      s.leaseDurationSeconds ?? ""
    }`;
    if (this.#observed?.key === key) return;
    const holder = s.holderIdentity ?? "";
    const prevHolder = this.#observed?.holder;
    this.#observed = {
      key,
      atMono: this.#mono(),
      holder,
      nonce,
      durationMs: (s.leaseDurationSeconds ?? 15) * 1000,
    };
    if (holder && holder !== prevHolder) cb.onNewLeader?.(holder);
  }

  /**
   * Gives the Lease up so a successor needn't wait for it to expire (as client-go does), within
   * releaseTimeoutMs: a hung API server cannot hold shutdown up (client-go bounds its release by
   * RenewDeadline, `release()` in leaderelection.go).
   */
  async #release(): Promise<void> {
    const { client, namespace, name, identity, clock, logger, releaseTimeoutMs } = this.#o;
    const res = BuiltinResources.leases;
    const bound = new AbortController();
    const stopTimer = new AbortController();
    clock.sleep(releaseTimeoutMs, stopTimer.signal).then(
      () => bound.abort(new Error(`lease release took longer than ${releaseTimeoutMs} ms`)),
      () => {},
    );
    try {
      const lease = await client.get<Lease>(res, name, { namespace, signal: bound.signal });
      if (!this.#ours(lease)) return;
      const now = microTime(clock.now());
      const annotations = { ...lease.metadata.annotations };
      delete annotations[HOLDER_NONCE_ANNOTATION];
      await client.update<Lease>(res, {
        ...lease,
        metadata: { ...lease.metadata, annotations },
        spec: {
          ...lease.spec,
          holderIdentity: "",
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
        },
      }, { signal: bound.signal });
      logger.info("lease released", { identity, lease: name });
    } catch (e) {
      logger.warn("lease release failed", {
        error: bound.signal.aborted ? bound.signal.reason : e,
      });
    } finally {
      stopTimer.abort();
    }
  }
}

function holderOf(lease: Lease): string {
  return lease.spec?.holderIdentity ?? "";
}

function nonceOf(lease: Lease): string {
  return lease.metadata.annotations?.[HOLDER_NONCE_ANNOTATION] ?? "";
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
