/**
 * Writes deploy/prometheusrule.yaml (a PrometheusRule for the Prometheus Operator) from the plain
 * rules file deploy/prometheus/couchestor-rules.yaml, the one source of CoucheStor's alerts, or
 * with `--check` exits 1 when the committed file differs from what would be written.
 *
 *   deno task alerts            rewrite deploy/prometheusrule.yaml
 *   deno task alerts --check    exit 1 when it is out of date
 */
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";

const ROOT = new URL("../", import.meta.url).pathname;
/** The plain Prometheus rules file (the source). */
export const RULES_FILE = `${ROOT}deploy/prometheus/couchestor-rules.yaml`;
/** The generated PrometheusRule. */
export const PROMETHEUS_RULE_FILE = `${ROOT}deploy/prometheusrule.yaml`;

const HEADER = [
  "# Generated from deploy/prometheus/couchestor-rules.yaml by `deno task alerts`. Do not edit.",
  "# Needs the Prometheus Operator's CRDs (monitoring.coreos.com/v1). A Prometheus selects it by",
  "# its ruleSelector: add the labels yours asks for (kube-prometheus-stack: release: <name>).",
  "",
].join("\n");

/** deploy/prometheusrule.yaml as it must be committed, from the rules file's text. */
export function prometheusRuleText(rulesYaml: string): string {
  const rules = parse(rulesYaml) as { groups: unknown[] };
  const obj = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: {
      name: "couchestor",
      namespace: "couchestor-system",
      labels: { "app.kubernetes.io/name": "couchestor" },
    },
    spec: { groups: rules.groups },
  };
  return HEADER + stringify(obj, { lineWidth: 0 });
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { check: { type: "boolean" } } });
  const want = prometheusRuleText(await Deno.readTextFile(RULES_FILE));
  if (values.check) {
    let have = "";
    try {
      have = await Deno.readTextFile(PROMETHEUS_RULE_FILE);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (have !== want) {
      console.error("deploy/prometheusrule.yaml is out of date: run deno task alerts");
      Deno.exit(1);
    }
  } else {
    await Deno.writeTextFile(PROMETHEUS_RULE_FILE, want);
    console.log("wrote deploy/prometheusrule.yaml");
  }
}
