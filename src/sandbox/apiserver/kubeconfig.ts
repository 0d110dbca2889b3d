/** Writes a kubeconfig that kubectl and @kubernetes/client-node use unchanged. */
import { stringify } from "yaml";

/** What the kubeconfig points at. */
export interface KubeconfigParams {
  server: string;
  token: string;
  /** PEM of the CA that signed the server certificate (HTTPS servers). */
  caCert?: string;
  namespace?: string;
  name?: string;
}

/** The kubeconfig document as YAML text. */
export function kubeconfigYaml(p: KubeconfigParams): string {
  const name = p.name ?? "couchestor-sandbox";
  const cluster: Record<string, unknown> = { server: p.server };
  if (p.caCert) cluster["certificate-authority-data"] = btoa(p.caCert);
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster }],
    users: [{ name, user: { token: p.token } }],
    contexts: [{
      name,
      context: { cluster: name, user: name, namespace: p.namespace ?? "default" },
    }],
    "current-context": name,
    preferences: {},
  });
}

/** Writes the kubeconfig atomically with mode 0600. */
export async function writeKubeconfig(path: string, p: KubeconfigParams): Promise<void> {
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, kubeconfigYaml(p), { mode: 0o600 });
  await Deno.rename(tmp, path);
}
