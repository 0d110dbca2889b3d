/**
 * CoucheStor's alerts: the PrometheusRule is generated from the plain rules file (no drift),
 * every metric they read is exported by the operator, `promtool check rules` accepts them, and
 * `promtool test rules` fires each alert on series written here — and keeps it silent when the
 * cluster is healthy.
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import {
  PROMETHEUS_RULE_FILE,
  prometheusRuleText,
  RULES_FILE,
} from "../../scripts/gen_prometheusrule.ts";
import { exportedFamilies, familyOf, metricNamesIn, promtool } from "./_metric_names.ts";

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
const rulesText = await Deno.readTextFile(RULES_FILE);
const RULES = (parse(rulesText) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

Deno.test("alerts: deploy/prometheusrule.yaml is generated from the rules file (deno task alerts)", async () => {
  assert.equal(await Deno.readTextFile(PROMETHEUS_RULE_FILE), prometheusRuleText(rulesText));
  const pr = parse(await Deno.readTextFile(PROMETHEUS_RULE_FILE));
  assert.deepEqual([pr.apiVersion, pr.kind], ["monitoring.coreos.com/v1", "PrometheusRule"]);
});

Deno.test("alerts: every metric an alert reads is one the operator exports", async () => {
  const exported = await exportedFamilies();
  const names = new Set(RULES.flatMap((r) => metricNamesIn(r.expr)));
  assert.ok(names.size >= 5, [...names].join(", "));
  for (const n of names) assert.ok(exported.has(familyOf(n)), `an alert reads ${n}, not exported`);
  assert.deepEqual(RULES.map((r) => r.alert), [
    "CouchestorMigrationsFailing",
    "CouchestorMetricsUnavailable",
    "CouchestorNoLeader",
    "CouchestorSplitLeadership",
    "CouchestorECStripesDegraded",
    "CouchestorECStripesFailed",
    "CouchestorVolumeStuckMidMove",
  ]);
  for (const r of RULES) {
    assert.ok(["warning", "critical"].includes(r.labels.severity), r.alert);
    assert.ok(r.annotations.summary && r.annotations.description, r.alert);
  }
});

Deno.test("alerts: promtool check rules accepts the rules file", async () => {
  const { code, out } = await promtool(["check", "rules", RULES_FILE]);
  assert.equal(code, 0, out);
  assert.match(out, new RegExp(`SUCCESS: ${RULES.length} rules found`));
});

/**
 * The annotations Prometheus renders for an alert, expanded here by hand for the few template
 * forms the rules use (anything else fails, so a new form gets an expectation written too).
 */
function expand(alert: string, labels: Record<string, string>, value: string) {
  const rule = RULES.find((r) => r.alert === alert)!;
  const out: Record<string, string> = {};
  for (const [k, tpl] of Object.entries(rule.annotations)) {
    out[k] = tpl.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_, e: string) => {
      const label = /^\$labels\.(\w+)$/.exec(e);
      if (label) return labels[label[1]] ?? "";
      if (e === "$value") return value;
      if (e === "$value | humanizePercentage") return `${Number(value) * 100}%`;
      if (e === "$value | humanizeDuration") {
        const s = Number(value);
        return `${Math.floor(s / 60)}m ${s % 60}s`;
      }
      throw new Error(`no expectation for the template {{ ${e} }} in ${alert}`);
    });
  }
  return out;
}

/** One expected alert: its labels (severity added) and rendered annotations. */
function firing(alert: string, labels: Record<string, string>, value: string) {
  const severity = RULES.find((r) => r.alert === alert)!.labels.severity;
  return {
    exp_labels: { ...labels, severity },
    exp_annotations: expand(alert, labels, value),
  };
}

interface Case {
  name: string;
  series: Record<string, string>;
  /** alert → eval time → expected alerts ([] = must stay silent). */
  expect: [string, string, ReturnType<typeof firing>[]][];
}

