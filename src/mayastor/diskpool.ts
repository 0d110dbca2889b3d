/**
 * DiskPool custom resources (`openebs.io/v1beta2`, kind DiskPool, namespaced):
 * the schema CoucheStor reads and the source interface the REST adapter takes
 * for pool labels. The kube client provides the real source.
 */
import { z } from "zod";

/** API group/version of Mayastor 2.x DiskPools. */
export const DISKPOOL_API_VERSION = "openebs.io/v1beta2";

/** A DiskPool CR, as much of it as CoucheStor reads. */
export const DiskPoolCRSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.object({
    name: z.string(),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.object({
    node: z.string(),
    disks: z.array(z.string()),
    topology: z.object({ labelled: z.record(z.string(), z.string()).optional() }).optional(),
  }),
  status: z.object({
    cr_state: z.string().optional(),
    pool_status: z.string().optional(),
    capacity: z.number().optional(),
    used: z.number().optional(),
    available: z.number().optional(),
  }).optional(),
});
/** A DiskPool CR. */
export type DiskPoolCR = z.infer<typeof DiskPoolCRSchema>;

/** Where DiskPool CRs come from (the kube client in production). */
export interface DiskPoolSource {
  /** Every DiskPool CR in the Mayastor namespace. */
  listDiskPools(signal?: AbortSignal): Promise<DiskPoolCR[]>;
}

/** The labels selectors match on: the CR's metadata labels, then its topology labels. */
export function diskPoolLabels(cr: DiskPoolCR): Record<string, string> {
  return { ...(cr.metadata.labels ?? {}), ...(cr.spec.topology?.labelled ?? {}) };
}

/** The valid DiskPool CRs among API objects (a malformed one is skipped, never guessed at). */
export function diskPoolsOf(objects: readonly unknown[]): DiskPoolCR[] {
  const out: DiskPoolCR[] = [];
  for (const o of objects) {
    const r = DiskPoolCRSchema.safeParse(o);
    if (r.success) out.push(r.data);
  }
  return out;
}
