/** The README's generated sections and troubleshooting tables stay in step with the code. */
import assert from "node:assert/strict";
import {
  metricFamilies,
  renderConfigTable,
  renderReadme,
  replaceSection,
} from "../../scripts/gen_readme_config.ts";
import { FLAGS } from "../../src/config/flags.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("readme: the configuration and metrics sections match FLAGS and createMetrics() (run deno task readme)", async () => {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  assert.equal(readme, await renderReadme(readme), "README.md is stale: run deno task readme");
  for (const f of Object.values(FLAGS)) {
    assert.ok(readme.includes(`\`--${f.flag}`), `--${f.flag} documented`);
    assert.ok(readme.includes(`\`${f.env}\``), `${f.env} documented`);
  }
  const families = metricFamilies();
  assert.ok(families.length >= 20);
  for (const m of families) assert.ok(readme.includes(`\`${m.name}\``), `${m.name} documented`);
});

Deno.test("readme: the opening and the two commands are kept", async () => {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  assert.ok(readme.startsWith("# CoucheStor\n\nCoucheStor is a Kubernetes operator for tiered"));
  assert.ok(readme.includes("npx -y deno@2.9.6 task demo"));
  assert.ok(readme.includes("npx -y deno@2.9.6 task test"));
});

Deno.test("readme: generated sections replace only their own text", () => {
  const text = "a\n<!-- BEGIN GENERATED: config -->\nold\n<!-- END GENERATED: config -->\nb\n";
  assert.equal(
    replaceSection(text, "config", "new"),
    "a\n<!-- BEGIN GENERATED: config -->\n\nnew\n\n<!-- END GENERATED: config -->\nb\n",
  );
  assert.throws(() => replaceSection("no markers", "config", "x"), /markers/);
  assert.match(renderConfigTable(), /^\| `--dry-run` \| `DRY_RUN` \| `false` \|/m);
});

/** Condition and Event reasons the controllers write (string literals on `reason` lines). */
async function controllerReasons(): Promise<Set<string>> {
  const found = new Set<string>();
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (p.endsWith(".ts")) {
        for (const line of (await Deno.readTextFile(p)).split("\n")) {
          if (!/reason/.test(line)) continue;
          for (const m of line.matchAll(/"([A-Z][A-Za-z]+)"/g)) found.add(m[1]);
        }
      }
    }
  };
  await walk(`${ROOT}/src/controllers`);
  for (const x of ["Normal", "Warning", "True", "False"]) found.delete(x);
  // The MetricsAvailable=False reasons are the IOPS sources' failure reasons.
  const source = await Deno.readTextFile(`${ROOT}/src/metrics/source.ts`);
  const union = /export type IopsFailureReason =([^;]+);/.exec(source)![1];
  for (const m of union.matchAll(/"([A-Za-z]+)"/g)) found.add(m[1]);
  return found;
}

Deno.test("readme: troubleshooting explains every condition and Event reason the controllers write", async () => {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const section = readme.slice(
    readme.indexOf("## Troubleshooting"),
    readme.indexOf("## Benchmarks"),
  );
  const reasons = await controllerReasons();
  assert.ok(reasons.size >= 30, [...reasons].join(" "));
  const missing = [...reasons].filter((r) => !section.includes(`\`${r}\``));
  assert.deepEqual(missing, [], "reasons not explained in README Troubleshooting");
});

Deno.test("readme: every bench/ script is in the Benchmarks table", async () => {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const section = readme.slice(readme.indexOf("## Benchmarks"));
  for await (const e of Deno.readDir(`${ROOT}/bench`)) {
    // informer_child.ts is the measured process informer_bench.ts starts, and _*.ts are shared
    // helpers: neither is a benchmark.
    if (!e.name.endsWith(".ts") || e.name === "informer_child.ts" || e.name.startsWith("_")) {
      continue;
    }
    assert.ok(section.includes(`\`${e.name}`), `${e.name} in README Benchmarks`);
  }
});
