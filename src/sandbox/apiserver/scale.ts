/**
 * The Deployment `/scale` subresource: an `autoscaling/v1 Scale` view of spec.replicas, modelled
 * on ScaleREST in kubernetes/kubernetes pkg/registry/apps/deployment/storage/storage.go
 * (scaleFromDeployment, scaleUpdatedObjectInfo) and ValidateScale in
 * pkg/apis/autoscaling/validation/validation.go.
 */
import { conflict, invalid, notFound } from "./errors.ts";
import { jsonPatch, mergePatch, PatchError } from "./patch.ts";
import type { ResourceDef } from "./resources.ts";
import type { KObj } from "./store.ts";

const isObj = (v: unknown): v is KObj => v !== null && typeof v === "object" && !Array.isArray(v);

/** `metav1.LabelSelectorAsSelector(sel).String()`: requirements sorted by key. */
export function selectorString(sel: unknown): string {
  if (!isObj(sel)) return "";
  const reqs: [string, string][] = [];
  for (const [k, v] of Object.entries(isObj(sel.matchLabels) ? sel.matchLabels : {})) {
    reqs.push([k, `${k}=${String(v)}`]);
  }
  for (const e of Array.isArray(sel.matchExpressions) ? sel.matchExpressions : []) {
    if (!isObj(e)) continue;
    const key = String(e.key ?? "");
    const values = (Array.isArray(e.values) ? e.values.map(String) : []).sort().join(",");
    const text = e.operator === "In"
      ? `${key} in (${values})`
      : e.operator === "NotIn"
      ? `${key} notin (${values})`
      : e.operator === "Exists"
      ? key
      : `!${key}`;
    reqs.push([key, text]);
  }
  return reqs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((r) => r[1]).join(",");
}

/** The Scale of a Deployment (`scaleFromDeployment`). */
export function scaleOf(deployment: KObj): KObj {
  const md = isObj(deployment.metadata) ? deployment.metadata : {};
  const spec = isObj(deployment.spec) ? deployment.spec : {};
  const status = isObj(deployment.status) ? deployment.status : {};
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: md.name,
      namespace: md.namespace,
      uid: md.uid,
      resourceVersion: md.resourceVersion,
      creationTimestamp: md.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0, selector: selectorString(spec.selector) },
  };
}

/** The scale a PATCH of `type` produces from `old` (merge and strategic are the same here). */
export function patchScale(old: KObj, type: string, patch: unknown): unknown {
  try {
    if (type === "application/json-patch+json") return jsonPatch(old, patch);
    return mergePatch(old, patch);
  } catch (e) {
    if (e instanceof PatchError) {
      throw invalid("Scale", "autoscaling", String((old.metadata as KObj).name), [{
        reason: "FieldValueInvalid",
        message: e.message,
      }]);
    }
    throw e;
  }
}

/**
 * The Deployment after a new Scale is written: replicas and resourceVersion move over
 * (`scaleUpdatedObjectInfo.UpdatedObject`); a UID precondition must match.
 */
export function deploymentWithScale(def: ResourceDef, deployment: KObj, scale: unknown): KObj {
  const md = deployment.metadata as KObj;
  const name = String(md.name);
  const target = {
    qualifiedResource: "deployments.apps",
    group: def.group,
    resource: "deployments/scale",
    name,
  };
  if (!isObj(scale)) throw notFound(target);
  const sm = isObj(scale.metadata) ? scale.metadata : {};
  const replicas = isObj(scale.spec) ? scale.spec.replicas : undefined;
  if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) {
    throw invalid("Scale", "autoscaling", name, [{
      reason: "FieldValueInvalid",
      field: "spec.replicas",
      message: `Invalid value: ${
        JSON.stringify(replicas ?? null)
      }: must be greater than or equal to 0`,
    }]);
  }
  if (sm.uid && sm.uid !== md.uid) {
    throw conflict(
      target,
      `Precondition failed: UID in precondition: ${String(sm.uid)}, UID in object meta: ${
        String(md.uid)
      }`,
    );
  }
  return {
    ...deployment,
    metadata: { ...md, resourceVersion: sm.resourceVersion ?? "" },
    spec: { ...(deployment.spec as KObj), replicas },
  };
}
