/**
 * One volume's whole story for `couchestor explain`, from the cluster's objects: which policy
 * selects it (and why the others do not), its IOPS and band, tier, pins, cooldown, backoff,
 * window, approval, its last moves, and what the operator would do next — computed by the
 * same pure rules the operator runs (`planVolumes` over the policy's volumes). Pure: the
 * objects and the IOPS reading are gathered by explain.ts.
 */
import { seriesValue } from "../model/series.ts";
import {
  type MigrationRecord,
  type ProposalRecord,
  type StoragePolicy,
  StoragePolicySchema,
} from "../api/storage_policy.ts";
import { summarizeIssues } from "../api/issues.ts";
import {
  mayastorVolumeUuid,
  type PersistentVolume,
} from "../controllers/storage-policy/resources.ts";
import type { KubeObject } from "../kube/resource.ts";
import type { Pool, Tier, Volume } from "../model/storage.ts";
import type { IopsResult } from "../metrics/source.ts";
import { decodeMoveState, MIGRATION_ANNOTATION, type MoveState } from "../migration/state.ts";
import { backoffRemaining, DEFAULT_BACKOFF_BASE_MS } from "../tiering/backoff.ts";
import { classify } from "../tiering/bands.ts";
import { cooldownRemaining } from "../tiering/cooldown.ts";
import { describeOverride } from "../tiering/overrides.ts";
import { DEFAULT_MIGRATION_TIMEOUT_MS, type PolicySettings } from "../tiering/policy.ts";
import {
  type PolicySelection,
  policyVolumes,
  selectVolume,
  type VolumeSubject,
} from "../tiering/selection.ts";
import { proposalFromStatus } from "../tiering/status_view.ts";
import type { VolumeFacts } from "../tiering/volume_facts.ts";
import { passTiers, planPass } from "../tiering/pass.ts";
import { passVolumesOf } from "../controllers/storage-policy/pass_volumes.ts";
import { DEFAULT_FREE_SPACE_HEADROOM } from "../config/flags.ts";
import { persistedWork } from "../controllers/storage-policy/persisted_work.ts";
import type { VolumeOutcome } from "../tiering/volume_plan.ts";
import type { WindowState } from "../api/move_windows.ts";
import type { Pvc, VolumeTarget } from "./volume_target.ts";

/** What explain read from the cluster. */
export interface ClusterView {
  target: VolumeTarget;
  /** Every StoragePolicy, as stored. */
  policies: KubeObject[];
  /** Every PersistentVolume. */
  pvs: PersistentVolume[];
  /** Every PersistentVolumeClaim. */
  pvcs: Pvc[];
  /** Namespace name → labels. */
  namespaces: Map<string, Record<string, string>>;
  /** Mayastor's pools and volumes, or why they could not be read. */
  mayastor: { pools: Pool[]; volumes: Volume[] } | { error: string };
}

/** How one policy relates to the volume. */
export interface PolicyVerdict {
  name: string;
  enabled: boolean;
  selected: boolean;
  /** Why not selected. */
  why?: string;
  /** The policy fails validation (it moves nothing). */
  invalid?: string;
}

/** Everything explain prints about one volume. */
export interface VolumeStory {
  pv: string;
  claim?: string;
  /** Why CoucheStor does not manage it at all (not a Mayastor CSI volume). */
  unmanaged?: string;
  verdicts: PolicyVerdict[];
  /** The policy whose rules apply (the selecting one; the first of several). */
  policy?: string;
  settings?: PolicySettings;
  spec?: StoragePolicy["spec"];
  iops?: { value?: number; window: string; query?: string; error?: string };
  /** The tier the IOPS bands ask for, or "hold" in the hysteresis band. */
  band?: Tier | "hold";
  mayastorError?: string;
  replicas?: { pool: string; node: string; tier?: Tier; state: string }[];
  health?: string;
  published?: boolean;
  facts?: VolumeFacts;
  cooldownLeftMs?: number;
  backoffLeftMs?: number;
  window?: WindowState;
  windowTexts?: string[];
  proposal?: ProposalRecord;
  inFlight?: MoveState;
  history: MigrationRecord[];
  outcome?: VolumeOutcome;
  /** New moves the budgets allow this pass. */
  budget?: number;
}

/** Inputs besides the cluster view. */
export interface StoryOptions {
  now: number;
  /** The operator's --max-concurrent-migrations. */
  globalLimit: number;
}

