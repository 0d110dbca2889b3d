import assert from "node:assert/strict";
import { parseSize, runEc } from "../../src/cli/ec.ts";

/** Runs the command capturing stdout and stderr. */
async function ec(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const outChunks: Uint8Array[] = [];
  let stderr = "";
  const code = await runEc(args, {
    stdout: (b) => outChunks.push(b.slice()),
    stderr: (t) => (stderr += t),
  });
  const stdout = new TextDecoder().decode(new Uint8Array(outChunks.flatMap((c) => [...c])));
  return { code, stdout, stderr };
}

async function sha256File(path: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("ec cli: put 24 MiB, lose two targets, get the same SHA-256, flip a third target's shard, verify finds it, repair heals it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "couchestor-ec-cli-" });
  try {
    const src = `${dir}/input.bin`;
    const data = new Uint8Array(24 << 20);
    for (let i = 0; i < data.length; i += 65536) {
      crypto.getRandomValues(data.subarray(i, i + 65536));
    }
    await Deno.writeFile(src, data);
    const want = await sha256File(src);
    const store = `${dir}/store`;

    const put = await ec(["put", src, "--store", store, "--k", "4", "--m", "2", "--json"]);
    assert.equal(put.code, 0, put.stderr);
    const putResult = JSON.parse(put.stdout);
    assert.equal(putResult.sha256, want);
    assert.equal(putResult.stripes, 6);

    await Deno.remove(`${store}/targets/t01`, { recursive: true });
    await Deno.remove(`${store}/targets/t03`, { recursive: true });
    const get = await ec([
      "get",
      "input.bin",
      "--store",
      store,
      "--out",
      `${dir}/out.bin`,
      "--json",
    ]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(await sha256File(`${dir}/out.bin`), want);
    assert.equal(JSON.parse(get.stdout).degradedReads, 6);

    // The two lost targets are replaced (re-created empty) and their shards rebuilt.
    const rebuild = await ec(["repair", "--store", store, "--json"]);
    assert.equal(rebuild.code, 0, rebuild.stderr);
    const rb = JSON.parse(rebuild.stdout);
    assert.equal(rb.findings.length, 12);
    assert.ok(
      rb.findings.every((f: { kind: string; repaired: boolean }) =>
        f.kind === "missing" && f.repaired
      ),
    );

    // Flip bytes in one shard file of a third target.
    const third = `${store}/targets/t05`;
    const victim = [...Deno.readDirSync(third)].map((e) => e.name).sort()[2];
    const f = await Deno.readFile(`${third}/${victim}`);
    for (const at of [100, 70_000, f.length - 10]) f[at] ^= 0xff;
    await Deno.writeFile(`${third}/${victim}`, f);
    const verify = await ec(["verify", "--store", store, "--json"]);
    assert.equal(verify.code, 1);
    const vr = JSON.parse(verify.stdout);
    assert.equal(vr.findings.length, 1);
    assert.equal(vr.findings[0].kind, "checksum");
    assert.equal(
      victim,
      `stripe-${String(vr.findings[0].stripe).padStart(8, "0")}-${
        String(vr.findings[0].shard).padStart(3, "0")
      }.shard`,
    );

    const repair = await ec(["repair", "--store", store]);
    assert.equal(repair.code, 0, repair.stdout + repair.stderr);
    assert.match(
      repair.stdout,
      /1 problems\n {2}stripe \d+ shard \d+: checksum \(repaired on t05\)/,
    );
    assert.match(repair.stderr, /repair: .* MiB \(6\/6 stripes\)/);
    const clean = await ec(["verify", "--store", store, "--json"]);
    assert.equal(clean.code, 0);
    assert.deepEqual(JSON.parse(clean.stdout).findings, []);

    const again = await ec([
      "get",
      "input.bin",
      "--store",
      store,
      "--out",
      `${dir}/again.bin`,
      "--json",
    ]);
    assert.equal(await sha256File(`${dir}/again.bin`), want);
    assert.equal(JSON.parse(again.stdout).degradedReads, 0);

    const stat = await ec(["stat", "--store", store, "--json"]);
    const st = JSON.parse(stat.stdout);
    assert.equal(st.objects, 1);
    assert.equal(st.stripes.healthy, 6);
    // verify writes nothing: the last recorded scrub is the repair that healed one shard.
    assert.deepEqual([st.lastScrub.problems, st.lastScrub.repaired], [1, 1]);
    assert.ok(st.targets.every((t: { healthy: boolean }) => t.healthy));
    const text = await ec(["stat", "--store", store]);
    assert.match(text.stdout, /stripes: 6 healthy, 0 degraded, 0 lost/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ec cli: LRC store, usage errors and help", async () => {
  const dir = await Deno.makeTempDir({ prefix: "couchestor-ec-cli-" });
  try {
    await Deno.writeFile(`${dir}/small`, new Uint8Array(100_000).fill(3));
    const put = await ec([
      "put",
      `${dir}/small`,
      "--store",
      `${dir}/s`,
      "--algorithm",
      "LRC",
      "--k",
      "6",
      "--l",
      "2",
      "--g",
      "2",
      "--stripe-size",
      "32KiB",
    ]);
    assert.equal(put.code, 0, put.stderr);
    assert.match(put.stdout, /stored small: 100000 bytes in 4 stripes/);
    const clash = await ec(["put", `${dir}/small`, "--store", `${dir}/s`, "--k", "4", "--m", "2"]);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /store was created with/);
    assert.equal((await ec(["get", "small", "--store", `${dir}/s`])).stdout.length, 100_000);
    assert.equal((await ec(["bogus", "--store", dir])).code, 2);
    assert.equal((await ec(["stat"])).code, 2);
    assert.equal((await ec(["put", "--store", dir, "--k", "zero"])).code, 2);
    const help = await ec(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /couchestor ec <command>/);
    assert.equal((await ec(["get", "nope", "--store", `${dir}/s`])).code, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(parseSize("4MiB"), 4 << 20);
  assert.throws(() => parseSize("4 parsecs"), /invalid size/);
});
