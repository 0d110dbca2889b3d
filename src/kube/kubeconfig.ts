/**
 * Connection settings from a kubeconfig file or from inside a pod. Parsing is
 * pure (`resolveKubeconfig`); the loaders read the referenced files.
 */
import { parse as parseYaml } from "yaml";
import { z } from "zod";

/** Everything the REST client needs to reach and authenticate to one API server. */
export interface ConnectionConfig {
  /** Base URL, e.g. "https://127.0.0.1:6443". */
  server: string;
  /** PEM CA bundle that signs the server's certificate. */
  caData?: string;
  /** PEM client certificate (mutual TLS). */
  clientCertData?: string;
  /** PEM client key (mutual TLS). */
  clientKeyData?: string;
  /** Static bearer token. */
  token?: string;
  /** File holding a bearer token, re-read as it rotates (service-account tokens). */
  tokenFile?: string;
  /** Skip server certificate checks (kubeconfig `insecure-skip-tls-verify`). */
  insecureSkipTlsVerify?: boolean;
  /** Default namespace of the context (or the pod's namespace in-cluster). */
  namespace?: string;
}

const ClusterSchema = z.object({
  server: z.string(),
  "certificate-authority": z.string().optional(),
  "certificate-authority-data": z.string().optional(),
  "insecure-skip-tls-verify": z.boolean().optional(),
}).loose();

const UserSchema = z.object({
  token: z.string().optional(),
  tokenFile: z.string().optional(),
  "client-certificate": z.string().optional(),
  "client-certificate-data": z.string().optional(),
  "client-key": z.string().optional(),
  "client-key-data": z.string().optional(),
}).loose();

/** The parts of a kubeconfig file we read. */
export const KubeconfigSchema = z.object({
  "current-context": z.string().optional(),
  clusters: z.array(z.object({ name: z.string(), cluster: ClusterSchema })).default([]),
  users: z.array(z.object({ name: z.string(), user: UserSchema.default({}) })).default([]),
  contexts: z.array(z.object({
    name: z.string(),
    context: z.object({
      cluster: z.string(),
      user: z.string().optional(),
      namespace: z.string().optional(),
    }),
  })).default([]),
}).loose();
/** A parsed kubeconfig document. */
export type Kubeconfig = z.infer<typeof KubeconfigSchema>;

/** A connection whose PEM/token parts may still be file paths (resolved by the loader). */
export interface UnresolvedConnection extends ConnectionConfig {
  /** Path of the CA file, relative paths already joined to the kubeconfig's directory. */
  caFile?: string;
  /** Path of the client certificate file. */
  clientCertFile?: string;
  /** Path of the client key file. */
  clientKeyFile?: string;
}

/**
 * A kubeconfig that can't be used, naming where: the file, the context, the field (as a path
 * like `users[0].user.client-key-data`) and what to do about it.
 */
export class KubeconfigError extends Error {
  override readonly name = "KubeconfigError";

  constructor(
    readonly file: string | undefined,
    readonly context: string | undefined,
    readonly field: string | undefined,
    problem: string,
  ) {
    const where = [
      `kubeconfig ${file ?? "(text)"}`,
      context !== undefined ? `context "${context}"` : undefined,
      field,
    ].filter((x) => x !== undefined).join(": ");
    super(`${where}: ${problem}`);
  }
}

/** Where in the document a field sits, for errors. */
interface Site {
  file?: string;
  context?: string;
}

function decodeBase64(b64: string, site: Site, field: string): string {
  let bin: string;
  try {
    bin = atob(b64.replace(/\s+/g, ""));
  } catch {
    throw new KubeconfigError(
      site.file,
      site.context,
      field,
      "is not valid base64 (it must hold the PEM text base64-encoded, e.g. `base64 -w0 ca.crt`)",
    );
  }
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** `a.b[0].c` from a zod issue path. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)
    .join("");
}

