/** Resource descriptors: the built-in kinds and the ones a CustomResourceDefinition adds. */
import { ageColumn, type Column, crdColumns, nameColumn, type PrinterColumnSpec } from "./table.ts";
import { type SchemaProps, SchemaValidator } from "./validation.ts";

/** Everything the server needs to serve one resource at one group/version. */
export interface ResourceDef {
  group: string;
  version: string;
  /** Plural, lower case: the URL segment. */
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  /** Whether `/status` is a separate subresource (spec writes keep status and vice versa). */
  statusSubresource: boolean;
  /** Objects of every version of one resource share this storage key: `group/resource`. */
  storageKey: string;
  /** The version objects are stored in. */
  storageVersion: string;
  /** apiVersion of stored objects (`group/storageVersion`, or another group's when shared). */
  storageApiVersion: string;
  /** Converts between this version's shape and the stored shape (shared storage). */
  convert?: Conversion;
  /** Present for custom resources. */
  crd?: { name: string; validator?: SchemaValidator; schema?: SchemaProps };
  columns: Column[];
  /** Field selectors the resource accepts beyond metadata.name/namespace (built-ins only). */
  extraFieldSelectors: boolean;
  verbs: string[];
  /** Whether a PUT without metadata.resourceVersion is accepted (`AllowUnconditionalUpdate`). */
  unconditionalUpdate: boolean;
  /** Whether a PUT of a missing object creates it (`AllowCreateOnUpdate`). */
  createOnUpdate: boolean;
  /** Subresources served besides `status` (Deployment `scale`). */
  subresources?: string[];
}

/** Shape conversion between a served version and the stored one. */
export interface Conversion {
  /** Served shape → stored shape. */
  toStorage(obj: Record<string, unknown>): Record<string, unknown>;
  /** Stored shape → served shape. */
  fromStorage(obj: Record<string, unknown>): Record<string, unknown>;
  /** Maps a field-selector path of the served shape to the stored one. */
  fieldPath(path: string): string;
}

/** The verbs every resource serves. */
export const VERBS = [
  "create",
  "delete",
  "deletecollection",
  "get",
  "list",
  "patch",
  "update",
  "watch",
];

/** `foos.example.com` or `namespaces`: how error messages name a resource. */
export function qualifiedResource(def: { resource: string; group: string }): string {
  return def.group ? `${def.resource}.${def.group}` : def.resource;
}

/** `example.com/v1` or `v1`. */
export function apiVersionOf(def: { group: string; version: string }): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

type Obj = Record<string, unknown>;
const get = (o: Obj, ...path: string[]): unknown => {
  let cur: unknown = o;
  for (const p of path) cur = cur && typeof cur === "object" ? (cur as Obj)[p] : undefined;
  return cur;
};
const col = (name: string, value: (o: Obj) => unknown, type = "string", priority = 0): Column => ({
  name,
  type,
  description: name,
  priority,
  value,
});
const modes = (o: Obj, ...p: string[]) => {
  const m = get(o, ...p);
  const abbrev: Record<string, string> = {
    ReadWriteOnce: "RWO",
    ReadOnlyMany: "ROX",
    ReadWriteMany: "RWX",
    ReadWriteOncePod: "RWOP",
  };
  return Array.isArray(m) ? m.map((x) => abbrev[String(x)] ?? x).join(",") : "";
};

function builtin(
  group: string,
  version: string,
  resource: string,
  kind: string,
  opts: {
    short?: string[];
    namespaced: boolean;
    status?: boolean;
    columns?: Column[];
    verbs?: string[];
    subresources?: string[];
    unconditionalUpdate?: boolean;
    createOnUpdate?: boolean;
  },
): ResourceDef {
  return {
    group,
    version,
    resource,
    kind,
    listKind: `${kind}List`,
    singular: kind.toLowerCase(),
    shortNames: opts.short ?? [],
    categories: [],
    namespaced: opts.namespaced,
    statusSubresource: opts.status ?? false,
    storageKey: `${group}/${resource}`,
    storageVersion: version,
    storageApiVersion: group ? `${group}/${version}` : version,
    columns: opts.columns ?? [nameColumn, ageColumn],
    extraFieldSelectors: true,
    verbs: opts.verbs ?? VERBS,
    unconditionalUpdate: opts.unconditionalUpdate ?? true,
    createOnUpdate: opts.createOnUpdate ?? false,
    ...(opts.subresources ? { subresources: opts.subresources } : {}),
  };
}

/** Field renames between events.k8s.io/v1 (left) and core/v1 (right) Events. */
const EVENT_FIELDS: [string, string][] = [
  ["regarding", "involvedObject"],
  ["note", "message"],
  ["reportingController", "reportingComponent"],
  ["deprecatedSource", "source"],
  ["deprecatedFirstTimestamp", "firstTimestamp"],
  ["deprecatedLastTimestamp", "lastTimestamp"],
  ["deprecatedCount", "count"],
];

