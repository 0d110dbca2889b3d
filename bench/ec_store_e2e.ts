/**
 * The full-size end-to-end run, as a script (too slow for the unit suite):
 *
 *   deno run -A bench/ec_store_e2e.ts [--mib 256]
 *
 * `ec put` a 256 MiB file with k=4 m=2, delete two target directories, `ec get` must return
 * the same SHA-256; repair, flip bytes in a third target's shard, `ec verify` must find it and
 * `ec repair` heal it. Prints each step's throughput beside a plain file copy (the baseline)
 * measured in the same run. Exits 1 when any check fails.
 */
import { runEc } from "../src/cli/ec.ts";

async function sha256(path: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, (performance.now() - t0) / 1000];
}

async function ec(args: string[]): Promise<{ code: number; json: unknown }> {
  let out = "";
  const code = await runEc([...args, "--json"], {
    stdout: (b) => (out += new TextDecoder().decode(b)),
    stderr: () => {},
  });
  return { code, json: out ? JSON.parse(out) : null };
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--mib");
  const mib = i >= 0 ? Number(Deno.args[i + 1]) : 256;
  const dir = await Deno.makeTempDir({ prefix: "couchestor-ec-e2e-" });
  let failed = false;
  const check = (ok: boolean, what: string) => {
    console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
    failed ||= !ok;
  };
  try {
    const src = `${dir}/input.bin`;
    const data = new Uint8Array(mib << 20);
    for (let o = 0; o < data.length; o += 65536) {
      crypto.getRandomValues(data.subarray(o, o + 65536));
    }
    await Deno.writeFile(src, data);
    const want = await sha256(src);
    const store = `${dir}/store`;
    const [, copyS] = await timed(() => Deno.copyFile(src, `${dir}/copy.bin`));
    const rate = (s: number) =>
      `${(mib / 1024 / s).toFixed(2)} GB/s (${(copyS / s).toFixed(2)}x of copy)`;
    console.log(`baseline: cp ${mib} MiB ${(mib / 1024 / copyS).toFixed(2)} GB/s`);

    const [put, putS] = await timed(() =>
      ec(["put", src, "--store", store, "--k", "4", "--m", "2"])
    );
    check(
      put.code === 0 && (put.json as { sha256: string }).sha256 === want,
      `put ${mib} MiB k=4 m=2: ${rate(putS)}`,
    );
    await Deno.remove(`${store}/targets/t01`, { recursive: true });
    await Deno.remove(`${store}/targets/t04`, { recursive: true });
    const [get, getS] = await timed(() =>
      ec(["get", "input.bin", "--store", store, "--out", `${dir}/out.bin`])
    );
    check(
      get.code === 0 && (await sha256(`${dir}/out.bin`)) === want,
      `degraded get, two targets gone: same SHA-256, ${rate(getS)}`,
    );
    const [rebuild, rebuildS] = await timed(() => ec(["repair", "--store", store]));
    check(rebuild.code === 0, `repair of two lost targets: ${rate(rebuildS)}`);
    const third = `${store}/targets/t05`;
    const victim = [...Deno.readDirSync(third)].map((e) => e.name).sort()[0];
    const f = await Deno.readFile(`${third}/${victim}`);
    f[f.length >> 1] ^= 0xff;
    await Deno.writeFile(`${third}/${victim}`, f);
    const [verify, verifyS] = await timed(() => ec(["verify", "--store", store]));
    const findings = (verify.json as { findings: { kind: string }[] }).findings;
    check(
      verify.code === 1 && findings.length === 1 && findings[0].kind === "checksum",
      `verify finds the flipped shard: ${rate(verifyS)}`,
    );
    const [repair] = await timed(() => ec(["repair", "--store", store]));
    check(repair.code === 0, "repair heals it");
    const clean = await ec(["verify", "--store", store]);
    check(clean.code === 0, "verify is clean afterwards");
    const again = await ec(["get", "input.bin", "--store", store, "--out", `${dir}/again.bin`]);
    check(
      again.code === 0 && (await sha256(`${dir}/again.bin`)) === want,
      "get after repair: same SHA-256",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  Deno.exit(failed ? 1 : 0);
}
