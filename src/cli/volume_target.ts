/**
 * What `couchestor explain` and `couchestor approve` share: a Kubernetes client the way kubectl
 * finds one (--kubeconfig, $KUBECONFIG, ~/.kube/config, the pod's service account), and the
 * volume a user names — a PVC (`name` or `namespace/name`, in --namespace or the context's
 * namespace) or a PV (`pv/name`) — with errors that say what was looked for.
 */
import { parseArgs } from "node:util";
import type { Env } from "../config/load.ts";
import type { PersistentVolume } from "../controllers/storage-policy/resources.ts";
import { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import { inClusterConfig, loadKubeconfigFile } from "../kube/kubeconfig.ts";
import { BuiltinResources, type KubeObject } from "../kube/resource.ts";
import type { PvcObject } from "../tiering/selection.ts";

/** A CLI failure the user can act on: printed as one line, exit status 1. */
export class CliError extends Error {}

/** A PersistentVolumeClaim as the CLI reads it. */
export type Pvc = KubeObject & PvcObject & { status?: { phase?: string } };

/** Builds a client: --kubeconfig, else $KUBECONFIG (first entry), ~/.kube/config, in-cluster. */
export async function kubeClientFor(kubeconfig: string | undefined, env: Env): Promise<KubeClient> {
  const candidates = [
    kubeconfig,
    env.KUBECONFIG?.split(":").find((p) => p !== ""),
    env.HOME ? `${env.HOME}/.kube/config` : undefined,
  ];
  for (const [i, path] of candidates.entries()) {
    if (!path) continue;
    try {
      return new KubeClient({ connection: await loadKubeconfigFile(path) });
    } catch (e) {
      // An explicit --kubeconfig that does not load is an error; a missing default is not.
      if (i < 2 || !(e instanceof Deno.errors.NotFound)) {
        throw new CliError(`kubeconfig ${path}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
  try {
    const conn = await inClusterConfig({
      host: env.KUBERNETES_SERVICE_HOST ?? "",
      port: env.KUBERNETES_SERVICE_PORT ?? "",
    });
    return new KubeClient({ connection: conn });
  } catch (e) {
    throw new CliError(
      `no kubeconfig found (--kubeconfig, KUBECONFIG, ~/.kube/config) and ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
  }
}

/** The volume a user named. */
export interface VolumeTarget {
  pv: PersistentVolume;
  /** Its bound claim, when it has one. */
  pvc?: Pvc;
}

/**
 * Finds the volume: `pv/NAME` is a PV; `pvc/NAME`, `NAME` or `NS/NAME` a PVC (a bare NAME that
 * is no PVC may be a PV). The PVC must be bound.
 */
export async function resolveVolume(
  client: KubeClient,
  target: string,
  namespace: string,
): Promise<VolumeTarget> {
  const getPv = (name: string) =>
    client.get<PersistentVolume>(BuiltinResources.persistentVolumes, name);
  if (target.startsWith("pv/")) {
    const name = target.slice(3);
    try {
      return await withClaim(client, await getPv(name));
    } catch (e) {
      if (isNotFound(e)) throw new CliError(`PersistentVolume ${name} not found`);
      throw e;
    }
  }
  const bare = !target.includes("/");
  const rest = target.startsWith("pvc/") ? target.slice(4) : target;
  const [ns, name] = rest.includes("/") ? rest.split("/", 2) : [namespace, rest];
  let pvc: Pvc;
  try {
    pvc = await client.get<Pvc>(BuiltinResources.persistentVolumeClaims, name, { namespace: ns });
  } catch (e) {
    if (!isNotFound(e)) throw e;
    if (bare) {
      try {
        return await withClaim(client, await getPv(name));
      } catch (e2) {
        if (!isNotFound(e2)) throw e2;
      }
    }
    throw new CliError(
      `PersistentVolumeClaim ${ns}/${name} not found` +
        (bare ? ` (and no PersistentVolume named ${name})` : "") +
        "; name a claim as NAME with -n NAMESPACE, NAMESPACE/NAME, or a volume as pv/NAME",
    );
  }
  const volume = pvc.spec?.volumeName;
  if (!volume) {
    throw new CliError(
      `PersistentVolumeClaim ${ns}/${name} is not bound to a volume yet` +
        ` (phase ${pvc.status?.phase ?? "unknown"})`,
    );
  }
  try {
    return { pv: await getPv(volume), pvc };
  } catch (e) {
    if (isNotFound(e)) {
      throw new CliError(`PersistentVolumeClaim ${ns}/${name} names volume ${volume}, not found`);
    }
    throw e;
  }
}

/** A PV with the PVC its claimRef names, when that PVC exists. */
async function withClaim(client: KubeClient, pv: PersistentVolume): Promise<VolumeTarget> {
  const ref = (pv.spec as { claimRef?: { namespace?: string; name?: string } } | undefined)
    ?.claimRef;
  if (!ref?.namespace || !ref.name) return { pv };
  try {
    const pvc = await client.get<Pvc>(BuiltinResources.persistentVolumeClaims, ref.name, {
      namespace: ref.namespace,
    });
    return { pv, pvc };
  } catch (e) {
    if (isNotFound(e)) return { pv };
    throw e;
  }
}

/** The text a user types to name this volume again (`ns/name` or `pv/name`). */
export function targetName(t: VolumeTarget): string {
  const m = t.pvc?.metadata;
  return m?.namespace && m.name ? `${m.namespace}/${m.name}` : `pv/${t.pv.metadata.name}`;
}

/** Flag values of a volume command (its own flags plus --namespace and --kubeconfig). */
export type VolumeFlags = Record<string, string | boolean | undefined>;

/** How a volume command talks to the user. */
export interface CommandIo {
  env?: Env;
  out?: (s: string) => void;
  err?: (s: string) => void;
}

/**
 * The frame of `explain` and `approve`: parses `<target>` plus the command's flags (and -n,
 * --kubeconfig, --help), connects, runs `body` and prints its text. Exit 0, 1 on a failure
 * (the message, one line), 2 on bad usage.
 */
export async function runVolumeCommand(
  cmd: string,
  args: string[],
  io: CommandIo,
  spec: {
    help: string;
    options: Record<string, { type: "string" | "boolean"; short?: string }>;
    /** Checks the flags before connecting; a message means bad usage. */
    check?: (values: VolumeFlags) => string | undefined;
    body: (client: KubeClient, target: string, ns: string, values: VolumeFlags) => Promise<string>;
  },
): Promise<number> {
  const out = io.out ?? ((s: string) => console.log(s));
  const err = io.err ?? ((s: string) => console.error(s));
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        ...spec.options,
        namespace: { type: "string", short: "n" },
        kubeconfig: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    err(`${cmd}: ${(e as Error).message} (see couchestor ${cmd} --help)`);
    return 2;
  }
  const values = parsed.values as VolumeFlags;
  if (values.help) {
    out(spec.help);
    return 0;
  }
  const usage = parsed.positionals.length !== 1
    ? `name one volume: couchestor ${cmd} <pvc> (see --help)`
    : spec.check?.(values);
  if (usage) {
    err(`${cmd}: ${usage}`);
    return 2;
  }
  let client: KubeClient | undefined;
  try {
    client = await kubeClientFor(values.kubeconfig as string | undefined, io.env ?? {});
    const ns = (values.namespace as string | undefined) ?? client.defaultNamespace ?? "default";
    out(await spec.body(client, parsed.positionals[0], ns, values));
    return 0;
  } catch (e) {
    err(`${cmd}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    client?.close();
  }
}