const CASES: Case[] = [
  {
    name: "half the moves of the last hour rolled back",
    series: {
      'couchestor_migrations_total{from="hot",to="cold",result="succeeded"}': "0+1x120",
      'couchestor_migrations_total{from="hot",to="cold",result="rolled_back"}': "0+1x120",
    },
    expect: [
      ["CouchestorMigrationsFailing", "120m", [firing("CouchestorMigrationsFailing", {}, "0.5")]],
    ],
  },
  {
    name: "one failure among hundreds of moves stays silent",
    series: {
      'couchestor_migrations_total{from="cold",to="hot",result="succeeded"}': "0+10x120",
      'couchestor_migrations_total{from="cold",to="hot",result="failed"}': "0x100 1x20",
      'couchestor_migrations_total{from="cold",to="hot",result="dry_run"}': "0+100x120",
    },
    expect: [["CouchestorMigrationsFailing", "120m", []]],
  },
  {
    name: "one policy's IOPS query keeps failing; another's failed for 10 minutes; one blip",
    series: {
      'couchestor_metrics_query_failures_total{policy="dbs",reason="Unreachable"}': "0+1x60",
      'couchestor_metrics_query_failures_total{policy="web",reason="Timeout"}': "0+1x10 10x50",
      // One failed read at minute 20, then none: never an outage.
      'couchestor_metrics_query_failures_total{policy="blip",reason="Timeout"}': "0x20 1x40",
    },
    expect: [
      ["CouchestorMetricsUnavailable", "45m", [
        firing("CouchestorMetricsUnavailable", { policy: "dbs" }, "10"),
      ]],
      ["CouchestorMetricsUnavailable", "10m", []],
      ["CouchestorMetricsUnavailable", "30m", [
        firing("CouchestorMetricsUnavailable", { policy: "dbs" }, "10"),
      ]],
    ],
  },
  {
    name: "two replicas, neither leads",
    series: {
      'couchestor_leader{identity="op-a"}': "0x20",
      'couchestor_leader{identity="op-b"}': "0x20",
    },
    expect: [
      ["CouchestorNoLeader", "10m", [firing("CouchestorNoLeader", {}, "1")]],
      ["CouchestorNoLeader", "3m", []],
      ["CouchestorSplitLeadership", "10m", []],
    ],
  },
  {
    name: "one leader: silent; two leaders: split",
    series: {
      'couchestor_leader{identity="op-a"}': "1x20",
      'couchestor_leader{identity="op-b"}': "0x10 1x10",
    },
    expect: [
      ["CouchestorNoLeader", "10m", []],
      ["CouchestorSplitLeadership", "8m", []],
      ["CouchestorSplitLeadership", "18m", [firing("CouchestorSplitLeadership", {}, "2")]],
    ],
  },
  {
    name: "no operator scraped at all",
    series: { 'up{job="other"}': "1x20" },
    expect: [["CouchestorNoLeader", "10m", [firing("CouchestorNoLeader", {}, "1")]]],
  },
  {
    name: "stripes degraded for long, failed at once; healthy ones silent",
    series: {
      'couchestor_ec_stripes{policy="rs-4-2",state="degraded"}': "3x60",
      'couchestor_ec_stripes{policy="rs-4-2",state="failed"}': "0x30 1x30",
      'couchestor_ec_stripes{policy="lrc",state="healthy"}': "100x60",
      'couchestor_ec_stripes{policy="lrc",state="degraded"}': "0x60",
    },
    expect: [
      ["CouchestorECStripesDegraded", "20m", []],
      ["CouchestorECStripesDegraded", "40m", [
        firing("CouchestorECStripesDegraded", { policy: "rs-4-2" }, "3"),
      ]],
      ["CouchestorECStripesFailed", "20m", []],
      ["CouchestorECStripesFailed", "31m", [
        firing("CouchestorECStripesFailed", { policy: "rs-4-2" }, "1"),
      ]],
    ],
  },
  {
    name: "a move 30 minutes past its deadline; one within its time",
    series: {
      // promtool evaluates from t=0 (the epoch): a deadline of 600 is 10 minutes in.
      'couchestor_migration_deadline_timestamp_seconds{policy="dbs",volume="pvc-1"}': "600x60",
      'couchestor_migration_deadline_timestamp_seconds{policy="dbs",volume="pvc-2"}': "3600x60",
    },
    expect: [
      ["CouchestorVolumeStuckMidMove", "28m", []],
      [
        "CouchestorVolumeStuckMidMove",
        "40m",
        [firing("CouchestorVolumeStuckMidMove", { policy: "dbs", volume: "pvc-1" }, "1800")],
      ],
    ],
  },
];

Deno.test("alerts: promtool test rules — each alert fires on its series and stays silent otherwise", async () => {
  const covered = new Set(
    CASES.flatMap((c) => c.expect.filter((e) => e[2].length > 0).map((e) => e[0])),
  );
  assert.deepEqual(
    [...covered].sort(),
    RULES.map((r) => r.alert).sort(),
    "every alert fires in a case",
  );
  const dir = await Deno.makeTempDir({ prefix: "couchestor-alerts-" });
  try {
    const tests = {
      rule_files: [RULES_FILE],
      evaluation_interval: "1m",
      tests: CASES.map((c) => ({
        name: c.name,
        interval: "1m",
        input_series: Object.entries(c.series).map(([series, values]) => ({ series, values })),
        alert_rule_test: c.expect.map(([alertname, eval_time, exp_alerts]) => ({
          eval_time,
          alertname,
          exp_alerts,
        })),
      })),
    };
    await Deno.writeTextFile(`${dir}/tests.yaml`, stringify(tests, { lineWidth: 0 }));
    const { code, out } = await promtool(["test", "rules", `${dir}/tests.yaml`]);
    assert.equal(code, 0, out);
    assert.match(out, /SUCCESS/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("alerts: the README's Alerts table lists every alert", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("## Alerts"), readme.indexOf("## Troubleshooting"));
  for (const r of RULES) assert.ok(section.includes(`\`${r.alert}\``), r.alert);
});
