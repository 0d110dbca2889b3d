/**
 * Mayastor custom resources through the kube client: the resource references
 * of DiskPool (v1beta2) and the legacy MayastorVolume (v1alpha1), and a
 * DiskPoolSource that lists DiskPool CRs for the REST adapter's pool labels.
 */
import type { KubeClient } from "../kube/client.ts";
import type { ResourceRef } from "../kube/resource.ts";
import { BackendError } from "./port.ts";
import { type DiskPoolCR, DiskPoolCRSchema, type DiskPoolSource } from "./diskpool.ts";

/** DiskPool, `openebs.io/v1beta2`, namespaced. */
export const DISKPOOL_RESOURCE: ResourceRef = {
  group: "openebs.io",
  version: "v1beta2",
  plural: "diskpools",
  namespaced: true,
  kind: "DiskPool",
};

/** MayastorVolume, `openebs.io/v1alpha1`, namespaced (MOAC-era clusters). */
export const MAYASTORVOLUME_RESOURCE: ResourceRef = {
  group: "openebs.io",
  version: "v1alpha1",
  plural: "mayastorvolumes",
  namespaced: true,
  kind: "MayastorVolume",
};

/** Lists DiskPool CRs of one namespace; malformed items are skipped with their name. */
export class KubeDiskPoolSource implements DiskPoolSource {
  constructor(
    readonly kube: KubeClient,
    readonly namespace: string,
    readonly onInvalid: (name: string, problem: string) => void = () => {},
  ) {}

  /** Every valid DiskPool CR in the namespace (all pages). */
  async listDiskPools(signal?: AbortSignal): Promise<DiskPoolCR[]> {
    const out: DiskPoolCR[] = [];
    let cont: string | undefined;
    do {
      let page;
      try {
        page = await this.kube.list(DISKPOOL_RESOURCE, {
          namespace: this.namespace,
          limit: 500,
          continue: cont,
          signal,
        });
      } catch (e) {
        throw new BackendError(
          `listing DiskPools failed: ${e instanceof Error ? e.message : String(e)}`,
          `LIST diskpools.openebs.io/${this.namespace}`,
          undefined,
          true,
        );
      }
      for (const item of page.items) {
        const r = DiskPoolCRSchema.safeParse(item);
        if (r.success) out.push(r.data);
        else {
          this.onInvalid(String(item.metadata?.name), r.error.issues[0]?.message ?? "invalid");
        }
      }
      cont = page.metadata.continue || undefined;
    } while (cont);
    return out;
  }
}
