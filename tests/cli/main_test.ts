import assert from "node:assert/strict";
import { COMMANDS, formatTopHelp, runCli } from "../../src/cli/main.ts";
import { versionInfo } from "../../src/cli/version.ts";
import { runCouchestor } from "./_process.ts";

Deno.test("cli: top-level --help lists every subcommand and exits 0", async () => {
  const r = await runCouchestor(["--help"]);
  assert.equal(r.code, 0);
  for (const name of Object.keys(COMMANDS)) assert.match(r.stdout, new RegExp(`^  ${name} `, "m"));
  assert.equal(r.stdout.trimEnd(), formatTopHelp().trimEnd());
});

Deno.test("cli: no command or an unknown one exits 2", async () => {
  assert.equal(await runCli([]), 2);
  assert.equal(await runCli(["frobnicate"]), 2);
});

Deno.test("cli: version prints product, deno and build facts", async () => {
  const r = await runCouchestor(["version"]);
  assert.equal(r.code, 0);
  const [product, deno, build] = r.stdout.trimEnd().split("\n");
  assert.equal(product, "couchestor 0.1.0");
  assert.equal(
    deno,
    `deno ${Deno.version.deno} (v8 ${Deno.version.v8}, typescript ${Deno.version.typescript})`,
  );
  assert.match(build, /^build: script for \S+, entry file:\/\/\/.*main\.ts$/);
  const json = await runCouchestor(["version", "--json"]);
  assert.deepEqual(Object.keys(JSON.parse(json.stdout)), Object.keys(versionInfo()));
});

Deno.test("cli: every subcommand answers --help (or says it is not in this build)", async () => {
  await Promise.all(
    Object.keys(COMMANDS).map(async (name) => {
      const r = await runCouchestor([name, "--help"]);
      if (r.code === 0) {
        assert.ok(r.stdout.includes(name), `${name} --help names the command:\n${r.stdout}`);
      } else {
        assert.equal(r.code, 2, `${name}: ${r.stderr}`);
        assert.match(
          r.stderr,
          new RegExp(`^couchestor ${name}: .*not available in this build$`, "m"),
        );
      }
    }),
  );
});
