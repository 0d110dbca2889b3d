import assert from "node:assert/strict";
import { DirectoryTarget } from "../../../src/ec/store/target.ts";
import { tempDir } from "./helpers.ts";

Deno.test("directory target: write/read/remove, down when its directory is gone, provision brings it back", async () => {
  await using dir = await tempDir();
  const t = new DirectoryTarget("t0", `${dir.path}/t0`);
  assert.equal(await t.healthy(), false);
  await assert.rejects(() => t.write("a", new Uint8Array([1])), /shard target t0 .* is down/);
  await t.provision();
  assert.equal(await t.healthy(), true);
  await t.write("a", new Uint8Array([1, 2, 3]));
  await t.flush();
  assert.deepEqual(await t.read("a"), new Uint8Array([1, 2, 3]));
  await t.write("a", new Uint8Array([4]));
  assert.deepEqual(await t.read("a"), new Uint8Array([4]));
  // No temp files are left behind by the atomic replace.
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/t0`)].map((e) => e.name), ["a"]);
  await t.remove("a");
  await t.remove("a");
  assert.equal(await t.read("a"), null);
  await Deno.remove(`${dir.path}/t0`, { recursive: true });
  assert.equal(await t.read("a"), null);
  assert.equal(await t.healthy(), false);
  await t.flush(); // a no-op on a missing target
});