function renameFields(o: Obj, pairs: [string, string][], apiVersion: string): Obj {
  const out: Obj = { ...o, apiVersion };
  for (const [from, to] of pairs) {
    if (from in out) {
      out[to] = out[from];
      delete out[from];
    }
  }
  return out;
}

/** Conversion of events.k8s.io/v1 Events to and from core/v1 storage. */
export const eventConversion: Conversion = {
  toStorage: (o) => renameFields(o, EVENT_FIELDS, "v1"),
  fromStorage: (o) =>
    renameFields(o, EVENT_FIELDS.map(([a, b]) => [b, a] as [string, string]), "events.k8s.io/v1"),
  fieldPath: (p) => {
    for (const [a, b] of EVENT_FIELDS) {
      if (p === a || p.startsWith(`${a}.`)) return b + p.slice(a.length);
    }
    return p;
  },
};

/** The built-in kinds the product needs. */
export function builtinResources(): ResourceDef[] {
  const events = [
    col(
      "Last Seen",
      (o) => o.lastTimestamp ?? o.eventTime ?? get(o, "metadata", "creationTimestamp"),
      "date",
    ),
    col("Type", (o) => o.type),
    col("Reason", (o) => o.reason),
    col("Object", (o) => {
      const r = (o.involvedObject ?? o.regarding) as Obj | undefined;
      return r ? `${String(r.kind ?? "").toLowerCase()}/${r.name ?? ""}` : "";
    }),
    col("Message", (o) => o.message ?? o.note),
  ];
  return [
    builtin("", "v1", "namespaces", "Namespace", {
      short: ["ns"],
      namespaced: false,
      status: true,
      columns: [nameColumn, col("Status", (o) => get(o, "status", "phase")), ageColumn],
    }),
    builtin("", "v1", "nodes", "Node", {
      short: ["no"],
      namespaced: false,
      status: true,
      columns: [
        nameColumn,
        col("Status", (o) => {
          const c = (get(o, "status", "conditions") as Obj[] | undefined)?.find((x) =>
            x.type === "Ready"
          );
          return c?.status === "True" ? "Ready" : "NotReady";
        }),
        ageColumn,
      ],
    }),
    builtin("", "v1", "persistentvolumes", "PersistentVolume", {
      short: ["pv"],
      namespaced: false,
      status: true,
      columns: [
        nameColumn,
        col("Capacity", (o) => get(o, "spec", "capacity", "storage")),
        col("Access Modes", (o) => modes(o, "spec", "accessModes")),
        col("Reclaim Policy", (o) => get(o, "spec", "persistentVolumeReclaimPolicy")),
        col("Status", (o) => get(o, "status", "phase")),
        col("Claim", (o) => {
          const r = get(o, "spec", "claimRef") as Obj | undefined;
          return r ? `${r.namespace}/${r.name}` : "";
        }),
        col("StorageClass", (o) => get(o, "spec", "storageClassName") ?? ""),
        ageColumn,
      ],
    }),
    builtin("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", {
      short: ["pvc"],
      namespaced: true,
      status: true,
      columns: [
        nameColumn,
        col("Status", (o) => get(o, "status", "phase")),
        col("Volume", (o) => get(o, "spec", "volumeName") ?? ""),
        col("Capacity", (o) => get(o, "status", "capacity", "storage") ?? ""),
        col("Access Modes", (o) => modes(o, "status", "accessModes")),
        col("StorageClass", (o) => get(o, "spec", "storageClassName") ?? ""),
        ageColumn,
      ],
    }),
    // Events and Leases may be created by a PUT (their strategies' AllowCreateOnUpdate,
    // pkg/registry/core/event/strategy.go, pkg/registry/coordination/lease/strategy.go).
    builtin("", "v1", "events", "Event", {
      short: ["ev"],
      namespaced: true,
      columns: events,
      createOnUpdate: true,
    }),
    // Plain storage for the kinds users and manifests touch around an operator
    // (`kubectl cluster-info` lists services); no controllers act on them.
    builtin("", "v1", "services", "Service", {
      short: ["svc"],
      namespaced: true,
      status: true,
      columns: [
        nameColumn,
        col("Type", (o) => get(o, "spec", "type") ?? "ClusterIP"),
        col("Cluster-IP", (o) => get(o, "spec", "clusterIP") ?? "<none>"),
        ageColumn,
      ],
    }),
    builtin("", "v1", "configmaps", "ConfigMap", {
      short: ["cm"],
      namespaced: true,
      columns: [
        nameColumn,
        col("Data", (o) => Object.keys((o.data as Obj | undefined) ?? {}).length, "integer"),
        ageColumn,
      ],
    }),
    builtin("", "v1", "secrets", "Secret", {
      namespaced: true,
      columns: [
        nameColumn,
        col("Type", (o) => o.type ?? "Opaque"),
        col("Data", (o) => Object.keys((o.data as Obj | undefined) ?? {}).length, "integer"),
        ageColumn,
      ],
    }),
    builtin("", "v1", "serviceaccounts", "ServiceAccount", { short: ["sa"], namespaced: true }),
    {
      // events.k8s.io/v1 shares core/v1 Event storage, as in the real server.
      // No short name: "ev" already means core/v1 events (kubectl warns about the ambiguity).
      ...builtin("events.k8s.io", "v1", "events", "Event", {
        namespaced: true,
        createOnUpdate: true,
      }),
      storageKey: "/events",
      storageApiVersion: "v1",
      convert: eventConversion,
      columns: events.map((c) => ({
        ...c,
        value: (o: Obj) => c.value(eventConversion.toStorage(o)),
      })),
    },
    builtin("storage.k8s.io", "v1", "storageclasses", "StorageClass", {
      short: ["sc"],
      namespaced: false,
      columns: [
        nameColumn,
        col("Provisioner", (o) => o.provisioner),
        col("ReclaimPolicy", (o) => o.reclaimPolicy ?? "Delete"),
        col("VolumeBindingMode", (o) => o.volumeBindingMode ?? "Immediate"),
        col("AllowVolumeExpansion", (o) => o.allowVolumeExpansion ?? false),
        ageColumn,
      ],
    }),
    builtin("coordination.k8s.io", "v1", "leases", "Lease", {
      namespaced: true,
      unconditionalUpdate: false,
      createOnUpdate: true,
      columns: [
        nameColumn,
        col("Holder", (o) => get(o, "spec", "holderIdentity") ?? ""),
        ageColumn,
      ],
    }),
    // Workloads, disruption budgets and RBAC: stored and validated (builtin_validation.ts) so
    // the deploy/ manifests can be applied and a broken one is rejected; nothing runs them.
    builtin("apps", "v1", "deployments", "Deployment", {
      short: ["deploy"],
      namespaced: true,
      status: true,
      subresources: ["scale"],
      columns: [
        nameColumn,
        col(
          "Ready",
          (o) => `${get(o, "status", "readyReplicas") ?? 0}/${get(o, "spec", "replicas") ?? 1}`,
        ),
        col("Up-to-date", (o) => get(o, "status", "updatedReplicas") ?? 0, "integer"),
        col("Available", (o) => get(o, "status", "availableReplicas") ?? 0, "integer"),
        ageColumn,
      ],
    }),
    builtin("apps", "v1", "daemonsets", "DaemonSet", {
      short: ["ds"],
      namespaced: true,
      status: true,
      columns: [
        nameColumn,
        col("Desired", (o) => get(o, "status", "desiredNumberScheduled") ?? 0, "integer"),
        col("Ready", (o) => get(o, "status", "numberReady") ?? 0, "integer"),
        ageColumn,
      ],
    }),
    builtin("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", {
      short: ["pdb"],
      namespaced: true,
      status: true,
      columns: [
        nameColumn,
        col("Min Available", (o) => get(o, "spec", "minAvailable") ?? "N/A"),
        col("Max Unavailable", (o) => get(o, "spec", "maxUnavailable") ?? "N/A"),
        ageColumn,
      ],
    }),
    builtin("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", {
      namespaced: false,
      columns: [nameColumn, col("Created At", (o) => get(o, "metadata", "creationTimestamp"))],
    }),
    builtin("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", {
      namespaced: false,
      columns: [
        nameColumn,
        col("Role", (o) => `${get(o, "roleRef", "kind")}/${get(o, "roleRef", "name")}`),
        ageColumn,
      ],
    }),
    builtin("rbac.authorization.k8s.io", "v1", "roles", "Role", {
      namespaced: true,
      columns: [nameColumn, col("Created At", (o) => get(o, "metadata", "creationTimestamp"))],
    }),
    builtin("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", {
      namespaced: true,
      columns: [
        nameColumn,
        col("Role", (o) => `${get(o, "roleRef", "kind")}/${get(o, "roleRef", "name")}`),
        ageColumn,
      ],
    }),
    // Pods are stored, never scheduled or run (pkg/registry/core/pod); their printer columns
    // follow pkg/printers/internalversion/printers.go.
    builtin("", "v1", "pods", "Pod", {
      short: ["po"],
      namespaced: true,
      status: true,
      columns: [
        nameColumn,
        col("Ready", (o) => {
          const cs = (get(o, "status", "containerStatuses") as Obj[] | undefined) ?? [];
          const total = ((get(o, "spec", "containers") as unknown[] | undefined) ?? []).length;
          return `${cs.filter((c) => c.ready === true).length}/${total}`;
        }),
        col(
          "Status",
          (o) =>
            get(o, "metadata", "deletionTimestamp")
              ? "Terminating"
              : get(o, "status", "phase") ?? "",
        ),
        col(
          "Restarts",
          (o) =>
            ((get(o, "status", "containerStatuses") as Obj[] | undefined) ?? []).reduce(
              (n, c) => n + Number(c.restartCount ?? 0),
              0,
            ),
          "integer",
        ),
        ageColumn,
      ],
    }),
    // Jobs: status is written by a runner (pkg/registry/batch/job), not by this server.
    builtin("batch", "v1", "jobs", "Job", {
      namespaced: true,
      status: true,
      columns: [
        nameColumn,
        col("Status", (o) => {
          const conds = (get(o, "status", "conditions") as Obj[] | undefined) ?? [];
          const on = (t: string) => conds.some((c) => c.type === t && c.status === "True");
          return on("Complete")
            ? "Complete"
            : on("Failed")
            ? "Failed"
            : get(o, "spec", "suspend")
            ? "Suspended"
            : "Running";
        }),
        col(
          "Completions",
          (o) => `${get(o, "status", "succeeded") ?? 0}/${get(o, "spec", "completions") ?? 1}`,
        ),
        col("Duration", (o) => {
          const start = Date.parse(String(get(o, "status", "startTime") ?? ""));
          const end = Date.parse(String(get(o, "status", "completionTime") ?? ""));
          return Number.isNaN(start) || Number.isNaN(end)
            ? ""
            : `${Math.round((end - start) / 1000)}s`;
        }),
        ageColumn,
      ],
    }),
    // VolumeAttachments: cluster-scoped, status written by the attacher (pkg/registry/storage/volumeattachment).
    builtin("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", {
      namespaced: false,
      status: true,
      columns: [
        nameColumn,
        col("Attacher", (o) => get(o, "spec", "attacher")),
        col("PV", (o) => get(o, "spec", "source", "persistentVolumeName") ?? ""),
        col("Node", (o) => get(o, "spec", "nodeName")),
        col("Attached", (o) => get(o, "status", "attached") ?? false),
        ageColumn,
      ],
    }),
    // Create-only reviews answered by access_review.ts (never stored).
    builtin("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", {
      namespaced: false,
      verbs: ["create"],
    }),
    builtin("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", {
      namespaced: false,
      verbs: ["create"],
    }),
    // apiextensions-apiserver pkg/registry/customresourcedefinition/strategy.go
    builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", {
      short: ["crd", "crds"],
      namespaced: false,
      status: true,
      unconditionalUpdate: false,
      columns: [
        nameColumn,
        col("Created At", (o) => get(o, "metadata", "creationTimestamp")),
      ],
    }),
  ];
}

