/** Kubernetes REST paths split into group, version, namespace, resource, name and subresource. */
import { badRequest } from "./errors.ts";

/** A resource request after routing. */
export interface ResourceRoute {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource: string;
  /** The deprecated `/watch/` path prefix. */
  legacyWatch: boolean;
}

/** Path segments, URL-decoded (400 for a malformed escape). */
export function pathSegments(path: string): string[] {
  try {
    return path.split("/").filter((s) => s.length > 0).map(decodeURIComponent);
  } catch {
    throw badRequest(`malformed path ${path}`);
  }
}

/** Splits a resource path below `/api/v1` or `/apis/g/v`. */
export function routeResource(
  group: string,
  version: string,
  segs: string[],
): ResourceRoute | undefined {
  let legacyWatch = false;
  if (segs[0] === "watch") {
    legacyWatch = true;
    segs = segs.slice(1);
  }
  if (segs.length === 0) return undefined;
  if (
    segs[0] === "namespaces" && segs.length >= 3 && segs[2] !== "status" && segs[2] !== "finalize"
  ) {
    const [, namespace, resource, name, sub, ...rest] = segs;
    if (rest.length > 0) return undefined;
    return { group, version, namespace, resource, name, subresource: sub ?? "", legacyWatch };
  }
  const [resource, name, sub, ...rest] = segs;
  if (rest.length > 0) return undefined;
  return { group, version, resource, name, subresource: sub ?? "", legacyWatch };
}

/** Routes `/api/...` or `/apis/...` segments to a resource, or undefined. */
export function routeApiPath(segs: string[]): ResourceRoute | undefined {
  const [group, version, rest] = segs[0] === "api"
    ? ["", segs[1], segs.slice(2)]
    : [segs[1], segs[2], segs.slice(3)];
  return routeResource(group, version ?? "", rest);
}

/** The Kubernetes verb of a request (as RBAC names it). */
export function verbOf(method: string, r: ResourceRoute, watch: boolean): string {
  switch (method) {
    case "GET":
    case "HEAD":
      return watch ? "watch" : r.name ? "get" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    default:
      return r.name ? "delete" : "deletecollection";
  }
}
