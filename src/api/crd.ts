/**
 * CustomResourceDefinitions generated from the zod schemas: structural
 * openAPIV3Schema, CEL rules, printer columns, status subresource, names.
 * `crdFiles()` is what `deno task crds` writes into crds/.
 */
import type { z } from "zod";
import { stringify } from "yaml";
import { API_GROUP, API_VERSION, CATEGORY } from "./meta.ts";
import { type JSONSchemaProps, toStructural } from "./openapi.ts";
import { STORAGE_POLICY_KIND, StoragePolicySchema } from "./storage_policy.ts";
import { EC_POLICY_KIND, ErasureCodingPolicySchema } from "./ec_policy.ts";
import { EC_STRIPE_KIND, ECStripeSchema } from "./ec_stripe.ts";
import { DiskPoolSchema, OPENEBS_GROUP } from "./mayastor.ts";

/** A printer column (`kubectl get` output). */
export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  format?: string;
  priority?: number;
}

/** One served version of a CRD. */
export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema: { openAPIV3Schema: JSONSchemaProps };
  subresources?: { status?: Record<string, never> };
  additionalPrinterColumns?: PrinterColumn[];
}

/** An apiextensions.k8s.io/v1 CustomResourceDefinition. */
export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames?: string[];
      categories?: string[];
    };
    scope: "Cluster" | "Namespaced";
    versions: CrdVersion[];
  };
}

/** What a CRD is made from: the zod schema of the whole object plus naming and columns. */
export interface CrdSource {
  group: string;
  version: string;
  kind: string;
  plural: string;
  shortNames: string[];
  categories: string[];
  scope: "Cluster" | "Namespaced";
  /** Zod schema of the whole object (apiVersion, kind, metadata, spec, status). */
  schema: z.ZodType;
  printerColumns: PrinterColumn[];
  /** Who owns the API: CoucheStor's own, or a third party reproduced for the sandbox. */
  owner: "couchestor" | "openebs";
}

const AGE: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

const API_VERSION_DESC = "APIVersion defines the versioned schema of this representation of an " +
  "object. Servers should convert recognized schemas to the latest internal value, and may " +
  "reject unrecognized values.";
const KIND_DESC = "Kind is a string value representing the REST resource this object " +
  "represents. In CamelCase.";

/** The object's schema with apiVersion/kind/metadata as Kubernetes wants them in a CRD. */
export function objectSchema(source: CrdSource): JSONSchemaProps {
  const s = toStructural(source.schema);
  const props = { ...(s.properties ?? {}) };
  props.apiVersion = { description: API_VERSION_DESC, type: "string" };
  props.kind = { description: KIND_DESC, type: "string" };
  // The API server owns metadata's schema; a CRD may only say it is an object.
  props.metadata = { type: "object" };
  const required = (s.required ?? []).filter((r) =>
    !["apiVersion", "kind", "metadata"].includes(r)
  );
  const out: JSONSchemaProps = { description: s.description, type: "object" };
  if (required.length > 0) out.required = required;
  out.properties = {
    apiVersion: props.apiVersion,
    kind: props.kind,
    metadata: props.metadata,
    ...(props.spec ? { spec: props.spec } : {}),
    ...(props.status ? { status: props.status } : {}),
  };
  return out;
}

