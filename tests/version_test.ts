import assert from "node:assert/strict";
import { runCli } from "../src/cli/main.ts";

Deno.test("version subcommand exits 0", async () => {
  assert.equal(await runCli(["version"]), 0);
});
