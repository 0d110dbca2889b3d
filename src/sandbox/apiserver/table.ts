/** `meta.k8s.io/v1 Table` rendering: column definitions, cells, ages (pure; `now` is passed in). */
import { evalJsonPath, parseJsonPath } from "./jsonpath.ts";

/** A printer column with how to compute its cell from an object. */
export interface Column {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority: number;
  /** Computes the raw cell value; dates come back as RFC 3339 strings. */
  value: (obj: Record<string, unknown>) => unknown;
}

/** A CRD `additionalPrinterColumns` entry. */
export interface PrinterColumnSpec {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

/** The standard Name column every table starts with. */
export const nameColumn: Column = {
  name: "Name",
  type: "string",
  format: "name",
  description: "Name must be unique within a namespace.",
  priority: 0,
  value: (o) => (o.metadata as Record<string, unknown> | undefined)?.name ?? "",
};

/** The standard Age column. */
export const ageColumn: Column = {
  name: "Age",
  type: "date",
  description:
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
  priority: 0,
  value: (o) => (o.metadata as Record<string, unknown> | undefined)?.creationTimestamp,
};

/** Builds columns from a CRD's printer columns (Name first, as the real server does). */
export function crdColumns(specs: PrinterColumnSpec[] | undefined): Column[] {
  if (!specs || specs.length === 0) return [nameColumn, ageColumn];
  return [
    nameColumn,
    ...specs.map((c): Column => {
      let steps: ReturnType<typeof parseJsonPath> | undefined;
      try {
        steps = parseJsonPath(c.jsonPath);
      } catch {
        steps = undefined;
      }
      return {
        name: c.name,
        type: c.type,
        ...(c.format ? { format: c.format } : {}),
        description: c.description ?? "",
        priority: c.priority ?? 0,
        value: (o) => {
          if (!steps) return null;
          const r = evalJsonPath(steps, o).filter((x) => x !== undefined && x !== null);
          if (r.length === 0) return null;
          if (r.length === 1) return r[0];
          return r.map((x) => (typeof x === "object" ? JSON.stringify(x) : String(x))).join(",");
        },
      };
    }),
  ];
}

/** Kubernetes' HumanDuration: `5s`, `3m20s`, `5h12m`, `3d4h`, `2y10d`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const d = Math.floor(hours / 24) % 365;
    return d === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${d}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** One cell as the server prints it: dates become ages, missing values null. */
export function cell(col: Column, obj: Record<string, unknown>, now: number): unknown {
  let v: unknown;
  try {
    v = col.value(obj);
  } catch {
    v = null;
  }
  if (v === undefined || v === null) return col.type === "date" ? "<unknown>" : null;
  if (col.type === "date" && typeof v === "string") {
    const t = Date.parse(v);
    return Number.isNaN(t) ? v : humanDuration(now - t);
  }
  if (col.type === "integer" && typeof v === "number") return Math.trunc(v);
  if (typeof v === "object") return JSON.stringify(v);
  return v;
}

/** The `columnDefinitions` entries of a Table. */
export function columnDefinitions(cols: Column[]): Record<string, unknown>[] {
  return cols.map((c) => ({
    name: c.name,
    type: c.type,
    format: c.format ?? "",
    description: c.description,
    priority: c.priority,
  }));
}

/** The row's `object` for `includeObject=Metadata` (the default). */
export function partialMetadata(obj: Record<string, unknown>): Record<string, unknown> {
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj.metadata };
}

/** Builds a Table from objects. */
export function toTable(
  cols: Column[],
  objs: Record<string, unknown>[],
  opts: {
    now: number;
    resourceVersion: string;
    continue?: string;
    includeObject?: string;
    withColumns?: boolean;
  },
): Record<string, unknown> {
  const include = opts.includeObject ?? "Metadata";
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: {
      resourceVersion: opts.resourceVersion,
      ...(opts.continue ? { continue: opts.continue } : {}),
    },
    columnDefinitions: opts.withColumns === false ? null : columnDefinitions(cols),
    rows: objs.map((o) => ({
      cells: cols.map((c) => cell(c, o, opts.now)),
      ...(include === "None" ? {} : { object: include === "Object" ? o : partialMetadata(o) }),
    })),
  };
}
