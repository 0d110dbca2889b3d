/**
 * The defaults kube-apiserver gives built-in kinds at create (pure, in place):
 * pkg/apis/core/v1/defaults.go (Namespace, PersistentVolume(Claim), Secret, Service, Pod),
 * pkg/apis/storage/v1/defaults.go (StorageClass), pkg/apis/batch/v1/defaults.go and the Job
 * strategy's generated selector (pkg/registry/batch/job/strategy.go).
 */
import type { KObj } from "./store.ts";

const isObj = (v: unknown): v is KObj => v !== null && typeof v === "object" && !Array.isArray(v);
const meta = (o: KObj): KObj => (isObj(o.metadata) ? o.metadata : (o.metadata = {})) as KObj;

/** Fills a new object's defaults by its storage key. */
export function builtinDefaults(storageKey: string, obj: KObj): void {
  const status = (isObj(obj.status) ? obj.status : {}) as KObj;
  switch (storageKey) {
    case "/namespaces":
      obj.spec = { finalizers: ["kubernetes"], ...(isObj(obj.spec) ? obj.spec : {}) };
      obj.status = { ...status, phase: status.phase ?? "Active" };
      meta(obj).labels = {
        ...(meta(obj).labels as KObj ?? {}),
        "kubernetes.io/metadata.name": meta(obj).name,
      };
      break;
    case "/persistentvolumes":
      obj.spec = {
        persistentVolumeReclaimPolicy: "Retain",
        volumeMode: "Filesystem",
        ...(isObj(obj.spec) ? obj.spec : {}),
      };
      obj.status = { ...status, phase: status.phase ?? "Pending" };
      break;
    case "/persistentvolumeclaims":
      obj.spec = { volumeMode: "Filesystem", ...(isObj(obj.spec) ? obj.spec : {}) };
      obj.status = { ...status, phase: status.phase ?? "Pending" };
      break;
    case "/secrets":
      if (!obj.type) obj.type = "Opaque";
      break;
    case "/services":
      obj.spec = {
        type: "ClusterIP",
        sessionAffinity: "None",
        ...(isObj(obj.spec) ? obj.spec : {}),
      };
      break;
    case "/pods":
      podDefaults(obj);
      break;
    case "batch/jobs":
      jobDefaults(obj);
      break;
    case "storage.k8s.io/volumeattachments":
      delete obj.status; // pkg/registry/storage/volumeattachment/strategy.go PrepareForCreate
      break;
    case "storage.k8s.io/storageclasses":
      obj.reclaimPolicy ??= "Delete";
      obj.volumeBindingMode ??= "Immediate";
      break;
  }
}

/** `SetDefaults_PodSpec` and `SetDefaults_Container`; a new pod is Pending. */
function podDefaults(obj: KObj): void {
  const spec = (isObj(obj.spec) ? obj.spec : (obj.spec = {})) as KObj;
  podSpecDefaults(spec);
  // The pod strategy's PrepareForCreate resets status (pkg/registry/core/pod/strategy.go).
  obj.status = { phase: "Pending", qosClass: "BestEffort" };
}

function podSpecDefaults(spec: KObj): void {
  spec.restartPolicy ??= "Always";
  spec.dnsPolicy ??= "ClusterFirst";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= "default-scheduler";
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  for (const key of ["containers", "initContainers"]) {
    for (const c of Array.isArray(spec[key]) ? spec[key] : []) {
      if (!isObj(c)) continue;
      c.terminationMessagePath ??= "/dev/termination-log";
      c.terminationMessagePolicy ??= "File";
      const image = String(c.image ?? "");
      const tagged = /:[^/]+$/.test(image) && !image.endsWith(":latest");
      c.imagePullPolicy ??= tagged || image.includes("@") ? "IfNotPresent" : "Always";
      c.resources ??= {};
      for (const port of Array.isArray(c.ports) ? c.ports : []) {
        if (isObj(port)) port.protocol ??= "TCP"; // SetDefaults_ContainerPort
      }
    }
  }
}

/**
 * `SetDefaults_Job` (completions/parallelism 1, backoffLimit 6, NonIndexed, not suspended) and
 * the selector and labels the Job strategy generates from the uid (`generateSelector`).
 */
function jobDefaults(obj: KObj): void {
  delete obj.status; // PrepareForCreate clears it (pkg/registry/batch/job/strategy.go)
  const spec = (isObj(obj.spec) ? obj.spec : (obj.spec = {})) as KObj;
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= "NonIndexed";
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= "TerminatingOrFailed";
  const md = meta(obj);
  const tpl = (isObj(spec.template) ? spec.template : undefined) as KObj | undefined;
  if (!tpl) return;
  const uid = String(md.uid ?? "");
  const name = String(md.name ?? "");
  if (spec.manualSelector !== true) {
    spec.selector = { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
    const tm = meta(tpl);
    tm.labels = {
      ...(isObj(tm.labels) ? tm.labels : {}),
      "batch.kubernetes.io/controller-uid": uid,
      "batch.kubernetes.io/job-name": name,
      "controller-uid": uid,
      "job-name": name,
    };
  }
  if (!isObj(md.labels) || Object.keys(md.labels).length === 0) {
    const tl = meta(tpl).labels;
    if (isObj(tl)) md.labels = { ...tl };
  }
  if (isObj(tpl.spec)) podSpecDefaults(tpl.spec as KObj);
}
