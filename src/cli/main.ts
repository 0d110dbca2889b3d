/** Subcommand dispatch for the couchestor binary. */
import { VERSION } from "../version.ts";

/** Runs the CLI with the given arguments and returns the exit status. */
export async function runCli(args: string[]): Promise<number> {
  const [cmd] = args;
  if (cmd === "version") {
    console.log(`couchestor ${VERSION}`);
    return 0;
  }
  await Promise.resolve();
  console.error(`unknown command: ${cmd ?? "(none)"}`);
  return 2;
}
