/**
 * One default per endpoint: the flag table (src/config/flags.ts) is the source; the README's
 * generated table and deploy/deployment.yaml must say the same, and no prose may name another.
 */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { FLAGS } from "../../src/config/flags.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

interface EnvVar {
  name: string;
  value?: string;
}

/** The operator container's env of deploy/deployment.yaml. */
async function deploymentEnv(): Promise<Map<string, string | undefined>> {
  const docs = parseAllDocuments(await Deno.readTextFile(`${ROOT}deploy/deployment.yaml`));
  const dep = docs.map((d) => d.toJS()).find((d) => d?.kind === "Deployment");
  const c =
    dep.spec.template.spec.containers.find((x: { name: string }) => x.name === "operator") ??
      dep.spec.template.spec.containers[0];
  return new Map((c.env as EnvVar[]).map((e) => [e.name, e.value]));
}

Deno.test("defaults: the Deployment's endpoint URLs are the flag defaults", async () => {
  const env = await deploymentEnv();
  for (const f of [FLAGS.mayastorRestUrl, FLAGS.prometheusUrl]) {
    if (!env.has(f.env)) continue; // absent = the default applies
    assert.equal(env.get(f.env), f.default, `deploy/deployment.yaml ${f.env}`);
  }
  assert.equal(env.get("MAYASTOR_REST_URL"), "http://openebs-api-rest.openebs.svc:8081");
});

Deno.test("defaults: the README states the api-rest default once (generated) and no other one", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const [before, rest] = readme.split("<!-- BEGIN GENERATED: config -->");
  const [table, after] = rest.split("<!-- END GENERATED: config -->");
  assert.ok(table.includes(`\`${FLAGS.mayastorRestUrl.default}\``), "the generated table");
  const prose = before + after;
  assert.ok(!prose.includes(FLAGS.mayastorRestUrl.default), "the prose refers to the table");
  assert.ok(!prose.includes(FLAGS.prometheusUrl.default), "the prose refers to the table");
  // The only other api-rest URL is the worked override example, for a release named mayastor.
  const urls = [...prose.matchAll(/https?:\/\/[\w.-]*api-rest[\w.-]*(:\d+)?/g)].map((m) => m[0]);
  assert.deepEqual(urls, ["http://mayastor-api-rest.mayastor.svc:8081"]);
});
