/**
 * PodSecurity admission for the `baseline` and `restricted` levels (pure), modelled on
 * kubernetes/pod-security-admission: the checks of policy/check_*.go with their reasons and
 * details word for word, run in check-ID order (policy/registry.go sorts them), the namespace
 * labels of api/helpers.go (PolicyToEvaluate: warn defaults to a stricter enforce), and
 * admission/admission.go: a Pod that fails `enforce` is refused, pod controllers (Deployments,
 * DaemonSets, Jobs) are only warned about (`warn`), never refused.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const asObj = (v: unknown): Obj => (isObj(v) ? v : {});
const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A Pod Security Standards level. */
export type Level = "privileged" | "baseline" | "restricted";

/** One level and version, printed `restricted:latest`. */
export interface LevelVersion {
  level: Level;
  version: string;
}

/** The namespace's policy for each mode. */
export interface NamespacePolicy {
  enforce: LevelVersion;
  warn: LevelVersion;
}

const PREFIX = "pod-security.kubernetes.io/";
const LEVELS: Level[] = ["privileged", "baseline", "restricted"];

/** PolicyToEvaluate: levels from the labels (unknown values: privileged, fail open). */
export function policyOf(labels: Record<string, unknown> | undefined): NamespacePolicy {
  const l = labels ?? {};
  const level = (k: string): Level | undefined => {
    const v = l[PREFIX + k];
    return LEVELS.includes(v as Level) ? v as Level : undefined;
  };
  const version = (k: string) =>
    typeof l[`${PREFIX}${k}-version`] === "string" ? String(l[`${PREFIX}${k}-version`]) : "latest";
  const enforce = { level: level("enforce") ?? "privileged", version: version("enforce") };
  let warn = { level: level("warn") ?? "privileged", version: version("warn") };
  // Default warn to the enforce level when enforce is stricter and warn isn't set.
  if (
    l[PREFIX + "warn"] === undefined && level("enforce") &&
    LEVELS.indexOf(enforce.level) > LEVELS.indexOf(warn.level)
  ) {
    warn = {
      level: enforce.level,
      version: l[`${PREFIX}warn-version`] === undefined ? enforce.version : warn.version,
    };
  }
  return { enforce, warn };
}

/** The result of one check. */
interface CheckResult {
  reason: string;
  detail: string;
}

type Check = (spec: Obj, meta: Obj) => CheckResult | undefined;

const joinQuote = (xs: string[]) => (xs.length ? `"${xs.join('", "')}"` : "");
const plural = (one: string, many: string, n: number) => (n === 1 ? one : many);
const containersWord = (names: string[]) =>
  `${plural("container", "containers", names.length)} ${joinQuote(names)}`;

/** visitContainers: init containers, then containers, then ephemeral containers. */
function containers(spec: Obj): Obj[] {
  return [
    ...asArr(spec.initContainers),
    ...asArr(spec.containers),
    ...asArr(spec.ephemeralContainers),
  ].map(asObj);
}
const sc = (c: Obj) => asObj(c.securityContext);
const named = (cs: Obj[]) => cs.map((c) => String(c.name ?? ""));

/** The containers with offending values, and every offending value (sorted), per container. */
function offenders(spec: Obj, pick: (c: Obj) => string[]): { bad: string[]; values: string[] } {
  const bad: string[] = [];
  const values = new Set<string>();
  for (const c of containers(spec)) {
    const v = pick(c);
    if (v.length === 0) continue;
    bad.push(String(c.name ?? ""));
    v.forEach((x) => values.add(x));
  }
  return { bad, values: [...values].sort() };
}

/** Baseline: capabilities a container may add (check_capabilities_baseline.go). */
const DEFAULT_CAPABILITIES = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);

/** Restricted: the volume sources allowed (check_restrictedVolumes.go). */
const ALLOWED_VOLUMES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "image",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);

const validSeccomp = (t: unknown) => t === "RuntimeDefault" || t === "Localhost";

/** "pod or containers … must set …" / "… must not set …" for pod-or-container settings. */
function podOrContainer(
  spec: Obj,
  read: (ctx: Obj) => unknown,
  ok: (v: unknown) => boolean,
): { badSetters: string[]; implicit: string[]; badValues: string[] } {
  const podValue = read(asObj(spec.securityContext));
  const badSetters: string[] = [], badValues: string[] = [];
  let podOk = false;
  if (podValue !== undefined && podValue !== null) {
    if (!ok(podValue)) {
      badSetters.push("pod");
      badValues.push(String(podValue));
    } else podOk = true;
  }
  const explicit: string[] = [], implicit: string[] = [];
  for (const c of containers(spec)) {
    const v = read(sc(c));
    if (v !== undefined && v !== null) {
      if (!ok(v)) {
        explicit.push(String(c.name ?? ""));
        badValues.push(String(v));
      }
    } else if (!podOk) implicit.push(String(c.name ?? ""));
  }
  if (explicit.length) badSetters.push(containersWord(explicit));
  return { badSetters, implicit, badValues: [...new Set(badValues)].sort() };
}

