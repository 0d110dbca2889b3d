/**
 * The control plane's errors as api-rest answers them. A core-agent `SvcError` becomes a
 * `ReplyError` (kind, source = "<Variant>: <display>", extra = the error's parent chain;
 * `control-plane/agents/src/common/errors.rs`), and api-rest turns the kind into an HTTP status
 * and a `RestJsonError { details: extra, message: source, kind }`
 * (`control-plane/stor-port/src/types/mod.rs`). The table below is that second mapping, kind
 * by kind; the constructors below it are the SvcError variants the simulator raises, with
 * upstream's display strings.
 */

/** `ReplyErrorKind` (`control-plane/stor-port/src/transport_api/mod.rs`). */
export type ReplyErrorKind =
  | "WithMessage"
  | "DeserializeReq"
  | "Internal"
  | "Timeout"
  | "InvalidArgument"
  | "DeadlineExceeded"
  | "NotFound"
  | "AlreadyExists"
  | "PermissionDenied"
  | "ResourceExhausted"
  | "FailedPrecondition"
  | "Aborted"
  | "OutOfRange"
  | "Unimplemented"
  | "Unavailable"
  | "Unauthenticated"
  | "Unauthorized"
  | "Conflict"
  | "FailedPersist"
  | "NotShared"
  | "AlreadyShared"
  | "NotPublished"
  | "AlreadyPublished"
  | "Deleting"
  | "ReplicaCountAchieved"
  | "ReplicaChangeCount"
  | "ReplicaIncrease"
  | "ReplicaCreateNumber"
  | "VolumeNoReplicas"
  | "InUse"
  | "CapacityLimitExceeded"
  | "NotAcceptable";

// stor-port/src/types/mod.rs `impl From<ReplyError> for RestError<RestJsonError>`.
const HTTP: Record<ReplyErrorKind, [number, string]> = {
  WithMessage: [500, "Internal"],
  DeserializeReq: [400, "Deserialize"],
  Internal: [500, "Internal"],
  Timeout: [408, "Timeout"],
  InvalidArgument: [400, "InvalidArgument"],
  DeadlineExceeded: [504, "DeadlineExceeded"],
  NotFound: [404, "NotFound"],
  AlreadyExists: [422, "AlreadyExists"],
  PermissionDenied: [401, "PermissionDenied"],
  ResourceExhausted: [507, "ResourceExhausted"],
  FailedPrecondition: [412, "FailedPrecondition"],
  Aborted: [503, "Aborted"],
  OutOfRange: [416, "OutOfRange"],
  Unimplemented: [501, "Unimplemented"],
  Unavailable: [503, "Unavailable"],
  Unauthenticated: [401, "Unauthenticated"],
  Unauthorized: [401, "Unauthorized"],
  Conflict: [409, "Conflict"],
  FailedPersist: [507, "FailedPersist"],
  AlreadyShared: [412, "AlreadyShared"],
  NotShared: [412, "NotShared"],
  NotPublished: [412, "NotPublished"],
  AlreadyPublished: [412, "AlreadyPublished"],
  Deleting: [409, "Deleting"],
  ReplicaCountAchieved: [412, "FailedPrecondition"],
  ReplicaChangeCount: [412, "FailedPrecondition"],
  ReplicaIncrease: [412, "FailedPrecondition"],
  VolumeNoReplicas: [412, "FailedPrecondition"],
  InUse: [409, "InUse"],
  ReplicaCreateNumber: [412, "FailedPrecondition"],
  CapacityLimitExceeded: [507, "CapacityLimitExceeded"],
  NotAcceptable: [406, "NotAcceptable"],
};

/** A failed control-plane call: HTTP status and the RestJsonError body. */
export class SimError extends Error {
  constructor(
    readonly status: number,
    /** RestJsonError `kind`. */
    readonly kind: string,
    /** RestJsonError `message` (the ReplyError source). */
    message: string,
    /** RestJsonError `details` (the ReplyError extra). */
    readonly details = "",
    /** The ReplyErrorKind it came from. */
    readonly reply: ReplyErrorKind = "Internal",
  ) {
    super(message);
    this.name = "SimError";
  }

  /** The RestJsonError body (`details`, `message`, `kind` are all required by the spec). */
  body(): { details: string; message: string; kind: string } {
    return { details: this.details, message: this.message, kind: this.kind };
  }
}

