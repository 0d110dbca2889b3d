import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { parseSize, runEc } from "../../src/cli/ec.ts";
import { decodeManifest, encodeManifest } from "../../src/ec/store/manifest.ts";
import { EcStore, shardFileName } from "../../src/ec/store/store.ts";
import { BlockDevice } from "../../src/ec/store/block_device.ts";
import { readSuperblock } from "../../src/ec/store/block_target.ts";
import { SHARD_HEADER_BYTES } from "../../src/ec/store/shard_format.ts";
import {
  assertBytes,
  fillUp,
  listFiles,
  loopDevice,
  loopDevices,
  seededBytes,
  smallTmpfs,
  storeDeps,
  tempDir,
} from "../ec/store/helpers.ts";

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

// ---- the same guarantees through the couchestor process ----

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Runs `couchestor ec …` as its own process; stdout as bytes. */
async function ecProcess(
  args: string[],
): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "ec", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: out.stdout, stderr: new TextDecoder().decode(out.stderr) };
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** True when a is the first a.length bytes of b. */
function isPrefix(a: Uint8Array, b: Uint8Array): boolean {
  return a.length <= b.length && a.every((x, i) => x === b[i]);
}

/** The shard file of (stripe, shard) in a CLI-made directory store. */
async function shardFile(store: string, stripe: number, shard: number): Promise<string> {
  const m = decodeManifest(await Deno.readFile(`${store}/manifest.json`), store).manifest;
  return `${store}/targets/${m.stripes[stripe].placement[shard]}/${shardFileName(stripe, shard)}`;
}

Deno.test("ec process: a foreign shard is rebuilt around and named; with too many, get fails having written nothing", async () => {
  await using dir = await tempDir();
  const mine = seededBytes(11, 6 * 64 * 1024);
  await Deno.writeFile(`${dir.path}/a.bin`, mine);
  await Deno.writeFile(`${dir.path}/b.bin`, seededBytes(12, mine.length));
  const common = ["--stripe-size", "64KiB", "--name", "obj"];
  assert.equal(
    (await ecProcess(["put", `${dir.path}/a.bin`, "--store", `${dir.path}/A`, ...common])).code,
    0,
  );
  assert.equal(
    (await ecProcess(["put", `${dir.path}/b.bin`, "--store", `${dir.path}/B`, ...common])).code,
    0,
  );
  await Deno.copyFile(
    await shardFile(`${dir.path}/B`, 1, 0),
    await shardFile(`${dir.path}/A`, 1, 0),
  );

  const getA = () =>
    ecProcess(["get", "obj", "--store", `${dir.path}/A`, "--out", `${dir.path}/out`]);
  const get = await getA();
  assert.equal(get.code, 0, get.stderr);
  assert.equal(sha256(await Deno.readFile(`${dir.path}/out`)), sha256(mine));
  assert.match(
    get.stderr,
    /stripe 1 shard 0 on target t01: foreign shard \(store [0-9a-f-]{36}, expected [0-9a-f-]{36}\)/,
  );
  const verify = await ecProcess(["verify", "--store", `${dir.path}/A`]);
  assert.equal(verify.code, 1);
  assert.match(
    new TextDecoder().decode(verify.stdout),
    /1 problems\n {2}stripe 1 shard 0: foreign shard \(store /,
  );

  for (const shard of [1, 2]) {
    await Deno.copyFile(
      await shardFile(`${dir.path}/B`, 1, shard),
      await shardFile(`${dir.path}/A`, 1, shard),
    );
  }
  const bad = await getA();
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /ec get: stripe 1 is unrecoverable: shards \[0, 1, 2\] missing or corrupt/,
  );
  assert.deepEqual((await listFiles(dir.path)).filter((f) => f.startsWith("/out")), ["/out"]);
  assert.equal(sha256(await Deno.readFile(`${dir.path}/out`)), sha256(mine), "--out untouched");
  const toStdout = await ecProcess(["get", "obj", "--store", `${dir.path}/A`]);
  assert.equal(toStdout.code, 1);
  assert.ok(isPrefix(toStdout.stdout, mine), "stdout holds only verified bytes of the object");
  assert.ok(toStdout.stdout.length <= 64 * 1024);
});

