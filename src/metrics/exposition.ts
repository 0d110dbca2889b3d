/**
 * A forgiving parser of the Prometheus text exposition format (0.0.4): what exporters serve
 * on `/metrics`. A line it cannot read is skipped and counted, never fatal.
 */
import { parseSampleValue } from "./sample.ts";

/** One sample line: metric name, labels, value and optional timestamp. */
export interface ExpositionSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the exporter stamped the sample. */
  timestampMs?: number;
}

/** Samples read from one exposition, and how many lines were skipped as malformed. */
export interface ParsedExposition {
  samples: ExpositionSample[];
  /** Count of non-comment lines that could not be parsed. */
  skipped: number;
  /** The first few malformed lines (for logs), at most 5. */
  skippedExamples: string[];
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Parses a whole exposition text. */
export function parseExposition(text: string): ParsedExposition {
  const samples: ExpositionSample[] = [];
  let skipped = 0;
  const skippedExamples: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const s = parseSampleLine(line);
    if (s) {
      samples.push(s);
    } else {
      skipped++;
      if (skippedExamples.length < 5) skippedExamples.push(line.slice(0, 200));
    }
  }
  return { samples, skipped, skippedExamples };
}

/** Parses one sample line, or returns undefined when it is malformed. */
export function parseSampleLine(line: string): ExpositionSample | undefined {
  const nameMatch = NAME_RE.exec(line);
  if (!nameMatch) return undefined;
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === "{") {
    const end = parseLabels(line, i + 1, labels);
    if (end < 0) return undefined;
    i = end;
  }
  const rest = line.slice(i).trim().split(/\s+/);
  if (rest.length < 1 || rest.length > 2 || rest[0] === "") return undefined;
  const value = parseSampleValue(rest[0]);
  if (value === undefined) return undefined;
  const sample: ExpositionSample = { name, labels, value };
  if (rest.length === 2) {
    if (!/^-?\d+$/.test(rest[1])) return undefined;
    sample.timestampMs = Number(rest[1]);
  }
  return sample;
}

/** Reads `name="value",…}` from position i; returns the index after `}` or -1. */
function parseLabels(line: string, i: number, out: Record<string, string>): number {
  for (;;) {
    while (line[i] === " ") i++;
    if (line[i] === "}") return i + 1;
    const m = LABEL_NAME_RE.exec(line.slice(i));
    if (!m) return -1;
    const key = m[0];
    i += key.length;
    while (line[i] === " ") i++;
    if (line[i] !== "=") return -1;
    i++;
    while (line[i] === " ") i++;
    if (line[i] !== '"') return -1;
    i++;
    let value = "";
    for (;;) {
      const c = line[i];
      if (c === undefined) return -1;
      if (c === "\\") {
        const n = line[i + 1];
        if (n === "n") value += "\n";
        else if (n === "\\" || n === '"') value += n;
        else return -1;
        i += 2;
        continue;
      }
      if (c === '"') {
        i++;
        break;
      }
      value += c;
      i++;
    }
    if (key in out) return -1;
    out[key] = value;
    while (line[i] === " ") i++;
    if (line[i] === ",") {
      i++;
      continue;
    }
    if (line[i] === "}") return i + 1;
    return -1;
  }
}
