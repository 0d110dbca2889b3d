/** CustomResourceDefinition checks and status, as the apiextensions server applies them (pure). */
import { crdResources, type CrdSpec } from "./resources.ts";
import type { FieldError } from "./validation.ts";

type Obj = Record<string, unknown>;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Field errors for a CRD object; empty when it can be served. */
export function validateCrd(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj.spec as Partial<CrdSpec> | undefined;
  const name = String((obj.metadata as Obj | undefined)?.name ?? "");
  if (!spec || typeof spec !== "object") {
    return [{ type: "Required", field: "spec", detail: "" }];
  }
  if (!spec.group) errs.push({ type: "Required", field: "spec.group", detail: "" });
  else if (!spec.group.includes(".")) {
    errs.push({
      type: "Invalid",
      field: "spec.group",
      value: spec.group,
      detail: "should be a domain with at least one dot",
    });
  }
  const names = spec.names;
  if (!names?.plural) errs.push({ type: "Required", field: "spec.names.plural", detail: "" });
  else if (!DNS1123_LABEL.test(names.plural)) {
    errs.push({
      type: "Invalid",
      field: "spec.names.plural",
      value: names.plural,
      detail:
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'",
    });
  }
  if (!names?.kind) errs.push({ type: "Required", field: "spec.names.kind", detail: "" });
  if (spec.scope !== "Namespaced" && spec.scope !== "Cluster") {
    errs.push({
      type: "NotSupported",
      field: "spec.scope",
      value: spec.scope ?? "",
      detail: 'supported values: "Cluster", "Namespaced"',
    });
  }
  if (names?.plural && spec.group && name !== `${names.plural}.${spec.group}`) {
    errs.push({
      type: "Invalid",
      field: "metadata.name",
      value: name,
      detail: 'must be spec.names.plural+"."+spec.group',
    });
  }
  const versions = spec.versions ?? [];
  if (versions.length === 0) {
    errs.push({
      type: "Required",
      field: "spec.versions",
      detail: "must have exactly one version marked as storage version",
    });
  }
  const storage = versions.filter((v) => v.storage);
  if (versions.length > 0 && storage.length !== 1) {
    errs.push({
      type: "Invalid",
      field: "spec.versions",
      value: versions,
      detail: "must have exactly one version marked as storage version",
    });
  }
  versions.forEach((v, i) => {
    if (!v.name) errs.push({ type: "Required", field: `spec.versions[${i}].name`, detail: "" });
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) {
      errs.push({
        type: "Required",
        field: `spec.versions[${i}].schema.openAPIV3Schema`,
        detail: "schemas are required",
      });
    } else if (schema.type !== "object") {
      errs.push({
        type: "Invalid",
        field: `spec.versions[${i}].schema.openAPIV3Schema.type`,
        value: schema.type ?? "",
        detail: "must be object at the root",
      });
    }
  });
  if (errs.length === 0 && names && spec.group) {
    for (const def of crdResources(name, spec as CrdSpec)) {
      for (const e of def.crd?.validator?.compileErrors() ?? []) {
        const i = versions.findIndex((v) => v.name === def.version);
        errs.push({
          ...e,
          field: e.field.replace("spec.validation", `spec.versions[${i}].schema`),
        });
      }
    }
  }
  return errs;
}

/** The status the apiextensions server reports once a CRD is served. */
export function crdStatus(spec: CrdSpec, now: string): Obj {
  const cond = (type: string, reason: string, message: string) => ({
    type,
    status: "True",
    lastTransitionTime: now,
    reason,
    message,
  });
  return {
    acceptedNames: {
      plural: spec.names.plural,
      singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
      kind: spec.names.kind,
      listKind: spec.names.listKind ?? `${spec.names.kind}List`,
      ...(spec.names.shortNames ? { shortNames: spec.names.shortNames } : {}),
      ...(spec.names.categories ? { categories: spec.names.categories } : {}),
    },
    conditions: [
      cond("NamesAccepted", "NoConflicts", "no conflicts found"),
      cond("Established", "InitialNamesAccepted", "the initial names have been accepted"),
    ],
    storedVersions: spec.versions.filter((v) => v.storage).map((v) => v.name),
  };
}

/** Fills the defaults the real server sets on a CRD (singular, listKind, conversion). */
export function defaultCrd(obj: Obj): void {
  const spec = obj.spec as Obj | undefined;
  if (!spec) return;
  const names = spec.names as Obj | undefined;
  if (names?.kind) {
    names.singular ??= String(names.kind).toLowerCase();
    names.listKind ??= `${names.kind}List`;
  }
  spec.conversion ??= { strategy: "None" };
}
