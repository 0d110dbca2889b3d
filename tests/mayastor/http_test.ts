/** The api-rest HTTP client against small real servers: backoff, retry classes, timeouts. */
import assert from "node:assert/strict";
import { z } from "zod";
import { ManualClock } from "../../src/clock.ts";
import { MayastorApiError, RestClient, seg } from "../../src/mayastor/http.ts";
import { BackendError } from "../../src/mayastor/port.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { drive } from "./harness.ts";

/** A server answering with `answers` in turn (the last one repeats), recording request times. */
function scripted(clock: ManualClock, answers: (() => Response | Promise<Response>)[]) {
  const seen: { at: number; path: string; auth: string | null }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const u = new URL(req.url);
    seen.push({
      at: clock.now(),
      path: u.pathname + u.search,
      auth: req.headers.get("authorization"),
    });
    return answers[Math.min(seen.length - 1, answers.length - 1)]();
  });
  return { seen, server, base: `http://127.0.0.1:${server.addr.port}/v0` };
}

const err = (status: number, kind: string) => () =>
  new Response(JSON.stringify({ kind, details: `${kind} details`, message: "" }), { status });
const ok = () => new Response(JSON.stringify({ n: 1 }), { status: 200 });
const Body = z.object({ n: z.number() });

Deno.test("5xx and 429 are retried with exponential backoff on the injected clock", async () => {
  const clock = new ManualClock();
  const s = scripted(clock, [
    err(503, "Unavailable"),
    err(429, "ResourceExhausted"),
    err(500, "Internal"),
    ok,
  ]);
  try {
    const c = new RestClient({
      baseUrl: s.base,
      clock,
      logger: silentLogger,
      backoffMs: 100,
      headers: { authorization: "Bearer t0ken" },
    });
    const t0 = clock.now();
    const body = await drive(
      clock,
      c.call({ method: "GET", path: "/pools", schema: Body }),
      () => {},
      10,
    );
    assert.deepEqual(body, { n: 1 });
    // Gaps between attempts double (100, 200, 400 ms), within one 10 ms clock step.
    const gaps = s.seen.slice(1).map((x, i) => x.at - s.seen[i].at);
    for (const [i, want] of [100, 200, 400].entries()) {
      assert.ok(gaps[i] >= want && gaps[i] <= want + 20, `gaps ${gaps}`);
    }
    assert.ok(s.seen[0].at - t0 <= 20);
    assert.ok(s.seen.every((x) => x.auth === "Bearer t0ken"));
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("4xx is not retried; giving up on 5xx keeps the last status and kind", async () => {
  const clock = new ManualClock();
  const s = scripted(clock, [err(409, "AlreadyExists")]);
  const s2 = scripted(clock, [err(500, "Internal")]);
  try {
    const c = new RestClient({ baseUrl: s.base, clock, logger: silentLogger });
    const e = await c.call({ method: "PUT", path: "/x", body: {}, schema: Body }).catch((x) => x);
    assert.ok(e instanceof MayastorApiError);
    assert.equal(e.status, 409);
    assert.equal(e.kind, "AlreadyExists");
    assert.equal(s.seen.length, 1);
    const c2 = new RestClient({ baseUrl: s2.base, clock, logger: silentLogger, maxAttempts: 3 });
    const e2 = await drive(clock, c2.call({ method: "GET", path: "/y" }).catch((x) => x));
    assert.ok(e2 instanceof MayastorApiError);
    assert.equal(e2.status, 500);
    assert.equal(e2.kind, "Internal");
    assert.match(
      e2.message,
      /GET \/y → 500: Internal: Internal details \(gave up after 3 attempts\)/,
    );
    assert.equal(s2.seen.length, 3);
  } finally {
    await s.server.shutdown();
    await s2.server.shutdown();
  }
});

Deno.test("a hanging server times out each attempt on the clock, then the call fails", async () => {
  const clock = new ManualClock();
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const s = scripted(clock, [async () => {
    await gate;
    return ok();
  }]);
  try {
    const c = new RestClient({
      baseUrl: s.base,
      clock,
      logger: silentLogger,
      timeoutMs: 1_000,
      maxAttempts: 2,
      backoffMs: 100,
    });
    const e = await drive(
      clock,
      c.call({ method: "GET", path: "/volumes" }).catch((x) => x),
      () => {},
      100,
    );
    assert.ok(e instanceof MayastorApiError);
    assert.equal(e.kind, "Timeout");
    assert.match(e.message, /no answer within 1000 ms/);
    assert.equal(s.seen.length, 2);
  } finally {
    release();
    await s.server.shutdown();
  }
});

Deno.test("an aborted call stops at once and is not retried", async () => {
  const clock = new ManualClock();
  const s = scripted(clock, [err(503, "Unavailable")]);
  try {
    const c = new RestClient({ baseUrl: s.base, clock, logger: silentLogger });
    const ctrl = new AbortController();
    const p = c.call({ method: "GET", path: "/pools", signal: ctrl.signal }).catch((x) => x);
    await new Promise((r) => setTimeout(r, 20));
    ctrl.abort();
    const e = await p;
    assert.ok(e instanceof BackendError);
    assert.match(e.message, /aborted/);
    assert.equal(e.retryable, false);
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("seg() percent-encodes nexus child URIs into one path segment", () => {
  const uri = "nvmf://node-1:8420/nqn.2019-05.io.openebs:abc?uuid=abc";
  assert.equal(seg(uri).includes("/"), false);
  assert.equal(decodeURIComponent(seg(uri)), uri);
});
