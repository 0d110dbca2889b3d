/** The machine's kubectl run against a sandbox, with a private HOME (shared by the kubectl tests). */
import type { Sandbox } from "../../src/sandbox/apiserver/mod.ts";

/** Where the tests expect kubectl (Debian's kubernetes-client, or the release binary). */
export const KUBECTL = "/usr/bin/kubectl";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** Fails, naming the install command, when kubectl is missing. */
export async function requireKubectl(): Promise<void> {
  try {
    await Deno.stat(KUBECTL);
  } catch {
    throw new Error(
      "kubectl is required at /usr/bin/kubectl: install it (e.g. `apt-get install -y kubernetes-client`, or the kubectl 1.32 release binary)",
    );
  }
}

/** Exit code and output of one kubectl run. */
export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl against the sandbox: HOME and cache in `home`, a clean env, cwd the repository root. */
export function kubectlCmd(sb: Sandbox, home: string, args: string[]): Deno.Command {
  return new Deno.Command(KUBECTL, {
    args: ["--kubeconfig", sb.kubeconfigPath, "--cache-dir", `${home}/cache`, ...args],
    env: { HOME: home, PATH: "/usr/bin:/bin" },
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs kubectl to completion. */
export async function kubectl(sb: Sandbox, home: string, ...args: string[]): Promise<KubectlRun> {
  const out = await kubectlCmd(sb, home, args).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
