import assert from "node:assert/strict";
import { FLAGS, type FlagSpec } from "../../src/config/flags.ts";
import { formatRunHelp } from "../../src/config/help.ts";
import { loadConfig } from "../../src/config/load.ts";

/** A bad input, and the substrings its single error line must contain. */
interface BadCase {
  args?: string[];
  env?: Record<string, string>;
  mentions: string[];
}

const BAD: BadCase[] = [
  {
    args: ["--max-concurrent-migrations=-1"],
    mentions: ["--max-concurrent-migrations=-1", "integer >= 1", "MAX_CONCURRENT_MIGRATIONS"],
  },
  {
    args: ["--max-concurrent-migrations=1.5"],
    mentions: ["--max-concurrent-migrations=1.5", "integer"],
  },
  { args: ["--max-concurrent-migrations=0"], mentions: ["--max-concurrent-migrations=0"] },
  { args: ["--migration-timeout=soon"], mentions: ["--migration-timeout=soon", "duration"] },
  { args: ["--migration-timeout=0s"], mentions: ["--migration-timeout=0s", "between 1s"] },
  {
    env: { PROMETHEUS_URL: "not-a-url" },
    mentions: ["PROMETHEUS_URL=not-a-url", "http:// or https:// URL", "--prometheus-url"],
  },
  { args: ["--prometheus-url=ftp://x"], mentions: ["--prometheus-url=ftp://x", "URL"] },
  { args: ["--sync-poll-interval=10"], mentions: ["--sync-poll-interval=10", "duration"] },
  { env: { SYNC_POLL_INTERVAL: "1ms" }, mentions: ["SYNC_POLL_INTERVAL=1ms", "100ms"] },
  { args: ["--metrics-addr=8080"], mentions: ["--metrics-addr=8080", "[host]:port"] },
  { args: ["--health-addr=:70000"], mentions: ["--health-addr=:70000", "0-65535"] },
  { args: ["--log-level=verbose"], mentions: ["--log-level=verbose", "debug, info, warn, error"] },
  { env: { LOG_FORMAT: "yaml" }, mentions: ["LOG_FORMAT=yaml", "text, json", "--log-format"] },
  { env: { DRY_RUN: "maybe" }, mentions: ["DRY_RUN=maybe", "true or false", "--dry-run"] },
  { args: ["--free-space-headroom=2"], mentions: ["--free-space-headroom=2", "0 and 0.9"] },
  {
    args: ["--ec-simulator-url=http://127.0.0.1:1/sim"],
    mentions: ["--ec-store-dir", "--ec-simulator-url"],
  },
  { args: ["--mayastor-rest-url=nope"], mentions: ["--mayastor-rest-url=nope", "URL"] },
  { args: ["--lease-namespace=Bad_NS"], mentions: ["--lease-namespace=Bad_NS", "namespace"] },
  { env: { POD_NAMESPACE: "-x" }, mentions: ["POD_NAMESPACE=-x", "--namespace"] },
  {
    args: ["--lease-renew-deadline=20s"],
    mentions: ["--lease-renew-deadline=20s", "shorter than --lease-duration (15s)"],
  },
  { args: ["--shutdown-timeout=1h"], mentions: ["--shutdown-timeout=1h", "between 1s and 10m"] },
  { args: ["--no-such-flag"], mentions: ["--no-such-flag", "run --help"] },
  { args: ["--dry-run=yes"], mentions: ["--dry-run", "does not take an argument"] },
  { args: ["stray"], mentions: ['unexpected argument "stray"'] },
  { args: ["--pod-name="], mentions: ["--pod-name=: must be a non-empty name", "POD_NAME"] },
  { env: { POD_NAME: "" }, mentions: ["POD_NAME=: must be a non-empty name", "--pod-name"] },
  { args: ["--max-plausible-iops=0"], mentions: ["--max-plausible-iops=0", "integer >= 1"] },
  { env: { MAX_PLAUSIBLE_IOPS: "1e7" }, mentions: ["MAX_PLAUSIBLE_IOPS=1e7", "integer"] },
];

