/**
 * Label selector semantics (Kubernetes LabelSelector): matching a label set,
 * and the string form the API server takes in `?labelSelector=`.
 */
import { type LabelSelector, TIER_LABEL_KEY, TIERS } from "./meta.ts";

/** True when `labels` satisfy every matchLabels entry and every matchExpressions requirement. */
export function matchesLabelSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (l[k] !== v) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case "In":
        if (!has || !values.includes(l[req.key])) return false;
        break;
      case "NotIn":
        // As in Kubernetes: a missing key satisfies NotIn.
        if (has && values.includes(l[req.key])) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        // An operator Kubernetes does not know selects nothing (never everything).
        return false;
    }
  }
  return true;
}

/** The selector in `labelSelector` query form, e.g. `tier=hot,zone in (a,b),!draining`. */
export function labelSelectorToString(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const req of selector.matchExpressions ?? []) {
    const values = [...(req.values ?? [])].sort().join(",");
    if (req.operator === "In") parts.push(`${req.key} in (${values})`);
    else if (req.operator === "NotIn") parts.push(`${req.key} notin (${values})`);
    else if (req.operator === "Exists") parts.push(req.key);
    else parts.push(`!${req.key}`);
  }
  return parts.join(",");
}

/** The tier a DiskPool's labels put it in, or undefined when the tier label is absent or unknown. */
export function tierOfLabels(
  labels: Readonly<Record<string, string>> | undefined,
): (typeof TIERS)[number] | undefined {
  const v = labels?.[TIER_LABEL_KEY];
  return (TIERS as readonly string[]).includes(v ?? "") ? v as (typeof TIERS)[number] : undefined;
}
