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

function decodeBase64(b64: string): string {
  const bin = atob(b64.replace(/\s+/g, ""));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
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
  opts: { context?: string; baseDir?: string } = {},
): UnresolvedConnection {
  const doc = KubeconfigSchema.parse(parseYaml(text));
  const ctxName = opts.context ?? doc["current-context"];
  if (!ctxName) throw new Error("kubeconfig has no current-context and none was given");
  const ctx = doc.contexts.find((c) => c.name === ctxName);
  if (!ctx) throw new Error(`kubeconfig has no context named "${ctxName}"`);
  const cluster = doc.clusters.find((c) => c.name === ctx.context.cluster)?.cluster;
  if (!cluster) throw new Error(`kubeconfig has no cluster named "${ctx.context.cluster}"`);
  const user = ctx.context.user
    ? doc.users.find((u) => u.name === ctx.context.user)?.user
    : undefined;
  if (ctx.context.user && !user) {
    throw new Error(`kubeconfig has no user named "${ctx.context.user}"`);
  }
  const dir = opts.baseDir ?? "";
  const out: UnresolvedConnection = { server: cluster.server.replace(/\/+$/, "") };
  if (cluster["certificate-authority-data"]) {
    out.caData = decodeBase64(cluster["certificate-authority-data"]);
  } else if (cluster["certificate-authority"]) {
    out.caFile = joinPath(dir, cluster["certificate-authority"]);
  }
  if (cluster["insecure-skip-tls-verify"]) out.insecureSkipTlsVerify = true;
  if (user?.token) out.token = user.token;
  else if (user?.tokenFile) out.tokenFile = joinPath(dir, user.tokenFile);
  if (user?.["client-certificate-data"]) {
    out.clientCertData = decodeBase64(user["client-certificate-data"]);
  } else if (user?.["client-certificate"]) {
    out.clientCertFile = joinPath(dir, user["client-certificate"]);
  }
  if (user?.["client-key-data"]) out.clientKeyData = decodeBase64(user["client-key-data"]);
  else if (user?.["client-key"]) out.clientKeyFile = joinPath(dir, user["client-key"]);
  if (ctx.context.namespace) out.namespace = ctx.context.namespace;
  return out;
}

/** Reads the files an UnresolvedConnection names and returns a self-contained ConnectionConfig. */
export async function resolveFiles(
  c: UnresolvedConnection,
  readTextFile: (path: string) => Promise<string> = Deno.readTextFile,
): Promise<ConnectionConfig> {
  const { caFile, clientCertFile, clientKeyFile, ...rest } = c;
  const out: ConnectionConfig = { ...rest };
  if (caFile) out.caData = await readTextFile(caFile);
  if (clientCertFile) out.clientCertData = await readTextFile(clientCertFile);
  if (clientKeyFile) out.clientKeyData = await readTextFile(clientKeyFile);
  return out;
}

/** Loads a kubeconfig file (context optional) into a ConnectionConfig. */
export async function loadKubeconfigFile(
  path: string,
  opts: { context?: string; readTextFile?: (path: string) => Promise<string> } = {},
): Promise<ConnectionConfig> {
  const readTextFile = opts.readTextFile ?? Deno.readTextFile;
  const text = await readTextFile(path);
  const slash = path.lastIndexOf("/");
  const baseDir = slash >= 0 ? path.slice(0, slash) : ".";
  return await resolveFiles(
    resolveKubeconfig(text, { context: opts.context, baseDir }),
    readTextFile,
  );
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