/** A ReplyError as api-rest renders it. */
export function replyError(kind: ReplyErrorKind, source: string, extra = ""): SimError {
  const [status, rest] = HTTP[kind];
  return new SimError(status, rest, source, extra, kind);
}

/** The RestJsonError kind and status api-rest gives an HTTP status a fault injects. */
export function errorForStatus(status: number, note: string): SimError {
  const kinds: Partial<Record<number, ReplyErrorKind>> = {
    400: "InvalidArgument",
    404: "NotFound",
    408: "Timeout",
    409: "Conflict",
    412: "FailedPrecondition",
    422: "AlreadyExists",
    501: "Unimplemented",
    503: "Unavailable",
    504: "DeadlineExceeded",
    507: "ResourceExhausted",
  };
  const kind = kinds[status];
  if (kind) return replyError(kind, note);
  return new SimError(status, "Internal", note, "", "Internal");
}

/** A core-agent SvcError: source "<Variant>: <display>" (snafu's description is the variant). */
function svc(kind: ReplyErrorKind, variant: string, display: string, extra = ""): SimError {
  return replyError(kind, `${variant}: ${display}`, extra);
}

/** Resource kinds as `ResourceKind` displays them. */
export type ResourceKind = "Volume" | "Replica" | "Nexus" | "Node" | "Pool" | "Child";

