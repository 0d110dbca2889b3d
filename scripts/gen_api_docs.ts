/**
 * Writes docs/api.md from the zod schemas (`--out FILE`, default docs/api.md),
 * or with `--check` exits 1 when the file differs from what would be written.
 * The text goes through `deno fmt` so the committed file is fmt-clean.
 */
import { parseArgs } from "node:util";
import { renderApiDocs } from "../src/api/docs.ts";
import { fmtMarkdown } from "./fmt_markdown.ts";

/** docs/api.md as it must be committed: rendered, then formatted by `deno fmt` (repo config). */
export async function formattedApiDocs(): Promise<string> {
  return await fmtMarkdown(renderApiDocs());
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
