/** Content negotiation and JSON responses: Accept parsing, Table/PartialObjectMetadata, Status. */
import type { Status } from "./errors.ts";

/** The JSON media type every answer uses. */
export const JSON_TYPE = "application/json";

/** A parsed Accept entry. */
export interface MediaType {
  type: string;
  params: Record<string, string>;
}

/** Splits an Accept header into media types with their parameters (absent = `*\/*`). */
export function parseAccept(h: string | null): MediaType[] {
  if (!h) return [{ type: "*/*", params: {} }];
  return h.split(",").map((part) => {
    const [type, ...ps] = part.split(";").map((x) => x.trim());
    const params: Record<string, string> = {};
    for (const p of ps) {
      const i = p.indexOf("=");
      if (i > 0) params[p.slice(0, i).trim()] = p.slice(i + 1).trim();
    }
    return { type: type.toLowerCase(), params };
  });
}

/** What representation the client wants. */
export type Wanted = { as: "json" } | { as: "table" } | { as: "partial" } | {
  as: "aggregated";
};

/** The first acceptable representation, or undefined (406). */
export function negotiate(accept: MediaType[], allowAggregated = false): Wanted | undefined {
  for (const m of accept) {
    const jsonish = m.type === JSON_TYPE || m.type === "*/*" || m.type === "application/*";
    if (!jsonish) continue;
    const as = m.params.as;
    if (!as) return { as: "json" };
    if (
      as === "Table" && m.params.g === "meta.k8s.io" &&
      (m.params.v === "v1" || m.params.v === "v1beta1")
    ) return { as: "table" };
    if (
      (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") &&
      m.params.g === "meta.k8s.io"
    ) return { as: "partial" };
    if (
      allowAggregated && as === "APIGroupDiscoveryList" && m.params.g === "apidiscovery.k8s.io" &&
      m.params.v === "v2"
    ) {
      return { as: "aggregated" };
    }
  }
  return undefined;
}

/** A JSON response (a string body is sent as is). */
export function jsonResponse(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(typeof body === "string" ? body : JSON.stringify(body), {
    status,
    headers: { "content-type": JSON_TYPE, ...headers },
  });
}

/** A Status answer with its code (and Retry-After when the Status asks for one). */
export function statusResponse(s: Status): Response {
  const headers: Record<string, string> = {};
  if (s.details?.retryAfterSeconds) headers["retry-after"] = String(s.details.retryAfterSeconds);
  return jsonResponse(s, s.code, headers);
}

/** `Warning:` headers (code 299) for warnings such as unknown fields. */
export function withWarnings(warnings: string[]): Record<string, string> {
  return warnings.length
    ? { warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(", ") }
    : {};
}
