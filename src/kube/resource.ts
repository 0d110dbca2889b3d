/** Addressing of Kubernetes resources: group/version/plural → REST paths. */

/** Identifies one REST resource (e.g. `coordination.k8s.io/v1` `leases`, namespaced). */
export interface ResourceRef {
  /** API group; "" for the core group (`/api/v1`). */
  group: string;
  /** API version, e.g. "v1". */
  version: string;
  /** Lower-case plural name used in URLs, e.g. "leases". */
  plural: string;
  /** True when objects live in a namespace. */
  namespaced: boolean;
  /** Kind, used when the client fills `apiVersion`/`kind` on writes (optional). */
  kind?: string;
}

/** Minimal object metadata the runtime reads. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: unknown[];
  managedFields?: unknown[];
  [extra: string]: unknown;
}

/** Any Kubernetes object: apiVersion, kind, metadata and free-form rest. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** A list answer: items plus list metadata. */
export interface ObjectList<T extends KubeObject = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** `apiVersion` string of a resource ("v1" for core, "group/version" otherwise). */
export function apiVersionOf(res: ResourceRef): string {
  return res.group ? `${res.group}/${res.version}` : res.version;
}

/** Path of a collection or of one object; `namespace` undefined on a namespaced kind = all namespaces. */
export function resourcePath(
  res: ResourceRef,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const base = res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`;
  let p = base;
  if (res.namespaced && namespace !== undefined && namespace !== "") {
    p += `/namespaces/${encodeURIComponent(namespace)}`;
  }
  p += `/${res.plural}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

/** The cache/queue key of an object: "namespace/name", or "name" for cluster-scoped objects. */
export function objectKey(obj: { metadata: { name?: string; namespace?: string } }): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name}` : `${obj.metadata.name}`;
}

/** Splits a key made by `objectKey` back into namespace and name. */
export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** RFC 3339 with microseconds: the MicroTime format of Lease and Event times. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, "000Z");
}

/** Well-known built-in resources the runtime itself uses. */
export const BuiltinResources = {
  leases: {
    group: "coordination.k8s.io",
    version: "v1",
    plural: "leases",
    namespaced: true,
    kind: "Lease",
  },
  events: {
    group: "events.k8s.io",
    version: "v1",
    plural: "events",
    namespaced: true,
    kind: "Event",
  },
  namespaces: {
    group: "",
    version: "v1",
    plural: "namespaces",
    namespaced: false,
    kind: "Namespace",
  },
  persistentVolumes: {
    group: "",
    version: "v1",
    plural: "persistentvolumes",
    namespaced: false,
    kind: "PersistentVolume",
  },
  persistentVolumeClaims: {
    group: "",
    version: "v1",
    plural: "persistentvolumeclaims",
    namespaced: true,
    kind: "PersistentVolumeClaim",
  },
  nodes: { group: "", version: "v1", plural: "nodes", namespaced: false, kind: "Node" },
  customResourceDefinitions: {
    group: "apiextensions.k8s.io",
    version: "v1",
    plural: "customresourcedefinitions",
    namespaced: false,
    kind: "CustomResourceDefinition",
  },
} as const satisfies Record<string, ResourceRef>;
