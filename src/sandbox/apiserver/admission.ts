/**
 * What a write goes through before it is stored (pure but for the namespace lookup): ObjectMeta
 * validation, CRD checks, the built-in kinds' validation, a custom resource's structural schema
 * (prune, default, validate, with fieldValidation deciding about unknown fields), then the
 * PodSecurity admission plugin, in kube-apiserver's order (validation is 422 before admission's
 * 403; k8s.io/apiserver/pkg/registry/rest/create.go BeforeCreate, then the validating admission).
 */
import { validateBuiltin } from "./builtin_validation.ts";
import { defaultCrd, validateCrd } from "./crd.ts";
import { badRequest, forbidden, invalid } from "./errors.ts";
import { stableJson } from "./normalize.ts";
import { validateObjectMeta } from "./objectmeta.ts";
import { admitPodSpec, podTemplateOf, policyOf } from "./pod_security.ts";
import { qualifiedResource, type ResourceDef } from "./resources.ts";
import type { KObj } from "./store.ts";
import { type FieldError, toCauses } from "./validation.ts";

const CRD_SK = "apiextensions.k8s.io/customresourcedefinitions";
const NS_SK = "/namespaces";
/** The kinds whose pod templates PodSecurity evaluates (warn only). */
const POD_CONTROLLERS = new Set(["apps/deployments", "apps/daemonsets", "batch/jobs"]);

const isObj = (v: unknown): v is KObj => v !== null && typeof v === "object" && !Array.isArray(v);
const meta = (o: KObj): KObj => (isObj(o.metadata) ? o.metadata : {});

/** Validates and admits a write (in place: pruning and defaults); answers the warnings. */
export function admit(
  def: ResourceDef,
  obj: KObj,
  old: KObj | undefined,
  fieldValidation: "Strict" | "Warn" | "Ignore" | undefined,
  namespaceLabels: (ns: string) => Record<string, unknown> | undefined,
): string[] {
  const name = String(meta(obj).name ?? "");
  const warnings: string[] = [];
  let errs: FieldError[] = [];
  errs.push(...validateObjectMeta(meta(obj), { nameIsLabel: def.storageKey === NS_SK }));
  if (def.storageKey === CRD_SK) {
    defaultCrd(obj);
    errs = errs.concat(validateCrd(obj));
  }
  if (!def.crd) errs.push(...validateBuiltin(def.storageKey, obj, old));
  const v = def.crd?.validator;
  if (v && errs.length === 0) {
    const r = v.admit(obj, old);
    if (r.unknownFields.length > 0) {
      if (fieldValidation === "Strict") {
        throw badRequest(
          `strict decoding error: ${r.unknownFields.map((f) => `unknown field "${f}"`).join(", ")}`,
        );
      }
      if (fieldValidation === "Warn") {
        for (const f of r.unknownFields) warnings.push(`unknown field "${f}"`);
      }
    }
    errs = errs.concat(r.errors);
  }
  if (errs.length > 0) throw invalid(def.kind, def.group, name, toCauses(errs));
  return [...warnings, ...podSecurity(def, obj, old, namespaceLabels)];
}

/**
 * PodSecurity admission (pod_security.ts): a Pod that its namespace's `enforce` level refuses
 * is 403; pods and pod controllers get the `warn` level's warning. Only writes that change the
 * pod spec are evaluated (isSignificantPodUpdate in pod-security-admission admission.go).
 */
function podSecurity(
  def: ResourceDef,
  obj: KObj,
  old: KObj | undefined,
  namespaceLabels: (ns: string) => Record<string, unknown> | undefined,
): string[] {
  if (def.crd) return [];
  const pod = def.storageKey === "/pods";
  const tpl = pod
    ? { spec: (isObj(obj.spec) ? obj.spec : {}) as KObj, meta: meta(obj) }
    : POD_CONTROLLERS.has(def.storageKey)
    ? podTemplateOf(obj)
    : undefined;
  if (!tpl) return [];
  const before = old ? (pod ? old.spec : podTemplateOf(old)?.spec) : undefined;
  if (old && stableJson(before) === stableJson(tpl.spec)) return [];
  const policy = policyOf(namespaceLabels(String(meta(obj).namespace ?? "")));
  const d = admitPodSpec(policy, tpl.spec, tpl.meta, pod);
  if (d.denied) {
    const name = String(meta(obj).name ?? "");
    throw forbidden({
      qualifiedResource: qualifiedResource(def),
      group: def.group,
      resource: def.resource,
      name,
    }, d.denied);
  }
  return d.warnings;
}
