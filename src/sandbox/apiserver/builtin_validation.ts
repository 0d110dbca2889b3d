/**
 * Validation of the built-in workload, disruption-budget and RBAC kinds (apps/v1 Deployment and
 * DaemonSet, policy/v1 PodDisruptionBudget, rbac.authorization.k8s.io/v1 roles and bindings):
 * the required fields and cross-field rules of the real API server that a broken manifest
 * trips over, worded like apimachinery's field errors. Pure.
 */
import type { FieldError } from "./validation.ts";
import type { LabelSelector } from "../../api/meta.ts";
import { matchesLabelSelector } from "../../api/selector.ts";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const asObj = (v: unknown): Obj => (isObj(v) ? v : {});
const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const required = (field: string, detail = ""): FieldError => ({ type: "Required", field, detail });
const invalidAt = (field: string, value: unknown, detail: string): FieldError => ({
  type: "Invalid",
  field,
  value,
  detail,
});

/** Storage keys (`group/resource`) of the kinds validated here. */
export const VALIDATED_BUILTINS = [
  "apps/deployments",
  "apps/daemonsets",
  "policy/poddisruptionbudgets",
  "rbac.authorization.k8s.io/clusterroles",
  "rbac.authorization.k8s.io/roles",
  "rbac.authorization.k8s.io/clusterrolebindings",
  "rbac.authorization.k8s.io/rolebindings",
  "coordination.k8s.io/leases",
  "/pods",
  "batch/jobs",
  "storage.k8s.io/volumeattachments",
];

/** Errors of `obj` (and of the change from `old`, for immutable fields) for a built-in kind. */
export function validateBuiltin(storageKey: string, obj: Obj, old?: Obj): FieldError[] {
  switch (storageKey) {
    case "apps/deployments":
      return [
        ...workloadErrors(obj, true),
        ...immutable(obj, old, ["spec", "selector"], "field is immutable"),
      ];
    case "apps/daemonsets":
      return [
        ...workloadErrors(obj, false),
        ...immutable(obj, old, ["spec", "selector"], "field is immutable"),
      ];
    case "policy/poddisruptionbudgets":
      return pdbErrors(obj);
    case "rbac.authorization.k8s.io/clusterroles":
      return isObj(obj.aggregationRule) ? [] : rulesErrors(obj, true);
    case "rbac.authorization.k8s.io/roles":
      return rulesErrors(obj, false);
    case "rbac.authorization.k8s.io/clusterrolebindings":
      return [
        ...bindingErrors(obj, true),
        ...immutable(obj, old, ["roleRef"], "cannot change roleRef"),
      ];
    case "rbac.authorization.k8s.io/rolebindings":
      return [
        ...bindingErrors(obj, false),
        ...immutable(obj, old, ["roleRef"], "cannot change roleRef"),
      ];
    case "coordination.k8s.io/leases":
      return leaseErrors(obj);
    case "/pods":
      return [
        ...podSpecErrors(obj.spec, "spec", ["Always", "OnFailure", "Never"]),
        ...podUpdateErrors(obj, old),
      ];
    case "batch/jobs":
      return [...jobErrors(obj), ...jobUpdateErrors(obj, old)];
    case "storage.k8s.io/volumeattachments":
      return [
        ...volumeAttachmentErrors(obj),
        ...immutable(obj, old, ["spec"], "field is immutable"),
      ];
    default:
      return [];
  }
}

/** An optional int32 field with a lower bound (a non-integer is refused as the decoder would). */
function int32AtLeast(v: unknown, field: string, min: number, detail: string): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v !== "number" || !Number.isInteger(v) || Math.abs(v) >= 2 ** 31) {
    return [{ type: "TypeInvalid", field, value: v, detail: "must be an int32" }];
  }
  return v < min ? [invalidAt(field, v, detail)] : [];
}

/**
 * `ValidateLeaseSpec` of kubernetes/kubernetes pkg/apis/coordination/validation/validation.go
 * (the int32 fields' types are checked as the decoder would refuse them).
 */
