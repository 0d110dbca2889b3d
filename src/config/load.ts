/**
 * Command line + environment → validated `Config`. Precedence: flag, then env var, then default.
 * Errors are single lines naming the flag, its env twin, the value and what is allowed.
 */
import { parseArgs } from "node:util";
import { type Config, type ConfigKey, ConfigSchema, FLAGS, type FlagSpec } from "./flags.ts";

/** Environment variables as the composition root read them. */
export type Env = Record<string, string | undefined>;

/** The outcome of loading the config: a Config, a request for help, or error lines. */
export type LoadResult =
  | { kind: "ok"; config: Config }
  | { kind: "help" }
  | { kind: "error"; messages: string[] };

/** Where one field's text came from, to word errors the way the user wrote it. */
type Source = "flag" | "env" | "default";

type ParseOptions = Record<string, { type: "string" | "boolean" }>;

function parseOptions(): ParseOptions {
  const options: ParseOptions = { help: { type: "boolean" } };
  for (const spec of Object.values(FLAGS) as FlagSpec[]) {
    options[spec.flag] = { type: spec.kind };
  }
  return options;
}

/** One error line for a field whose value was rejected. */
export function describeError(
  spec: FlagSpec,
  source: Source,
  value: string,
  allowed = spec.allowed,
): string {
  if (source === "env") {
    return `${spec.env}=${value}: must be ${allowed} (flag --${spec.flag})`;
  }
  const shown = spec.kind === "boolean" && source === "flag"
    ? (value === "true" ? `--${spec.flag}` : `--no-${spec.flag}`)
    : `--${spec.flag}=${value}`;
  return `${shown}: must be ${allowed} (env ${spec.env})`;
}

/** Parses `couchestor run` arguments and the environment into a Config. */
export function loadConfig(args: string[], env: Env): LoadResult {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: parseOptions(),
      strict: true,
      allowPositionals: true,
      allowNegative: true,
    }));
  } catch (e) {
    // parseArgs words its errors over several sentences; keep the first.
    const msg = (e instanceof Error ? e.message : String(e)).split(/\n|(?<=\.) /)[0];
    return { kind: "error", messages: [`${msg} (see couchestor run --help)`] };
  }
  if (values.help) return { kind: "help" };
  if (positionals.length > 0) {
    return {
      kind: "error",
      messages: [`unexpected argument "${positionals[0]}" (see couchestor run --help)`],
    };
  }

  const text: Record<string, string> = {};
  const sources: Record<string, Source> = {};
  const emptyErrors: string[] = [];
  for (const [key, spec] of Object.entries(FLAGS) as [ConfigKey, FlagSpec][]) {
    const fromFlag = values[spec.flag];
    const fromEnv = env[spec.env];
    if (spec.nonEmpty && (fromFlag ?? fromEnv) === "") {
      // An explicit empty value is a mistake (e.g. POD_NAME from a missing fieldRef), not "unset".
      emptyErrors.push(describeError(spec, fromFlag !== undefined ? "flag" : "env", ""));
      continue;
    }
    if (fromFlag !== undefined) {
      text[key] = String(fromFlag);
      sources[key] = "flag";
    } else if (fromEnv !== undefined && fromEnv !== "") {
      text[key] = fromEnv;
      sources[key] = "env";
    } else {
      text[key] = spec.default;
      sources[key] = "default";
    }
  }

  if (emptyErrors.length > 0) return { kind: "error", messages: emptyErrors };
  const parsed = ConfigSchema.safeParse(text);
  if (parsed.success) return { kind: "ok", config: parsed.data };

  const messages: string[] = [];
  const seen = new Set<string>();
  for (const issue of parsed.error.issues) {
    const key = String(issue.path[0]) as ConfigKey;
    if (seen.has(key) || !(key in FLAGS)) continue;
    seen.add(key);
    const spec: FlagSpec = FLAGS[key];
    // Cross-field rules (ConfigSchema's superRefine) say what they need in their own words.
    const crossField = issue.code === "custom" &&
      (issue as { params?: { crossField?: boolean } }).params?.crossField === true;
    const allowed = crossField ? issue.message : spec.allowed;
    messages.push(describeError(spec, sources[key], text[key], allowed));
  }
  return { kind: "error", messages };
}
