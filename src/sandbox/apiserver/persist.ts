/** Snapshot persistence: the store written atomically to `<dir>/state.json`, at most once per interval. */
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../observability/log.ts";
import { type KObj, type StoreSnapshot, StoreSnapshotSchema } from "./store.ts";

/** Reads the last snapshot, or undefined when there is none. */
export async function loadSnapshot(dir: string): Promise<StoreSnapshot | undefined> {
  try {
    return StoreSnapshotSchema.parse(JSON.parse(await Deno.readTextFile(`${dir}/state.json`)));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Writes snapshots after changes, throttled, and once more on flush. */
export class Persister {
  #dir: string;
  #snapshot: () => StoreSnapshot;
  #clock: Clock;
  #log: Logger;
  #intervalMs: number;
  #dirty = false;
  #timer: Promise<void> | undefined;
  #writing: Promise<void> = Promise.resolve();
  #abort = new AbortController();

  constructor(
    o: {
      dir: string;
      snapshot: () => StoreSnapshot;
      clock: Clock;
      logger: Logger;
      intervalMs?: number;
    },
  ) {
    this.#dir = o.dir;
    this.#snapshot = o.snapshot;
    this.#clock = o.clock;
    this.#log = o.logger;
    this.#intervalMs = o.intervalMs ?? 500;
  }

  /** Notes a change; a write follows within the interval. */
  changed(): void {
    this.#dirty = true;
    if (this.#timer) return;
    this.#timer = this.#clock.sleep(this.#intervalMs, this.#abort.signal).then(
      () => {
        this.#timer = undefined;
        return this.#write();
      },
      () => {
        this.#timer = undefined;
      },
    );
  }

  #write(): Promise<void> {
    if (!this.#dirty) return this.#writing;
    this.#dirty = false;
    const text = JSON.stringify(this.#snapshot());
    this.#writing = this.#writing.then(async () => {
      const tmp = `${this.#dir}/state.json.tmp`;
      await Deno.writeTextFile(tmp, text);
      await Deno.rename(tmp, `${this.#dir}/state.json`);
    }).catch((e) => this.#log.error("snapshot write failed", { error: e }));
    return this.#writing;
  }

  /** Writes now if anything changed and stops the timer. */
  async flush(): Promise<void> {
    this.#abort.abort();
    this.#abort = new AbortController();
    await this.#write();
  }
}

/** The storage key of an object inside its table (`ns/name` or `name`). */
export function objectKey(obj: KObj): string {
  const m = (obj.metadata ?? {}) as KObj;
  return m.namespace ? `${m.namespace}/${m.name}` : String(m.name);
}
