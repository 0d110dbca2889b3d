/**
 * `deno task compile`: builds the single `couchestor` binary with `deno compile`, embedding the
 * WASM files the codecs read at run time. `deno compile` needs the `denort` base binary; it
 * downloads it, or takes `DENORT_BIN` from the environment (passed through unchanged).
 *
 *   deno task compile [--output dist/couchestor] [--target x86_64-unknown-linux-gnu]
 */
import { parseArgs } from "node:util";

/** npm packages whose .wasm files are read from disk at run time, and where in them. */
export const WASM_PACKAGES: { pkg: string; dir: string }[] = [
  { pkg: "@subspace/reed-solomon-erasure.wasm", dir: "dist" },
  { pkg: "lz4-wasm", dir: "" },
];

/**
 * V8 flags baked into the binary. A smaller young generation keeps the operator under its 128 MiB
 * memory limit: with 10,000 cached objects it peaked at 125.6 MiB RSS by default and at
 * 99.9 MiB with a 2 MiB semi-space (bench/informer, measured by the kube work).
 */
export const V8_FLAGS = ["--max-semi-space-size=2"];

/** What to build. */
export interface CompileOptions {
  /** Output binary path. */
  output: string;
  /** Files to embed (repository-relative paths). */
  include: string[];
  /** Cross-compilation target triple; the host's when absent. */
  target?: string;
  /** Entry module. */
  entry?: string;
}

/** The argument array for `deno compile` (everything after the deno binary). */
export function compileArgs(opts: CompileOptions): string[] {
  return [
    "compile",
    // The operator talks to the network, reads and writes files, runs smartctl/nvme, calls
    // libc and ISA-L through FFI and reads its environment: every permission is needed.
    "--allow-all",
    `--v8-flags=${V8_FLAGS.join(",")}`,
    ...opts.include.flatMap((f) => ["--include", f]),
    ...(opts.target ? ["--target", opts.target] : []),
    "--output",
    opts.output,
    opts.entry ?? "main.ts",
  ];
}

/** The .wasm files of WASM_PACKAGES under `root`/node_modules, as repository-relative paths. */
export async function findWasmFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const { pkg, dir } of WASM_PACKAGES) {
    const rel = `node_modules/${pkg}${dir ? `/${dir}` : ""}`;
    let any = false;
    try {
      for await (const e of Deno.readDir(`${root}/${rel}`)) {
        if (e.name.endsWith(".wasm")) {
          found.push(`${rel}/${e.name}`);
          any = true;
        }
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    if (!any) throw new Error(`no .wasm file in ${rel}: run "deno install" first`);
  }
  return found.sort();
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      output: { type: "string", default: "dist/couchestor" },
      target: { type: "string" },
    },
    strict: true,
  });
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const install = await new Deno.Command(Deno.execPath(), { args: ["install"], cwd: root })
    .output();
  if (!install.success) {
    console.error(new TextDecoder().decode(install.stderr));
    return 1;
  }
  const include = await findWasmFiles(root);
  const args = compileArgs({ output: values.output!, include, target: values.target });
  await Deno.mkdir(`${root}/${values.output!.replace(/\/[^/]*$/, "") || "."}`, {
    recursive: true,
  });
  const denort = Deno.env.get("DENORT_BIN");
  console.error(
    `deno ${args.join(" ")}${denort ? `  (DENORT_BIN=${denort})` : ""}`,
  );
  // The child inherits this process's environment, DENORT_BIN included.
  const status = await new Deno.Command(Deno.execPath(), { args, cwd: root }).spawn().status;
  if (!status.success) {
    if (!denort) {
      console.error(
        "deno compile failed. It needs the denort base binary for the target, which it " +
          "downloads; where that host is unreachable, set DENORT_BIN to a denort binary of " +
          `Deno ${Deno.version.deno}.`,
      );
    }
    return status.code || 1;
  }
  const size = (await Deno.stat(`${root}/${values.output}`)).size;
  console.log(`${values.output}: ${(size / 1024 / 1024).toFixed(1)} MiB (${size} bytes)`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