Deno.test("ec process: swapped extents in a hand-edited manifest: get refuses and writes nothing, verify names them", async () => {
  await using dir = await tempDir();
  const data = seededBytes(13, 3 * 64 * 1024);
  await Deno.writeFile(`${dir.path}/in.bin`, data);
  const store = `${dir.path}/S`;
  assert.equal(
    (await ecProcess(["put", `${dir.path}/in.bin`, "--store", store, "--stripe-size", "64KiB"]))
      .code,
    0,
  );
  const path = `${store}/manifest.json`;
  const env = JSON.parse(await Deno.readTextFile(path));
  const e = env.manifest.objects["in.bin"].extents;
  [e[0].stripe, e[1].stripe] = [e[1].stripe, e[0].stripe];
  await Deno.writeTextFile(path, JSON.stringify(env, null, 1));

  const get = await ecProcess(["get", "in.bin", "--store", store, "--out", `${dir.path}/out`]);
  assert.equal(get.code, 1);
  assert.match(
    get.stderr,
    /manifest .*manifest.json: content does not match its recorded SHA-256 \(hand-edited or damaged\)/,
  );
  await assert.rejects(() => Deno.stat(`${dir.path}/out`), Deno.errors.NotFound);
  const verify = await ecProcess(["verify", "--store", store]);
  assert.equal(verify.code, 1);
  const text = new TextDecoder().decode(verify.stdout);
  assert.match(text, /3 problems\n {2}manifest: .*does not match its recorded SHA-256/);
  assert.match(
    text,
    /object in\.bin extent 0: expects stripe 0 of object 1 in stripe 1, which holds stripe 1 of object 1 \(swapped or edited extent\)/,
  );
  assert.match(text, /object in\.bin extent 1: expects stripe 1 of object 1 in stripe 0/);
  const stat = await ecProcess(["stat", "--store", store]);
  assert.equal(stat.code, 0);
  assert.match(new TextDecoder().decode(stat.stdout), /manifest: .*SHA-256/);

  // Resealed by a forger: the checksum passes, the extents' identity does not; stdout stays empty.
  const m = decodeManifest(await Deno.readFile(path), path).manifest;
  await Deno.writeFile(path, encodeManifest(m, 9));
  const forged = await ecProcess(["get", "in.bin", "--store", store]);
  assert.equal(forged.code, 1);
  assert.equal(forged.stdout.length, 0);
  assert.match(
    forged.stderr,
    /ec get: object in\.bin: extent 0 expects stripe 0 of object 1 in stripe 1/,
  );
});

Deno.test("ec process: a damaged first journal record: stat names its offset, get and verify keep the journal byte-identical", async () => {
  await using dir = await tempDir();
  const store = `${dir.path}/S`;
  const s = await EcStore.create(store, {
    code: { algorithm: "ReedSolomon", k: 4, m: 2 },
    stripeSizeBytes: 64 * 1024,
  }, await storeDeps());
  for (let i = 0; i < 4; i++) await s.write(`w${i}`, seededBytes(20 + i, 3000));
  s.close();
  const journal = `${store}/journal.log`;
  const bytes = await Deno.readFile(journal);
  bytes[60] ^= 0xff; // inside record 1's payload
  await Deno.writeFile(journal, new Uint8Array([...bytes, 0x43, 0x53])); // and a torn tail
  const before = await Deno.readFile(journal);

  const stat = await ecProcess(["stat", "--store", store]);
  assert.equal(stat.code, 0, stat.stderr);
  const text = new TextDecoder().decode(stat.stdout);
  assert.match(text, /journal: 3 pending writes/);
  assert.match(
    text,
    /journal: damaged record at offset 0 \(\d+ bytes, seq 1, object w0\): payload checksum mismatch/,
  );
  assert.match(
    stat.stderr,
    /journal: damaged record at offset 0 .*; the records after it were kept/,
  );
  const get = await ecProcess(["get", "w3", "--store", store, "--out", `${dir.path}/w3`]);
  assert.equal(get.code, 0, get.stderr);
  assertBytes(await Deno.readFile(`${dir.path}/w3`), seededBytes(23, 3000));
  const lost = await ecProcess(["get", "w0", "--store", store]);
  assert.equal(lost.code, 1);
  assert.match(
    lost.stderr,
    /object w0: its latest acknowledged write \(journal record seq 1 at offset 0\) is damaged/,
  );
  const verify = await ecProcess(["verify", "--store", store]);
  assert.equal(verify.code, 1, "a lost acknowledged write is damage");
  assert.match(
    new TextDecoder().decode(verify.stdout),
    /1 problems\n {2}journal: damaged record at offset 0 \(\d+ bytes, seq 1, object w0\)/,
  );
  assertBytes(
    await Deno.readFile(journal),
    before,
    "read-only commands never touch the journal",
  );
});

