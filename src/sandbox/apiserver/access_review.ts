/**
 * SelfSubjectAccessReview and SelfSubjectRulesReview (authorization.k8s.io/v1), so that
 * `kubectl auth can-i` works. The sandbox authenticates one bearer token and does not enforce
 * RBAC, so that token may do everything, which is what the reviews answer. Modelled on
 * kubernetes/kubernetes pkg/registry/authorization/selfsubjectaccessreview/rest.go and
 * selfsubjectrulesreview/rest.go, with ValidateSelfSubjectAccessReview from
 * pkg/apis/authorization/validation/validation.go.
 */
import { readBody } from "./body.ts";
import { badRequest, invalid } from "./errors.ts";
import { jsonResponse } from "./negotiation.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

const GROUP = "authorization.k8s.io";
/** Why every request is allowed (the sandbox's one identity is an administrator). */
const REASON = "the sandbox's bearer token is a cluster administrator (RBAC is not enforced)";

/** Answers a POST of a review, or undefined for any other path. */
export async function serveAccessReview(
  req: Request,
  segs: string[],
): Promise<Response | undefined> {
  if (segs[0] !== "apis" || segs[1] !== GROUP || segs[2] !== "v1" || segs.length !== 4) {
    return undefined;
  }
  const resource = segs[3];
  if (resource !== "selfsubjectaccessreviews" && resource !== "selfsubjectrulesreviews") {
    return undefined;
  }
  if (req.method !== "POST") return undefined;
  const body = await readBody(req, true);
  if (!isObj(body)) throw badRequest("the body of the request is not a JSON object");
  const spec = isObj(body.spec) ? body.spec : {};
  const kind = resource === "selfsubjectaccessreviews"
    ? "SelfSubjectAccessReview"
    : "SelfSubjectRulesReview";
  const out: Obj = {
    kind,
    apiVersion: `${GROUP}/v1`,
    metadata: { creationTimestamp: null },
    spec,
    status: kind === "SelfSubjectAccessReview" ? accessStatus(spec) : rulesStatus(spec),
  };
  return jsonResponse(out, 201);
}

function accessStatus(spec: Obj): Obj {
  const ra = isObj(spec.resourceAttributes), nra = isObj(spec.nonResourceAttributes);
  if (ra === nra) {
    throw invalid("SelfSubjectAccessReview", GROUP, "", [{
      reason: "FieldValueRequired",
      field: "spec.resourceAttributes",
      message:
        "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified",
    }]);
  }
  return { allowed: true, reason: REASON };
}

function rulesStatus(spec: Obj): Obj {
  if (typeof spec.namespace !== "string" || spec.namespace === "") {
    throw invalid("SelfSubjectRulesReview", GROUP, "", [{
      reason: "FieldValueRequired",
      field: "spec.namespace",
      message: "Required value",
    }]);
  }
  return {
    resourceRules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }],
    nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }],
    incomplete: false,
  };
}