/** Parses every policy and says whether it selects the volume. */
export function policyVerdicts(
  policies: readonly KubeObject[],
  subject: VolumeSubject,
): { verdicts: PolicyVerdict[]; parsed: Map<string, StoragePolicy> } {
  const parsed = new Map<string, StoragePolicy>();
  const verdicts = policies.map((raw): PolicyVerdict => {
    const name = raw.metadata.name ?? "";
    const r = StoragePolicySchema.safeParse(raw);
    if (!r.success) {
      return { name, enabled: false, selected: false, invalid: summarizeIssues(r.error) };
    }
    parsed.set(name, r.data);
    const v = selectVolume(r.data.spec, subject);
    return {
      name,
      enabled: r.data.spec.enabled,
      selected: v.selected,
      ...(v.selected ? {} : { why: `${v.field}: ${v.reason}` }),
    };
  });
  return { verdicts: verdicts.sort((a, b) => a.name.localeCompare(b.name)), parsed };
}

/** Subjects (PV, bound PVC, namespace labels) of every Mayastor PV. */
function subjectsOf(view: ClusterView): VolumeSubject[] {
  const pvcs = new Map(view.pvcs.map((c) => [`${c.metadata.namespace}/${c.metadata.name}`, c]));
  return view.pvs.filter((pv) => mayastorVolumeUuid(pv) !== undefined).map((pv) => {
    const ref = (pv.spec as VolumeSubject["pv"]["spec"])?.claimRef;
    const pvc = ref ? pvcs.get(`${ref.namespace}/${ref.name}`) : undefined;
    const labels = pvc ? view.namespaces.get(pvc.metadata.namespace ?? "") : undefined;
    return { pv, ...(pvc ? { pvc } : {}), ...(labels ? { namespaceLabels: labels } : {}) };
  });
}

/** The story of the target volume; `reading` is the owning policy's IOPS read. */
export function buildStory(
  view: ClusterView,
  reading: IopsResult | undefined,
  o: StoryOptions,
): VolumeStory {
  const pv = view.target.pv;
  const name = pv.metadata.name ?? "";
  const subjects = subjectsOf(view);
  const subject = subjects.find((s) => s.pv.metadata.name === name) ??
    { pv, ...(view.target.pvc ? { pvc: view.target.pvc } : {}) };
  const { verdicts, parsed } = policyVerdicts(view.policies, subject);
  const story: VolumeStory = { pv: name, verdicts, history: [] };
  const claim = view.target.pvc?.metadata;
  if (claim?.namespace && claim.name) story.claim = `${claim.namespace}/${claim.name}`;
  if (mayastorVolumeUuid(pv) === undefined) {
    story.unmanaged = `not a Mayastor CSI volume (driver ${
      (pv.spec?.csi?.driver as string | undefined) ?? "none"
    }): CoucheStor does not manage it`;
    return story;
  }
  const owner = ownerOf(verdicts);
  if (!owner) return story;
  const sp = parsed.get(owner)!;
  story.policy = owner;
  story.spec = sp.spec;
  story.history = (sp.status?.migrationHistory ?? []).filter((h) => h.volume === name).slice(0, 5);
  if ("error" in view.mayastor) story.mayastorError = view.mayastor.error;
  const p = planOf(view, sp, [...parsed.values()], subjects, reading, o);
  story.settings = p.settings;
  story.budget = p.plan.budget;
  story.window = p.plan.window;
  story.windowTexts = sp.spec.moveWindows ?? [];
  story.iops = iopsPart(reading, sp.spec.samplingWindow, name, mayastorVolumeUuid(pv));
  if (story.iops.value !== undefined) {
    const w = p.settings.policy;
    const b = classify(story.iops.value, w.watermarks, w.warmTier);
    story.band = b.kind === "target" ? b.tier : "hold";
  }
  volumePart(story, pv, p.volumes.get(name), p.tiers);
  const i = p.facts.findIndex((f) => f.plan.name === name);
  if (i < 0) return story;
  const f = p.facts[i];
  const cooldownMs = p.settings.policy.cooldownMs;
  story.facts = f;
  story.outcome = p.plan.outcomes[i];
  story.cooldownLeftMs = cooldownRemaining(f.plan.lastMigrationMs, cooldownMs, o.now);
  story.backoffLeftMs = backoffRemaining(
    f.plan.backoff,
    { baseMs: DEFAULT_BACKOFF_BASE_MS, capMs: cooldownMs },
    o.now,
  );
  const proposal = (sp.status?.proposals ?? []).find((x) => x.volume === name);
  if (proposal) story.proposal = proposal;
  return story;
}