function leaseErrors(obj: Obj): FieldError[] {
  const spec = asObj(obj.spec);
  const errs = [
    ...int32AtLeast(
      spec.leaseDurationSeconds,
      "spec.leaseDurationSeconds",
      1,
      "must be greater than 0",
    ),
    ...int32AtLeast(
      spec.leaseTransitions,
      "spec.leaseTransitions",
      0,
      "must be greater than or equal to 0",
    ),
  ];
  const strategy = spec.strategy;
  if (strategy !== undefined && strategy !== null && strategy !== "") {
    const parts = String(strategy).split("/");
    if (parts.length === 1 && strategy !== "OldestEmulationVersion") {
      errs.push({
        type: "NotSupported",
        field: "spec.strategy",
        value: strategy,
        detail: 'supported values: "OldestEmulationVersion"',
      });
    }
  }
  if (spec.preferredHolder && !strategy) {
    errs.push({
      type: "Forbidden",
      field: "spec.preferredHolder",
      detail: "may only be specified if `strategy` is defined",
    });
  }
  return errs;
}

function at(o: Obj, path: string[]): unknown {
  let cur: unknown = o;
  for (const p of path) cur = isObj(cur) ? cur[p] : undefined;
  return cur;
}

function immutable(obj: Obj, old: Obj | undefined, path: string[], detail: string): FieldError[] {
  if (!old) return [];
  const a = JSON.stringify(at(obj, path) ?? null);
  const b = JSON.stringify(at(old, path) ?? null);
  return a === b ? [] : [invalidAt(path.join("."), at(obj, path), detail)];
}

/**
 * Whether a metav1.LabelSelector selects the given labels: the operator's own matcher
 * (src/api/selector.ts), so the sandbox and the controllers agree on what a selector selects.
 */
export function selectorMatches(selector: Obj, labels: Record<string, unknown>): boolean {
  // Untyped JSON from a request; callers validate the selector's shape first (selectorErrors).
  return matchesLabelSelector(selector as LabelSelector, labels as Record<string, string>);
}

