/**
 * Persisted machine states on PersistentVolume annotations (one annotation per machine kind:
 * `storage.billyronks.io/migration`, `storage.billyronks.io/ec-tier`), so a restarted operator
 * (any replica, any node) finds all work in flight. Every write is a merge patch conditional on
 * the resourceVersion this process last read or wrote: a write that lost a race answers 409.
 * Then, when the Lease is no longer ours, this process steps down (the fence's `writeOwned`);
 * when it still is and the annotation holds what this process last wrote (someone changed
 * another part of the PV) the write is retried on the new version; otherwise another writer
 * changed the state and `StateConflict` is thrown: it is reported and left alone, never
 * overwritten.
 */
import type { KubeClient } from "../kube/client.ts";
import { ApiError, isNotFound } from "../kube/errors.ts";
import { writeOwned } from "../kube/fence.ts";
import { BuiltinResources, type KubeObject } from "../kube/resource.ts";

/** A state persisted per volume. */
export interface VolumeKeyed {
  /** PersistentVolume name. */
  volume: string;
  /** Mayastor volume uuid the state acts on (must be the PV's CSI volumeHandle). */
  volumeUuid?: string;
}

/** The parts of a PersistentVolume that say which volume a state on it may act on. */
export interface PvIdentity {
  metadata: { name?: string };
  spec?: unknown;
}

/**
 * Why a well-formed state must not be acted on where it was found: it names another PV, or a
 * Mayastor volume other than this PV's `spec.csi.volumeHandle` (a hand edit, an annotation
 * copied between PVs). Acting on it could remove another volume's replica.
 */
export function foreignStateProblem(state: VolumeKeyed, pv: PvIdentity): string | undefined {
  const name = pv.metadata.name ?? "";
  if (state.volume !== name) return `it names PV ${state.volume}, but it is on PV ${name}`;
  if (state.volumeUuid === undefined) return undefined;
  const spec = pv.spec as { csi?: { volumeHandle?: unknown } } | undefined;
  const handle = spec?.csi?.volumeHandle;
  if (state.volumeUuid !== handle) {
    return `it acts on Mayastor volume ${state.volumeUuid}, but the PV's volumeHandle is ` +
      `${typeof handle === "string" ? handle : "missing"}`;
  }
  return undefined;
}

/** Decodes a PV's annotation with a codec and checks it belongs to that PV. */
export function readPvState<S extends VolumeKeyed>(
  codec: StateCodec<S>,
  pv: PvIdentity & { metadata: { annotations?: Record<string, string> } },
): { ok: true; state: S } | { ok: false; error: string } | undefined {
  const text = pv.metadata.annotations?.[codec.annotation];
  if (text === undefined) return undefined;
  const r = codec.decode(text);
  if (!r.ok) return r;
  const foreign = foreignStateProblem(r.state, pv);
  return foreign ? { ok: false, error: `refused: ${foreign}` } : r;
}

/** How one machine's state is written into and read from its annotation. */
export interface StateCodec<S> {
  /** The annotation holding the state. */
  annotation: string;
  encode(state: S): string;
  decode(text: string): { ok: true; state: S } | { ok: false; error: string };
  /** Annotations written in the same patch (e.g. last-migration once the work ended). */
  alongside?(state: S): Record<string, string>;
}

/** A persisted state that could not be read back (left alone, reported). */
export interface UnreadableState {
  /** Volume it belongs to. */
  key: string;
  error: string;
}

/** Thrown by `load` when the annotation exists but is not a valid state. */
export class UnreadableStateError extends Error {
  constructor(message: string, readonly key: string) {
    super(message);
    this.name = "UnreadableStateError";
  }
}

/** Thrown by a write when another writer changed the state since this process read it. */
export class StateConflict extends Error {
  constructor(readonly volume: string, readonly annotation: string) {
    super(`${annotation} on ${volume} was changed by another writer; not overwriting it`);
    this.name = "StateConflict";
  }
}

/** Persistence of one machine's states, one per volume. */
export interface StateStore<S extends VolumeKeyed> {
  /** Persists the volume's state durably (replacing the previous one). */
  save(state: S): Promise<void>;
  /** The volume's state, undefined when none; throws UnreadableStateError when unreadable. */
  load(volume: string, signal?: AbortSignal): Promise<S | undefined>;
  /** Every persisted state, and the ones that could not be read. */
  list(signal?: AbortSignal): Promise<{ states: S[]; unreadable: UnreadableState[] }>;
  /** Forgets the volume's state (after its result was recorded elsewhere). */
  clear(volume: string): Promise<void>;
}

/** What this process last saw of a PV: its version and the annotation's text. */
interface Seen {
  rv?: string;
  text?: string;
}

