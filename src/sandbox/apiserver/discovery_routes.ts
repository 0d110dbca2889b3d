/** Serves `/version`, discovery (`/api`, `/apis`, aggregated v2) and the OpenAPI documents. */
import type { ApiCore } from "./api_core.ts";
import {
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  fnv64,
  groupVersions,
  openapiGroupVersion,
  openapiRoot,
} from "./discovery.ts";
import { pathNotFound } from "./errors.ts";
import { jsonResponse, negotiate, parseAccept } from "./negotiation.ts";
import { encodeOpenapiV2, openapiV2Document } from "./openapi_v2.ts";

/** `/version` as kube-apiserver 1.32 answers it. */
export const VERSION_INFO = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-couchestor-sandbox",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "n/a",
  compiler: "deno",
  platform: "linux/amd64",
};

const AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/** The OpenAPI documents, rebuilt when the set of served resources changes. */
export class OpenApiDocs {
  #core: ApiCore;
  #v3: Map<string, { body: string; hash: string }> | undefined;
  #v2: { json: string; proto: Uint8Array<ArrayBuffer>; hash: string } | undefined;

  constructor(core: ApiCore) {
    this.#core = core;
  }

  /** Forgets the cached documents (a CRD came or went). */
  invalidate(): void {
    this.#v3 = undefined;
    this.#v2 = undefined;
  }

  #v3Docs() {
    if (!this.#v3) {
      this.#v3 = new Map();
      const defs = this.#core.definitions();
      for (const [g, versions] of groupVersions(defs)) {
        for (const v of versions) {
          const body = JSON.stringify(openapiGroupVersion(defs, g, v));
          this.#v3.set(g ? `apis/${g}/${v}` : `api/${v}`, { body, hash: fnv64(body) });
        }
      }
    }
    return this.#v3;
  }

  /** Answers `/openapi/v2` or `/openapi/v3[/...]`. */
  serve(req: Request, url: URL, segs: string[]): Response {
    if (segs[1] === "v2" && segs.length === 2) return this.#serveV2(req);
    if (segs[1] !== "v3") throw pathNotFound();
    const docs = this.#v3Docs();
    if (segs.length === 2) {
      const hashes = new Map([...docs].map(([k, v]) => [k, v.hash]));
      return jsonResponse(openapiRoot(this.#core.definitions(), (p) => hashes.get(p) ?? "0"));
    }
    const doc = docs.get(segs.slice(2).join("/"));
    if (!doc) throw pathNotFound();
    return jsonResponse(doc.body, 200, {
      etag: `"${doc.hash}"`,
      "cache-control": url.searchParams.has("hash") ? "public, immutable" : "no-cache, private",
    });
  }

  /**
   * JSON or protobuf by the first Accept clause that names one, else 406, as
   * k8s.io/kube-openapi/pkg/handler/handler.go serves it.
   */
  #serveV2(req: Request): Response {
    this.#v2 ??= (() => {
      const json = JSON.stringify(openapiV2Document(this.#core.definitions()));
      return { json, proto: encodeOpenapiV2(JSON.parse(json)), hash: fnv64(json) };
    })();
    const doc = this.#v2;
    for (const m of parseAccept(req.headers.get("accept"))) {
      const [type, sub] = m.type.split("/");
      if (type !== "application" && type !== "*") continue;
      const proto = PROTO_SUBTYPES.includes(sub);
      if (sub !== "json" && sub !== "*" && !proto) continue;
      const headers = {
        "content-type": proto ? `application/${PROTO_SUBTYPES[1]}` : "application/json",
        etag: `"${doc.hash}"`,
        vary: "Accept",
      };
      return new Response(proto ? doc.proto : doc.json, { status: 200, headers });
    }
    return new Response(null, { status: 406, headers: { vary: "Accept" } });
  }
}

/** The protobuf subtypes of the v2 document (the deprecated spelling first). */
const PROTO_SUBTYPES = [
  "com.github.proto-openapi.spec.v2@v1.0+protobuf",
  "com.github.proto-openapi.spec.v2.v1.0+protobuf",
];

/** Answers a discovery path, or undefined when the path is a resource path. */
export function serveDiscovery(
  core: ApiCore,
  req: Request,
  segs: string[],
  serverAddress: string,
): Response | undefined {
  const defs = core.definitions();
  const accept = parseAccept(req.headers.get("accept"));
  if (segs.length === 1) {
    const isCore = segs[0] === "api";
    if (negotiate(accept, true)?.as === "aggregated") {
      return jsonResponse(aggregatedDiscovery(defs, isCore), 200, {
        "content-type": AGGREGATED_TYPE,
      });
    }
    return jsonResponse(isCore ? apiVersions(serverAddress) : apiGroupList(defs));
  }
  if (segs[0] === "api" && segs.length === 2) {
    const l = apiResourceList(defs, "", segs[1]);
    return l ? jsonResponse(l) : undefined;
  }
  if (segs[0] === "apis" && segs.length === 2) {
    const versions = groupVersions(defs).get(segs[1]);
    return versions
      ? jsonResponse({ kind: "APIGroup", apiVersion: "v1", ...apiGroup(segs[1], versions) })
      : undefined;
  }
  if (segs[0] === "apis" && segs.length === 3) {
    const l = apiResourceList(defs, segs[1], segs[2]);
    return l ? jsonResponse(l) : undefined;
  }
  return undefined;
}
