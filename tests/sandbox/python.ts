/**
 * The official Kubernetes Python client (Debian's `python3-kubernetes`) run against a sandbox:
 * each call runs one script with a shared prelude and answers the JSON its last line prints.
 */
import type { Sandbox } from "../../src/sandbox/apiserver/mod.ts";

/** Debian's interpreter (a pyenv shim on PATH would not see Debian's packages). */
export const PYTHON = "/usr/bin/python3";

/** Fails, naming the install command, when python3-kubernetes is missing. */
export async function requirePythonClient(): Promise<void> {
  let ok = false;
  try {
    const out = await new Deno.Command(PYTHON, {
      args: ["-c", "import kubernetes"],
      stdout: "null",
      stderr: "null",
    }).output();
    ok = out.success;
  } catch { /* no interpreter */ }
  if (!ok) {
    throw new Error(
      "the official Python client is required: apt-get install -y --no-install-recommends python3-kubernetes (deno task test installs it when run as root)",
    );
  }
}

/** Defined for every script: the APIs, the namespace and helpers to print and catch. */
const PRELUDE = `
import json, sys, threading, datetime
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
config.load_kube_config(config_file=sys.argv[1])
NS = sys.argv[2]
core = client.CoreV1Api()
apps = client.AppsV1Api()
coord = client.CoordinationV1Api()
custom = client.CustomObjectsApi()
authz = client.AuthorizationV1Api()
api = client.ApiClient()
def out(x):
    print(json.dumps(x, default=str))
def fails(fn):
    try:
        fn()
        return None
    except ApiException as e:
        return {"status": e.status, "body": json.loads(e.body) if e.body else None}
def raw(method, path, query=None, body=None, content_type="application/json"):
    data = api.call_api(path, method, query_params=query or [], body=body,
        header_params={"Content-Type": content_type, "Accept": "application/json"},
        auth_settings=["BearerToken"], response_type="object", _return_http_data_only=True)
    return data
`;

/** Runs a script (after the prelude) in namespace `ns`; answers the JSON of its last line. */
export async function python<T = Record<string, unknown>>(
  sb: Sandbox,
  ns: string,
  script: string,
): Promise<T> {
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", PRELUDE + script, sb.kubeconfigPath, ns],
    env: { PATH: "/usr/bin:/bin", HOME: "/tmp" },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const stdout = dec.decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(`python failed (${out.code}): ${dec.decode(out.stderr)}\n${stdout}`);
  }
  const last = stdout.split("\n").pop() ?? "";
  return JSON.parse(last) as T;
}
