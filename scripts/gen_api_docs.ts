/**
 * Writes docs/api.md from the zod schemas (`--out FILE`, default docs/api.md),
 * or with `--check` exits 1 when the file differs from what would be written.
 * The text goes through `deno fmt` so the committed file is fmt-clean.
 */
import { parseArgs } from "node:util";
import { renderApiDocs } from "../src/api/docs.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** docs/api.md as it must be committed: rendered, then formatted by `deno fmt` (repo config). */
export async function formattedApiDocs(): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=md", "-"],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(renderApiDocs()));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) throw new Error(`deno fmt failed: ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: "docs/api.md" }, check: { type: "boolean" } },
  });
  const want = await formattedApiDocs();
  if (values.check) {
    let have = "";
    try {
      have = await Deno.readTextFile(values.out);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (have !== want) {
      console.error(`${values.out} is out of date: run deno run -A scripts/gen_api_docs.ts`);
      Deno.exit(1);
    }
  } else {
    await Deno.writeTextFile(values.out, want);
    console.log(`wrote ${values.out}`);
  }
}
