/** The typed error every Kubernetes API call throws: HTTP code plus the server's `Status` body. */
import { z } from "zod";

/** One field-level cause from `Status.details.causes`. */
export const StatusCauseSchema = z.object({
  reason: z.string().optional(),
  message: z.string().optional(),
  field: z.string().optional(),
});
/** A cause of a failed request. */
export type StatusCause = z.infer<typeof StatusCauseSchema>;

/** The `Status` object the API server returns on errors. */
export const StatusSchema = z.object({
  kind: z.literal("Status").optional(),
  status: z.string().optional(),
  message: z.string().optional(),
  reason: z.string().optional(),
  code: z.number().optional(),
  details: z.object({
    name: z.string().optional(),
    group: z.string().optional(),
    kind: z.string().optional(),
    causes: z.array(StatusCauseSchema).optional(),
    retryAfterSeconds: z.number().optional(),
  }).loose().optional(),
}).loose();
/** A parsed `Status` body. */
export type Status = z.infer<typeof StatusSchema>;

/** An API failure: `code` is the HTTP status (0 for a transport failure). */
export class ApiError extends Error {
  /** HTTP status code; 0 when no answer arrived. */
  readonly code: number;
  /** Machine reason, e.g. "NotFound", "Conflict", "Expired", "Invalid". */
  readonly reason: string;
  /** Field-level causes (422 Invalid names fields here). */
  readonly causes: StatusCause[];
  /** Seconds the server asked us to wait (429/503), when given. */
  readonly retryAfterSeconds?: number;

  constructor(
    code: number,
    reason: string,
    message: string,
    causes: StatusCause[] = [],
    retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.reason = reason;
    this.causes = causes;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** Builds an ApiError from an HTTP status and a response body (JSON `Status` or text). */
  static fromResponse(code: number, body: string, retryAfterHeader?: string | null): ApiError {
    let status: Status | undefined;
    try {
      const parsed = StatusSchema.safeParse(JSON.parse(body));
      if (parsed.success) status = parsed.data;
    } catch { /* not JSON: keep the raw text as the message */ }
    const retry = status?.details?.retryAfterSeconds ??
      (retryAfterHeader ? Number(retryAfterHeader) || undefined : undefined);
    return new ApiError(
      code,
      status?.reason ?? defaultReason(code),
      status?.message ?? (body.trim() || `HTTP ${code}`),
      status?.details?.causes ?? [],
      retry,
    );
  }
}

function defaultReason(code: number): string {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 409:
      return "Conflict";
    case 410:
      return "Expired";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "Unknown";
  }
}

/** True for 404 Not Found. */
export function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.code === 404;
}

/** True for 409 Conflict (stale resourceVersion) — also AlreadyExists, which is a 409 too. */
export function isConflict(e: unknown): boolean {
  return e instanceof ApiError && e.code === 409;
}

/** True for 409 AlreadyExists on create. */
export function isAlreadyExists(e: unknown): boolean {
  return e instanceof ApiError && e.code === 409 && e.reason === "AlreadyExists";
}

/** True for 410 Gone / Expired: the watch or continue token's version was compacted. */
export function isGone(e: unknown): boolean {
  return e instanceof ApiError && (e.code === 410 || e.reason === "Expired" || e.reason === "Gone");
}
