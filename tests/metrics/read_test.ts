import assert from "node:assert/strict";
import { readPolicyIops } from "../../src/metrics/read.ts";
import { PrometheusIopsSource } from "../../src/metrics/prometheus.ts";
import { createMetrics } from "../../src/observability/metrics.ts";

Deno.test("readPolicyIops: condition and failure counter from a real HTTP answer", async () => {
  let body: unknown = { status: "success", data: { resultType: "vector", result: [] } };
  let seenQuery = "";
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    (req) => {
      seenQuery = new URL(req.url).searchParams.get("query") ?? "";
      return Response.json(body);
    },
  );
  try {
    const src = new PrometheusIopsSource({ baseUrl: `http://127.0.0.1:${server.addr.port}` });
    const metrics = createMetrics({ defaultMetrics: false });
    const empty = await readPolicyIops(src, { policy: "gold", windowMs: 60_000 }, metrics);
    assert.equal(empty.condition.status, "False");
    assert.equal(empty.condition.reason, "NoData");
    const fails = await metrics.metricsQueryFailures.get();
    assert.deepEqual(fails.values.map((v) => [v.labels, v.value]), [
      [{ policy: "gold", reason: "NoData" }, 1],
    ]);
    body = {
      status: "success",
      data: {
        resultType: "vector",
        result: [{ metric: { pv_name: "a" }, value: [Date.now() / 1000, "5"] }],
      },
    };
    const ok = await readPolicyIops(src, {
      policy: "gold",
      windowMs: 120_000,
      metricsQuery: "my_iops[{{window}}]",
    }, metrics);
    assert.equal(seenQuery, "my_iops[2m]");
    assert.equal(ok.condition.status, "True");
    assert.ok(ok.result.ok && ok.result.iops.get("a") === 5);
  } finally {
    ac.abort();
    await server.finished;
  }
});
