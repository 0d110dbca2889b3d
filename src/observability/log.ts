/** Leveled logs, as text for people or JSON lines (`time`, `level`, `msg`, `component`, fields). */

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";
/** Output format chosen by `--log-format`. */
export type LogFormat = "text" | "json";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured fields attached to one log line. */
export type LogFields = Record<string, unknown>;

/** A component's logger. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger for a sub-component that carries `component` and extra fields on every line. */
  child(component: string, fields?: LogFields): Logger;
}

/** Options for createLogger. */
export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
  /** Time source for the `time` field. */
  now?: () => number;
}

function errorFields(v: unknown): unknown {
  if (v instanceof Error) return { name: v.name, message: v.message };
  return v;
}

/** Builds the root logger. */
export function createLogger(
  opts: LoggerOptions = {},
  component = "couchestor",
  base: LogFields = {},
): Logger {
  const min = RANK[opts.level ?? "info"];
  const format = opts.format ?? "text";
  const encoder = new TextEncoder();
  const write = opts.write ??
    ((line: string) => Deno.stderr.writeSync(encoder.encode(line + "\n")));
  const now = opts.now ?? Date.now;

  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const all: LogFields = { ...base, ...fields };
    for (const k of Object.keys(all)) all[k] = errorFields(all[k]);
    const time = new Date(now()).toISOString();
    if (format === "json") {
      write(JSON.stringify({ time, level, msg, component, ...all }));
    } else {
      const kv = Object.entries(all).map(([k, v]) =>
        `${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v)}`
      );
      write(
        `${time} ${level.toUpperCase().padEnd(5)} [${component}] ${msg}${
          kv.length ? " " + kv.join(" ") : ""
        }`,
      );
    }
  };

  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (c, f) => createLogger(opts, c, { ...base, ...f }),
  };
}

/** A logger that drops everything (for tests that don't look at logs). */
export const silentLogger: Logger = createLogger({ write: () => {} });
