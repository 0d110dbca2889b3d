/**
 * The sandbox against kube-apiserver's own rules, driven by two real clients: every case of
 * tests/sandbox/conformance/ runs once with kubectl and once with the official Python client
 * (Debian's python3-kubernetes), each stating the behaviour it expects and where upstream
 * defines it.
 */
import { startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { api, widgetCrd } from "./helpers.ts";
import { requireKubectl } from "./kubectl.ts";
import { requirePythonClient } from "./python.ts";
import { applyCases } from "./conformance/apply_cases.ts";
import type { Case, Ctx } from "./conformance/case.ts";
import { gcCases } from "./conformance/gc_cases.ts";
import { watchCases } from "./conformance/watch_cases.ts";
import { writeCases } from "./conformance/write_cases.ts";

const CASES: Case[] = [...watchCases, ...writeCases, ...gcCases, ...applyCases];

Deno.test("conformance: kubectl and the Python client against kube-apiserver's rules", async (t) => {
  await requireKubectl();
  await requirePythonClient();
  const dir = await Deno.makeTempDir({ prefix: "conformance-" });
  // Short bookmarks so a watch that asks for them sees one soon.
  const sb = await startSandbox({ bookmarkIntervalMs: 200 });
  try {
    await sb.core.create(
      sb.core.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")!,
      undefined,
      widgetCrd(),
    );
    for (const [i, c] of CASES.entries()) {
      for (const driver of ["kubectl", "python"] as const) {
        await t.step(`${c.name} [${driver}]`, async () => {
          const ns = `c${i}-${driver === "kubectl" ? "k" : "p"}`;
          await api(sb, "POST", "/api/v1/namespaces", { metadata: { name: ns } });
          const cx: Ctx = { sb, ns, home: dir, dir };
          try {
            await c[driver](cx);
          } catch (e) {
            throw new Error(
              `${c.name} [${driver}]: expected ${c.expects} (${c.upstream}): ${
                (e as Error).message
              }`,
              { cause: e },
            );
          }
        });
      }
    }
  } finally {
    await sb.close();
    await Deno.remove(dir, { recursive: true });
  }
});