function selectorErrors(sel: unknown, field: string): FieldError[] {
  if (!isObj(sel)) return [required(field)];
  const errs: FieldError[] = [];
  const ml = asObj(sel.matchLabels);
  const me = asArr(sel.matchExpressions);
  if (Object.keys(ml).length === 0 && me.length === 0) {
    errs.push(invalidAt(field, sel, "empty selector is invalid for deployment"));
  }
  me.map(asObj).forEach((e, i) => {
    const f = `${field}.matchExpressions[${i}]`;
    if (!e.key) errs.push(required(`${f}.key`));
    if (!["In", "NotIn", "Exists", "DoesNotExist"].includes(String(e.operator))) {
      errs.push({
        type: "NotSupported",
        field: `${f}.operator`,
        value: e.operator ?? "",
        detail: 'supported values: "DoesNotExist", "Exists", "In", "NotIn"',
      });
    }
    const n = asArr(e.values).length;
    if ((e.operator === "In" || e.operator === "NotIn") && n === 0) {
      errs.push(required(`${f}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    }
    if ((e.operator === "Exists" || e.operator === "DoesNotExist") && n > 0) {
      errs.push({
        type: "Forbidden",
        field: `${f}.values`,
        detail: "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      });
    }
  });
  return errs;
}

function portErrors(p: Obj, field: string): FieldError[] {
  const n = p.containerPort;
  if (n === undefined) return [required(`${field}.containerPort`)];
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) {
    return [invalidAt(`${field}.containerPort`, n, "must be between 1 and 65535, inclusive")];
  }
  return [];
}

function podSpecErrors(
  spec: unknown,
  field: string,
  restartPolicies: string[] = ["Always"],
): FieldError[] {
  if (!isObj(spec)) return [required(field)];
  const errs: FieldError[] = [];
  const containers = asArr(spec.containers);
  if (containers.length === 0) errs.push(required(`${field}.containers`));
  const names = new Set<string>();
  const check = (list: unknown[], key: string) =>
    list.map(asObj).forEach((c, i) => {
      const f = `${field}.${key}[${i}]`;
      const name = String(c.name ?? "");
      if (!name) errs.push(required(`${f}.name`));
      else if (names.has(name)) {
        errs.push({ type: "Duplicate", field: `${f}.name`, value: name, detail: "" });
      }
      names.add(name);
      if (!c.image) {
        errs.push(required(`${f}.image`));
      }
      asArr(c.ports).map(asObj).forEach((p, j) => errs.push(...portErrors(p, `${f}.ports[${j}]`)));
    });
  check(containers, "containers");
  check(asArr(spec.initContainers), "initContainers");
  const volumes = new Set(asArr(spec.volumes).map((v) => String(asObj(v).name ?? "")));
  containers.map(asObj).forEach((c, i) =>
    asArr(c.volumeMounts).map(asObj).forEach((m, j) => {
      const f = `${field}.containers[${i}].volumeMounts[${j}]`;
      if (!m.mountPath) errs.push(required(`${f}.mountPath`));
      if (!volumes.has(String(m.name ?? ""))) {
        errs.push({ type: "NotFound", field: `${f}.name`, value: m.name, detail: "" });
      }
    })
  );
  const allowed = restartPolicies;
  if (spec.restartPolicy !== undefined && !allowed.includes(String(spec.restartPolicy))) {
    errs.push({
      type: "NotSupported",
      field: `${field}.restartPolicy`,
      value: spec.restartPolicy,
      detail: `supported values: ${allowed.map((p) => `"${p}"`).join(", ")}`,
    });
  }
  return errs;
}

function workloadErrors(obj: Obj, deployment: boolean): FieldError[] {
  const spec = obj.spec;
  if (!isObj(spec)) return [required("spec")];
  const errs = selectorErrors(spec.selector, "spec.selector");
  if (deployment && spec.replicas !== undefined) {
    const r = spec.replicas;
    if (typeof r !== "number" || !Number.isInteger(r) || r < 0) {
      errs.push(invalidAt("spec.replicas", r, "must be greater than or equal to 0"));
    }
  }
  const tpl = asObj(spec.template);
  const labels = asObj(asObj(tpl.metadata).labels);
  if (isObj(spec.selector) && errs.length === 0 && !selectorMatches(spec.selector, labels)) {
    errs.push(
      invalidAt(
        "spec.template.metadata.labels",
        labels,
        "`selector` does not match template `labels`",
      ),
    );
  }
  errs.push(...podSpecErrors(tpl.spec, "spec.template.spec"));
  return errs;
}

function intOrPercent(v: unknown, field: string): FieldError[] {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return [];
  if (typeof v === "string" && /^\d+%$/.test(v) && Number(v.slice(0, -1)) <= 100) return [];
  return [invalidAt(field, v, "must be a non-negative integer or a percentage up to 100%")];
}

function pdbErrors(obj: Obj): FieldError[] {
  const spec = asObj(obj.spec);
  const errs: FieldError[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errs.push(invalidAt("spec", spec, "minAvailable and maxUnavailable cannot be both set"));
  }
  if (spec.minAvailable !== undefined) {
    errs.push(...intOrPercent(spec.minAvailable, "spec.minAvailable"));
  }
  if (spec.maxUnavailable !== undefined) {
    errs.push(...intOrPercent(spec.maxUnavailable, "spec.maxUnavailable"));
  }
  if (spec.selector !== undefined) {
    errs.push(
      ...selectorErrors(spec.selector, "spec.selector").filter((e) => e.type !== "Invalid"),
    );
  }
  return errs;
}

function rulesErrors(obj: Obj, cluster: boolean): FieldError[] {
  const errs: FieldError[] = [];
  asArr(obj.rules).map(asObj).forEach((r, i) => {
    const f = `rules[${i}]`;
    if (asArr(r.verbs).length === 0) {
      errs.push(required(`${f}.verbs`, "verbs must contain at least one value"));
    }
    const urls = asArr(r.nonResourceURLs);
    if (urls.length > 0) {
      if (!cluster) {
        errs.push(
          invalidAt(
            `${f}.nonResourceURLs`,
            urls,
            "namespaced rules cannot apply to non-resource URLs",
          ),
        );
      }
      if (asArr(r.apiGroups).length > 0 || asArr(r.resources).length > 0) {
        errs.push(
          invalidAt(
            `${f}.nonResourceURLs`,
            urls,
            "rules cannot apply to both regular resources and non-resource URLs",
          ),
        );
      }
      return;
    }
    if (asArr(r.apiGroups).length === 0) {
      errs.push(required(`${f}.apiGroups`, "resource rules must supply at least one api group"));
    }
    if (asArr(r.resources).length === 0) {
      errs.push(required(`${f}.resources`, "resource rules must supply at least one resource"));
    }
  });
  return errs;
}

function bindingErrors(obj: Obj, cluster: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = obj.roleRef;
  if (!isObj(ref)) return [required("roleRef")];
  if (ref.apiGroup !== "rbac.authorization.k8s.io") {
    errs.push({
      type: "NotSupported",
      field: "roleRef.apiGroup",
      value: ref.apiGroup ?? "",
      detail: 'supported values: "rbac.authorization.k8s.io"',
    });
  }
  const kinds = cluster ? ["ClusterRole"] : ["ClusterRole", "Role"];
  if (!kinds.includes(String(ref.kind))) {
    errs.push({
      type: "NotSupported",
      field: "roleRef.kind",
      value: ref.kind ?? "",
      detail: `supported values: ${kinds.map((k) => `"${k}"`).join(", ")}`,
    });
  }
  if (!ref.name) errs.push(required("roleRef.name"));
  asArr(obj.subjects).map(asObj).forEach((s, i) => {
    const f = `subjects[${i}]`;
    if (!s.name) errs.push(required(`${f}.name`));
    if (!["ServiceAccount", "User", "Group"].includes(String(s.kind))) {
      errs.push({
        type: "NotSupported",
        field: `${f}.kind`,
        value: s.kind ?? "",
        detail: 'supported values: "Group", "ServiceAccount", "User"',
      });
    }
    if (s.kind === "ServiceAccount" && cluster && !s.namespace) {
      errs.push(required(`${f}.namespace`));
    }
  });
  return errs;
}

/** The pod spec fields an update may change (ValidatePodUpdate in pkg/apis/core/validation). */
const POD_UPDATABLE =
  "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/** A pod's spec is immutable but for images, activeDeadlineSeconds and tolerations. */
function podUpdateErrors(obj: Obj, old: Obj | undefined): FieldError[] {
  if (!old) return [];
  const strip = (spec: unknown) => {
    const s = structuredClone(asObj(spec));
    for (const key of ["containers", "initContainers"]) {
      for (const c of asArr(s[key])) delete asObj(c).image;
    }
    delete s.activeDeadlineSeconds;
    delete s.tolerations;
    delete s.terminationGracePeriodSeconds;
    return JSON.stringify(s);
  };
  if (strip(obj.spec) === strip(old.spec)) return [];
  return [{
    type: "Forbidden",
    field: "spec",
    detail: `pod updates may not change fields other than ${POD_UPDATABLE}`,
  }];
}

/** ValidateJob (pkg/apis/batch/validation/validation.go): template, restartPolicy, counts. */
function jobErrors(obj: Obj): FieldError[] {
  const spec = obj.spec;
  if (!isObj(spec)) return [required("spec")];
  const errs: FieldError[] = [];
  for (const k of ["parallelism", "completions", "backoffLimit", "activeDeadlineSeconds"]) {
    const v = spec[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      errs.push(invalidAt(`spec.${k}`, v, "must be greater than or equal to 0"));
    }
  }
  const tpl = asObj(spec.template);
  if (!isObj(spec.template)) return [...errs, required("spec.template")];
  const podSpec = asObj(tpl.spec);
  errs.push(...podSpecErrors(tpl.spec, "spec.template.spec", ["Always", "OnFailure", "Never"]));
  if (podSpec.restartPolicy !== "OnFailure" && podSpec.restartPolicy !== "Never") {
    errs.push({
      type: "NotSupported",
      field: "spec.template.spec.restartPolicy",
      value: podSpec.restartPolicy ?? "",
      detail: 'supported values: "OnFailure", "Never"',
    });
  }
  const labels = asObj(asObj(tpl.metadata).labels);
  if (isObj(spec.selector) && !selectorMatches(spec.selector, labels)) {
    errs.push(
      invalidAt(
        "spec.template.metadata.labels",
        labels,
        "`selector` does not match template `labels`",
      ),
    );
  }
  return errs;
}

/** ValidateJobUpdate: the selector and the pod template are immutable. */
function jobUpdateErrors(obj: Obj, old: Obj | undefined): FieldError[] {
  return [
    ...immutable(obj, old, ["spec", "selector"], "field is immutable"),
    ...immutable(obj, old, ["spec", "template"], "field is immutable"),
    ...immutable(obj, old, ["spec", "completions"], "field is immutable"),
  ];
}

/** ValidateVolumeAttachment (pkg/apis/storage/validation/validation.go). */
function volumeAttachmentErrors(obj: Obj): FieldError[] {
  const spec = asObj(obj.spec);
  const errs: FieldError[] = [];
  if (!spec.attacher) errs.push(required("spec.attacher"));
  if (!spec.nodeName) errs.push(required("spec.nodeName"));
  const src = asObj(spec.source);
  const n = (src.persistentVolumeName ? 1 : 0) + (isObj(src.inlineVolumeSpec) ? 1 : 0);
  if (n !== 1) {
    errs.push(
      required(
        "spec.source",
        "must specify exactly one of inlineVolumeSpec and persistentVolumeName",
      ),
    );
  }
  return errs;
}
