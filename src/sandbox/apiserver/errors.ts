/** Kubernetes `Status` error bodies, shaped like the real API server's. */

/** One cause inside `Status.details.causes`. */
export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

/** A `meta/v1 Status` object. */
export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, unknown>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: StatusCause[];
    retryAfterSeconds?: number;
  };
  code: number;
}

/** An error that the HTTP layer turns into a Status response with its code. */
export class ApiError extends Error {
  /** The Status body sent to the client. */
  readonly status: Status;
  constructor(status: Status) {
    super(status.message ?? status.reason ?? "error");
    this.status = status;
  }
  /** HTTP status code. */
  get code(): number {
    return this.status.code;
  }
}

/** Identifies the object an error is about (`details`). */
export interface ErrTarget {
  /** Resource (plural) with group suffix, e.g. `foos.example.com`, or bare `namespaces`. */
  qualifiedResource: string;
  group: string;
  resource: string;
  name?: string;
}

function failure(
  code: number,
  reason: string,
  message: string,
  details?: Status["details"],
): ApiError {
  return new ApiError({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

/** 404 NotFound for a named object. */
export function notFound(t: ErrTarget): ApiError {
  return failure(404, "NotFound", `${t.qualifiedResource} "${t.name ?? ""}" not found`, {
    name: t.name,
    group: t.group,
    kind: t.resource,
  });
}

/** 404 for a path that matches no resource. */
export function pathNotFound(): ApiError {
  return failure(404, "NotFound", "the server could not find the requested resource", {});
}

/** 409 AlreadyExists on create. */
export function alreadyExists(t: ErrTarget): ApiError {
  return failure(409, "AlreadyExists", `${t.qualifiedResource} "${t.name ?? ""}" already exists`, {
    name: t.name,
    group: t.group,
    kind: t.resource,
  });
}

/** 409 Conflict on a stale resourceVersion. */
export function conflict(t: ErrTarget, why?: string): ApiError {
  return failure(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${t.qualifiedResource} "${t.name ?? ""}": ${
      why ??
        "the object has been modified; please apply your changes to the latest version and try again"
    }`,
    { name: t.name, group: t.group, kind: t.resource },
  );
}

/** 409 Conflict with causes, as `NewApplyConflict` (k8s.io/apimachinery/pkg/api/errors) builds it. */
export function conflictStatus(message: string, causes: StatusCause[]): ApiError {
  return failure(409, "Conflict", message, { causes });
}

/** 422 Invalid with field causes; `kind` is the object's Kind (`Foo`), group its API group. */
export function invalid(
  kind: string,
  group: string,
  name: string,
  causes: StatusCause[],
): ApiError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const msg = list.length === 1 ? list[0] : `[${list.join(", ")}]`;
  return failure(422, "Invalid", `${qualifiedKind} "${name}" is invalid: ${msg}`, {
    name,
    group,
    kind,
    causes,
  });
}

/** 400 BadRequest. */
export function badRequest(message: string): ApiError {
  return failure(400, "BadRequest", message);
}

/** 405 MethodNotAllowed. */
export function methodNotAllowed(
  message = "the server does not allow this method on the requested resource",
): ApiError {
  return failure(405, "MethodNotAllowed", message, {});
}

/** 415 UnsupportedMediaType. */
export function unsupportedMediaType(message: string): ApiError {
  return failure(415, "UnsupportedMediaType", message, {});
}

/** 406 NotAcceptable. */
export function notAcceptable(message: string): ApiError {
  return failure(406, "NotAcceptable", message, {});
}

/** 410 Gone with reason Expired (compacted resourceVersion or expired continue token). */
export function expired(message: string): ApiError {
  return failure(410, "Expired", message);
}

/**
 * 504 for a resourceVersion newer than the store's: `NewTooLargeResourceVersionError` of
 * k8s.io/apiserver/pkg/storage/errors.go (a Timeout with a ResourceVersionTooLarge cause).
 */
export function tooLargeResourceVersion(rv: number, current: number): ApiError {
  return failure(504, "Timeout", `Too large resource version: ${rv}, current: ${current}`, {
    causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
    retryAfterSeconds: 1,
  });
}

/** 401 Unauthorized. */
export function unauthorized(): ApiError {
  return failure(401, "Unauthorized", "Unauthorized");
}

/** 403 Forbidden (e.g. creating in a terminating namespace). */
export function forbidden(t: ErrTarget, why: string): ApiError {
  return failure(
    403,
    "Forbidden",
    `${t.qualifiedResource} "${t.name ?? ""}" is forbidden: ${why}`,
    { name: t.name, group: t.group, kind: t.resource },
  );
}

/** 429/500/503 injected by the fault layer, with the reason the real server would give. */
export function injected(code: number): ApiError {
  if (code === 429) {
    return failure(429, "TooManyRequests", "Too many requests, please try again later.", {
      retryAfterSeconds: 1,
    });
  }
  if (code === 503) {
    return failure(
      503,
      "ServiceUnavailable",
      "the server is currently unable to handle the request",
      {},
    );
  }
  if (code === 504) {
    return failure(
      504,
      "Timeout",
      "the server was unable to return a response in the time allotted",
      {},
    );
  }
  return failure(code, "InternalError", "Internal error occurred: injected fault", {});
}

/** 500 InternalError wrapping an unexpected exception. */
export function internal(message: string): ApiError {
  return failure(500, "InternalError", `Internal error occurred: ${message}`, {});
}

/** The Status body for a successful delete of an object without a body to return. */
export function success(t: ErrTarget, uid?: string): Status {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Success",
    details: { name: t.name, group: t.group, kind: t.resource, ...(uid ? { uid } : {}) },
    code: 200,
  };
}