/** The owning policy's whole pass, as the operator runs it (planPass over its volumes). */
function planOf(
  view: ClusterView,
  sp: StoragePolicy,
  all: readonly StoragePolicy[],
  subjects: readonly VolumeSubject[],
  reading: IopsResult | undefined,
  o: StoryOptions,
) {
  const owner = sp.metadata.name ?? "";
  const selections: PolicySelection[] = all.map((p) => ({
    name: p.metadata.name ?? "",
    enabled: p.spec.enabled,
    spec: p.spec,
  }));
  const mine = policyVolumes(selections.find((s) => s.name === owner)!, selections, subjects);
  const ms = "error" in view.mayastor ? undefined : view.mayastor;
  const pools = ms?.pools ?? [];
  const tiers = passTiers(pools, sp.spec);
  // The same input the controller builds (pass_volumes.ts), from the cluster's objects alone.
  const pass = passVolumesOf(
    mine.selected,
    mine.contested,
    ms?.volumes ?? [],
    tiers,
    undefined,
    true,
  );
  const result = planPass({
    policyName: owner,
    spec: sp.spec,
    operator: {
      globalLimit: o.globalLimit,
      dryRun: false,
      preservation: false,
      migrationTimeoutMs: DEFAULT_MIGRATION_TIMEOUT_MS,
      freeSpaceHeadroom: DEFAULT_FREE_SPACE_HEADROOM,
    },
    pools,
    volumes: pass.volumes,
    metrics: reading?.ok ? { at: reading.at, iops: reading.iops } : undefined,
    now: o.now,
    inFlight: inFlightCounts(view.pvs, owner),
    rejected: new Map([...(reading?.rejected ?? [])].map(([k, r]) => [k, r.message])),
    previousProposals: (sp.status?.proposals ?? []).map(proposalFromStatus),
  });
  const volumes = new Map(pass.volumes.flatMap((v) => v.volume ? [[v.pv, v.volume] as const] : []));
  const facts: VolumeFacts[] = pass.volumes.map((v) => ({
    plan: v.facts,
    overrideProblems: pass.overrideProblems.filter((p) => p.subject.pv.metadata.name === v.pv)
      .map((p) => p.problem),
    problems: pass.problems.filter((p) => p.pv === v.pv).map((p) => p.message),
  }));
  return { plan: result.plan, facts, settings: result.settings, tiers, volumes };
}

/** Mayastor's view of the volume and its running move, into the story. */
function volumePart(
  story: VolumeStory,
  pv: PersistentVolume,
  v: Volume | undefined,
  tiers: ReadonlyMap<string, Tier>,
): void {
  const text = pv.metadata.annotations?.[MIGRATION_ANNOTATION];
  const move = text === undefined ? undefined : decodeMoveState(text);
  if (move?.ok && persistedWork(pv).inFlight) {
    story.inFlight = move.state;
  }
  if (v) {
    story.replicas = v.replicas.map((r) => ({
      pool: r.pool,
      node: r.node,
      state: r.state,
      ...(tiers.get(r.pool) ? { tier: tiers.get(r.pool) } : {}),
    }));
    story.health = v.status;
    story.published = v.targetNode !== undefined;
  }
}

/** The policy whose rules apply: the one enabled policy selecting it, else the first. */
function ownerOf(verdicts: readonly PolicyVerdict[]): string | undefined {
  const selecting = verdicts.filter((v) => v.selected);
  return (selecting.find((v) => v.enabled) ?? selecting[0])?.name;
}

/** Moves in flight by the PV annotations: of this policy, and of all. */
function inFlightCounts(pvs: readonly PersistentVolume[], policy: string) {
  let mine = 0, all = 0;
  for (const pv of pvs) {
    const text = pv.metadata.annotations?.[MIGRATION_ANNOTATION];
    if (text === undefined || !persistedWork(pv).inFlight) continue;
    all++;
    const s = decodeMoveState(text);
    if (s.ok && s.state.policy === policy) mine++;
  }
  return { policy: mine, global: all };
}

function iopsPart(
  reading: IopsResult | undefined,
  window: string,
  pv: string,
  uuid: string | undefined,
) {
  if (!reading) return { window, error: "not read" };
  if (!reading.ok) return { window, error: `${reading.reason}: ${reading.message}` };
  const value = seriesValue(reading.iops, pv, uuid);
  return {
    window,
    query: reading.query,
    ...(value === undefined ? { error: "no series for this volume" } : { value }),
  };
}

/** The override line of a story (for the renderer). */
export function overrideLine(s: VolumeStory): string {
  return s.facts
    ? describeOverride(s.facts.plan.override ?? { kind: "none" }, s.claim, s.pv)
    : "none";
}
