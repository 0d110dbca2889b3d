/**
 * How lists and maps merge, per field: `x-kubernetes-list-type`/`x-kubernetes-list-map-keys` of
 * a CRD schema, and for the built-in kinds the Go types' `patchStrategy`/`patchMergeKey` tags and
 * `+listType`/`+listMapKey` markers (kubernetes/api core/v1, apps/v1 and meta/v1 types.go),
 * for the kinds the sandbox serves. Strategic merge patch (strategic.ts) reads the patch
 * strategy; server-side apply (apply.ts) reads the list type. Pure.
 */
import type { SchemaProps } from "./validation.ts";

/** How one list merges. */
export interface ListInfo {
  /** Server-side apply's list type (structured-merge-diff). */
  listType: "atomic" | "set" | "map";
  /** Keys of a `map` list. */
  mapKeys?: string[];
  /** Strategic merge: `patchMergeKey` (absent: the list is replaced unless it is a merge set). */
  mergeKey?: string;
  /** Strategic merge: `patchStrategy` contains `merge`. */
  merge?: boolean;
  /** Strategic merge: `patchStrategy` contains `retainKeys` (for the items). */
  retainKeys?: boolean;
}

/** The merge shape of a value: its fields', its items' and, for a list, how it merges. */
export interface Shape {
  field(name: string): Shape;
  items(): Shape;
  /** Set when the value is a list. */
  list?: ListInfo;
  /** Strategic merge: the struct has `patchStrategy:"retainKeys"`. */
  retainKeys?: boolean;
}

/** A value nothing is known about: maps merge by key, lists are atomic. */
export const ANY: Shape = {
  field: () => ANY,
  items: () => ANY,
  list: { listType: "atomic" },
};

/** The shape a CRD's structural schema gives (lists atomic unless the schema says otherwise). */
export function schemaShape(s: SchemaProps | undefined): Shape {
  if (!s) return ANY;
  const lt = s["x-kubernetes-list-type"] ?? "atomic";
  return {
    field: (name) => {
      const child = s.properties?.[name] ??
        (typeof s.additionalProperties === "object" ? s.additionalProperties : undefined);
      return child ? schemaShape(child as SchemaProps) : ANY;
    },
    items: () => schemaShape(s.items),
    list: { listType: lt, mapKeys: s["x-kubernetes-list-map-keys"] },
  };
}

/** A field of a built-in type: its type name, and for a list how it merges. */
interface FieldDesc {
  type?: string;
  list?: ListInfo;
  retainKeys?: boolean;
}

const mapList = (keys: string[], mergeKey = keys[0], retainKeys = false): ListInfo => ({
  listType: "map",
  mapKeys: keys,
  mergeKey,
  merge: true,
  retainKeys,
});
const setList: ListInfo = { listType: "set", merge: true };
const conditions: FieldDesc = { list: mapList(["type"]) };

/** The built-in types' list fields (and the struct fields leading to them). */
const TYPES: Record<string, Record<string, FieldDesc>> = {
  ObjectMeta: {
    finalizers: { list: setList },
    ownerReferences: { list: mapList(["uid"]) },
  },
  PodTemplateSpec: { metadata: { type: "ObjectMeta" }, spec: { type: "PodSpec" } },
  PodSpec: {
    containers: { type: "Container", list: mapList(["name"]) },
    initContainers: { type: "Container", list: mapList(["name"]) },
    ephemeralContainers: { type: "Container", list: mapList(["name"]) },
    volumes: { list: mapList(["name"], "name", true) },
    imagePullSecrets: { list: mapList(["name"]) },
    hostAliases: { list: mapList(["ip"]) },
    topologySpreadConstraints: {
      list: mapList(["topologyKey", "whenUnsatisfiable"], "topologyKey"),
    },
    schedulingGates: { list: mapList(["name"]) },
    resourceClaims: { list: mapList(["name"], "name", true) },
  },
  Container: {
    ports: { list: mapList(["containerPort", "protocol"], "containerPort") },
    env: { list: mapList(["name"]) },
    volumeMounts: { list: mapList(["mountPath"]) },
    volumeDevices: { list: mapList(["devicePath"]) },
  },
  PodStatus: { conditions },
  DeploymentSpec: { template: { type: "PodTemplateSpec" }, strategy: { retainKeys: true } },
  WorkloadSpec: { template: { type: "PodTemplateSpec" } },
  JobSpec: { template: { type: "PodTemplateSpec" } },
  WithConditions: { conditions },
  ServiceSpec: { ports: { list: mapList(["port", "protocol"], "port") } },
  NodeStatus: { conditions, addresses: { list: mapList(["type"]) } },
};

/** The root types of the built-in kinds with list fields that merge (others: metadata only). */
const KINDS: Record<string, Record<string, FieldDesc>> = {
  "/pods": { spec: { type: "PodSpec" }, status: { type: "PodStatus" } },
  "/podtemplates": { template: { type: "PodTemplateSpec" } },
  "apps/deployments": { spec: { type: "DeploymentSpec" }, status: { type: "WithConditions" } },
  "apps/daemonsets": { spec: { type: "WorkloadSpec" }, status: { type: "WithConditions" } },
  "batch/jobs": { spec: { type: "JobSpec" }, status: { type: "WithConditions" } },
  "/services": { spec: { type: "ServiceSpec" }, status: { type: "WithConditions" } },
  "/nodes": { status: { type: "NodeStatus" } },
  "/namespaces": { status: { type: "WithConditions" } },
  "/persistentvolumeclaims": { status: { type: "WithConditions" } },
  "policy/poddisruptionbudgets": { status: { type: "WithConditions" } },
};

function typeShape(fields: Record<string, FieldDesc>): Shape {
  return {
    field: (name) => {
      const f = fields[name];
      if (!f) return ANY;
      const inner = f.type ? typeShape(TYPES[f.type]) : ANY;
      if (!f.list) return f.retainKeys ? { ...inner, retainKeys: true } : inner;
      const item = f.list.retainKeys ? { ...inner, retainKeys: true } : inner;
      return { field: () => ANY, items: () => item, list: f.list };
    },
    items: () => ANY,
    list: { listType: "atomic" },
  };
}

/** The shape of a built-in kind's objects (by storage key), metadata included. */
export function builtinShape(storageKey: string): Shape {
  return typeShape({ metadata: { type: "ObjectMeta" }, ...(KINDS[storageKey] ?? {}) });
}

/** The shape of a CRD's objects: its schema, with ObjectMeta's lists for metadata. */
export function crdShape(schema: SchemaProps | undefined): Shape {
  const root = schemaShape(schema);
  const metaShape = typeShape(TYPES.ObjectMeta);
  return { ...root, field: (name) => (name === "metadata" ? metaShape : root.field(name)) };
}
