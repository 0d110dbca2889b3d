/** Refusals to hand out bytes that are not the ones written. */

/** What failed to match. */
export type IntegrityKind = "extent" | "stripe-data" | "object-hash" | "damaged-write";

/**
 * The store would have returned bytes other than those written (an extent naming the wrong
 * stripe, a stripe whose data hash differs, an object whose SHA-256 differs, a lost write):
 * the read stops here, nothing unverified is handed out.
 */
export class IntegrityError extends Error {
  constructor(readonly kind: IntegrityKind, message: string) {
    super(message);
    this.name = "IntegrityError";
  }
}
