import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.ts";
import { PrometheusIopsSource } from "../../src/metrics/prometheus.ts";
import {
  DEFAULT_IOPS_QUERY,
  promDuration,
  renderQuery,
  templatesFor,
} from "../../src/metrics/promql.ts";
import { freePort } from "../../src/sandbox/prometheus.ts";
import { startBackfilledPrometheus } from "../e2e/harness.ts";

const END = Date.UTC(2026, 0, 1, 1, 0, 0); // primary data ends here (ms)
const FALLBACK_END = END + 40 * 60_000; // fallback-only data ends here
const STEP_S = 15;

/** OpenMetrics history: cumulative op counts as gauges (as Mayastor exports them). */
function history(): string {
  const lines: string[] = [];
  const start = END / 1000 - 3600;
  const family = (name: string, series: [string, (t: number) => number | undefined][]) => {
    lines.push(`# TYPE ${name} gauge`);
    for (const [labels, f] of series) {
      for (let t = start; t <= END / 1000; t += STEP_S) {
        const v = f(t - start);
        if (v !== undefined) lines.push(`${name}{${labels}} ${v} ${t}`);
      }
    }
  };
  const resetAt = 3600 - 120; // an io-engine restart two minutes before the end
  family("volume_num_read_ops", [
    ['node="n1",pv_name="pv-hot"', (s) => 300 * s],
    ['node="n1",pv_name="pv-cold"', (s) => 0.5 * s],
    ['node="n2",pv_name="pv-reset"', (s) => (s < resetAt ? 1e6 + 100 * s : 100 * (s - resetAt))],
    ['node="n2",pv_name="pv-gone"', (s) => (s < 1800 ? 50 * s : undefined)],
  ]);
  family("volume_num_write_ops", [
    ['node="n1",pv_name="pv-hot"', (s) => 200 * s],
    ['node="n1",pv_name="pv-cold"', (s) => 0.5 * s],
    ['node="n2",pv_name="pv-reset"', () => 0],
  ]);
  lines.push("# TYPE openebs_volume_iops gauge");
  for (let t = FALLBACK_END / 1000 - 1200; t <= FALLBACK_END / 1000; t += STEP_S) {
    lines.push(`openebs_volume_iops{pv_name="pv-legacy"} 42 ${t}`);
  }
  lines.push("# EOF");
  return lines.join("\n") + "\n";
}

Deno.test("promql: windows in Prometheus form and template rendering", () => {
  assert.equal(promDuration(300_000), "5m");
  assert.equal(promDuration(5_400_000), "1h30m");
  assert.equal(promDuration(1500), "1s500ms");
  assert.throws(() => promDuration(0));
  assert.equal(
    renderQuery(DEFAULT_IOPS_QUERY, 60_000),
    "(sum by (pv_name) (rate(volume_num_read_ops[1m])) + sum by (pv_name) " +
      "(rate(volume_num_write_ops[1m]))) or sum by (pv_name) (rate(volume_num_read_ops[1m]))" +
      " or sum by (pv_name) (rate(volume_num_write_ops[1m]))",
  );
  assert.deepEqual(templatesFor("x[{{window}}]"), ["x[{{window}}]"]);
  assert.equal(templatesFor(undefined).length, 3);
});

Deno.test("prometheus: real Prometheus over backfilled history", async (t) => {
  const prom = await startBackfilledPrometheus(history());
  try {
    const src = new PrometheusIopsSource({ baseUrl: prom.url, clock: new ManualClock(END) });

    await t.step("one query gives every volume's IOPS; counter resets handled", async () => {
      const r = await src.fetchIops({ windowMs: 5 * 60_000 });
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.at, END);
      assert.match(r.query, /rate\(volume_num_write_ops\[5m\]\)/);
      assert.ok(Math.abs(r.iops.get("pv-hot")! - 500) < 5, `pv-hot ${r.iops.get("pv-hot")}`);
      assert.ok(Math.abs(r.iops.get("pv-cold")! - 1) < 0.05, `pv-cold ${r.iops.get("pv-cold")}`);
      // rate() treats the drop as a reset: still ~100 IOPS, not a huge negative or positive.
      assert.ok(Math.abs(r.iops.get("pv-reset")! - 100) < 10, `pv-reset ${r.iops.get("pv-reset")}`);
      // No series in the window: unknown (absent), never 0.
      assert.equal(r.iops.has("pv-gone"), false);
      assert.equal(r.iops.size, 3);
    });

    await t.step("an explicit time is honoured; a volume with only reads is counted", async () => {
      const r = await src.fetchIops({ windowMs: 5 * 60_000, at: END - 40 * 60_000 });
      assert.ok(r.ok);
      assert.ok(Math.abs(r.iops.get("pv-gone")! - 50) < 1);
    });

    await t.step("primary without series falls back to openebs_volume_iops", async () => {
      const r = await src.fetchIops({ windowMs: 5 * 60_000, at: FALLBACK_END });
      assert.ok(r.ok, JSON.stringify(r));
      assert.match(r.query, /openebs_volume_iops\[5m\]/);
      assert.deepEqual([...r.iops], [["pv-legacy", 42]]);
    });

    await t.step("a custom template per policy", async () => {
      const r = await src.fetchIops({
        windowMs: 60_000,
        templates: ["sum by (pv_name) (rate(volume_num_read_ops[{{window}}]))"],
      });
      assert.ok(r.ok);
      assert.ok(Math.abs(r.iops.get("pv-hot")! - 300) < 5);
    });

    await t.step("no series for any template: NoData, not all-zero", async () => {
      const r = await src.fetchIops({ windowMs: 60_000, at: END + 10 * 60_000 });
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.reason, "NoData");
    });

    await t.step("a bad template is a QueryError from Prometheus itself", async () => {
      const r = await src.fetchIops({ windowMs: 60_000, templates: ["sum by (pv_name) ("] });
      assert.equal(!r.ok && r.reason, "QueryError");
      assert.match(!r.ok ? r.message : "", /bad_data|parse/);
    });

    await t.step("Prometheus stopped: Unreachable", async () => {
      await prom.stop();
      const r = await src.fetchIops({ windowMs: 60_000 });
      assert.equal(!r.ok && r.reason, "Unreachable");
    });
  } finally {
    await prom.stop();
  }
});

