/**
 * Query parameters of resource requests, decoded and validated as kube-apiserver does (pure):
 * booleans by apimachinery's parameter codec, ListOptions/CreateOptions/UpdateOptions/
 * PatchOptions/DeleteOptions by their validation functions, errors as 422 `<Kind>Options`.
 */
import { invalid } from "./errors.ts";
import { type FieldError, toCauses } from "./validation.ts";

/**
 * A boolean query parameter: only absence, "0" or "false" (any case) is false; every other value,
 * the empty string and "True" included, is true. Follows `Convert_Slice_string_To_bool` in
 * k8s.io/apimachinery/pkg/runtime/conversion.go (so the Python client's `watch=True` watches).
 */
export function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  return !(v === "0" || v.toLowerCase() === "false");
}

/** The same decoding, but absent stays undefined (for `*bool` fields such as sendInitialEvents). */
export function queryOptionalBool(q: URLSearchParams, name: string): boolean | undefined {
  return q.has(name) ? queryBool(q, name) : undefined;
}

/** `meta/v1 ListOptions` as the list and watch handlers read them. */
export interface ListQuery {
  watch: boolean;
  labelSelector: string | null;
  fieldSelector: string | null;
  resourceVersion: string | null;
  resourceVersionMatch: "" | "Exact" | "NotOlderThan";
  limit?: number;
  continue: string | null;
  timeoutSeconds: number;
  allowWatchBookmarks: boolean;
  sendInitialEvents?: boolean;
}

/** Throws 422 Invalid on `<kind>.meta.k8s.io ""`, as the handlers in k8s.io/apiserver do. */
function throwIfInvalid(kind: string, errs: FieldError[]): void {
  if (errs.length > 0) throw invalid(kind, "meta.k8s.io", "", toCauses(errs));
}

const forbidden = (field: string, detail: string): FieldError => ({
  type: "Forbidden",
  field,
  detail,
});

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) {
    throw invalid("ListOptions", "meta.k8s.io", "", [{
      reason: "FieldValueInvalid",
      field: name,
      message: `Invalid value: ${JSON.stringify(v)}: must be an integer`,
    }]);
  }
  return n;
}

/**
 * Decodes and validates ListOptions; the rules are `ValidateListOptions` and
 * `validateWatchOptions` of k8s.io/apimachinery/pkg/apis/meta/internalversion/validation/
 * validation.go (WatchList enabled, as in kube-apiserver 1.32).
 */
export function parseListQuery(q: URLSearchParams, legacyWatch = false): ListQuery {
  const watch = legacyWatch || queryBool(q, "watch");
  const match = q.get("resourceVersionMatch") ?? "";
  const out: ListQuery = {
    watch,
    labelSelector: q.get("labelSelector"),
    fieldSelector: q.get("fieldSelector"),
    resourceVersion: q.get("resourceVersion"),
    resourceVersionMatch: match as ListQuery["resourceVersionMatch"],
    limit: intParam(q, "limit"),
    continue: q.get("continue"),
    timeoutSeconds: intParam(q, "timeoutSeconds") ?? 0,
    allowWatchBookmarks: queryBool(q, "allowWatchBookmarks"),
    sendInitialEvents: queryOptionalBool(q, "sendInitialEvents"),
  };
  throwIfInvalid("ListOptions", watch ? watchErrors(out) : listErrors(out));
  return out;
}

function listErrors(o: ListQuery): FieldError[] {
  const errs: FieldError[] = [];
  const match = o.resourceVersionMatch;
  if (match) {
    if (!o.resourceVersion) {
      errs.push(forbidden(
        "resourceVersionMatch",
        "resourceVersionMatch is forbidden unless resourceVersion is provided",
      ));
    }
    if (o.continue) {
      errs.push(forbidden(
        "resourceVersionMatch",
        "resourceVersionMatch is forbidden when continue is provided",
      ));
    }
    if (match !== "Exact" && match !== "NotOlderThan") {
      errs.push({
        type: "NotSupported",
        field: "resourceVersionMatch",
        value: match,
        detail: 'supported values: "Exact", "NotOlderThan", ""',
      });
    }
    if (match === "Exact" && o.resourceVersion === "0") {
      errs.push(forbidden(
        "resourceVersionMatch",
        'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
      ));
    }
  }
  if (o.sendInitialEvents !== undefined) {
    errs.push(forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"));
  }
  return errs;
}

function watchErrors(o: ListQuery): FieldError[] {
  const errs: FieldError[] = [];
  const match = o.resourceVersionMatch;
  if (o.sendInitialEvents !== undefined && match !== "NotOlderThan") {
    errs.push(forbidden(
      "resourceVersionMatch",
      "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
    ));
  }
  if (match) {
    if (o.sendInitialEvents === undefined) {
      errs.push(forbidden(
        "resourceVersionMatch",
        "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
      ));
    }
    if (match !== "NotOlderThan") {
      errs.push({
        type: "NotSupported",
        field: "resourceVersionMatch",
        value: match,
        detail: 'supported values: "NotOlderThan"',
      });
    }
    if (o.continue) {
      errs.push(forbidden(
        "resourceVersionMatch",
        "resourceVersionMatch is forbidden when continue is provided",
      ));
    }
  }
  return errs;
}

/** Which options type a write request carries (names the 422's kind). */
export type WriteKind = "CreateOptions" | "UpdateOptions" | "PatchOptions" | "DeleteOptions";

/** The write options every mutating verb takes. */
export interface WriteQuery {
  dryRun: boolean;
  fieldManager?: string;
  fieldValidation: "Strict" | "Warn" | "Ignore";
  force: boolean;
}

/**
 * `dryRun` may only hold "All" (`ValidateDryRun` in
 * k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go); the value is shown as the Go
 * slice's JSON, as field.NotSupported prints a []string.
 */
export function dryRunErrors(values: string[]): FieldError[] {
  if (values.every((v) => v === "All")) return [];
  return [{
    type: "NotSupported",
    field: "dryRun",
    value: values,
    shown: JSON.stringify(values),
    detail: 'supported values: "All"',
  }];
}

/**
 * Decodes and validates the write options: `ValidateCreateOptions`, `ValidateUpdateOptions`,
 * `ValidatePatchOptions` and `ValidateDeleteOptions` of
 * k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go.
 */
export function parseWriteQuery(
  q: URLSearchParams,
  kind: WriteKind,
  patchType?: string,
): WriteQuery {
  const errs: FieldError[] = dryRunErrors(q.getAll("dryRun"));
  const fm = q.get("fieldManager") ?? "";
  if (fm.length > 128) {
    errs.push({ type: "TooLong", field: "fieldManager", detail: "may not be more than 128 bytes" });
  }
  const fv = q.get("fieldValidation") ?? "";
  if (!["", "Ignore", "Warn", "Strict"].includes(fv)) {
    errs.push({
      type: "NotSupported",
      field: "fieldValidation",
      value: fv,
      detail: 'supported values: "", "Ignore", "Strict", "Warn"',
    });
  }
  const apply = patchType === "application/apply-patch+yaml";
  if (kind === "PatchOptions" && !apply && q.has("force")) {
    errs.push(forbidden("force", "may not be specified for non-apply patch"));
  }
  if (kind === "PatchOptions" && apply && fm === "") {
    errs.push({ type: "Required", field: "fieldManager", detail: "is required for apply patch" });
  }
  throwIfInvalid(kind, errs);
  return {
    dryRun: q.getAll("dryRun").length > 0,
    fieldManager: fm || undefined,
    fieldValidation: (fv || "Warn") as WriteQuery["fieldValidation"],
    force: queryBool(q, "force"),
  };
}