for (const c of BAD) {
  const label = [...(c.args ?? []), ...Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`)];
  Deno.test(`config rejects ${label.join(" ")} with one line naming it`, () => {
    const r = loadConfig(c.args ?? [], c.env ?? {});
    assert.equal(r.kind, "error");
    if (r.kind !== "error") return;
    assert.equal(r.messages.length, 1, r.messages.join("\n"));
    assert.ok(!r.messages[0].includes("\n"), "one line");
    for (const m of c.mentions) assert.ok(r.messages[0].includes(m), `${r.messages[0]} ∌ ${m}`);
  });
}

Deno.test("config defaults match the documented ones", () => {
  const r = loadConfig([], {});
  assert.equal(r.kind, "ok");
  if (r.kind !== "ok") return;
  const c = r.config;
  assert.equal(c.prometheusUrl, "http://prometheus-operated.monitoring.svc:9090");
  assert.equal(c.maxConcurrentMigrations, 2);
  assert.equal(c.maxPlausibleIops, 10_000_000);
  assert.equal(c.migrationTimeoutMs, 30 * 60_000);
  assert.equal(c.syncPollIntervalMs, 10_000);
  assert.equal(c.dryRun, false);
  assert.equal(c.preservationMode, false);
  assert.deepEqual(c.metricsAddr, { hostname: "0.0.0.0", port: 8080 });
  assert.deepEqual(c.healthAddr, { hostname: "0.0.0.0", port: 8081 });
  assert.equal(c.logLevel, "info");
  assert.equal(c.logFormat, "text");
  assert.equal(c.kubeconfig, undefined);
  assert.equal(c.leaderElect, false);
  assert.equal(c.leaseNamespace, "couchestor-system");
  assert.equal(c.freeSpaceHeadroom, 0.05);
  assert.equal(c.ecSimulatorUrl, undefined);
  assert.equal(c.podName, undefined);
  assert.equal(c.shutdownTimeoutMs, 10_000);
});

Deno.test("config: flag beats env beats default; empty env counts as unset", () => {
  const r = loadConfig(
    ["--max-concurrent-migrations=5", "--dry-run", "--metrics-addr=127.0.0.1:0"],
    {
      MAX_CONCURRENT_MIGRATIONS: "3",
      MIGRATION_TIMEOUT: "1h30m",
      KUBECONFIG: "",
      LOG_FORMAT: "json",
      LEADER_ELECT: "TRUE",
      PRESERVATION_MODE: "1",
    },
  );
  assert.equal(r.kind, "ok");
  if (r.kind !== "ok") return;
  assert.equal(r.config.maxConcurrentMigrations, 5);
  assert.equal(r.config.migrationTimeoutMs, 90 * 60_000);
  assert.equal(r.config.kubeconfig, undefined);
  assert.equal(r.config.logFormat, "json");
  assert.equal(r.config.dryRun, true);
  assert.equal(r.config.leaderElect, true);
  assert.equal(r.config.preservationMode, true);
  assert.deepEqual(r.config.metricsAddr, { hostname: "127.0.0.1", port: 0 });
});

Deno.test("config: --no-<flag> turns a boolean off over its env var", () => {
  const r = loadConfig(["--no-dry-run"], { DRY_RUN: "true" });
  assert.ok(r.kind === "ok" && r.config.dryRun === false);
});

Deno.test("config: --help is a request for help, not an error", () => {
  assert.equal(loadConfig(["--help", "--migration-timeout=soon"], {}).kind, "help");
});

Deno.test("run --help lists every flag with its default and env var", () => {
  const help = formatRunHelp();
  for (const spec of Object.values(FLAGS) as FlagSpec[]) {
    const head = spec.kind === "boolean" ? `  --${spec.flag}, ` : `  --${spec.flag}=<`;
    const i = help.indexOf(`\n${head}`);
    assert.ok(i >= 0, `help lacks --${spec.flag}`);
    const block = help.slice(i + 1).split("\n").slice(0, 3).join("\n");
    const def = spec.default === "" ? `(${spec.defaultLabel})` : spec.default;
    assert.ok(block.includes(`default: ${def}`), `--${spec.flag} default:\n${block}`);
    assert.ok(block.includes(`env: ${spec.env}`), `--${spec.flag} env:\n${block}`);
  }
  // The flags the issue names, spelled out so a renamed one fails here.
  for (
    const f of [
      "prometheus-url",
      "max-concurrent-migrations",
      "migration-timeout",
      "sync-poll-interval",
      "dry-run",
      "preservation-mode",
      "metrics-addr",
      "health-addr",
      "log-level",
      "log-format",
      "kubeconfig",
      "leader-elect",
      "lease-namespace",
      "mayastor-rest-url",
      "free-space-headroom",
      "ec-simulator-url",
      "ec-store-dir",
    ]
  ) assert.ok(help.includes(`--${f}`), f);
});

Deno.test("every flag's default passes its own validation", () => {
  for (const [key, spec] of Object.entries(FLAGS) as [string, FlagSpec][]) {
    assert.ok(spec.schema.safeParse(spec.default).success, `${key} default ${spec.default}`);
  }
});
