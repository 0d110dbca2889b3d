/**
 * Distrust of metrics through the whole operator (issue 17): a fake Prometheus (its own HTTP
 * server on 127.0.0.1:0) answers each bad value issue 17 found for one volume, beside a good
 * reading for another. The bad volume never moves and its status says why; the operator keeps
 * reconciling; a query with nothing trustworthy sets MetricsAvailable=False (ImplausibleData).
 */
import assert from "node:assert/strict";
import type { StoragePolicyStatus } from "../../src/api/storage_policy.ts";
import { PrometheusIopsSource } from "../../src/metrics/prometheus.ts";
import { volumeSeriesKey } from "../../src/model/series.ts";
import {
  drive,
  type Env,
  getPolicy,
  MiB,
  policy,
  replicaTiers,
  runFor,
  startEnv,
} from "./harness.ts";

type Sample = { series: string; value: string; atS?: number };

/** A fake Prometheus whose instant queries answer `samples()` (stamped at the query time). */
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
            metric: { pv_name: s.series },
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

const BAD: [string, string, number | undefined][] = [
  ["empty string", "", undefined],
  ["blanks", "  ", undefined],
  ["hex", "0x0", undefined],
  ["1e12", "1e12", undefined],
  ["1e308", "1e308", undefined],
  ["1e309", "1e309", undefined],
  ["NaN", "NaN", undefined],
  ["negative", "-5", undefined],
  ["stamped 1970", "5", 1],
];

const status = async (env: Env) =>
  (await getPolicy(env, "p")).status as StoragePolicyStatus | undefined;

Deno.test("distrust (operator): no bad value ever moves a volume; the reason is in status; the operator lives on", async (t) => {
  let current: Sample[] = [];
  const prom = fakePrometheus(() => current);
  const env = await startEnv({
    policies: [policy("p")],
    // pv-bad idles on hot (a 0 would demote it), pv-bad-cold idles on cold (1e12 would promote).
    volumes: [
      { name: "pv-bad", sizeBytes: MiB, pools: ["hot-1"], profile: { kind: "idle" } },
      { name: "pv-bad-cold", sizeBytes: MiB, pools: ["cold-1"], profile: { kind: "idle" } },
      { name: "pv-good", sizeBytes: MiB, pools: ["hot-2"], profile: { kind: "idle" } },
    ],
    iops: (_scrape, clock) => new PrometheusIopsSource({ baseUrl: prom.url, clock }),
  });
  try {
    const key = (pv: string) => volumeSeriesKey(env.cluster.volumes.get(pv)!);
    const passes = () => env.operator.storagePolicies.reconciler.lastPass.get("p");
    for (const [name, value, atS] of BAD) {
      await t.step(name, async () => {
        // Both bad volumes carry the bad value; pv-good reads 1500 (within band on hot: stays).
        current = [
          { series: key("pv-bad"), value, atS },
          { series: key("pv-bad-cold"), value, atS },
          { series: key("pv-good"), value: "1500" },
        ];
        // Passes run every 2 s (resync) and on changes: many passes with this reading.
        await runFor(env, 15_000);
        const st = (await status(env))!;
        for (const pv of ["pv-bad", "pv-bad-cold"]) {
          const d = st.volumeDecisions?.find((x) => x.volume === pv);
          assert.equal(d?.reason, "ImplausibleMetrics", `${pv}: ${JSON.stringify(d)}`);
        }
        assert.deepEqual(replicaTiers(env, "pv-bad"), ["hot"]);
        assert.deepEqual(replicaTiers(env, "pv-bad-cold"), ["cold"]);
        assert.equal(st.totalMigrations ?? 0, 0, "nothing moved");
        const m = st.conditions?.find((c) => c.type === "MetricsAvailable");
        assert.equal(m?.status, "True", "the good reading is used");
        assert.match(m?.message ?? "", /rejected/);
        assert.equal(passes()?.phase, "Active", "the operator keeps reconciling");
      });
    }
    await t.step("nothing trustworthy at all: MetricsAvailable=False ImplausibleData", async () => {
      current = [{ series: key("pv-bad"), value: "1e309" }];
      await drive(
        env,
        async () =>
          (await status(env))?.conditions?.find((c) => c.type === "MetricsAvailable")?.reason ===
            "ImplausibleData",
      );
      assert.equal((await status(env))!.totalMigrations ?? 0, 0);
    });
    await t.step("a good value again: the volume moves as the bands say", async () => {
      current = [{ series: key("pv-bad-cold"), value: "3000" }];
      await drive(env, () => replicaTiers(env, "pv-bad-cold")[0] === "hot", {
        maxSteps: 2_000,
      });
    });
  } finally {
    await env.stop();
    await prom.close();
  }
});
