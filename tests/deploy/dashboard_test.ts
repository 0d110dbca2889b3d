/** The Grafana dashboard queries only metrics CoucheStor exports, in PromQL Prometheus accepts. */
import assert from "node:assert/strict";
import { exportedFamilies, familyOf, metricNamesIn, promtool } from "./_metric_names.ts";

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}

const dashboard = JSON.parse(
  await Deno.readTextFile(
    new URL("../../deploy/grafana/couchestor-dashboard.json", import.meta.url),
  ),
) as { uid: string; panels: Panel[]; templating: { list: { query: string | object }[] } };

const exprs = dashboard.panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr }))
);

/** Replaces Grafana's template variables with values Prometheus understands. */
function concrete(expr: string): string {
  return expr.replaceAll("$__rate_interval", "5m").replace(/\$(\w+)/g, ".*");
}

Deno.test("every metric the dashboard queries is exported by the operator", async () => {
  const exported = await exportedFamilies();
  const names = new Set(exprs.flatMap((e) => metricNamesIn(e.expr)));
  assert.ok(names.size >= 15, `only ${names.size} metric names found`);
  for (const n of names) {
    assert.ok(
      exported.has(familyOf(n)),
      `dashboard queries ${n}, which the operator does not export`,
    );
  }
});

Deno.test("the dashboard covers tiers, migrations, active moves, EC health and cache hit ratio", () => {
  const all = exprs.map((e) => e.expr).join("\n");
  for (
    const needle of [
      "couchestor_volumes",
      "couchestor_migrations_total",
      "couchestor_active_migrations",
      "couchestor_ec_stripes",
      "couchestor_cache_hits_total",
      "couchestor_ec_bytes",
    ]
  ) assert.ok(all.includes(needle), needle);
  assert.equal(dashboard.uid, "couchestor-overview");
});

Deno.test("promtool parses every dashboard query", async () => {
  const dir = await Deno.makeTempDir({ prefix: "couchestor-dash-" });
  try {
    const rules = [
      "groups:",
      "  - name: dashboard",
      "    rules:",
      ...exprs.flatMap((e, i) => [
        `      - record: couchestor:dashboard_panel_${i}`,
        `        expr: ${JSON.stringify(concrete(e.expr))}`,
      ]),
    ].join("\n");
    await Deno.writeTextFile(`${dir}/rules.yml`, rules + "\n");
    const { code, out } = await promtool(["check", "rules", `${dir}/rules.yml`]);
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`SUCCESS: ${exprs.length} rules found`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
