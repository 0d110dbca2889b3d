/** `couchestor version`: product version, Deno/V8/TypeScript versions and build facts. */
import { parseArgs } from "node:util";
import { VERSION } from "../version.ts";

/** Build and runtime facts printed by `version`. */
export interface VersionInfo {
  version: string;
  deno: string;
  v8: string;
  typescript: string;
  target: string;
  /** "binary" when built with deno compile, else "script" (source or bundle). */
  build: "binary" | "script";
  /** The entry module (shows whether a bundle or the source tree is running). */
  entry: string;
}

/** Collects the version facts of this process. */
export function versionInfo(): VersionInfo {
  return {
    version: VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    target: Deno.build.target,
    build: Deno.build.standalone ? "binary" : "script",
    entry: Deno.mainModule,
  };
}

const HELP = `Usage: couchestor version [--json]

Prints the CoucheStor version, the Deno, V8 and TypeScript versions it runs on, and how it
was built (compiled binary or script).

Flags:
  --json    Print one JSON object instead of text.
  --help    Show this help.
`;

/** Prints the version; `--json` for machines. */
export function runVersion(args: string[]): Promise<number> {
  let values: { json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: { json: { type: "boolean" }, help: { type: "boolean" } },
      strict: true,
    }));
  } catch (e) {
    console.error(`${(e as Error).message.split("\n")[0]} (see couchestor version --help)`);
    return Promise.resolve(2);
  }
  if (values.help) {
    console.log(HELP);
    return Promise.resolve(0);
  }
  const v = versionInfo();
  if (values.json) {
    console.log(JSON.stringify(v));
  } else {
    console.log(`couchestor ${v.version}`);
    console.log(`deno ${v.deno} (v8 ${v.v8}, typescript ${v.typescript})`);
    console.log(`build: ${v.build} for ${v.target}, entry ${v.entry}`);
  }
  return Promise.resolve(0);
}
