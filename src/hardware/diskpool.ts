/** DiskPool manifests (openebs.io/v1beta2) for the devices discovery proposes. */
import { stringify } from "yaml";
import type { DiscoveredDevice } from "./discover.ts";

/** Label carrying a pool's tier; StoragePolicy pool selectors match it. */
export const TIER_LABEL = "storage.billyronks.io/tier";

/** One DiskPool custom resource. */
export interface DiskPoolManifest {
  apiVersion: "openebs.io/v1beta2";
  kind: "DiskPool";
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: { node: string; disks: string[] };
}

/** A DNS-1123 name for a pool from node and device names. */
export function poolName(node: string, device: string): string {
  const raw = `pool-${node}-${device}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(
    /-+/g,
    "-",
  );
  return raw.slice(0, 63).replace(/^-+|-+$/g, "");
}

/** Builds DiskPools for every device with a tier, labelled with it; excluded devices are skipped. */
export function diskPoolManifests(
  node: string,
  found: DiscoveredDevice[],
  namespace = "openebs",
): DiskPoolManifest[] {
  return found
    .filter((d) =>
      d.classification.tier !== "none" && d.device.partitions.length === 0 &&
      d.device.holders.length === 0
    )
    .map((d) => ({
      apiVersion: "openebs.io/v1beta2",
      kind: "DiskPool",
      metadata: {
        name: poolName(node, d.device.name),
        namespace,
        labels: {
          [TIER_LABEL]: d.classification.tier,
          "storage.billyronks.io/discovered-transport": d.device.transport,
        },
      },
      spec: { node, disks: [d.stablePath] },
    }));
}

/** Renders manifests as a multi-document YAML stream for `kubectl apply -f -`. */
export function renderManifests(pools: DiskPoolManifest[]): string {
  return pools.map((p) => "---\n" + stringify(p)).join("");
}
