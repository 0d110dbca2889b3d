/** Shared by the dashboard and alert tests: metric names in PromQL and the families exported. */
import { createMetrics } from "../../src/observability/metrics.ts";

/** The couchestor_* and process_* metric names a PromQL expression reads. */
export function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(couchestor_[a-z_]+|process_[a-z_]+)\b/g)].map((m) => m[1]);
}

/** Names of every family the operator's registry exports (process metrics included). */
export async function exportedFamilies(): Promise<Set<string>> {
  const m = createMetrics();
  return new Set((await m.registry.getMetricsAsJSON()).map((f) => f.name));
}

/** The family a sample name belongs to (histogram _bucket/_sum/_count → the histogram). */
export function familyOf(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, "");
}

/** Runs promtool with these arguments; fails naming the apt-get command when it is missing. */
export async function promtool(args: string[]): Promise<{ code: number; out: string }> {
  let r;
  try {
    r = await new Deno.Command("promtool", { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error("promtool is missing: apt-get install -y prometheus");
    }
    throw e;
  }
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}
