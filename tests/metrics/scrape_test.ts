import assert from "node:assert/strict";
import fc from "fast-check";
import { ManualClock } from "../../src/clock.ts";
import { counterRate, ScrapeIopsSource } from "../../src/metrics/scrape.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { harness } from "../mayastor/harness.ts";

/** A real HTTP exporter on 127.0.0.1 whose page the test rewrites between scrapes. */
function exporter() {
  let page = "";
  let status = 200;
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    () => new Response(page, { status }),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/metrics`,
    set(counters: Record<string, [number, number]>, extra = "") {
      const lines = ["# TYPE volume_num_read_ops gauge", "# TYPE volume_num_write_ops gauge"];
      for (const [pv, [r, w]] of Object.entries(counters)) {
        lines.push(`volume_num_read_ops{node="n1",pv_name="${pv}"} ${r}`);
        lines.push(`volume_num_write_ops{node="n1",pv_name="${pv}"} ${w}`);
      }
      page = lines.join("\n") + "\n" + extra;
    },
    fail(code: number) {
      status = code;
    },
    close: async () => {
      ac.abort();
      await server.finished;
    },
  };
}

Deno.test("counterRate: slope, resets, too few samples", () => {
  assert.equal(counterRate([[0, 0], [10_000, 1000]]), 100);
  // Restart at 20 s: 1000 → 50 means 50 new ops, not -950.
  assert.equal(counterRate([[0, 0], [10_000, 1000], [20_000, 50]]), (1000 + 50) / 20);
  assert.equal(counterRate([[0, 5]]), undefined);
  assert.equal(counterRate([[0, 5], [0, 6]]), undefined);
});

Deno.test("property: counterRate is never negative and exact without resets", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 60_000 }), fc.nat(1_000_000)), {
        minLength: 2,
        maxLength: 30,
      }),
      fc.nat(1e9),
      (steps, start) => {
        // Monotone counter: exact rate.
        let t = 0;
        let v = start;
        const mono: [number, number][] = [[0, start]];
        for (const [dt, inc] of steps) mono.push([t += dt, v += inc]);
        const r = counterRate(mono)!;
        assert.ok(Math.abs(r - (v - start) / (t / 1000)) <= 1e-9 * Math.max(1, r));
        // Arbitrary values (resets anywhere): never negative, never more than the values add.
        const wild = steps.map(([, x], i) => [mono[i + 1][0], x] as [number, number]);
        const w = counterRate([[0, start], ...wild])!;
        const bound = wild.reduce((a, [, x]) => a + x, 0) / (t / 1000);
        assert.ok(w >= 0 && w <= bound + 1e-9);
      },
    ),
  );
});

Deno.test("scrape: rates over the window, reset-aware, malformed lines counted", async () => {
  const clock = new ManualClock();
  const ex = exporter();
  try {
    const src = new ScrapeIopsSource({ targets: [ex.url], clock, logger: silentLogger });
    const none = await src.fetchIops({ windowMs: 60_000 });
    assert.equal(!none.ok && none.reason, "Unreachable");
    for (let i = 0; i <= 8; i++) {
      const t = i * 15; // seconds
      // pv-a: 300 reads/s + 200 writes/s; pv-b: io-engine restart after 60 s.
      const b = t < 60 ? 1e6 + 10 * t : 10 * (t - 60);
      ex.set({ "pv-a": [300 * t, 200 * t], "pv-b": [b, 0] }, "garbage line {\nok_metric 1\n");
      const rep = await src.scrapeOnce();
      assert.equal(rep.targets[0].ok, true);
      assert.equal(rep.targets[0].skipped, 1);
      if (i === 0) {
        const one = await src.fetchIops({ windowMs: 60_000 });
        assert.equal(!one.ok && one.reason, "NoData"); // one sample is no rate
      }
      if (i < 8) await clock.advance(15_000);
    }
    assert.equal(src.skippedLines, 9);
    const r = await src.fetchIops({ windowMs: 60_000 });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.at, clock.now());
    assert.equal(r.iops.get("pv-a"), 500);
    // Window [60 s, 120 s]: samples 0, 150, 300, 450, 600 (the reset fell just before 60 s).
    assert.equal(r.iops.get("pv-b"), 10);
    const wide = await src.fetchIops({ windowMs: 120_000 });
    assert.ok(wide.ok);
    // Across the reset: the ops between the last pre-restart sample and the restart are
    // unknowable and not counted (like rate() without extrapolation): (450 + 600) / 120 s.
    assert.equal(wide.iops.get("pv-b"), 8.75);
  } finally {
    await ex.close();
  }
});

Deno.test("scrape: a failed exporter makes its volumes unknown, never 0", async () => {
  const clock = new ManualClock();
  const a = exporter();
  const b = exporter();
  try {
    const src = new ScrapeIopsSource({ targets: [a.url, b.url], clock });
    for (let i = 0; i < 3; i++) {
      a.set({ "pv-a": [100 * i * 10, 0] });
      b.set({ "pv-b": [7 * i * 10, 0] });
      await src.scrapeOnce();
      await clock.advance(10_000);
    }
    let r = await src.fetchIops({ windowMs: 60_000 });
    assert.ok(r.ok);
    assert.deepEqual([...r.iops].sort(), [["pv-a", 100], ["pv-b", 7]]);

    b.fail(500);
    a.set({ "pv-a": [3000, 0] });
    const rep = await src.scrapeOnce();
    assert.equal(rep.targets[1].ok, false);
    r = await src.fetchIops({ windowMs: 60_000 });
    assert.ok(r.ok);
    assert.deepEqual([...r.iops], [["pv-a", 100]]);

    a.fail(503);
    await clock.advance(10_000);
    await src.scrapeOnce();
    r = await src.fetchIops({ windowMs: 60_000 });
    assert.equal(!r.ok && r.reason, "Unreachable");
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("scrape: a volume that stops being exported becomes unknown; old samples pruned", async () => {
  const clock = new ManualClock();
  const ex = exporter();
  try {
    const src = new ScrapeIopsSource({ targets: [ex.url], clock, retentionMs: 30_000 });
    for (let i = 0; i < 3; i++) {
      ex.set({ "pv-a": [i * 100, 0], "pv-b": [i * 100, 0] });
      await src.scrapeOnce();
      await clock.advance(10_000);
    }
    ex.set({ "pv-a": [300, 0] });
    await src.scrapeOnce();
    const r = await src.fetchIops({ windowMs: 60_000 });
    assert.ok(r.ok);
    assert.deepEqual([...r.iops], [["pv-a", 10]]);
    // Retention 30 s: pv-b's samples age out entirely after enough scrapes.
    for (let i = 0; i < 4; i++) {
      await clock.advance(10_000);
      ex.set({ "pv-a": [400 + i * 100, 0] });
      await src.scrapeOnce();
    }
    const later = await src.fetchIops({ windowMs: 60_000 });
    assert.ok(later.ok);
    assert.deepEqual([...later.iops], [["pv-a", 10]]);
  } finally {
    await ex.close();
  }
});

Deno.test("scrape: run() scrapes on its interval until aborted", async () => {
  const clock = new ManualClock();
  const ex = exporter();
  try {
    ex.set({ "pv-a": [0, 0] });
    const ac = new AbortController();
    const src = new ScrapeIopsSource({ targets: [ex.url], clock });
    const loop = src.run(5000, ac.signal);
    // Each scrape is held I/O on the clock: settling lets it finish before time moves on.
    for (let i = 1; i <= 3; i++) {
      await clock.settle();
      assert.equal(src.rounds, i);
      ex.set({ "pv-a": [i * 50, 0] });
      await clock.runFor(5000);
    }
    assert.equal(src.rounds, 4);
    ac.abort();
    await loop;
    assert.equal(src.rounds, 4);
    const r = await src.fetchIops({ windowMs: 60_000 });
    assert.ok(r.ok);
    assert.equal(r.iops.get("pv-a"), 10);
  } finally {
    await ex.close();
  }
});

Deno.test("scrape: the Mayastor simulator's exporter, across an io-engine restart", async () => {
  const h = await harness({
    volume: { pools: ["cold-1"], profile: { kind: "steady", iops: 250 } },
  });
  try {
    const src = new ScrapeIopsSource({ targets: [h.sim.metricsUrl], clock: h.clock });
    for (let i = 0; i < 7; i++) {
      if (i === 4) h.sim.faults.restartIoEngine(); // counters drop back to zero
      await src.scrapeOnce();
      if (i < 6) await h.clock.advance(10_000);
    }
    const r = await src.fetchIops({ windowMs: 60_000 });
    assert.ok(r.ok, JSON.stringify(r));
    // 250 IOPS steady; across the restart the ops before it in that interval are lost at
    // most, never a negative or a huge jump.
    const v = r.iops.get(`pvc-${h.volume}`)!;
    assert.ok(v > 200 && v <= 250.5, `got ${v}`);
    const before = await src.fetchIops({ windowMs: 25_000, at: h.clock.now() - 30_000 });
    assert.ok(before.ok);
    assert.ok(Math.abs(before.iops.get(`pvc-${h.volume}`)! - 250) < 0.5);
  } finally {
    await h.close();
  }
});

Deno.test("scrape: NaN, negative, stale-stamped and implausible counters leave the volume without a reading", async () => {
  const ex = exporter();
  const clock = new ManualClock();
  try {
    const src = new ScrapeIopsSource({
      targets: [ex.url],
      clock,
      logger: silentLogger,
      maxPlausibleIops: 1_000_000,
    });
    const page = (good: number, bad: string, stamp = "") =>
      [
        `volume_num_read_ops{node="n1",pv_name="good"} ${good}`,
        `volume_num_read_ops{node="n1",pv_name="bad"} ${bad}${stamp}`,
      ].join("\n") + "\n";
    const cases: [string, (i: number) => string, string][] = [
      ["NaN", () => "NaN", "NotFinite"],
      ["negative", () => "-5", "Negative"],
      ["stamped 1970", (i) => `${i * 100} 1000`, "Stale"],
      ["implausible rate", (i) => `${i * 1e12}`, "Implausible"],
    ];
    let i = 0;
    for (const [name, bad, reason] of cases) {
      for (let k = 0; k < 2; k++) {
        i++;
        ex.set({}, page(i * 100, bad(i)));
        await src.scrapeOnce();
        await clock.advance(10_000);
      }
      const r = await src.fetchIops({ windowMs: 30_000, at: clock.now() - 10_000 });
      assert.ok(r.ok, `${name}: ${JSON.stringify(r)}`);
      assert.ok(Math.abs(r.iops.get("good")! - 10) < 1e-9, `${name}: good ${r.iops.get("good")}`);
      assert.equal(r.iops.has("bad"), false, name);
      assert.equal(r.rejected!.get("bad")?.reason, reason, name);
    }
    // Only bad values: nothing trustworthy, a failed read.
    ex.set({}, `volume_num_read_ops{node="n1",pv_name="bad"} NaN\n`);
    await src.scrapeOnce();
    const only = await src.fetchIops({ windowMs: 30_000 });
    assert.equal(!only.ok && only.reason, "ImplausibleData");
  } finally {
    await ex.close();
  }
});
