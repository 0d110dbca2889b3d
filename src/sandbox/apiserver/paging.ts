/**
 * List paging: `limit`/`continue` over a consistent snapshot kept by the server (the real one
 * reads etcd at the list's revision; k8s.io/apiserver/pkg/storage/etcd3/store.go GetList). A
 * token names its snapshot and offset; a lost snapshot is 410 Expired, as an expired token is.
 */
import type { Clock } from "../../clock.ts";
import { badRequest, expired } from "./errors.ts";
import type { Stored } from "./store.ts";

/** One page and what follows it. */
export interface Page {
  items: Stored[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

interface Snapshot {
  items: Stored[];
  rv: number;
  at: number;
}

/** Snapshots older than this, or beyond this many, are dropped. */
const SNAPSHOT_TTL_MS = 5 * 60_000;
const MAX_SNAPSHOTS = 256;

/** The snapshots of lists being paged through. */
export class Paging {
  #clock: Clock;
  #snapshots = new Map<string, Snapshot>();
  #seq = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The rest of a paged list, from its continue token. */
  resume(token: string, limit: number): Page {
    let tok: { id?: string; off?: number };
    try {
      tok = JSON.parse(atob(token.replace(/-/g, "+").replace(/_/g, "/")));
    } catch {
      throw badRequest(`invalid continue token`);
    }
    const snap = tok.id ? this.#snapshots.get(tok.id) : undefined;
    if (!snap) {
      throw expired(
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
      );
    }
    return this.#page(snap, tok.id!, tok.off ?? 0, limit);
  }

  /** The first page of a list (all of it without a limit). */
  first(items: Stored[], rv: number, limit: number): Page {
    if (!limit || limit >= items.length) return { items, resourceVersion: String(rv) };
    const id = String(++this.#seq);
    const snap = { items, rv, at: this.#clock.now() };
    this.#snapshots.set(id, snap);
    this.#expire();
    return this.#page(snap, id, 0, limit);
  }

  #page(snap: Snapshot, id: string, offset: number, limit: number): Page {
    const rv = String(snap.rv);
    if (!limit || offset + limit >= snap.items.length) {
      this.#snapshots.delete(id);
      return { items: offset ? snap.items.slice(offset) : snap.items, resourceVersion: rv };
    }
    const next = btoa(JSON.stringify({ id, off: offset + limit, rv: snap.rv })).replace(/\+/g, "-")
      .replace(/\//g, "_").replace(/=+$/, "");
    return {
      items: snap.items.slice(offset, offset + limit),
      resourceVersion: rv,
      continue: next,
      remainingItemCount: snap.items.length - offset - limit,
    };
  }

  #expire(): void {
    const cutoff = this.#clock.now() - SNAPSHOT_TTL_MS;
    for (const [id, s] of this.#snapshots) {
      if (s.at < cutoff || this.#snapshots.size > MAX_SNAPSHOTS) this.#snapshots.delete(id);
    }
  }
}
