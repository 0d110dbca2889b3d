/**
 * MoveStore: where move states are persisted before each step. The Kubernetes adapter keeps
 * them in the PV annotation `storage.billyronks.io/migration`; FileMoveStore keeps one JSON
 * file per volume (tests, the sandbox, single-node installs).
 */
import { decodeMoveState, encodeMoveState, type MoveState } from "./state.ts";

/** A persisted state that could not be read back. */
export interface UnreadableMove {
  /** Volume (or file) it belongs to. */
  key: string;
  error: string;
}

/** Thrown by `load` when the persisted state exists but is not a valid move state. */
export class MoveStoreError extends Error {
  constructor(message: string, readonly key: string) {
    super(message);
    this.name = "MoveStoreError";
  }
}

/** Persistence of move states, one per volume. */
export interface MoveStore {
  /** Persists the volume's move state durably (replacing any previous one). */
  save(state: MoveState): Promise<void>;
  /** The volume's persisted move, undefined when none; throws MoveStoreError when unreadable. */
  load(volume: string): Promise<MoveState | undefined>;
  /**
   * Every persisted move (in flight and finished), plus the ones that could not be read;
   * `signal` abandons the read (shutdown must not wait on an unresponsive store).
   */
  list(signal?: AbortSignal): Promise<{ moves: MoveState[]; unreadable: UnreadableMove[] }>;
  /** Forgets the volume's move (after its result was recorded elsewhere). */
  clear(volume: string): Promise<void>;
}

/** A MoveStore keeping `<dir>/<volume>.json`, written atomically (temp file + rename). */
export class FileMoveStore implements MoveStore {
  constructor(readonly dir: string) {}

  #path(volume: string): string {
    return `${this.dir}/${encodeURIComponent(volume)}.json`;
  }

  /** Writes the state to a temp file, syncs it, then renames it over the old one. */
  async save(state: MoveState): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true });
    const path = this.#path(state.volume);
    const tmp = `${path}.tmp-${crypto.randomUUID()}`;
    const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      await f.write(new TextEncoder().encode(encodeMoveState(state)));
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
  }

  /** Reads one volume's state. */
  async load(volume: string): Promise<MoveState | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#path(volume));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
    const r = decodeMoveState(text);
    if (!r.ok) throw new MoveStoreError(`${volume}: ${r.error}`, volume);
    return r.state;
  }

  /** Reads every state in the directory. */
  async list(): Promise<{ moves: MoveState[]; unreadable: UnreadableMove[] }> {
    const moves: MoveState[] = [];
    const unreadable: UnreadableMove[] = [];
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(this.dir));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return { moves, unreadable };
      throw e;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      const key = decodeURIComponent(e.name.slice(0, -5));
      const r = decodeMoveState(await Deno.readTextFile(`${this.dir}/${e.name}`));
      if (r.ok) moves.push(r.state);
      else unreadable.push({ key, error: r.error });
    }
    return { moves, unreadable };
  }

  /** Deletes the volume's file (no error when absent). */
  async clear(volume: string): Promise<void> {
    try {
      await Deno.remove(this.#path(volume));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}
