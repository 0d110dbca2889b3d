/** Discovery documents (`/api`, `/apis`, resource lists, aggregated v2) and OpenAPI v3 (pure). */
import { apiVersionOf, type ResourceDef } from "./resources.ts";
import type { SchemaProps } from "./validation.ts";

type Obj = Record<string, unknown>;

/** Kubernetes version priority: GA > beta > alpha, higher numbers first. */
export function versionPriority(a: string, b: string): number {
  const parse = (v: string) => {
    const m = v.match(/^v(\d+)(?:(alpha|beta)(\d+))?$/);
    if (!m) return [0, 0, 0];
    const level = m[2] === undefined ? 3 : m[2] === "beta" ? 2 : 1;
    return [level, Number(m[1]), Number(m[3] ?? 0)];
  };
  const [la, ma, na] = parse(a), [lb, mb, nb] = parse(b);
  return lb - la || mb - ma || nb - na || a.localeCompare(b);
}

/** Groups (excluding core) with their versions in priority order. */
export function groupVersions(defs: ResourceDef[]): Map<string, string[]> {
  const m = new Map<string, Set<string>>();
  for (const d of defs) {
    if (!m.has(d.group)) m.set(d.group, new Set());
    m.get(d.group)!.add(d.version);
  }
  const out = new Map<string, string[]>();
  const groups = [...m.keys()].sort((a, b) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b)));
  for (const g of groups) out.set(g, [...m.get(g)!].sort(versionPriority));
  return out;
}

function gvEntry(group: string, version: string) {
  return { groupVersion: group ? `${group}/${version}` : version, version };
}