const PV = BuiltinResources.persistentVolumes;

/** A StateStore on PersistentVolume annotations with conditional writes. */
export class PvStateStore<S extends VolumeKeyed> implements StateStore<S> {
  readonly #seen = new Map<string, Seen>();

  constructor(
    readonly client: Pick<KubeClient, "get" | "patch" | "listAll" | "confirmLeadership">,
    readonly codec: StateCodec<S>,
  ) {}

  /** Writes the state (and its companion annotations), conditional on the last seen version. */
  async save(state: S): Promise<void> {
    const text = this.codec.encode(state);
    await this.#write(state.volume, {
      ...this.codec.alongside?.(state),
      [this.codec.annotation]: text,
    }, text);
  }

  /** Removes the state's annotation (keeps the others); a deleted PV is not an error. */
  async clear(volume: string): Promise<void> {
    try {
      await this.#write(volume, { [this.codec.annotation]: null }, undefined);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.#seen.delete(volume);
  }

  /** The PV's state, undefined when the PV or the annotation is absent. */
  async load(volume: string, signal?: AbortSignal): Promise<S | undefined> {
    let pv: KubeObject;
    try {
      pv = await this.client.get(PV, volume, { signal });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
    this.#remember(pv);
    const r = readPvState(this.codec, pv);
    if (r === undefined) return undefined;
    if (!r.ok) throw new UnreadableStateError(`${volume}: ${r.error}`, volume);
    return r.state;
  }

  /** Every PV carrying the annotation. */
  async list(signal?: AbortSignal): Promise<{ states: S[]; unreadable: UnreadableState[] }> {
    const { items } = await this.client.listAll(PV, { signal });
    const states: S[] = [];
    const unreadable: UnreadableState[] = [];
    for (const pv of items) {
      this.#remember(pv);
      const r = readPvState(this.codec, pv);
      if (r === undefined) continue;
      if (r.ok) states.push(r.state);
      else unreadable.push({ key: pv.metadata.name ?? "", error: r.error });
    }
    return { states, unreadable };
  }

  #remember(pv: KubeObject): string | undefined {
    const text = pv.metadata.annotations?.[this.codec.annotation];
    this.#seen.set(pv.metadata.name ?? "", { rv: pv.metadata.resourceVersion, text });
    return text;
  }

  /**
   * One conditional merge patch. On 409 the PV is read again: if the annotation is still what
   * this process last saw, only another field changed and the patch is retried on the new
   * version; anything else is another writer's state.
   */
  async #write(
    volume: string,
    annotations: Record<string, string | null>,
    text: string | undefined,
  ): Promise<void> {
    if (!this.#seen.has(volume)) await this.#refresh(volume);
    for (let attempt = 0;; attempt++) {
      const seen = this.#seen.get(volume) ?? {};
      try {
        // A 409 while the Lease is no longer ours steps down (NotLeaderError): the new leader
        // owns the state now. While it still is ours, the 409 is judged below.
        const out = await writeOwned(
          this.client,
          `${this.codec.annotation} on ${volume}`,
          () =>
            this.client.patch(PV, volume, {
              metadata: { ...(seen.rv ? { resourceVersion: seen.rv } : {}), annotations },
            }),
        );
        this.#seen.set(volume, { rv: out.metadata.resourceVersion, text });
        return;
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 409) || attempt >= 4) throw e;
        const now = await this.#refresh(volume);
        if (now !== seen.text) {
          // Keep the stale view: every later write fails the same way until a load or list
          // (a deliberate re-read, e.g. by a new leader's resume) adopts the other state.
          this.#seen.set(volume, seen);
          throw new StateConflict(volume, this.codec.annotation);
        }
      }
    }
  }

  async #refresh(volume: string): Promise<string | undefined> {
    const pv = await this.client.get(PV, volume);
    return this.#remember(pv);
  }
}

/** A StateStore in memory (dry runs, which must not touch any PV; unit tests). */
export class MemoryStateStore<S extends VolumeKeyed> implements StateStore<S> {
  readonly #m = new Map<string, S>();

  /** Keeps the state. */
  save(state: S): Promise<void> {
    this.#m.set(state.volume, state);
    return Promise.resolve();
  }

  /** The kept state. */
  load(volume: string): Promise<S | undefined> {
    return Promise.resolve(this.#m.get(volume));
  }

  /** Every kept state. */
  list(): Promise<{ states: S[]; unreadable: UnreadableState[] }> {
    return Promise.resolve({ states: [...this.#m.values()], unreadable: [] });
  }

  /** Forgets the state. */
  clear(volume: string): Promise<void> {
    this.#m.delete(volume);
    return Promise.resolve();
  }
}