/** The checks by ID, each with the levels it belongs to. */
const CHECKS: { id: string; level: "baseline" | "restricted"; run: Check }[] = [
  {
    id: "allowPrivilegeEscalation",
    level: "restricted",
    run: (spec) => {
      if (asObj(spec.os).name === "windows") return undefined;
      const bad = named(containers(spec).filter((c) => sc(c).allowPrivilegeEscalation !== false));
      return bad.length
        ? {
          reason: "allowPrivilegeEscalation != false",
          detail: `${containersWord(bad)} must set securityContext.allowPrivilegeEscalation=false`,
        }
        : undefined;
    },
  },
  {
    id: "capabilities_baseline",
    level: "baseline",
    run: (spec) => {
      const { bad, values } = offenders(
        spec,
        (c) =>
          asArr(asObj(sc(c).capabilities).add).map(String).filter((x) =>
            !DEFAULT_CAPABILITIES.has(x)
          ),
      );
      return bad.length
        ? {
          reason: "non-default capabilities",
          detail: `${containersWord(bad)} must not include ${
            joinQuote(values)
          } in securityContext.capabilities.add`,
        }
        : undefined;
    },
  },
  {
    id: "capabilities_restricted",
    level: "restricted",
    run: (spec) => {
      if (asObj(spec.os).name === "windows") return undefined;
      const missingDrop: string[] = [], adding: string[] = [];
      const caps = new Set<string>();
      for (const c of containers(spec)) {
        const cap = asObj(sc(c).capabilities);
        if (!asArr(cap.drop).includes("ALL")) missingDrop.push(String(c.name ?? ""));
        const wrong = asArr(cap.add).map(String).filter((x) => x !== "NET_BIND_SERVICE");
        if (wrong.length) {
          adding.push(String(c.name ?? ""));
          wrong.forEach((x) => caps.add(x));
        }
      }
      const details: string[] = [];
      if (missingDrop.length) {
        details.push(
          `${containersWord(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`,
        );
      }
      if (adding.length) {
        details.push(
          `${containersWord(adding)} must not include ${
            joinQuote([...caps].sort())
          } in securityContext.capabilities.add`,
        );
      }
      return details.length
        ? { reason: "unrestricted capabilities", detail: details.join("; ") }
        : undefined;
    },
  },
  {
    id: "hostNamespaces",
    level: "baseline",
    run: (spec) => {
      const hosts = ["hostNetwork", "hostPID", "hostIPC"].filter((k) => spec[k] === true).map((k) =>
        `${k}=true`
      );
      return hosts.length ? { reason: "host namespaces", detail: hosts.join(", ") } : undefined;
    },
  },
  {
    id: "hostPathVolumes",
    level: "baseline",
    run: (spec) => {
      const vols = asArr(spec.volumes).map(asObj).filter((v) => isObj(v.hostPath)).map((v) =>
        String(v.name ?? "")
      );
      return vols.length
        ? {
          reason: "hostPath volumes",
          detail: `${plural("volume", "volumes", vols.length)} ${joinQuote(vols)}`,
        }
        : undefined;
    },
  },
  {
    id: "hostPorts",
    level: "baseline",
    run: (spec) => {
      const { bad, values: list } = offenders(
        spec,
        (c) =>
          asArr(c.ports).map(asObj).filter((p) => Number(p.hostPort ?? 0) !== 0).map((p) =>
            String(p.hostPort)
          ),
      );
      return bad.length
        ? {
          reason: "hostPort",
          detail: `${containersWord(bad)} ${plural("uses", "use", bad.length)} ${
            plural("hostPort", "hostPorts", list.length)
          } ${list.join(", ")}`,
        }
        : undefined;
    },
  },
  {
    id: "privileged",
    level: "baseline",
    run: (spec) => {
      const bad = named(containers(spec).filter((c) => sc(c).privileged === true));
      return bad.length
        ? {
          reason: "privileged",
          detail: `${containersWord(bad)} must not set securityContext.privileged=true`,
        }
        : undefined;
    },
  },
  {
    id: "restrictedVolumes",
    level: "restricted",
    run: (spec) => {
      const bad: string[] = [];
      const types = new Set<string>();
      for (const v of asArr(spec.volumes).map(asObj)) {
        const kinds = Object.keys(v).filter((k) => k !== "name");
        if (kinds.some((k) => ALLOWED_VOLUMES.has(k))) continue;
        bad.push(String(v.name ?? ""));
        types.add(kinds[0] ?? "unknown");
      }
      const list = [...types].sort();
      return bad.length
        ? {
          reason: "restricted volume types",
          detail: `${plural("volume", "volumes", bad.length)} ${joinQuote(bad)} ${
            plural("uses", "use", bad.length)
          } ${plural("restricted volume type", "restricted volume types", list.length)} ${
            joinQuote(list)
          }`,
        }
        : undefined;
    },
  },
  {
    id: "runAsNonRoot",
    level: "restricted",
    run: (spec) => {
      const r = podOrContainer(spec, (ctx) => ctx.runAsNonRoot, (v) => v === true);
      if (r.badSetters.length) {
        return {
          reason: "runAsNonRoot != true",
          detail: `${r.badSetters.join(" and ")} must not set securityContext.runAsNonRoot=false`,
        };
      }
      return r.implicit.length
        ? {
          reason: "runAsNonRoot != true",
          detail: `pod or ${containersWord(r.implicit)} must set securityContext.runAsNonRoot=true`,
        }
        : undefined;
    },
  },
  {
    id: "seccompProfile_baseline",
    level: "baseline",
    run: (spec) => {
      const r = podOrContainer(
        spec,
        (ctx) => asObj(ctx.seccompProfile).type,
        (v) => v !== "Unconfined",
      );
      return r.badSetters.length
        ? {
          reason: "seccompProfile",
          detail: `${
            r.badSetters.join(" and ")
          } must not set securityContext.seccompProfile.type to ${joinQuote(r.badValues)}`,
        }
        : undefined;
    },
  },
  {
    id: "seccompProfile_restricted",
    level: "restricted",
    run: (spec) => {
      const r = podOrContainer(spec, (ctx) => asObj(ctx.seccompProfile).type, validSeccomp);
      if (r.badSetters.length) {
        return {
          reason: "seccompProfile",
          detail: `${
            r.badSetters.join(" and ")
          } must not set securityContext.seccompProfile.type to ${joinQuote(r.badValues)}`,
        };
      }
      return r.implicit.length
        ? {
          reason: "seccompProfile",
          detail: `pod or ${
            containersWord(r.implicit)
          } must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
        }
        : undefined;
    },
  },
];

/**
 * The aggregated forbidden detail of a pod spec at a level (`reason (detail), …`), or undefined
 * when it passes. Restricted runs the baseline checks too, except those a restricted check
 * overrides (`OverrideCheckIDs`).
 */
export function evaluate(level: Level, spec: Obj, meta: Obj = {}): string | undefined {
  if (level === "privileged") return undefined;
  const checks = CHECKS.filter((c) =>
    level === "restricted" ? !RESTRICTED_OVERRIDES.has(c.id) : c.level === "baseline"
  );
  const out = checks.map((c) => c.run(spec, meta)).filter((r): r is CheckResult => r !== undefined);
  if (out.length === 0) return undefined;
  return out.map((r) => (r.detail ? `${r.reason} (${r.detail})` : r.reason)).join(", ");
}

/** Baseline checks a restricted one replaces (OverrideCheckIDs in policy/check_*.go). */
const RESTRICTED_OVERRIDES = new Set([
  "capabilities_baseline",
  "hostPathVolumes",
  "seccompProfile_baseline",
]);

/** What admission decides for one pod or pod template. */
export interface PodSecurityDecision {
  /** Set when enforce refuses the pod: the Forbidden message after `is forbidden: `. */
  denied?: string;
  warnings: string[];
}

const lv = (p: LevelVersion) => `${p.level}:${p.version}`;

/**
 * EvaluatePod: enforce (Pods only) refuses; warn adds a warning unless the request is refused.
 */
export function admitPodSpec(
  policy: NamespacePolicy,
  spec: Obj,
  meta: Obj,
  enforce: boolean,
): PodSecurityDecision {
  if (enforce) {
    const detail = evaluate(policy.enforce.level, spec, meta);
    if (detail) {
      return { denied: `violates PodSecurity "${lv(policy.enforce)}": ${detail}`, warnings: [] };
    }
  }
  const warn = evaluate(policy.warn.level, spec, meta);
  return { warnings: warn ? [`would violate PodSecurity "${lv(policy.warn)}": ${warn}`] : [] };
}

/** The pod template of a pod controller (Deployment, DaemonSet, Job …), or undefined. */
export function podTemplateOf(obj: Obj): { spec: Obj; meta: Obj } | undefined {
  const tpl = asObj(asObj(obj.spec).template);
  return isObj(tpl.spec) ? { spec: tpl.spec, meta: asObj(tpl.metadata) } : undefined;
}
