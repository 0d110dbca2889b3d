/** Errors the codecs throw; callers branch on the class, people read the message. */

/** Fewer intact shards than decoding needs: the data cannot be rebuilt (never guessed). */
export class TooFewShardsError extends Error {
  constructor(readonly need: number, readonly have: number, detail = "") {
    super(`need k=${need} shards, have ${have}${detail ? ` (${detail})` : ""}`);
    this.name = "TooFewShardsError";
  }
}

/** The lost shards form a pattern this code cannot decode (LRC rank deficit). */
export class UnrecoverablePatternError extends Error {
  constructor(readonly lost: readonly number[], detail: string) {
    super(`shards [${lost.join(", ")}] cannot be recovered: ${detail}`);
    this.name = "UnrecoverablePatternError";
  }
}

/** Shard arrays of the wrong count or differing sizes. */
export class ShardShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ShardShapeError";
  }
}