/** `/api`. */
export function apiVersions(serverAddress: string): Obj {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

/** One `APIGroup` entry. */
export function apiGroup(group: string, versions: string[]): Obj {
  return {
    name: group,
    versions: versions.map((v) => gvEntry(group, v)),
    preferredVersion: gvEntry(group, versions[0]),
  };
}

/** `/apis`. */
export function apiGroupList(defs: ResourceDef[]): Obj {
  const groups = [...groupVersions(defs)].filter(([g]) => g !== "").map(([g, vs]) =>
    apiGroup(g, vs)
  );
  return { kind: "APIGroupList", apiVersion: "v1", groups };
}

function verbsFor(d: ResourceDef): string[] {
  return d.verbs;
}

/** A subresource as discovery lists it (scale answers autoscaling/v1 Scale). */
interface SubresourceInfo {
  name: string;
  kind: string;
  group?: string;
  version?: string;
}

function subresourcesOf(d: ResourceDef): SubresourceInfo[] {
  const out: SubresourceInfo[] = [];
  if (d.statusSubresource) out.push({ name: "status", kind: d.kind });
  for (const s of d.subresources ?? []) {
    if (s === "scale") out.push({ name: s, kind: "Scale", group: "autoscaling", version: "v1" });
  }
  return out;
}

/** `/api/v1` or `/apis/{group}/{version}`. */
export function apiResourceList(
  defs: ResourceDef[],
  group: string,
  version: string,
): Obj | undefined {
  const ds = defs.filter((d) => d.group === group && d.version === version);
  if (ds.length === 0) return undefined;
  ds.sort((a, b) => a.resource.localeCompare(b.resource));
  const resources: Obj[] = [];
  for (const d of ds) {
    resources.push({
      name: d.resource,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: verbsFor(d),
      ...(d.shortNames.length ? { shortNames: d.shortNames } : {}),
      ...(d.categories.length ? { categories: d.categories } : {}),
    });
    for (const sub of subresourcesOf(d)) {
      resources.push({
        name: `${d.resource}/${sub.name}`,
        singularName: "",
        namespaced: d.namespaced,
        ...(sub.group !== undefined ? { group: sub.group, version: sub.version } : {}),
        kind: sub.kind,
        verbs: ["get", "patch", "update"],
      });
    }
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: apiVersionOf({ group, version }),
    resources,
  };
}

/** Aggregated discovery (`apidiscovery.k8s.io/v2` APIGroupDiscoveryList) for `/api` or `/apis`. */
export function aggregatedDiscovery(defs: ResourceDef[], core: boolean): Obj {
  const items: Obj[] = [];
  for (const [g, versions] of groupVersions(defs)) {
    if ((g === "") !== core) continue;
    items.push({
      metadata: { name: g, creationTimestamp: null },
      versions: versions.map((v) => ({
        version: v,
        freshness: "Current",
        resources: defs.filter((d) => d.group === g && d.version === v)
          .sort((a, b) => a.resource.localeCompare(b.resource))
          .map((d) => ({
            resource: d.resource,
            responseKind: { group: g, version: v, kind: d.kind },
            scope: d.namespaced ? "Namespaced" : "Cluster",
            singularResource: d.singular,
            verbs: verbsFor(d),
            ...(d.shortNames.length ? { shortNames: d.shortNames } : {}),
            ...(d.categories.length ? { categories: d.categories } : {}),
            ...(subresourcesOf(d).length > 0
              ? {
                subresources: subresourcesOf(d).map((s) => ({
                  subresource: s.name,
                  responseKind: {
                    group: s.group ?? g,
                    version: s.version ?? v,
                    kind: s.kind,
                  },
                  verbs: ["get", "patch", "update"],
                })),
              }
              : {}),
          })),
      })),
    });
  }
  return {
    kind: "APIGroupDiscoveryList",
    apiVersion: "apidiscovery.k8s.io/v2",
    metadata: {},
    items,
  };
}

/** FNV-1a 64-bit hex, used for OpenAPI `?hash=` and ETags. */
export function fnv64(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < s.length; i++) {
    h ^= BigInt(s.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).toUpperCase().padStart(16, "0");
}

/** The definition name of ObjectMeta. */
export const OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/** The published schema of ObjectMeta. */
export function objectMetaSchema(): SchemaProps {
  const str = (description: string): SchemaProps => ({ type: "string", description });
  return {
    type: "object",
    description: "ObjectMeta is metadata that all persisted resources must have.",
    properties: {
      name: str("Name must be unique within a namespace."),
      generateName: str("GenerateName is an optional prefix used to generate a unique name."),
      namespace: str("Namespace defines the space within which each name must be unique."),
      uid: str("UID is the unique in time and space value for this object."),
      resourceVersion: str("An opaque value that represents the internal version of this object."),
      generation: {
        type: "integer",
        format: "int64",
        description: "A sequence number representing a specific generation of the desired state.",
      },
      creationTimestamp: {
        type: "string",
        format: "date-time",
        description:
          "CreationTimestamp is a timestamp representing the server time when this object was created.",
      },
      deletionTimestamp: {
        type: "string",
        format: "date-time",
        description:
          "DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted.",
      },
      labels: {
        type: "object",
        additionalProperties: { type: "string" },
        description:
          "Map of string keys and values that can be used to organize and categorize objects.",
      },
      annotations: {
        type: "object",
        additionalProperties: { type: "string" },
        description: "Annotations is an unstructured key value map.",
      },
      finalizers: {
        type: "array",
        items: { type: "string" },
        description: "Must be empty before the object is deleted from the registry.",
      },
      ownerReferences: {
        type: "array",
        items: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        description: "List of objects depended by this object.",
      },
    },
  };
}

/** The components.schemas name of a kind. */
export function schemaName(d: ResourceDef): string {
  const rev = d.group ? d.group.split(".").reverse().join(".") : "io.k8s.api.core";
  return `${rev}.${d.version}.${d.kind}`;
}

function kindSchema(d: ResourceDef): SchemaProps {
  const gvk = [{ group: d.group, version: d.version, kind: d.kind }];
  const base: SchemaProps = d.crd?.schema
    ? structuredClone(d.crd.schema)
    : { type: "object", "x-kubernetes-preserve-unknown-fields": true };
  const props = { ...(base.properties ?? {}) };
  props.apiVersion = {
    type: "string",
    description: "APIVersion defines the versioned schema of this representation of an object.",
  };
  props.kind = {
    type: "string",
    description: "Kind is a string value representing the REST resource this object represents.",
  };
  props.metadata = {
    allOf: [{ $ref: `#/components/schemas/${OBJECT_META}` }],
    description: "Standard object's metadata.",
  };
  return { ...base, type: "object", properties: props, "x-kubernetes-group-version-kind": gvk };
}

/** `/openapi/v3/{api/v1|apis/g/v}`: paths with PATCH operations (fieldValidation) and schemas. */
export function openapiGroupVersion(
  defs: ResourceDef[],
  group: string,
  version: string,
): Obj | undefined {
  const ds = defs.filter((d) => d.group === group && d.version === version);
  if (ds.length === 0) return undefined;
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: Obj = {};
  const schemas: Obj = { [OBJECT_META]: objectMetaSchema() };
  const param = (name: string, inWhere: string) => ({
    name,
    in: inWhere,
    schema: { type: "string", uniqueItems: true },
  });
  for (const d of ds) {
    const name = schemaName(d);
    schemas[name] = kindSchema(d);
    const ref = { $ref: `#/components/schemas/${name}` };
    const gvk = { group: d.group, version: d.version, kind: d.kind };
    const content = { "application/json": { schema: ref } };
    const op = (action: string, extraParams: Obj[] = []) => ({
      description: `${action} the specified ${d.kind}`,
      operationId: `${action}${d.kind}`,
      parameters: [
        param("dryRun", "query"),
        param("fieldManager", "query"),
        param("fieldValidation", "query"),
        ...extraParams,
      ],
      responses: { "200": { description: "OK", content } },
      "x-kubernetes-action": action,
      "x-kubernetes-group-version-kind": gvk,
    });
    const base = d.namespaced
      ? `${prefix}/namespaces/{namespace}/${d.resource}`
      : `${prefix}/${d.resource}`;
    paths[base] = {
      get: {
        ...op("list"),
        parameters: [param("labelSelector", "query"), param("fieldSelector", "query")],
      },
      post: op("post"),
    };
    const item = {
      get: { ...op("get"), parameters: [] },
      put: op("put"),
      patch: op("patch", [param("force", "query")]),
      delete: { ...op("delete"), parameters: [param("dryRun", "query")] },
      parameters: [
        { name: "name", in: "path", required: true, schema: { type: "string" } },
        ...(d.namespaced
          ? [{ name: "namespace", in: "path", required: true, schema: { type: "string" } }]
          : []),
      ],
    };
    paths[`${base}/{name}`] = item;
    if (d.statusSubresource) {
      paths[`${base}/{name}/status`] = {
        get: { ...op("get"), parameters: [] },
        put: op("put"),
        patch: op("patch", [param("force", "query")]),
      };
    }
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.32.0" },
    paths,
    components: { schemas },
  };
}

/** `/openapi/v3`: one `serverRelativeURL` per group-version. */
export function openapiRoot(defs: ResourceDef[], hashOf: (gvPath: string) => string): Obj {
  const paths: Obj = {};
  for (const [g, versions] of groupVersions(defs)) {
    for (const v of versions) {
      const p = g ? `apis/${g}/${v}` : `api/${v}`;
      paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hashOf(p)}` };
    }
  }
  return { paths };
}