/** The parts of a CRD object the server reads. */
export interface CrdSpec {
  group: string;
  names: {
    plural: string;
    singular?: string;
    kind: string;
    listKind?: string;
    shortNames?: string[];
    categories?: string[];
  };
  scope: "Namespaced" | "Cluster";
  versions: {
    name: string;
    served: boolean;
    storage: boolean;
    schema?: { openAPIV3Schema?: SchemaProps };
    subresources?: { status?: Record<string, never>; scale?: unknown };
    additionalPrinterColumns?: PrinterColumnSpec[];
  }[];
}

/** One ResourceDef per served version of a CRD. */
export function crdResources(crdName: string, spec: CrdSpec): ResourceDef[] {
  const storage = spec.versions.find((v) => v.storage)?.name ?? spec.versions[0]?.name;
  return spec.versions.filter((v) => v.served).map((v) => {
    const schema = v.schema?.openAPIV3Schema;
    return {
      group: spec.group,
      version: v.name,
      resource: spec.names.plural,
      kind: spec.names.kind,
      listKind: spec.names.listKind ?? `${spec.names.kind}List`,
      singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
      shortNames: spec.names.shortNames ?? [],
      categories: spec.names.categories ?? [],
      namespaced: spec.scope !== "Cluster",
      statusSubresource: v.subresources?.status !== undefined,
      storageKey: `${spec.group}/${spec.names.plural}`,
      storageVersion: storage,
      storageApiVersion: `${spec.group}/${storage}`,
      crd: { name: crdName, schema, validator: schema ? new SchemaValidator(schema) : undefined },
      columns: crdColumns(v.additionalPrinterColumns),
      extraFieldSelectors: false,
      verbs: VERBS,
      // apiextensions-apiserver pkg/registry/customresource/strategy.go
      unconditionalUpdate: false,
      createOnUpdate: false,
    };
  });
}