/** The SvcError variants the simulated control plane raises (display strings from errors.rs). */
export const Svc = {
  volumeNotFound: (id: string) => svc("NotFound", "VolumeNotFound", `Volume '${id}' not found`),
  nodeNotFound: (id: string) => svc("NotFound", "NodeNotFound", `Node '${id}' not found`),
  poolNotFound: (id: string) => svc("NotFound", "PoolNotFound", `Pool '${id}' not found`),
  replicaNotFound: (id: string) => svc("NotFound", "ReplicaNotFound", `Replica '${id}' not found`),
  nexusNotFound: (id: string) => svc("NotFound", "NexusNotFound", `Nexus '${id}' not found`),
  childNotFound: (nexus: string, child: string) =>
    svc("NotFound", "ChildNotFound", `Child '${child}' not found in Nexus '${nexus}'`),
  childAlreadyExists: (nexus: string, child: string) =>
    svc(
      "AlreadyExists",
      "ChildAlreadyExists",
      `Child '${child}' already exists in Nexus '${nexus}'`,
    ),
  alreadyExists: (kind: ResourceKind, id: string) =>
    svc("AlreadyExists", "AlreadyExists", `${kind} Resource id ${id} already exists`, `id: ${id}`),
  inUse: (kind: ResourceKind, id: string) =>
    svc("InUse", "InUse", `${kind} Resource id ${id} still in use`, `id: ${id}`),
  conflict: () => svc("Conflict", "Conflict", "Conflicts with existing operation - please retry"),
  notReady: (kind: ResourceKind, id: string) =>
    svc(
      "Unavailable",
      "NotReady",
      `${kind} Resource id ${id} needs to be reconciled. Please retry`,
    ),
  pendingDeletion: (kind: ResourceKind, id: string) =>
    svc("FailedPrecondition", "PendingDeletion", `${kind} '${id}' is being deleted..`),
  replicaCountAchieved: (id: string, count: number) =>
    svc(
      "ReplicaCountAchieved",
      "ReplicaCountAchieved",
      `Replica count of Volume '${id}' is already '${count}'`,
    ),
  lastReplica: (replica: string, volume: string) =>
    svc(
      "FailedPrecondition",
      "LastReplica",
      `Cannot remove the last replica '${replica}' of volume '${volume}'`,
    ),
  lastHealthyReplica: (replica: string, volume: string) =>
    svc(
      "FailedPrecondition",
      "LastHealthyReplica",
      `Cannot remove the last healthy replica '${replica}' of volume '${volume}'`,
    ),
  replicaChangeCount: () =>
    svc(
      "ReplicaChangeCount",
      "ReplicaChangeCount",
      "Replica count only allowed to change by a maximum of one at a time",
    ),
  replicaIncrease: (id: string, state: string) =>
    svc(
      "ReplicaIncrease",
      "ReplicaIncrease",
      `Unable to increase replica count due to volume '${id}' in state '${state}'`,
    ),
  replicaCreateNumber: (id: string) =>
    svc(
      "ReplicaCreateNumber",
      "ReplicaCreateNumber",
      `Failed to create the desired number of replicas for Volume '${id}'`,
    ),
  /** NotEnoughResources wraps a NotEnough, whose display is the parent chain (extra). */
  notEnough: (what: "pools" | "replicas" | "nodes", have: number, need: number) =>
    svc(
      "ResourceExhausted",
      "NotEnoughResources",
      "Operation failed due to insufficient resources",
      what === "pools"
        ? `Not enough suitable pools available, ${have}/${need}`
        : `Not enough ${what} available, ${have}/${need}`,
    ),
  noOnlineReplicas: (id: string) =>
    svc(
      "VolumeNoReplicas",
      "NoOnlineReplicas",
      `No online replicas are available for Volume '${id}'`,
    ),
  noHealthyReplicas: (id: string) =>
    svc(
      "VolumeNoReplicas",
      "NoHealthyReplicas",
      `No healthy replicas are available for Volume '${id}'`,
    ),
  volumeNotPublished: (id: string) =>
    svc("NotPublished", "VolumeNotPublished", `Volume '${id}' not published`),
  volumeAlreadyPublished: (id: string, node: string) =>
    svc(
      "AlreadyPublished",
      "VolumeAlreadyPublished",
      `Volume '${id}' is already published on node '${node}' with protocol 'Some(Nvmf)'`,
    ),
  invalidShareProtocol: (id: string, share: string) =>
    svc(
      "InvalidArgument",
      "InvalidShareProtocol",
      `Volume ${id} cannot be shared over invalid protocol '${share}'`,
    ),
  nodeNotOnline: (node: string) =>
    svc("FailedPrecondition", "NodeNotOnline", `Node '${node}' is not online`),
  cordonedNode: (node: string) =>
    svc("FailedPrecondition", "CordonedNode", `Node ${node} is cordoned`),
  cordonLabel: (node: string, label: string) =>
    svc(
      "FailedPrecondition",
      "CordonLabel",
      `Node ${node} is already cordoned with label '${label}'`,
    ),
  uncordonLabel: (node: string, label: string) =>
    svc(
      "FailedPrecondition",
      "UncordonLabel",
      `Node ${node} does not have a cordon label '${label}'`,
    ),
  labelsExists: (kind: ResourceKind, id: string, labels: string) =>
    svc(
      "FailedPrecondition",
      "LabelsExists",
      `${kind} ${id} is already labelled with labels '${labels}'`,
    ),
  labelNotFound: (kind: ResourceKind, id: string, key: string) =>
    svc("FailedPrecondition", "LabelNotFound", `${kind} ${id} doesn't have the label key '${key}'`),
  invalidLabel: (kind: ResourceKind, labels: string) =>
    svc("InvalidArgument", "InvalidLabel", `Invalid ${kind}, labels: ${labels} `),
  forbiddenUnlabelKey: (kind: ResourceKind, key: string) =>
    svc(
      "InvalidArgument",
      "ForbiddenUnlabelKey",
      `Forbidden ${kind}, cannot delete internal labels: ${key} `,
    ),
  invalidArguments: () => svc("InvalidArgument", "InvalidArguments", "Invalid Arguments"),
  /**
   * An io-engine gRPC failure: `grpc_to_reply_error` keeps the status code's kind, with the
   * fixed source "SvcError::GrpcRequestError" and extra "<request>::<status>".
   */
  grpc: (kind: ReplyErrorKind, request: string, status: string) =>
    replyError(kind, "SvcError::GrpcRequestError", `${request}::${status}`),
};

/** A 404 the REST layer raises itself when a lookup finds nothing (e.g. `v0/volumes.rs`). */
export function restNotFound(what: "volume" | "nexus" | "pool" | "replica" | "node", id: string) {
  const label = what[0].toUpperCase() + what.slice(1);
  return replyError("NotFound", `Requested ${what} was not found`, `${label} id : ${id}`);
}

/** A body, path or query that does not deserialize (`v0/mod.rs` json_error: DeserializeReq). */
export function deserializeError(detail: string): SimError {
  return replyError("DeserializeReq", "", detail);
}
