/** Help text for `couchestor run`, generated from the flag table so it never drifts. */
import { FLAGS, type FlagSpec } from "./flags.ts";

/** The flag list: each flag with its placeholder, description, default and env twin. */
export function formatFlagHelp(): string {
  const lines: string[] = [];
  for (const spec of Object.values(FLAGS) as FlagSpec[]) {
    const head = spec.kind === "boolean"
      ? `  --${spec.flag}, --no-${spec.flag}`
      : `  --${spec.flag}=<${spec.placeholder}>`;
    const def = spec.default === "" ? `(${spec.defaultLabel ?? "unset"})` : spec.default;
    lines.push(head);
    lines.push(`        ${spec.help}.`);
    lines.push(`        default: ${def}   env: ${spec.env}`);
  }
  return lines.join("\n");
}

/** The full `couchestor run --help` text. */
export function formatRunHelp(): string {
  return [
    "Usage: couchestor run [flags]",
    "",
    "Runs the operator: watches StoragePolicy and ErasureCodingPolicy objects, moves Mayastor",
    "volumes between hot, warm and cold pools, and serves /metrics, /healthz and /readyz.",
    "A flag wins over its environment variable, which wins over the default.",
    "",
    "Flags:",
    formatFlagHelp(),
    "  --help",
    "        Show this help.",
    "",
  ].join("\n");
}
