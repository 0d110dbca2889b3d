/**
 * ENOSPC on a real (tmpfs) filesystem: a failed put, destage or journal append says "no space
 * left on <where>" and leaves no shard, temp file or manifest change behind.
 */
import assert from "node:assert/strict";
import { NoSpaceError } from "../../../src/ec/store/nospace.ts";
import { EcStore } from "../../../src/ec/store/store.ts";
import {
  assertBytes,
  fillUp,
  listFiles,
  seededBytes,
  smallTmpfs,
  storeDeps,
  tempDir,
} from "./helpers.ts";

const GEOMETRY = {
  code: { algorithm: "ReedSolomon" as const, k: 4, m: 2 },
  stripeSizeBytes: 256 * 1024,
  blockSize: 16 * 1024,
};

Deno.test("nospace: a put that fills its targets' filesystem names the target and removes every shard it wrote", async () => {
  await using fs = await smallTmpfs(1 << 20);
  const deps = await storeDeps();
  const dir = `${fs.path}/store`;
  const store = await EcStore.create(dir, GEOMETRY, deps);
  await store.put("small", seededBytes(1, 100_000));
  const before = await listFiles(dir);
  const manifest = await Deno.readFile(`${dir}/manifest.json`);
  const err = await store.put("big", seededBytes(2, 2 << 20)).catch((e) => e);
  assert.ok(err instanceof NoSpaceError, String(err));
  assert.match(
    err.message,
    new RegExp(
      `^no space left on ${dir}/targets/t0\\d \\(shard target t0\\d\\).* \\(\\d of 6 shard ` +
        `writes of stripe \\d+ failed\\)$`,
    ),
  );
  assert.deepEqual(await listFiles(dir), before, "no shard or .tmp- file of the failed put left");
  assertBytes(await Deno.readFile(`${dir}/manifest.json`), manifest);
  assert.deepEqual(store.list(), ["small"]);
  // The space is free again: a put that fits succeeds; the first object is intact.
  await store.put("next", seededBytes(3, 200_000));
  assertBytes(await store.get("small"), seededBytes(1, 100_000));
  assertBytes(await store.get("next"), seededBytes(3, 200_000));
  store.close();
});

Deno.test("nospace: a manifest that cannot be saved fails the put, names the directory and removes the put's shards", async () => {
  await using fs = await smallTmpfs(256 * 1024);
  await using targets = await tempDir();
  const deps = await storeDeps();
  const dir = `${fs.path}/store`;
  const store = await EcStore.create(dir, {
    ...GEOMETRY,
    targetDirs: Array.from(
      { length: 6 },
      (_, i) => ({ id: `p${i}`, path: `${targets.path}/p${i}` }),
    ),
  }, deps);
  await fillUp(`${fs.path}/filler`);
  const err = await store.put("x", seededBytes(4, 600_000)).catch((e) => e);
  assert.ok(err instanceof NoSpaceError, String(err));
  assert.equal(err.message, `no space left on ${dir} (writing the manifest)`);
  assert.deepEqual(await listFiles(targets.path), [], "the put's shards are gone again");
  assert.deepEqual((await listFiles(dir)).filter((f) => f.includes(".tmp-")), []);
  await Deno.remove(`${fs.path}/filler`);
  await store.put("x", seededBytes(4, 600_000));
  store.close();
  const again = await EcStore.open(dir, deps);
  assertBytes(await again.get("x"), seededBytes(4, 600_000));
  again.close();
});

Deno.test("nospace: a journal append on a full filesystem names the journal and keeps the acknowledged records", async () => {
  await using fs = await smallTmpfs(256 * 1024);
  const deps = await storeDeps();
  const dir = `${fs.path}/store`;
  const store = await EcStore.create(dir, GEOMETRY, deps, { journalCapacityBytes: 1 << 20 });
  await store.write("a", seededBytes(5, 1000));
  const size = (await Deno.stat(`${dir}/journal.log`)).size;
  await fillUp(`${fs.path}/filler`);
  await assert.rejects(
    () => store.write("b", seededBytes(6, 50_000)),
    (e) =>
      e instanceof NoSpaceError && e.message === `no space left on the journal ${dir}/journal.log`,
  );
  assert.equal((await Deno.stat(`${dir}/journal.log`)).size, size, "the torn append is cut off");
  await Deno.remove(`${fs.path}/filler`);
  await store.write("c", seededBytes(7, 1000));
  store.close();
  const again = await EcStore.open(dir, deps);
  assert.deepEqual(again.journalDamage, []);
  assert.deepEqual(again.list(), ["a", "c"]);
  assertBytes(await again.get("c"), seededBytes(7, 1000));
  again.close();
});