/** Builds the CustomResourceDefinition for one source. */
export function buildCrd(source: CrdSource): CustomResourceDefinition {
  const singular = source.kind.toLowerCase();
  const hasStatus = !!objectSchema(source).properties?.status;
  const version: CrdVersion = {
    name: source.version,
    served: true,
    storage: true,
    schema: { openAPIV3Schema: objectSchema(source) },
  };
  if (hasStatus) version.subresources = { status: {} };
  if (source.printerColumns.length > 0) version.additionalPrinterColumns = source.printerColumns;
  const names: CustomResourceDefinition["spec"]["names"] = {
    kind: source.kind,
    listKind: `${source.kind}List`,
    plural: source.plural,
    singular,
  };
  if (source.shortNames.length > 0) names.shortNames = source.shortNames;
  if (source.categories.length > 0) names.categories = source.categories;
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${source.plural}.${source.group}`,
      labels: source.owner === "couchestor" ? { "app.kubernetes.io/part-of": "couchestor" } : {
        "app.kubernetes.io/part-of": "openebs",
        "storage.billyronks.io/reproduced-for": "sandbox",
      },
    },
    spec: { group: source.group, names, scope: source.scope, versions: [version] },
  };
}

/** StoragePolicy (`sp`). */
export const STORAGE_POLICY_SOURCE: CrdSource = {
  group: API_GROUP,
  version: API_VERSION,
  kind: STORAGE_POLICY_KIND,
  plural: "storagepolicies",
  shortNames: ["sp"],
  categories: [CATEGORY],
  scope: "Cluster",
  schema: StoragePolicySchema,
  owner: "couchestor",
  printerColumns: [
    { name: "Enabled", type: "boolean", jsonPath: ".spec.enabled" },
    { name: "Hot", type: "integer", jsonPath: ".status.hotVolumes" },
    { name: "Warm", type: "integer", jsonPath: ".status.warmVolumes" },
    { name: "Cold", type: "integer", jsonPath: ".status.coldVolumes" },
    { name: "Active", type: "integer", jsonPath: ".status.activeMigrations" },
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
    { name: "DryRun", type: "boolean", jsonPath: ".spec.dryRun", priority: 1 },
    { name: "EC-Policy", type: "string", jsonPath: ".spec.ecPolicyRef", priority: 1 },
    { name: "Approval", type: "string", jsonPath: ".spec.approval", priority: 1 },
    {
      name: "Pending",
      type: "integer",
      jsonPath: ".status.pendingApprovals",
      description: "Proposals waiting for approval",
      priority: 1,
    },
    AGE,
  ],
};

/** ErasureCodingPolicy (`ecp`). */
export const EC_POLICY_SOURCE: CrdSource = {
  group: API_GROUP,
  version: API_VERSION,
  kind: EC_POLICY_KIND,
  plural: "erasurecodingpolicies",
  shortNames: ["ecp"],
  categories: [CATEGORY],
  scope: "Cluster",
  schema: ErasureCodingPolicySchema,
  owner: "couchestor",
  printerColumns: [
    { name: "Algorithm", type: "string", jsonPath: ".spec.algorithm" },
    { name: "Data", type: "integer", jsonPath: ".spec.dataShards" },
    { name: "Parity", type: "integer", jsonPath: ".spec.parityShards" },
    { name: "Groups", type: "integer", jsonPath: ".spec.localGroups", priority: 1 },
    { name: "Stripes", type: "integer", jsonPath: ".status.stripes.total" },
    { name: "Degraded", type: "integer", jsonPath: ".status.stripes.degraded" },
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
    AGE,
  ],
};

/** ECStripe (`ecs`). */
export const EC_STRIPE_SOURCE: CrdSource = {
  group: API_GROUP,
  version: API_VERSION,
  kind: EC_STRIPE_KIND,
  plural: "ecstripes",
  shortNames: ["ecs"],
  categories: [CATEGORY],
  scope: "Cluster",
  schema: ECStripeSchema,
  owner: "couchestor",
  printerColumns: [
    { name: "Volume", type: "string", jsonPath: ".spec.volume" },
    { name: "Policy", type: "string", jsonPath: ".spec.policy" },
    { name: "Stripe", type: "integer", jsonPath: ".spec.stripeId" },
    { name: "State", type: "string", jsonPath: ".status.state" },
    { name: "Rebuild", type: "number", jsonPath: ".status.rebuildProgressPercent", priority: 1 },
    AGE,
  ],
};

/** OpenEBS Mayastor DiskPool (`dsp`), printer columns as Mayastor's own CRD has them. */
export const DISKPOOL_SOURCE: CrdSource = {
  group: OPENEBS_GROUP,
  version: "v1beta2",
  kind: "DiskPool",
  plural: "diskpools",
  shortNames: ["dsp"],
  categories: [],
  scope: "Namespaced",
  schema: DiskPoolSchema,
  owner: "openebs",
  printerColumns: [
    { name: "node", type: "string", description: "node the pool is on", jsonPath: ".spec.node" },
    { name: "state", type: "string", description: "dsp cr state", jsonPath: ".status.cr_state" },
    {
      name: "pool_status",
      type: "string",
      description: "Control plane pool status",
      jsonPath: ".status.pool_status",
    },
    {
      name: "capacity",
      type: "integer",
      format: "int64",
      description: "total bytes",
      jsonPath: ".status.capacity",
    },
    {
      name: "used",
      type: "integer",
      format: "int64",
      description: "used bytes",
      jsonPath: ".status.used",
    },
    {
      name: "available",
      type: "integer",
      format: "int64",
      description: "available bytes",
      jsonPath: ".status.available",
    },
  ],
};

/** CoucheStor's own CRD sources. */
export const COUCHESTOR_SOURCES: readonly CrdSource[] = [
  STORAGE_POLICY_SOURCE,
  EC_POLICY_SOURCE,
  EC_STRIPE_SOURCE,
];
/** OpenEBS CRD sources the sandbox serves. */
export const THIRD_PARTY_SOURCES: readonly CrdSource[] = [DISKPOOL_SOURCE];

/** CoucheStor's CRDs: StoragePolicy, ErasureCodingPolicy, ECStripe. */
export function couchestorCrds(): CustomResourceDefinition[] {
  return COUCHESTOR_SOURCES.map(buildCrd);
}

/** OpenEBS's DiskPool CRD (Mayastor 2.x), as the sandbox serves it. */
export function thirdPartyCrds(): CustomResourceDefinition[] {
  return THIRD_PARTY_SOURCES.map(buildCrd);
}

const OWN_HEADER =
  "# Generated by `deno task crds` from the zod schemas in src/api. Do not edit.\n";
const THIRD_PARTY_HEADER =
  "# OpenEBS Mayastor's CRD (not CoucheStor's API), reproduced from src/api/mayastor.ts so the\n" +
  "# sandbox can serve it. A real cluster gets it from Mayastor's own install: do not apply it\n" +
  "# there. Generated by `deno task crds`. Do not edit.\n";

/** YAML text of one CRD, with the header saying where it comes from. */
export function crdToYaml(crd: CustomResourceDefinition): string {
  const header = crd.spec.group === OPENEBS_GROUP ? THIRD_PARTY_HEADER : OWN_HEADER;
  return header + stringify(crd, { lineWidth: 0 });
}

/** Every file of crds/, as relative path → content. */
export function crdFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const crd of couchestorCrds()) {
    files.set(`${crd.spec.group}_${crd.spec.names.plural}.yaml`, crdToYaml(crd));
  }
  for (const crd of thirdPartyCrds()) {
    files.set(`thirdparty/${crd.spec.group}_${crd.spec.names.plural}.yaml`, crdToYaml(crd));
  }
  return files;
}
