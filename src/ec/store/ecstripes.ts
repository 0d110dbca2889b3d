/**
 * Granularity of ECStripe objects (FR-503). One Kubernetes object per stripe would be far too
 * many (a 10 GiB volume has 2,560 stripes of 4 MiB), so stripes are grouped by id range:
 * STRIPES_PER_ECSTRIPE = 64 stripes = 256 MiB of user data per ECStripe, which keeps a 10 GiB
 * volume to 40 objects. Pure: summarises manifest stripes for the ec-policy controller.
 */
import type { Stripe, StripeHealth } from "./manifest.ts";

/** Stripes summarised by one ECStripe object. */
export const STRIPES_PER_ECSTRIPE = 64;

/** What one ECStripe object records. */
export interface EcStripeGroup {
  /** Group number: stripe ids [index·per, (index+1)·per). */
  index: number;
  firstStripe: number;
  lastStripe: number;
  stripes: number;
  dataBytes: number;
  /** Sum of the stripes' generations: changes whenever any shard in the group is rewritten. */
  generation: number;
  /** The worst stripe health in the group. */
  health: StripeHealth;
  /** Stripes per health state. */
  byHealth: Record<StripeHealth, number>;
  /** Shards held per target. */
  placement: Record<string, number>;
  /** The oldest last-scrub time in the group (undefined when any stripe was never scrubbed). */
  lastScrub?: number;
}

/** The stripe fields a summary reads. */
export type StripeSummary = Pick<
  Stripe,
  "id" | "generation" | "dataBytes" | "placement" | "health" | "lastScrub"
>;

const RANK: Record<StripeHealth, number> = { healthy: 0, degraded: 1, lost: 2 };

/** Groups stripes into ECStripe summaries, ordered by group index. */
export function groupStripes(
  stripes: Iterable<StripeSummary>,
  per = STRIPES_PER_ECSTRIPE,
): EcStripeGroup[] {
  const groups = new Map<number, EcStripeGroup>();
  const neverScrubbed = new Set<number>();
  for (const s of stripes) {
    const index = Math.floor(s.id / per);
    let g = groups.get(index);
    if (!g) {
      g = {
        index,
        firstStripe: s.id,
        lastStripe: s.id,
        stripes: 0,
        dataBytes: 0,
        generation: 0,
        health: "healthy",
        byHealth: { healthy: 0, degraded: 0, lost: 0 },
        placement: {},
      };
      groups.set(index, g);
    }
    g.firstStripe = Math.min(g.firstStripe, s.id);
    g.lastStripe = Math.max(g.lastStripe, s.id);
    g.stripes++;
    g.dataBytes += s.dataBytes;
    g.generation += s.generation;
    g.byHealth[s.health]++;
    if (RANK[s.health] > RANK[g.health]) g.health = s.health;
    for (const t of s.placement) g.placement[t] = (g.placement[t] ?? 0) + 1;
    if (s.lastScrub === undefined) neverScrubbed.add(index);
    else g.lastScrub = Math.min(g.lastScrub ?? Infinity, s.lastScrub);
  }
  for (const i of neverScrubbed) delete groups.get(i)!.lastScrub;
  return [...groups.values()].sort((a, b) => a.index - b.index);
}
