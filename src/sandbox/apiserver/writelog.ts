/** The write log: every mutating request, for tests that check who wrote what and when. */

/** One mutating request as the server saw it. */
export interface WriteRecord {
  /** Monotonic sequence number (1-based). */
  seq: number;
  /** Server time in ms since the epoch, and as RFC 3339 with milliseconds. */
  timeMs: number;
  time: string;
  /** Kubernetes verb: create, update, patch, delete, deletecollection. */
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  userAgent: string;
  /** `X-Sandbox-Identity` header, else the User-Agent. */
  identity: string;
  /** Client address and port (one per connection). */
  remote: string;
  /** HTTP status code of the answer. */
  code: number;
  /** resourceVersion of the object written ("" when nothing was written). */
  resourceVersion: string;
}

/** Query for `GET /sandbox/writes`. */
export interface WriteQuery {
  /** Only records with seq greater than this. */
  since?: number;
  resource?: string;
  namespace?: string;
  name?: string;
  verb?: string;
}

/** A bounded in-memory log of writes. */
export class WriteLog {
  #records: WriteRecord[] = [];
  #seq = 0;
  #limit: number;

  constructor(limit = 200_000) {
    this.#limit = limit;
  }

  /** Appends one record (assigning seq). */
  add(r: Omit<WriteRecord, "seq">): WriteRecord {
    const rec = { ...r, seq: ++this.#seq };
    this.#records.push(rec);
    if (this.#records.length > this.#limit) {
      this.#records.splice(0, this.#records.length - this.#limit);
    }
    return rec;
  }

  /** Records matching the query, oldest first. */
  list(q: WriteQuery = {}): WriteRecord[] {
    return this.#records.filter((r) =>
      (q.since === undefined || r.seq > q.since) &&
      (!q.resource || r.resource === q.resource) &&
      (!q.namespace || r.namespace === q.namespace) &&
      (!q.name || r.name === q.name) &&
      (!q.verb || r.verb === q.verb)
    );
  }

  /** Sequence number of the latest record (0 when empty). */
  get lastSeq(): number {
    return this.#seq;
  }

  /** Forgets every record (seq keeps counting). */
  clear(): void {
    this.#records = [];
  }
}
