import assert from "node:assert/strict";
import { buildTieredCache, CacheConfigSchema } from "../../src/cache/config.ts";
import { L2FormatError } from "../../src/cache/l2.ts";

Deno.test("cache config: defaults, and clear errors for bad values", () => {
  const c = CacheConfigSchema.parse({});
  assert.equal(c.l1Shards, 1024);
  assert.equal(c.l1Policy, "s3fifo");
  assert.equal(c.writeMode, "through");
  assert.throws(() => CacheConfigSchema.parse({ l1Shards: 1000 }), /power of two/);
  assert.throws(() => CacheConfigSchema.parse({ writeMode: "back" }), /journalPath/);
  assert.throws(() => CacheConfigSchema.parse({ l1Policy: "mru" }));
});

Deno.test("buildTieredCache assembles L1, L2 and a directory L3 that survive a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cachecfg-" });
  try {
    const cfg = {
      l1MaxBytes: 1 << 20,
      l2Path: `${dir}/l2.bin`,
      l2SizeBytes: 4096 + 4 * 65536,
      l2RegionBytes: 65536,
      l3Dir: `${dir}/l3`,
    };
    let built = buildTieredCache(cfg);
    await built.cache.set("vol-1:7", new TextEncoder().encode("hello"));
    built.close();
    built = buildTieredCache(cfg);
    assert.equal(new TextDecoder().decode(await built.cache.get("vol-1:7")), "hello");
    built.close();
    assert.throws(() => buildTieredCache({ ...cfg, l2SizeBytes: 4096 + 8 * 65536 }), L2FormatError);
    assert.throws(() => buildTieredCache({ l1MaxBytes: 1 << 20 }), /l3Dir is required/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
