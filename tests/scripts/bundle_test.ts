/**
 * `deno task bundle` yields one JS file that runs on its own: version, --help, the demo (sandbox,
 * simulator, operator, table) and the erasure-coding CLI (its WASM kernels are embedded).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

async function deno(args: string[], cwd = ROOT) {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd, stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("bundle: the bundle task's output runs version, --help, the demo and ec put/get by itself", async () => {
  const cfg = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const task: string[] = cfg.tasks.bundle.split(/\s+/);
  assert.equal(task[0], "deno");
  const o = task.indexOf("-o");
  assert.ok(o > 0, "the bundle task names its output with -o");
  const dir = await Deno.makeTempDir();
  try {
    // The task exactly as deno.json has it, writing into a temp dir instead of dist/.
    const out = `${dir}/couchestor.js`;
    const args = task.slice(1);
    args[o] = out; // task[o + 1], the value after -o
    const built = await deno(args);
    assert.equal(built.code, 0, built.stderr);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["couchestor.js"]);
    // Nothing but the bundle: no node_modules or WASM file next to it.

    // Run it from the temp dir, away from the source tree and its node_modules.
    const version = await deno(["run", "-A", out, "version"], dir);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^couchestor \d+\.\d+\.\d+\n/);
    assert.match(version.stdout, /entry file:\/\/.*couchestor\.js/);

    const help = await deno(["run", "-A", out, "--help"], dir);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: couchestor <command>/m);

    const runHelp = await deno(["run", "-A", out, "run", "--help"], dir);
    assert.equal(runHelp.code, 0, runHelp.stderr);
    assert.match(runHelp.stdout, /--max-concurrent-migrations=<n>/);

    const demo = await deno(
      ["run", "-A", out, "demo", "--duration", "15s", "--no-prometheus"],
      dir,
    );
    const demoText = demo.stdout + demo.stderr;
    assert.equal(demo.code, 0, demoText);
    const kc = /kubeconfig: (\S+)/.exec(demoText)?.[1];
    assert.ok(kc, `kubeconfig path printed:\n${demoText}`);
    assert.match(demoText, /VOLUME\s+IOPS\s+TIER\s+REPLICAS ON\s+MIGRATION/);
    assert.match(demoText, /pvc-db-orders\s+\d+\s+(hot|warm|cold|mixed)/);
    await assert.rejects(Deno.stat(kc), Deno.errors.NotFound, "demo removed its temp dir");

    const data = new Uint8Array(200_000).map((_, i) => (i * 7919) & 0xff);
    await Deno.writeFile(`${dir}/in.bin`, data);
    const ec = ["run", "-A", out, "ec"];
    const put = await deno([...ec, "put", "in.bin", "--store", "st", "--k", "2", "--m", "1"], dir);
    assert.equal(put.code, 0, put.stderr);
    const get = await deno([...ec, "get", "in.bin", "--store", "st", "--out", "out.bin"], dir);
    assert.equal(get.code, 0, get.stderr);
    assert.deepEqual(await Deno.readFile(`${dir}/out.bin`), data);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
