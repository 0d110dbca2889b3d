/**
 * Storage object in-use protection: the admission plugin adds `kubernetes.io/pv-protection` to
 * every new PersistentVolume and `kubernetes.io/pvc-protection` to every new claim
 * (kubernetes/kubernetes plugin/pkg/admission/storage/storageobjectinuseprotection/admission.go),
 * and the protection controllers remove the finalizer of a deleted PV once it is not Bound
 * (pkg/controller/volume/pvprotection/pv_protection_controller.go) and of a deleted claim once no
 * Pod uses it (pkg/controller/volume/pvcprotection/pvc_protection_controller.go).
 */
import type { Loc } from "./gc.ts";
import type { KObj, Stored, StoreEvent } from "./store.ts";

/** The PV finalizer. */
export const PV_PROTECTION = "kubernetes.io/pv-protection";
/** The PVC finalizer. */
export const PVC_PROTECTION = "kubernetes.io/pvc-protection";

const PV_SK = "/persistentvolumes";
const PVC_SK = "/persistentvolumeclaims";
const POD_SK = "/pods";

const isObj = (v: unknown): v is KObj => v !== null && typeof v === "object" && !Array.isArray(v);
const meta = (o: KObj): KObj => (isObj(o.metadata) ? o.metadata : {});

/** Adds the protection finalizer a new PV or PVC gets at admission (in place). */
export function addProtectionFinalizer(storageKey: string, obj: KObj): void {
  const f = storageKey === PV_SK ? PV_PROTECTION : storageKey === PVC_SK ? PVC_PROTECTION : "";
  if (!f) return;
  const md = meta(obj);
  const cur = Array.isArray(md.finalizers) ? md.finalizers.map(String) : [];
  if (!cur.includes(f)) md.finalizers = [...cur, f];
}

/** What the protection controllers need from the API. */
export interface ProtectionHost {
  stored(loc: Loc): Stored | undefined;
  /** Every Pod in a namespace. */
  pods(ns: string): Stored[];
  updateMeta(loc: Loc, uid: string, mutate: (md: KObj) => void): void;
}

/** The PV and PVC protection controllers. */
export class ProtectionControllers {
  #host: ProtectionHost;
  #queue: Loc[] = [];

  constructor(host: ProtectionHost) {
    this.#host = host;
  }

  /** Queues deleted PVs/PVCs that still hold their finalizer (and claims whose Pod went). */
  observe(ev: StoreEvent): void {
    if (ev.storageKey === POD_SK) {
      const ns = String(meta(ev.cur.obj).namespace ?? "");
      for (const c of claimsOf(ev.prev?.obj)) this.#queue.push({ sk: PVC_SK, key: `${ns}/${c}` });
      if (ev.type === "DELETED") {
        for (const c of claimsOf(ev.cur.obj)) this.#queue.push({ sk: PVC_SK, key: `${ns}/${c}` });
      }
      return;
    }
    if (ev.type === "DELETED" || (ev.storageKey !== PV_SK && ev.storageKey !== PVC_SK)) return;
    if (meta(ev.cur.obj).deletionTimestamp) this.#queue.push({ sk: ev.storageKey, key: ev.key });
  }

  /** Whether work is queued. */
  get pending(): boolean {
    return this.#queue.length > 0;
  }

  /** Removes the finalizers that nothing protects any more. */
  drain(): void {
    for (let loc = this.#queue.shift(); loc; loc = this.#queue.shift()) {
      const s = this.#host.stored(loc);
      if (!s || !meta(s.obj).deletionTimestamp) continue;
      const md = meta(s.obj);
      const pv = loc.sk === PV_SK;
      const f = pv ? PV_PROTECTION : PVC_PROTECTION;
      if (!(Array.isArray(md.finalizers) && md.finalizers.includes(f))) continue;
      const inUse = pv
        ? (isObj(s.obj.status) && s.obj.status.phase === "Bound")
        : this.#host.pods(String(md.namespace)).some((p) =>
          claimsOf(p.obj).includes(String(md.name))
        );
      if (inUse) continue;
      this.#host.updateMeta(loc, String(md.uid), (m) => {
        m.finalizers = (m.finalizers as string[]).filter((x) => x !== f);
      });
    }
  }
}

/** Names of the claims a Pod's volumes use. */
function claimsOf(pod: KObj | undefined): string[] {
  const spec = pod && isObj(pod.spec) ? pod.spec : {};
  const vols = Array.isArray(spec.volumes) ? spec.volumes : [];
  return vols.flatMap((v) => {
    const c = isObj(v) && isObj(v.persistentVolumeClaim) ? v.persistentVolumeClaim.claimName : "";
    return typeof c === "string" && c ? [c] : [];
  });
}
