import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { Readiness } from "../../src/observability/readiness.ts";
import { startServers } from "../../src/observability/server.ts";
import { Watchdog } from "../../src/observability/watchdog.ts";

const LOOPBACK0 = { hostname: "127.0.0.1", port: 0 };

async function get(url: string): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), type: res.headers.get("content-type")! };
}

Deno.test("servers: /metrics on one port, /healthz and /readyz on the other", async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const readiness = new Readiness();
  const clock = new ManualClock();
  const watchdog = new Watchdog({ clock, intervalMs: 1000, thresholdMs: 5000 });
  const servers = startServers({
    metricsAddr: LOOPBACK0,
    healthAddr: LOOPBACK0,
    registry: metrics.registry,
    readiness,
    watchdog,
    logger: silentLogger,
  });
  try {
    assert.notEqual(servers.metrics.port, 0);
    assert.notEqual(servers.metrics.port, servers.health.port);
    const m = `http://127.0.0.1:${servers.metrics.port}`;
    const h = `http://127.0.0.1:${servers.health.port}`;

    const scraped = await get(`${m}/metrics`);
    assert.equal(scraped.status, 200);
    assert.match(scraped.type, /^text\/plain; version=0\.0\.4/);
    assert.match(scraped.body, /couchestor_build_info\{version="[^"]+",codec_kernel="[^"]+"\} 1/);
    assert.equal((await get(`${m}/healthz`)).status, 404, "health is not on the metrics port");
    assert.equal((await get(`${h}/metrics`)).status, 404, "metrics are not on the health port");

    const kube = readiness.register("kubernetes-api");
    kube.notReady("connection refused");
    const notReady = await get(`${h}/readyz`);
    assert.equal(notReady.status, 503);
    assert.match(notReady.body, /^not ready: kubernetes-api: connection refused\n/);
    assert.match(notReady.body, /\[-\]kubernetes-api: connection refused/);
    kube.ready();
    const ready = await get(`${h}/readyz`);
    assert.equal(ready.status, 200);
    assert.match(ready.body, /\[\+\]kubernetes-api ok/);

    assert.equal((await get(`${h}/healthz`)).status, 200);
    await clock.advance(7000); // no heartbeat loop runs: 6 s overdue > 5 s threshold
    const stalled = await get(`${h}/healthz`);
    assert.equal(stalled.status, 500);
    assert.match(stalled.body, /event loop stalled for 6000ms/);
  } finally {
    await servers.close();
  }
});

Deno.test("servers: one server serves everything when both addresses are the same port", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const addr = { hostname: "127.0.0.1", port };
  const servers = startServers({
    metricsAddr: addr,
    healthAddr: addr,
    registry: createMetrics({ defaultMetrics: false }).registry,
    readiness: new Readiness(),
    watchdog: new Watchdog({ clock: new ManualClock() }),
    logger: silentLogger,
  });
  try {
    assert.equal((await get(`http://127.0.0.1:${port}/metrics`)).status, 200);
    assert.equal((await get(`http://127.0.0.1:${port}/readyz`)).status, 200);
    assert.equal((await get(`http://127.0.0.1:${port}/healthz`)).status, 200);
  } finally {
    await servers.close();
  }
});

Deno.test("servers: an address in use is an error, and nothing stays bound", () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    assert.throws(() =>
      startServers({
        metricsAddr: LOOPBACK0,
        healthAddr: taken.addr as Deno.NetAddr,
        registry: createMetrics({ defaultMetrics: false }).registry,
        readiness: new Readiness(),
        watchdog: new Watchdog({ clock: new ManualClock() }),
        logger: silentLogger,
      }), Deno.errors.AddrInUse);
  } finally {
    taken.close();
  }
});