Deno.test("ec process: put and get on a full tmpfs say no space left on the path and leave nothing behind", async () => {
  await using fs = await smallTmpfs(1 << 20);
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/big.bin`, seededBytes(30, 2 << 20));
  await Deno.writeFile(`${dir.path}/small.bin`, seededBytes(31, 100_000));
  const fresh = await ecProcess(["put", `${dir.path}/big.bin`, "--store", `${fs.path}/new`]);
  assert.equal(fresh.code, 1);
  assert.match(
    fresh.stderr,
    new RegExp(`^ec put: no space left on ${fs.path}/new/targets/t0\\d \\(shard target t0\\d\\)`),
  );
  assert.deepEqual(await listFiles(fs.path), [], "the store this put created is gone again");

  const store = `${fs.path}/s`;
  assert.equal((await ecProcess(["put", `${dir.path}/small.bin`, "--store", store])).code, 0);
  const before = await listFiles(store);
  const big = await ecProcess(["put", `${dir.path}/big.bin`, "--store", store]);
  assert.equal(big.code, 1);
  assert.match(big.stderr, /no space left on/);
  assert.deepEqual(await listFiles(store), before);

  await fillUp(`${fs.path}/filler`);
  const get = await ecProcess(["get", "small.bin", "--store", store, "--out", `${fs.path}/out`]);
  assert.equal(get.code, 1);
  assert.ok(get.stderr.endsWith(`\nec get: no space left on ${fs.path}\n`), get.stderr);
  assert.deepEqual((await listFiles(fs.path)).filter((f) => f.startsWith("/out")), []);
});

Deno.test("ec process: a store on six loop devices: put, get, a blank and a foreign device named, repair of a flipped byte", async () => {
  await using loops = await loopDevices(6, 4 << 20);
  await using other = await loopDevice(4 << 20);
  await using dir = await tempDir();
  const devs = loops.devices.map((d) => d.path);
  const data = seededBytes(40, 1_500_000);
  await Deno.writeFile(`${dir.path}/vol.bin`, data);
  const put = await ecProcess([
    "put",
    `${dir.path}/vol.bin`,
    "--devices",
    devs.join(","),
    "--stripe-size",
    "256KiB",
    "--json",
  ]);
  assert.equal(put.code, 0, put.stderr);
  assert.equal(JSON.parse(new TextDecoder().decode(put.stdout)).stripes, 6);
  const shuffled = [devs[3], devs[0], devs[5], devs[1], devs[4], devs[2]].join(",");
  const get = await ecProcess(["get", "vol.bin", "--devices", shuffled, "--out", `${dir.path}/o`]);
  assert.equal(get.code, 0, get.stderr);
  assertBytes(await Deno.readFile(`${dir.path}/o`), data);

  // A blank device in shard 5's place: the store reads around it and says why it is down.
  const blank = [...devs.slice(0, 5), other.path].join(",");
  const stat = await ecProcess(["stat", "--devices", blank]);
  assert.equal(stat.code, 0, stat.stderr);
  assert.match(
    new TextDecoder().decode(stat.stdout),
    /target shard-5 .*: DOWN, 6 shards \(device .* \(not among the devices given\)/,
  );
  // Now that device holds another store (made on it and five plain files): refused here.
  const files = Array.from({ length: 5 }, (_, i) => `${dir.path}/f${i}.img`);
  for (const p of files) await Deno.writeFile(p, new Uint8Array(4 << 20));
  const b = await ecProcess([
    "put",
    `${dir.path}/vol.bin`,
    "--devices",
    [other.path, ...files].join(","),
  ]);
  assert.equal(b.code, 0, b.stderr);
  const mixed = await ecProcess(["stat", "--devices", blank]);
  assert.equal(mixed.code, 1);
  assert.match(mixed.stderr, /ec stat: the devices belong to different stores/);

  const dev = await BlockDevice.open(devs[2]);
  const sb = (await readSuperblock(dev, (await storeDeps()).hasher))!;
  dev.close();
  const f = await Deno.open(devs[2], { read: true, write: true });
  await f.seek(sb.dataOffset + sb.slotBytes + SHARD_HEADER_BYTES + 8 + 1000, Deno.SeekMode.Start);
  await f.write(new Uint8Array([0xde, 0xad])); // inside the data of stripe 1's shard 2
  f.close();
  const verify = await ecProcess(["verify", "--devices", devs.join(",")]);
  assert.equal(verify.code, 1);
  assert.match(
    new TextDecoder().decode(verify.stdout),
    /1 problems\n {2}stripe 1 shard 2: checksum/,
  );
  const repair = await ecProcess(["repair", "--devices", devs.join(","), "--json"]);
  assert.equal(repair.code, 0, repair.stderr);
  assert.equal((await ecProcess(["verify", "--devices", devs.join(",")])).code, 0);
});
