/**
 * `couchestor approve <pvc>`: approves the pending proposal for a volume (policies with
 * `spec.approval: Manual`) by annotating its PVC (or its PV when it has no claim) with
 * `storage.billyronks.io/approve: <policy>/<proposal>`, which the operator reads on its next
 * pass. Also `kubectl couchestor approve …` through the kubectl plugin launcher.
 */
import { type StoragePolicy, StoragePolicySchema } from "../api/storage_policy.ts";
import { type Clock, systemClock } from "../clock.ts";
import { STORAGE_POLICIES } from "../controllers/storage-policy/resources.ts";
import type { KubeClient } from "../kube/client.ts";
import { BuiltinResources, type KubeObject } from "../kube/resource.ts";
import { approvalValue, APPROVE_ANNOTATION } from "../tiering/approval.ts";
import {
  CliError,
  type CommandIo,
  resolveVolume,
  runVolumeCommand,
  targetName,
} from "./volume_target.ts";

const HELP = `Usage: couchestor approve <pvc> [--policy P] [-n NAMESPACE] [--kubeconfig FILE]

Approves the pending move proposal of a volume whose StoragePolicy has approval: Manual.
It writes the annotation storage.billyronks.io/approve=<policy>/<proposal> on the PVC (or
on the PV of a volume without a claim); the operator starts the move on its next pass, when
the policy's move windows and migration budget allow, unless the proposal expired first.
Remove the annotation to take the approval back before the move starts.

  <pvc>              NAME (in --namespace), NAMESPACE/NAME, or pv/NAME for a volume
  --policy P         the policy whose proposal to approve (when several propose one)
  --proposal ID      approve only this proposal id (as status.proposals lists it)
  -n, --namespace N  namespace of the PVC (default: the kubeconfig context's, or default)
  --kubeconfig FILE  kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)
  -h, --help         this help
`;

/** What approve needs besides its arguments. */
export interface ApproveDeps extends CommandIo {
  clock?: Clock;
}

/** Runs `couchestor approve`; returns the exit status (1 for a failure, 2 for bad usage). */
export function runApprove(args: string[], deps: ApproveDeps = {}): Promise<number> {
  return runVolumeCommand("approve", args, deps, {
    help: HELP,
    options: { policy: { type: "string" }, proposal: { type: "string" } },
    body: (client, target, namespace, values) =>
      approve(client, target, {
        namespace,
        policy: values.policy as string | undefined,
        proposal: values.proposal as string | undefined,
        now: (deps.clock ?? systemClock).now(),
      }),
  });
}

/** Finds the one live proposal for the volume and writes the approval; returns what it did. */
export async function approve(
  client: KubeClient,
  target: string,
  o: { namespace: string; policy?: string; proposal?: string; now: number },
): Promise<string> {
  const t = await resolveVolume(client, target, o.namespace);
  const pv = t.pv.metadata.name!;
  const who = `${targetName(t)}${t.pvc ? ` (volume ${pv})` : ""}`;
  const policies = (await client.listAll<KubeObject>(STORAGE_POLICIES)).items
    .map((p) => StoragePolicySchema.safeParse(p))
    .filter((r) => r.success).map((r) => r.data as StoragePolicy)
    .filter((p) => !o.policy || p.metadata.name === o.policy);
  if (o.policy && policies.length === 0) throw new CliError(`StoragePolicy ${o.policy} not found`);
  const live = policies.flatMap((p) =>
    (p.status?.proposals ?? [])
      .filter((x) => x.volume === pv && (!o.proposal || x.id === o.proposal))
      .filter((x) => x.state !== "Started" && Date.parse(x.expires) > o.now)
      .map((x) => ({ policy: p.metadata.name!, proposal: x }))
  );
  if (live.length === 0) {
    throw new CliError(
      `no pending proposal for ${who}${o.policy ? ` in policy ${o.policy}` : ""}: nothing to ` +
        `approve; \`couchestor explain ${targetName(t)}\` says why it is not moving`,
    );
  }
  if (live.length > 1) {
    throw new CliError(
      `${who} has proposals in ${live.map((l) => `${l.policy} (${l.proposal.id})`).join(", ")}: ` +
        "choose one with --policy",
    );
  }
  const { policy, proposal: p } = live[0];
  const value = approvalValue(policy, p.id);
  const patch = { metadata: { annotations: { [APPROVE_ANNOTATION]: value } } };
  if (t.pvc) {
    await client.patch(BuiltinResources.persistentVolumeClaims, t.pvc.metadata.name!, patch, {
      namespace: t.pvc.metadata.namespace,
    });
  } else {
    await client.patch(BuiltinResources.persistentVolumes, pv, patch);
  }
  const state = p.state === "Approved" ? " (it was already approved)" : "";
  return `approved proposal ${p.id} of policy ${policy} for ${who}: ${p.from} → ${p.to}` +
    `${p.targetPool ? ` (pool ${p.targetPool})` : ""}, ${p.message}${state}. The operator ` +
    `starts it on its next pass, when the move windows and budget allow, before ${p.expires}.`;
}