/** Parses the YAML and the schema, with errors that name the file and the field. */
function parseDocument(text: string, site: Site): Kubeconfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    throw new KubeconfigError(site.file, undefined, undefined, `is not valid YAML: ${msg}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new KubeconfigError(site.file, undefined, undefined, "is not a kubeconfig (no mapping)");
  }
  const r = KubeconfigSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const current = (raw as Record<string, unknown>)["current-context"];
  throw new KubeconfigError(
    site.file,
    typeof current === "string" ? current : undefined,
    fieldPath(issue.path),
    issue.message,
  );
}

function joinPath(dir: string, p: string): string {
  return p.startsWith("/") || dir === "" ? p : `${dir.replace(/\/$/, "")}/${p}`;
}

/**
 * Picks the context (`context` or `current-context`) and returns its connection;
 * `baseDir` is the kubeconfig file's directory, for relative file references.
 */
export function resolveKubeconfig(
  text: string,
  opts: { context?: string; baseDir?: string; file?: string } = {},
): UnresolvedConnection {
  const file = opts.file;
  const doc = parseDocument(text, { file });
  const ctxName = opts.context ?? doc["current-context"];
  const fail = (field: string | undefined, problem: string): never => {
    throw new KubeconfigError(file, ctxName, field, problem);
  };
  if (!ctxName) {
    return fail(
      "current-context",
      "is not set and no context was given (kubectl config use-context NAME)",
    );
  }
  const ci = doc.contexts.findIndex((c) => c.name === ctxName);
  if (ci < 0) return fail("contexts", `has no context named "${ctxName}"`);
  const ctx = doc.contexts[ci].context;
  const ki = doc.clusters.findIndex((c) => c.name === ctx.cluster);
  if (ki < 0) {
    return fail(
      `contexts[${ci}].context.cluster`,
      `names cluster "${ctx.cluster}", which clusters does not have`,
    );
  }
  const cluster = doc.clusters[ki].cluster;
  const ui = ctx.user ? doc.users.findIndex((u) => u.name === ctx.user) : -1;
  if (ctx.user && ui < 0) {
    return fail(
      `contexts[${ci}].context.user`,
      `names user "${ctx.user}", which users does not have`,
    );
  }
  const user = ui >= 0 ? doc.users[ui].user : undefined;
  const site = { file, context: ctxName };
  const kf = `clusters[${ki}].cluster`;
  const uf = `users[${ui}].user`;
  if (!/^https?:\/\/[^/]/.test(cluster.server)) {
    fail(`${kf}.server`, `"${cluster.server}" is not an http:// or https:// URL`);
  }
  const dir = opts.baseDir ?? "";
  const out: UnresolvedConnection = { server: cluster.server.replace(/\/+$/, "") };
  if (cluster["certificate-authority-data"]) {
    out.caData = decodeBase64(
      cluster["certificate-authority-data"],
      site,
      `${kf}.certificate-authority-data`,
    );
  } else if (cluster["certificate-authority"]) {
    out.caFile = joinPath(dir, cluster["certificate-authority"]);
  }
  if (cluster["insecure-skip-tls-verify"]) out.insecureSkipTlsVerify = true;
  if (user?.token) out.token = user.token;
  else if (user?.tokenFile) out.tokenFile = joinPath(dir, user.tokenFile);
  if (user?.["client-certificate-data"]) {
    out.clientCertData = decodeBase64(
      user["client-certificate-data"],
      site,
      `${uf}.client-certificate-data`,
    );
  } else if (user?.["client-certificate"]) {
    out.clientCertFile = joinPath(dir, user["client-certificate"]);
  }
  if (user?.["client-key-data"]) {
    out.clientKeyData = decodeBase64(user["client-key-data"], site, `${uf}.client-key-data`);
  } else if (user?.["client-key"]) out.clientKeyFile = joinPath(dir, user["client-key"]);
  if (ctx.namespace) out.namespace = ctx.namespace;
  return out;
}

/** Reads the files an UnresolvedConnection names and returns a self-contained ConnectionConfig. */
export async function resolveFiles(
  c: UnresolvedConnection,
  readTextFile: (path: string) => Promise<string> = Deno.readTextFile,
  site: Site = {},
): Promise<ConnectionConfig> {
  const { caFile, clientCertFile, clientKeyFile, ...rest } = c;
  const out: ConnectionConfig = { ...rest };
  const read = async (path: string, field: string) => {
    try {
      return await readTextFile(path);
    } catch (e) {
      throw new KubeconfigError(
        site.file,
        site.context,
        field,
        `cannot read ${path}: ${errText(e)}`,
      );
    }
  };
  if (caFile) out.caData = await read(caFile, "certificate-authority");
  if (clientCertFile) out.clientCertData = await read(clientCertFile, "client-certificate");
  if (clientKeyFile) out.clientKeyData = await read(clientKeyFile, "client-key");
  return out;
}

/** Loads a kubeconfig file (context optional) into a ConnectionConfig. */
export async function loadKubeconfigFile(
  path: string,
  opts: { context?: string; readTextFile?: (path: string) => Promise<string> } = {},
): Promise<ConnectionConfig> {
  const readTextFile = opts.readTextFile ?? Deno.readTextFile;
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (e) {
    throw new KubeconfigError(path, undefined, undefined, `cannot read the file: ${errText(e)}`);
  }
  const slash = path.lastIndexOf("/");
  const baseDir = slash >= 0 ? path.slice(0, slash) : ".";
  const unresolved = resolveKubeconfig(text, { context: opts.context, baseDir, file: path });
  const context = opts.context ?? parseYaml(text)?.["current-context"];
  return await resolveFiles(unresolved, readTextFile, { file: path, context });
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Where a pod finds its service account (the standard paths). */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * In-cluster config from KUBERNETES_SERVICE_HOST/PORT (passed in by the caller)
 * and the mounted service-account token, CA and namespace.
 */
export async function inClusterConfig(opts: {
  host: string;
  port: string | number;
  /** Directory with token, ca.crt and namespace (default the standard mount). */
  serviceAccountDir?: string;
}): Promise<ConnectionConfig> {
  if (!opts.host || !opts.port) {
    throw new Error(
      "not running in a cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set",
    );
  }
  const dir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  const out: ConnectionConfig = {
    server: `https://${host}:${opts.port}`,
    tokenFile: `${dir}/token`,
    caData: await Deno.readTextFile(`${dir}/ca.crt`),
  };
  try {
    out.namespace = (await Deno.readTextFile(`${dir}/namespace`)).trim();
  } catch { /* namespace file is optional */ }
  return out;
}
