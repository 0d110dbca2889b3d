/**
 * Distrust of metrics: a fake Prometheus (its own HTTP server on 127.0.0.1:0) answers with each
 * bad value issue 17 found; the volume carrying it gets no reading and says why, the others are
 * read, the source never throws, and an answer with nothing trustworthy is `ImplausibleData`.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.ts";
import { PrometheusIopsSource } from "../../src/metrics/prometheus.ts";
import { readPolicyIops } from "../../src/metrics/read.ts";
import { judgeSample, parseSampleValue } from "../../src/metrics/sample.ts";
import type { RejectionReason } from "../../src/metrics/source.ts";
import { createMetrics } from "../../src/observability/metrics.ts";

const AT = Date.UTC(2026, 3, 1, 12, 0, 0);
const WINDOW = 5 * 60_000;

type Sample = { pv: string; value: string; atS?: number };

/** A fake Prometheus whose /api/v1/query answers with `samples` (stamped at the query time). */
function fakePrometheus(samples: () => Sample[]) {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    (req) => {
      const time = Number(new URL(req.url).searchParams.get("time"));
      return Response.json({
        status: "success",
        data: {
          resultType: "vector",
          result: samples().map((s) => ({
            metric: { pv_name: s.pv },
            value: [s.atS ?? time, s.value],
          })),
        },
      });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: async () => {
      ac.abort();
      await server.finished;
    },
  };
}

const BAD: [string, Sample, RejectionReason][] = [
  ["empty string", { pv: "bad", value: "" }, "Unparseable"],
  ["blanks", { pv: "bad", value: "  " }, "Unparseable"],
  ["hex 0x0", { pv: "bad", value: "0x0" }, "Unparseable"],
  ["1e12 (implausible)", { pv: "bad", value: "1e12" }, "Implausible"],
  ["stamped 1970", { pv: "bad", value: "12", atS: 1 }, "Stale"],
  ["1e308 (finite but absurd)", { pv: "bad", value: "1e308" }, "Implausible"],
  ["1e309 (Infinity once parsed)", { pv: "bad", value: "1e309" }, "NotFinite"],
  ["NaN", { pv: "bad", value: "NaN" }, "NotFinite"],
  ["-5", { pv: "bad", value: "-5" }, "Negative"],
];

Deno.test("distrust: each bad value leaves its volume without a reading, with the reason", async (t) => {
  let current: Sample[] = [];
  const prom = fakePrometheus(() => current);
  try {
    const src = new PrometheusIopsSource({ baseUrl: prom.url, clock: new ManualClock(AT) });
    for (const [name, bad, reason] of BAD) {
      await t.step(name, async () => {
        current = [bad, { pv: "good", value: "250.5" }];
        const metrics = createMetrics({ defaultMetrics: false });
        const read = await readPolicyIops(src, { policy: "p", windowMs: WINDOW }, metrics);
        assert.ok(read.result.ok, JSON.stringify(read.condition));
        assert.deepEqual([...read.result.iops], [["good", 250.5]]);
        assert.equal(read.result.iops.has("bad"), false, "no reading, never 0");
        assert.equal(read.rejected.get("bad")?.reason, reason);
        assert.equal(read.condition.status, "True");
        assert.match(read.condition.message, /1 rejected \(bad: value .*\), not moved/);

        // Alone, the bad value is all there is: a failed read, nothing may move.
        current = [bad];
        const alone = await readPolicyIops(src, { policy: "p", windowMs: WINDOW }, metrics);
        assert.equal(alone.result.ok, false);
        assert.equal(alone.condition.status, "False");
        assert.equal(alone.condition.reason, "ImplausibleData");
        assert.match(alone.condition.message, /every value was rejected: 1 rejected \(bad: /);
        assert.equal(alone.rejected.get("bad")?.reason, reason);
        const fails = await metrics.metricsQueryFailures.get();
        assert.deepEqual(fails.values.map((v) => [v.labels.reason, v.value]), [
          ["ImplausibleData", 1],
        ]);
      });
    }

    await t.step(
      "the ceiling is configurable; sums over several series are judged too",
      async () => {
        const low = new PrometheusIopsSource({
          baseUrl: prom.url,
          clock: new ManualClock(AT),
          maxPlausibleIops: 1000,
        });
        current = [{ pv: "a", value: "600" }, { pv: "a", value: "600" }, { pv: "b", value: "999" }];
        const r = await low.fetchIops({ windowMs: WINDOW });
        assert.ok(r.ok);
        assert.deepEqual([...r.iops], [["b", 999]]);
        assert.equal(r.rejected!.get("a")?.reason, "Implausible");
        assert.match(r.rejected!.get("a")!.message, /summed value 1200 is above .* 1000 IOPS/);
      },
    );

    await t.step("a sample stamped in the future is rejected as well", async () => {
      current = [{ pv: "a", value: "5", atS: AT / 1000 + 3600 }, { pv: "b", value: "1" }];
      const r = await src.fetchIops({ windowMs: WINDOW });
      assert.ok(r.ok);
      assert.equal(r.rejected!.get("a")?.reason, "FromFuture");
    });
  } finally {
    await prom.close();
  }
});

Deno.test("distrust: the value grammar is Prometheus' own (decimal or NaN/+Inf/-Inf)", () => {
  // util/jsonutil/marshal.go writes 'f' or 'e' formats: all of these are what it can send.
  for (const [text, v] of [["0", 0], ["12.5", 12.5], ["1e+21", 1e21], ["1.5e-07", 1.5e-7]]) {
    assert.equal(parseSampleValue(text as string), v);
  }
  assert.ok(Number.isNaN(parseSampleValue("NaN")));
  assert.equal(parseSampleValue("+Inf"), Infinity);
  assert.equal(parseSampleValue("-Inf"), -Infinity);
  for (const bad of ["", " ", " 1", "1 ", "0x10", "1_000", "Infinity", "nan", "1e", "--1", "1,5"]) {
    assert.equal(parseSampleValue(bad), undefined, JSON.stringify(bad));
  }
  const limits = { maxValue: 10, at: 100_000, windowMs: 10_000 };
  assert.deepEqual(judgeSample("10", limits, 95_000), { ok: true, value: 10 });
  assert.equal(judgeSample("10", limits, 89_999).ok, false);
});
