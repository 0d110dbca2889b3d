import assert from "node:assert/strict";
import fc from "fast-check";
import { compressedBackend, DirectoryBackend, keyPath } from "../../src/cache/l3.ts";
import { unframe } from "../../src/cache/codec.ts";

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) out.push(...(await files(`${dir}/${e.name}`)));
    else out.push(`${dir}/${e.name}`);
  }
  return out;
}

Deno.test("directory backend: put/get/delete, odd keys, no temporary files left", async () => {
  const root = await Deno.makeTempDir({ prefix: "l3-" });
  try {
    const b = new DirectoryBackend({ root });
    const keys = ["vol-1:42", "a/b/../c", "ключ", "x".repeat(500), ".hidden", "%41", "A"];
    for (const [i, k] of keys.entries()) await b.put(k, new Uint8Array([i, i + 1]));
    for (const [i, k] of keys.entries()) {
      assert.deepEqual(await b.get(k), new Uint8Array([i, i + 1]), k);
    }
    await b.put("vol-1:42", new Uint8Array([9]));
    assert.deepEqual(await b.get("vol-1:42"), new Uint8Array([9]));
    await b.delete("vol-1:42");
    await b.delete("never-there");
    assert.equal(await b.get("vol-1:42"), undefined);
    const all = await files(root);
    assert.equal(all.length, keys.length - 1);
    assert.ok(all.every((f) => !f.includes(".tmp-")));
    assert.notEqual(keyPath("%41").name, keyPath("A").name);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("compressed backend stores LZ4 frames and returns the original bytes", async () => {
  const root = await Deno.makeTempDir({ prefix: "l3-" });
  try {
    const raw = new DirectoryBackend({ root });
    const b = compressedBackend(raw);
    const text = new TextEncoder().encode("cold block ".repeat(500));
    await b.put("k", text);
    const stored = (await raw.get("k"))!;
    assert.ok(stored.length < text.length / 4);
    assert.deepEqual(unframe(stored), text);
    assert.deepEqual(await b.get("k"), text);
    assert.equal(await b.get("missing"), undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("property: the directory backend is exactly a map", async () => {
  const root = await Deno.makeTempDir({ prefix: "l3-" });
  try {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.constantFrom("get", "put", "del"),
            fc.nat(10),
            fc.uint8Array({ maxLength: 64 }),
          ),
          { maxLength: 40, size: "max" },
        ),
        async (ops) => {
          const b = compressedBackend(
            new DirectoryBackend({ root: `${root}/${run++}`, fsync: false }),
          );
          const model = new Map<string, Uint8Array>();
          for (const [t, k, v] of ops) {
            const key = `k:${k}`;
            if (t === "put") {
              model.set(key, v);
              await b.put(key, v);
            } else if (t === "del") {
              model.delete(key);
              await b.delete(key);
            } else assert.deepEqual(await b.get(key), model.get(key));
          }
        },
      ),
      { numRuns: 40 },
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
