/**
 * The state every part of the store shares (MinIO's `Erasure` plus its object layer): the
 * manifest, the codec, the open targets, the lock and the counters. encode.ts, decode.ts,
 * heal.ts and destage.ts are functions over it; store.ts is the public facade.
 */
import type { BlockHasher } from "./checksum.ts";
import { createStripeCodec, type StripeCodec } from "./codec.ts";
import type { Manifest, ManifestStore, Stripe } from "./manifest.ts";
import { NoSpaceError } from "./nospace.ts";
import type { ShardIdentity } from "./shard_format.ts";
import type { ShardTarget } from "./target.ts";
import type { EcStoreDeps, EcStoreStats } from "./types.ts";

/** Name of shard i of stripe id on its target. */
export function shardFileName(stripe: number, shard: number): string {
  return `stripe-${String(stripe).padStart(8, "0")}-${String(shard).padStart(3, "0")}.shard`;
}

/** The stripe id and shard index a shard file name encodes; null for other names. */
export function parseShardFileName(name: string): { stripe: number; shard: number } | null {
  const m = /^stripe-(\d{8,})-(\d{3,})\.shard$/.exec(name);
  return m ? { stripe: Number(m[1]), shard: Number(m[2]) } : null;
}

/** Shared state of one open store. Callers hold the lock (`exclusive`) around changes. */
export class StoreCore {
  readonly stats: EcStoreStats = {
    degradedReads: 0,
    reconstructedShards: 0,
    journalRecordsReplayed: 0,
    destagedStripes: 0,
    shardReads: 0,
  };
  readonly codec: StripeCodec;
  readonly targets = new Map<string, ShardTarget>();
  /** The last stripe decoded (verified), so consecutive extents in it are read once. */
  lastStripe: { id: number; data: Uint8Array } | null = null;
  /** Stripe ids being written and not yet in the manifest. */
  readonly reserved = new Set<number>();
  #lock: Promise<unknown> = Promise.resolve();
  #freeHint = 0;

  constructor(
    public manifest: Manifest,
    readonly manifestStore: ManifestStore,
    readonly deps: EcStoreDeps,
    targets: ShardTarget[],
    readonly readOnly: boolean,
    /** Device stores: a stripe id is a slot number on every device, below this. */
    readonly slots?: number,
  ) {
    this.codec = createStripeCodec(manifest.code, deps.kernel);
    for (const t of targets) this.targets.set(t.id, t);
  }

  /** The block hasher. */
  get hasher(): BlockHasher {
    return this.deps.hasher;
  }

  /** Runs fn after every earlier caller's fn, one at a time. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  /** Throws when the store was opened read-only. */
  assertWritable(op: string): void {
    if (this.readOnly) throw new Error(`${op}: the store was opened read-only`);
  }

  /** The target a placement names (a manifest naming an unknown target id is an error). */
  target(id: string): ShardTarget {
    const t = this.targets.get(id);
    if (!t) throw new Error(`manifest places a shard on target ${id}, which it does not list`);
    return t;
  }

  /** The target's id and path, for messages. */
  describeTarget(id: string): string {
    const path = this.manifest.targets.find((t) => t.id === id)?.path ?? "?";
    return `shard target ${id} (${path})`;
  }

  /** What shard i of a stripe must say about itself. */
  identity(stripe: Stripe, shard: number): ShardIdentity {
    return {
      storeId: this.manifest.storeId,
      stripeId: stripe.id,
      shardIndex: shard,
      writeId: stripe.writeId,
      stripeIndex: stripe.index,
      dataBytes: stripe.dataBytes,
      shardSize: stripe.shardSize,
      blockSize: this.manifest.blockSize,
      code: this.manifest.code,
    };
  }

  /**
   * A fresh stripe id, reserved until the stripe is in the manifest or released. Directory
   * stores count up; device stores reuse the lowest free slot, and a full device is ENOSPC.
   */
  allocateStripeId(): number {
    if (this.slots === undefined) {
      const id = this.manifest.nextStripeId++;
      this.reserved.add(id);
      return id;
    }
    for (let id = this.#freeHint; id < this.slots; id++) {
      if (this.manifest.stripes[id] || this.reserved.has(id)) continue;
      this.reserved.add(id);
      this.#freeHint = id + 1;
      this.manifest.nextStripeId = Math.max(this.manifest.nextStripeId, id + 1);
      return id;
    }
    throw new NoSpaceError(`the store's devices: all ${this.slots} stripe slots are in use`);
  }

  /** Gives a stripe id back (the stripe was not written, or it was deleted). */
  releaseStripeId(id: number): void {
    this.reserved.delete(id);
    if (id < this.#freeHint) this.#freeHint = id;
  }

  /**
   * Chooses n distinct targets for a stripe. Fixed placement: target i holds shard i, up or
   * down (the stripe is then degraded). Otherwise the start rotates so load spreads evenly,
   * and healthy targets come first.
   */
  async place(id: number, n: number): Promise<string[]> {
    const all = this.manifest.targets.map((t) => t.id);
    if (this.manifest.fixedPlacement) return all.slice(0, n);
    const turn = Math.floor(id / (this.manifest.placementRun ?? 1));
    const rotated = all.map((_, i) => all[(turn + i) % all.length]);
    const healthy: string[] = [];
    const down: string[] = [];
    for (const t of rotated) ((await this.target(t).healthy()) ? healthy : down).push(t);
    return [...healthy, ...down].slice(0, n);
  }

  /** Flushes every target; called before the manifest names newly written shards. */
  async flushTargets(): Promise<void> {
    await Promise.all([...this.targets.values()].map((t) => t.flush().catch(() => {})));
  }

  /**
   * Makes the in-memory manifest durable: new shards are flushed first, the manifest saved
   * without the stripes no object references any more, and only after the save are those
   * stripes forgotten and their shards deleted, so a crash (or a failed save) at any point
   * leaves the saved and the in-memory manifest pointing at shards that exist.
   */
  async commitManifest(): Promise<void> {
    this.assertWritable("saving the manifest");
    const live = new Set<number>();
    for (const o of Object.values(this.manifest.objects)) {
      for (const e of o.extents) live.add(e.stripe);
    }
    const dead = Object.values(this.manifest.stripes).filter((s) => !live.has(s.id));
    const stripes = Object.fromEntries(
      Object.entries(this.manifest.stripes).filter(([, s]) => live.has(s.id)),
    );
    await this.flushTargets();
    await this.manifestStore.save({ ...this.manifest, stripes });
    for (const s of dead) {
      delete this.manifest.stripes[s.id];
      await this.removeShards(s);
      this.releaseStripeId(s.id);
      if (this.lastStripe?.id === s.id) this.lastStripe = null;
    }
  }

  /** Deletes every shard of a stripe from its targets (best effort: absent is fine). */
  async removeShards(s: Pick<Stripe, "id" | "placement">): Promise<void> {
    await Promise.all(
      s.placement.map((t, i) =>
        this.targets.get(t)?.remove(shardFileName(s.id, i)).catch(() => {})
      ),
    );
  }
}