/** Serves `handler` on 127.0.0.1:0 and records request URLs. */
function serve(handler: (req: Request) => Response | Promise<Response>) {
  const urls: string[] = [];
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    (req) => {
      urls.push(req.url);
      return handler(req);
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    urls,
    close: async () => {
      ac.abort();
      await server.finished;
    },
  };
}

Deno.test("prometheus: error answers become typed failures, never IOPS", async (t) => {
  const cases: [string, () => Response, string][] = [
    ["HTTP 500 with a text body", () => new Response("boom", { status: 500 }), "HttpError"],
    ["malformed JSON", () => new Response("{not json", { status: 200 }), "MalformedResponse"],
    [
      "JSON of the wrong shape",
      () => Response.json({ status: "success", data: { resultType: "vector", result: [{}] } }),
      "MalformedResponse",
    ],
    [
      "an API error body",
      () =>
        Response.json({ status: "error", errorType: "timeout", error: "query timed out" }, {
          status: 503,
        }),
      "QueryError",
    ],
    [
      "a matrix instead of a vector",
      () => Response.json({ status: "success", data: { resultType: "matrix", result: [] } }),
      "QueryError",
    ],
  ];
  for (const [name, respond, reason] of cases) {
    await t.step(name, async () => {
      const s = serve(respond);
      try {
        const src = new PrometheusIopsSource({ baseUrl: s.url, timeoutMs: 2000 });
        const r = await src.fetchIops({ windowMs: 60_000, at: END });
        assert.equal(r.ok, false);
        assert.equal(!r.ok && r.reason, reason, !r.ok ? r.message : "");
        // One request only: failures stop the read instead of trying fallbacks.
        assert.equal(s.urls.length, 1);
        const u = new URL(s.urls[0]);
        assert.equal(u.pathname, "/api/v1/query");
        assert.equal(u.searchParams.get("time"), (END / 1000).toFixed(3));
      } finally {
        await s.close();
      }
    });
  }

  await t.step("a hanging server times out", async () => {
    const { promise: release, resolve } = Promise.withResolvers<void>();
    const s = serve(async () => {
      await release;
      return new Response("late");
    });
    try {
      const src = new PrometheusIopsSource({ baseUrl: s.url, timeoutMs: 150 });
      const r = await src.fetchIops({ windowMs: 60_000 });
      assert.equal(!r.ok && r.reason, "Timeout");
    } finally {
      resolve();
      await s.close();
    }
  });

  await t.step("NaN samples have no reading (with the reason), duplicates summed", async () => {
    const at = END / 1000;
    const s = serve(() =>
      Response.json({
        status: "success",
        data: {
          resultType: "vector",
          result: [
            { metric: { pv_name: "a" }, value: [at, "NaN"] },
            { metric: { pv_name: "b" }, value: [at, "+Inf"] },
            { metric: { pv_name: "c" }, value: [at, "7"] },
            { metric: { pv_name: "c" }, value: [at, "3"] },
            { metric: {}, value: [at, "9"] },
          ],
        },
      })
    );
    try {
      const src = new PrometheusIopsSource({ baseUrl: s.url });
      const r = await src.fetchIops({ windowMs: 60_000, at: END });
      assert.ok(r.ok);
      assert.deepEqual([...r.iops], [["c", 10]]);
      assert.deepEqual([...r.rejected!].map(([pv, x]) => [pv, x.reason]), [
        ["a", "NotFinite"],
        ["b", "NotFinite"],
      ]);
    } finally {
      await s.close();
    }
  });

  await t.step("nothing listening: Unreachable", async () => {
    const src = new PrometheusIopsSource({ baseUrl: `http://127.0.0.1:${freePort()}` });
    const r = await src.fetchIops({ windowMs: 60_000 });
    assert.equal(!r.ok && r.reason, "Unreachable");
  });
});
