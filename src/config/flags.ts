/**
 * The flag table of `couchestor run`: the single source for parsing, validation, help text and
 * the typed `Config`. Every flag has an environment-variable twin and a default.
 */
import { z } from "zod";
import { formatDuration, isDuration, parseDuration } from "./duration.ts";
import { parseListenAddr } from "./listen.ts";

/** The default ceiling of a plausible IOPS reading: no single volume serves ten million IOPS. */
export const DEFAULT_MAX_PLAUSIBLE_IOPS = 10_000_000;

/** The default share of a pool's capacity kept free beyond what a move puts on it. */
export const DEFAULT_FREE_SPACE_HEADROOM = 0.05;

/** One command-line flag and its environment twin. */
export interface FlagSpec {
  /** Flag name without dashes, e.g. "max-concurrent-migrations". */
  flag: string;
  /** Environment variable read when the flag is absent. */
  env: string;
  /** Boolean flags take no value on the command line (`--dry-run`, `--no-dry-run`). */
  kind: "string" | "boolean";
  /** Default as text; "" means unset (the field is then undefined or filled at run time). */
  default: string;
  /** How help shows the default when `default` is "" (e.g. "in-cluster config"). */
  defaultLabel?: string;
  /** Given explicitly (flag or env), the value may not be empty (`--pod-name=` is an error). */
  nonEmpty?: boolean;
  /** Placeholder in help, e.g. "url" or "duration". */
  placeholder: string;
  /** What values are accepted, worded to follow "must be" in error messages. */
  allowed: string;
  /** One-line description. */
  help: string;
  /** Turns the text value into the typed field; fails for values outside `allowed`. */
  schema: z.ZodType<unknown, string>;
}

const BOOL_TEXT: Record<string, boolean> = {
  true: true,
  false: false,
  "1": true,
  "0": false,
  yes: true,
  no: false,
};

const bool = z.string().refine((v) => v.toLowerCase() in BOOL_TEXT).transform((v) =>
  BOOL_TEXT[v.toLowerCase()]
);

const httpUrl = z.url({ protocol: /^https?$/ });

const positiveInt = (min: number, max: number) =>
  z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min).max(max));

/** A duration flag converted to milliseconds, bounded to [min, max] (given as durations). */
const duration = (min: string, max: string) =>
  z.string().refine(isDuration).transform(parseDuration).pipe(
    z.number().min(parseDuration(min)).max(parseDuration(max)),
  );

const listenAddr = z.string().transform((v, ctx) => {
  const addr = parseListenAddr(v);
  if (!addr) {
    ctx.addIssue({ code: "custom", message: "not a listen address" });
    return z.NEVER;
  }
  return addr;
});

