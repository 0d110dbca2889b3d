/**
 * The control plane's pairwise weighted pool comparison (`utils/weighted-scoring` and
 * `SortBuilder::compare` in `core/controller/scheduling/mod.rs`): each criterion grades the two
 * values as integer percentages of their sum, scores are weighted and summed with integer
 * division by 100, and the pool with the higher score sorts first.
 */

/** Higher values win (free space) or lower values win (replica count, overcommitment). */
export type Grading = "higher" | "lower";

/** One criterion: its weight (0..100) and how to grade a value. */
export interface Criterion<T> {
  weight: number;
  grading: Grading;
  value: (item: T) => number;
}

/** `Value::dual_grade`: both values as percentages of their total (50/50 when both are 0). */
function dualGrade(a: number, b: number, grading: Grading): [number, number] {
  const total = a + b;
  if (total === 0) return [50, 50];
  const pct = (v: number) =>
    Math.min(100, Math.floor(((grading === "higher" ? v : total - v) * 100) / total));
  return [pct(a), pct(b)];
}

/** `SortBuilder::compare`: negative when `a` is preferred. */
export function weightedCompare<T>(criteria: Criterion<T>[], a: T, b: T): number {
  let scoreA = 0, scoreB = 0;
  for (const c of criteria) {
    const [ga, gb] = dualGrade(c.value(a), c.value(b), c.grading);
    scoreA += c.weight * ga;
    scoreB += c.weight * gb;
  }
  // WeightedScoreSingle::score divides the accrued score by 100; then score_b.cmp(&score_a).
  return Math.floor(scoreB / 100) - Math.floor(scoreA / 100);
}
