/**
 * Sandbox API server throughput over HTTP, each beside a bare `Deno.serve` baseline
 * answering the same-sized JSON in the same run (deno bench prints the ratio).
 */
import { startSandbox } from "../src/sandbox/apiserver/mod.ts";
import { widget, widgetCrd, WIDGETS } from "../tests/sandbox/helpers.ts";

const sb = await startSandbox({ tls: false });
const h = { authorization: `Bearer ${sb.token}`, "content-type": "application/json" };
const post = (path: string, body: unknown) =>
  fetch(`${sb.httpUrl}${path}`, { method: "POST", headers: h, body: JSON.stringify(body) }).then((
    r,
  ) => r.text());
await post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCrd());
for (let i = 0; i < 1000; i++) await post(WIDGETS, widget(`w${i}`, { tier: "hot" }));
const one = await fetch(`${sb.httpUrl}${WIDGETS}/w1`, { headers: h }).then((r) => r.text());
const list = await fetch(`${sb.httpUrl}${WIDGETS}`, { headers: h }).then((r) => r.text());

const bare = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
  const u = new URL(req.url);
  return new Response(u.pathname === "/list" ? list : one, {
    headers: { "content-type": "application/json" },
  });
});
const bareUrl = `http://127.0.0.1:${bare.addr.port}`;
let n = 0;

Deno.bench({ name: "bare Deno.serve: GET one object", group: "get", baseline: true }, async () => {
  await (await fetch(`${bareUrl}/one`)).text();
});
Deno.bench({ name: "sandbox: GET one custom object", group: "get" }, async () => {
  await (await fetch(`${sb.httpUrl}${WIDGETS}/w1`, { headers: h })).text();
});
Deno.bench(
  { name: "bare Deno.serve: 1,000-item list body", group: "list", baseline: true },
  async () => {
    await (await fetch(`${bareUrl}/list`)).text();
  },
);
Deno.bench({ name: "sandbox: LIST 1,000 custom objects", group: "list" }, async () => {
  await (await fetch(`${sb.httpUrl}${WIDGETS}`, { headers: h })).text();
});
Deno.bench(
  { name: "bare Deno.serve: PATCH-sized request", group: "write", baseline: true },
  async () => {
    await (await fetch(`${bareUrl}/one`, {
      method: "POST",
      body: '{"status":{"observedGeneration":1}}',
    }))
      .text();
  },
);
Deno.bench(
  { name: "sandbox: status merge-patch (validated, watched)", group: "write" },
  async () => {
    const i = n++ % 1000;
    await (await fetch(`${sb.httpUrl}${WIDGETS}/w${i}/status`, {
      method: "PATCH",
      headers: { ...h, "content-type": "application/merge-patch+json" },
      body: JSON.stringify({ status: { observedGeneration: n } }),
    })).text();
  },
);

globalThis.addEventListener("unload", () => {
  void bare.shutdown();
  void sb.close();
});