/** Empty text means "not set"; anything else must pass `inner`. */
const optionalText = (inner: z.ZodType<string, string>) =>
  z.string().transform((v) => v === "" ? undefined : v).pipe(inner.optional());

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Every flag of `couchestor run`, keyed by its Config field name, in help order. */
export const FLAGS = {
  prometheusUrl: {
    flag: "prometheus-url",
    env: "PROMETHEUS_URL",
    kind: "string",
    default: "http://prometheus-operated.monitoring.svc:9090",
    placeholder: "url",
    allowed: "an http:// or https:// URL",
    help: "Prometheus HTTP API base URL that volume IOPS are queried from",
    schema: httpUrl,
  },
  maxPlausibleIops: {
    flag: "max-plausible-iops",
    env: "MAX_PLAUSIBLE_IOPS",
    kind: "string",
    default: String(DEFAULT_MAX_PLAUSIBLE_IOPS),
    placeholder: "n",
    allowed: "an integer >= 1 and <= 1000000000000",
    help:
      "A volume whose IOPS reading is above this is treated as having no reading (bad data, not a hot volume)",
    schema: positiveInt(1, 1_000_000_000_000),
  },
  maxConcurrentMigrations: {
    flag: "max-concurrent-migrations",
    env: "MAX_CONCURRENT_MIGRATIONS",
    kind: "string",
    default: "2",
    placeholder: "n",
    allowed: "an integer >= 1 and <= 1000",
    help: "Volume migrations in flight at once, cluster-wide (a policy may lower it)",
    schema: positiveInt(1, 1000),
  },
  migrationTimeoutMs: {
    flag: "migration-timeout",
    env: "MIGRATION_TIMEOUT",
    kind: "string",
    default: "30m",
    placeholder: "duration",
    allowed: "a duration between 1s and 7d, such as 90s, 30m or 1h30m",
    help: "Give up on (and roll back) a migration that has not finished in this time",
    schema: duration("1s", "7d"),
  },
  syncPollIntervalMs: {
    flag: "sync-poll-interval",
    env: "SYNC_POLL_INTERVAL",
    kind: "string",
    default: "10s",
    placeholder: "duration",
    allowed: "a duration between 100ms and 1h, such as 500ms or 10s",
    help: "How often a running migration polls Mayastor for replica rebuild progress",
    schema: duration("100ms", "1h"),
  },
  dryRun: {
    flag: "dry-run",
    env: "DRY_RUN",
    kind: "boolean",
    default: "false",
    placeholder: "",
    allowed: "true or false",
    help: "Decide and log migrations but never move a replica",
    schema: bool,
  },
  preservationMode: {
    flag: "preservation-mode",
    env: "PRESERVATION_MODE",
    kind: "boolean",
    default: "false",
    placeholder: "",
    allowed: "true or false",
    help: "Keep the old replica after a migration (add, never remove)",
    schema: bool,
  },
  metricsAddr: {
    flag: "metrics-addr",
    env: "METRICS_ADDR",
    kind: "string",
    default: ":8080",
    placeholder: "addr",
    allowed: "a listen address [host]:port with port 0-65535, such as :8080 or 127.0.0.1:0",
    help: "Where /metrics is served (an empty host binds 0.0.0.0)",
    schema: listenAddr,
  },
  healthAddr: {
    flag: "health-addr",
    env: "HEALTH_ADDR",
    kind: "string",
    default: ":8081",
    placeholder: "addr",
    allowed: "a listen address [host]:port with port 0-65535, such as :8081 or 127.0.0.1:0",
    help: "Where /healthz and /readyz are served",
    schema: listenAddr,
  },
  logLevel: {
    flag: "log-level",
    env: "LOG_LEVEL",
    kind: "string",
    default: "info",
    placeholder: "level",
    allowed: "one of debug, info, warn, error",
    help: "Lowest severity written to the log",
    schema: z.enum(["debug", "info", "warn", "error"]),
  },
  logFormat: {
    flag: "log-format",
    env: "LOG_FORMAT",
    kind: "string",
    default: "text",
    placeholder: "format",
    allowed: "one of text, json",
    help: "Log lines as text for people or JSON lines (time, level, msg, component, fields)",
    schema: z.enum(["text", "json"]),
  },
  kubeconfig: {
    flag: "kubeconfig",
    env: "KUBECONFIG",
    kind: "string",
    default: "",
    defaultLabel: "in-cluster service account",
    placeholder: "path",
    allowed: "a file path",
    help: "Kubeconfig file to reach the Kubernetes API with",
    schema: optionalText(z.string()),
  },
  leaderElect: {
    flag: "leader-elect",
    env: "LEADER_ELECT",
    kind: "boolean",
    default: "false",
    placeholder: "",
    allowed: "true or false",
    help: "Hold a Lease so only one replica of the operator acts at a time",
    schema: bool,
  },
  leaseNamespace: {
    flag: "lease-namespace",
    env: "LEASE_NAMESPACE",
    kind: "string",
    default: "couchestor-system",
    placeholder: "namespace",
    allowed: "a Kubernetes namespace name (lower-case DNS label, at most 63 characters)",
    help: "Namespace of the leader-election Lease",
    schema: z.string().regex(DNS_LABEL),
  },
  leaseName: {
    flag: "lease-name",
    env: "LEASE_NAME",
    kind: "string",
    default: "couchestor-leader",
    placeholder: "name",
    allowed: "a Kubernetes object name (lower-case DNS subdomain)",
    help: "Name of the leader-election Lease",
    schema: z.string().regex(DNS_SUBDOMAIN),
  },
  leaseDurationMs: {
    flag: "lease-duration",
    env: "LEASE_DURATION",
    kind: "string",
    default: "15s",
    placeholder: "duration",
    allowed: "a duration between 1s and 10m",
    help: "How long a Lease holder keeps leadership without renewing",
    schema: duration("1s", "10m"),
  },
  leaseRenewDeadlineMs: {
    flag: "lease-renew-deadline",
    env: "LEASE_RENEW_DEADLINE",
    kind: "string",
    default: "10s",
    placeholder: "duration",
    allowed: "a duration between 1s and 10m, shorter than --lease-duration",
    help: "The leader steps down when it could not renew for this long",
    schema: duration("1s", "10m"),
  },
  leaseRetryPeriodMs: {
    flag: "lease-retry-period",
    env: "LEASE_RETRY_PERIOD",
    kind: "string",
    default: "2s",
    placeholder: "duration",
    allowed: "a duration between 100ms and 1m",
    help: "How often candidates try to acquire and the leader renews",
    schema: duration("100ms", "1m"),
  },
  podName: {
    flag: "pod-name",
    env: "POD_NAME",
    kind: "string",
    default: "",
    defaultLabel: "host name",
    nonEmpty: true,
    placeholder: "name",
    allowed: "a non-empty name",
    help: "This replica's identity in the Lease and in Events",
    schema: optionalText(z.string()),
  },
  namespace: {
    flag: "namespace",
    env: "POD_NAMESPACE",
    kind: "string",
    default: "couchestor-system",
    placeholder: "namespace",
    allowed: "a Kubernetes namespace name (lower-case DNS label, at most 63 characters)",
    help: "Namespace the operator runs in (where it records Events about itself)",
    schema: z.string().regex(DNS_LABEL),
  },
  mayastorRestUrl: {
    flag: "mayastor-rest-url",
    env: "MAYASTOR_REST_URL",
    kind: "string",
    // The chart names the service `{{ .Release.Name }}-api-rest`, http on 8081
    // (openebs/mayastor-extensions chart/templates/mayastor/apis/api-rest-service.yaml), and
    // OpenEBS installs as release `openebs` in namespace `openebs` (openebs/openebs
    // charts/README.md: `helm install openebs --namespace openebs openebs/openebs`). The README
    // table and deploy/deployment.yaml take this value (tests/config/defaults_agree_test.ts).
    default: "http://openebs-api-rest.openebs.svc:8081",
    placeholder: "url",
    allowed: "an http:// or https:// URL",
    help: "Base URL of Mayastor's api-rest service (its /v0 API)",
    schema: httpUrl,
  },
  freeSpaceHeadroom: {
    flag: "free-space-headroom",
    env: "FREE_SPACE_HEADROOM",
    kind: "string",
    default: String(DEFAULT_FREE_SPACE_HEADROOM),
    placeholder: "fraction",
    allowed: "a fraction between 0 and 0.9, such as 0.05 for 5%",
    help:
      "Free space a target pool keeps beyond what a move puts on it, as a share of its capacity",
    schema: z.string().regex(/^\d*\.?\d+$/).transform(Number).pipe(z.number().min(0).max(0.9)),
  },
  ecSimulatorUrl: {
    flag: "ec-simulator-url",
    env: "EC_SIMULATOR_URL",
    kind: "string",
    default: "",
    defaultLabel: "no erasure-coded tier",
    placeholder: "url",
    allowed: "an http:// or https:// URL",
    help: "Admin URL of the sandbox's Mayastor simulator (`couchestor sandbox --with-mayastor` " +
      "prints it): runs the erasure-coded cold tier on the simulator's data path",
    schema: optionalText(httpUrl),
  },
  ecStoreDir: {
    flag: "ec-store-dir",
    env: "EC_STORE_DIR",
    kind: "string",
    default: "",
    defaultLabel: "none",
    placeholder: "path",
    allowed: "a directory path",
    help: "Where the erasure-coded tier keeps its stores' manifests and journals " +
      "(needed with --ec-simulator-url)",
    schema: optionalText(z.string().min(1)),
  },
  shutdownTimeoutMs: {
    flag: "shutdown-timeout",
    env: "SHUTDOWN_TIMEOUT",
    kind: "string",
    default: "10s",
    placeholder: "duration",
    allowed: "a duration between 1s and 10m",
    help: "On SIGTERM, exit 1 if in-flight work has not reached a safe point by then",
    schema: duration("1s", "10m"),
  },
} as const satisfies Record<string, FlagSpec>;

/** A Config field name. */
export type ConfigKey = keyof typeof FLAGS;

type Shape = { [K in ConfigKey]: (typeof FLAGS)[K]["schema"] };

function shape(): Shape {
  const out: Record<string, z.ZodType<unknown, string>> = {};
  for (const [key, spec] of Object.entries(FLAGS)) out[key] = spec.schema;
  return out as Shape;
}

/** Validates the text value of every flag (already merged from flags, env and defaults). */
export const ConfigSchema = z.object(shape()).superRefine((c, ctx) => {
  if (c.ecSimulatorUrl !== undefined && c.ecStoreDir === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["ecStoreDir"],
      message: "set with --ec-simulator-url (the EC tier's stores need a directory)",
      params: { crossField: true },
    });
  }
  if (c.leaseRenewDeadlineMs >= c.leaseDurationMs) {
    ctx.addIssue({
      code: "custom",
      path: ["leaseRenewDeadlineMs"],
      message: `shorter than --lease-duration (${formatDuration(c.leaseDurationMs)})`,
      params: { crossField: true },
    });
  }
});

/** The operator's configuration, as every module receives it. */
export type Config = z.infer<typeof ConfigSchema>;
