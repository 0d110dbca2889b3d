/**
 * Regenerates the README's generated sections: the configuration table (every `couchestor run`
 * flag from `FLAGS`, with its environment variable and default), the metrics list (every
 * family registered by `createMetrics()`, with type, labels and help) and the volume reasons
 * (`VOLUME_REASONS` with `REASON_HELP`). Each section sits between
 * `<!-- BEGIN GENERATED: name -->` and `<!-- END GENERATED: name -->`; the text outside them is
 * kept. The result goes through `deno fmt` so README.md stays fmt-clean.
 *
 *   deno task readme            rewrite README.md
 *   deno task readme --check    exit 1 when README.md differs from what would be written
 */
import { parseArgs } from "node:util";
import client from "prom-client";
import { FLAGS, type FlagSpec } from "../src/config/flags.ts";
import { createMetrics } from "../src/observability/metrics.ts";
import { REASON_HELP, VOLUME_REASONS } from "../src/api/volume_reasons.ts";
import { fmtMarkdown } from "./fmt_markdown.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** A markdown table cell: pipes escaped, newlines flattened. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function flagUsage(f: FlagSpec): string {
  return f.kind === "boolean" ? `\`--${f.flag}\`` : `\`--${f.flag}=<${f.placeholder}>\``;
}

function flagDefault(f: FlagSpec): string {
  if (f.default !== "") return `\`${f.default}\``;
  return f.defaultLabel ? cell(f.defaultLabel) : "(unset)";
}

/** The configuration table: one row per `run` flag, in help order. */
export function renderConfigTable(flags: Record<string, FlagSpec> = FLAGS): string {
  const rows = Object.values(flags).map((f) =>
    `| ${flagUsage(f)} | \`${f.env}\` | ${flagDefault(f)} | ${cell(f.help)}; ${cell(f.allowed)} |`
  );
  return [
    "| flag | environment | default | meaning; accepted values |",
    "| --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

/** One metric family as the registry knows it. */
export interface FamilyDoc {
  name: string;
  type: string;
  labels: string[];
  help: string;
}

/** The product's families (process defaults excluded), sorted by name. */
export function metricFamilies(): FamilyDoc[] {
  const { registry } = createMetrics({ defaultMetrics: false });
  return registry.getMetricsAsArray().map((m) => {
    // prom-client keeps the label names on the instance but does not type them publicly.
    const labels = (m as unknown as { labelNames?: string[] }).labelNames ?? [];
    const type = m instanceof client.Counter
      ? "counter"
      : m instanceof client.Gauge
      ? "gauge"
      : m instanceof client.Histogram
      ? "histogram"
      : "summary";
    return { name: m.name, type, labels: [...labels], help: m.help };
  }).sort((a, b) => a.name.localeCompare(b.name));
}

/** The metrics table: name, type, labels and help of each family. */
export function renderMetricsTable(families: FamilyDoc[] = metricFamilies()): string {
  return [
    "| metric | type | labels | meaning |",
    "| --- | --- | --- | --- |",
    ...families.map((f) =>
      `| \`${f.name}\` | ${f.type} | ${
        f.labels.length ? f.labels.map((l) => `\`${l}\``).join(", ") : "—"
      } | ${cell(f.help)} |`
    ),
  ].join("\n");
}

/** The volume reasons table ("Why isn't my volume moving?"), in status order. */
export function renderReasonsTable(): string {
  return [
    "| reason | what it means, what to do |",
    "| --- | --- |",
    ...VOLUME_REASONS.map((r) => `| \`${r}\` | ${cell(REASON_HELP[r])} |`),
  ].join("\n");
}

/** Replaces the body of the `name` generated section; throws when the markers are missing. */
export function replaceSection(text: string, name: string, body: string): string {
  const begin = `<!-- BEGIN GENERATED: ${name} -->`;
  const end = `<!-- END GENERATED: ${name} -->`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README.md lacks the ${begin} … ${end} markers`);
  return `${text.slice(0, i + begin.length)}\n\n${body}\n\n${text.slice(j)}`;
}

/** README text with its generated sections refreshed and formatted. */
export async function renderReadme(current: string): Promise<string> {
  let text = replaceSection(current, "config", renderConfigTable());
  text = replaceSection(text, "metrics", renderMetricsTable());
  text = replaceSection(text, "reasons", renderReasonsTable());
  return await fmtMarkdown(text);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { file: { type: "string", default: `${ROOT}README.md` }, check: { type: "boolean" } },
  });
  const have = await Deno.readTextFile(values.file);
  const want = await renderReadme(have);
  if (values.check) {
    if (have !== want) {
      console.error(`${values.file} is out of date: run deno task readme`);
      Deno.exit(1);
    }
    console.log(`${values.file} is up to date`);
  } else {
    await Deno.writeTextFile(values.file, want);
    console.log(`wrote ${values.file}`);
  }
}
