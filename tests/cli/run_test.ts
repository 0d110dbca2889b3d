/** `runRun` in-process: how components plug into the composition root and how they stop. */
import assert from "node:assert/strict";
import { type RunContext, runRun } from "../../src/cli/run.ts";
import type { Component, SignalSource } from "../../src/lifecycle.ts";

function fakeSignals() {
  const listeners = new Map<string, () => void>();
  const signals: SignalSource = {
    add: (sig, fn) => void listeners.set(sig, fn),
    remove: (sig) => void listeners.delete(sig),
  };
  return { signals, send: (sig: string) => listeners.get(sig)!() };
}

Deno.test("run: components get the context, gate /readyz, and drain before the servers close", async () => {
  const { signals, send } = fakeSignals();
  const lines: string[] = [];
  let listening!: (l: { metrics: string; health: string }) => void;
  const bound = new Promise<{ metrics: string; health: string }>((r) => (listening = r));
  let finishInFlight!: () => void;
  const events: string[] = [];
  let readyzDuringDrain = 0;
  let healthUrl = "";

  const controller = (ctx: RunContext): Component => {
    const handle = ctx.readiness.register("controller");
    let inFlight: Promise<void> = Promise.resolve();
    return {
      name: "controller",
      start(signal) {
        assert.equal(ctx.config.maxConcurrentMigrations, 3);
        assert.equal(ctx.identity, "op-1");
        ctx.metrics.reconcilesTotal.inc({ controller: "storage-policy", result: "success" });
        inFlight = new Promise<void>((r) => (finishInFlight = r)).then(() => {
          events.push(`in-flight done (aborted=${signal.aborted})`);
        });
        handle.ready();
        return Promise.resolve();
      },
      async stop() {
        readyzDuringDrain = await fetch(`${healthUrl}/readyz`).then(async (r) => {
          await r.body?.cancel();
          return r.status;
        });
        finishInFlight();
        await inFlight;
        events.push("stopped");
      },
    };
  };

  const code = runRun(
    ["--metrics-addr=127.0.0.1:0", "--health-addr=127.0.0.1:0", "--log-format=json"],
    {
      env: { MAX_CONCURRENT_MIGRATIONS: "3", POD_NAME: "op-1" },
      signals,
      components: (ctx) => [controller(ctx)],
      log: (line) => {
        lines.push(line);
        const o = JSON.parse(line);
        if (o.msg === "listening") listening(o);
      },
    },
  );
  const addr = await bound;
  healthUrl = `http://${addr.health}`;
  let res = await fetch(`${healthUrl}/readyz`);
  for (let i = 0; i < 100 && res.status !== 200; i++) {
    await res.body?.cancel();
    await new Promise((r) => setTimeout(r, 5));
    res = await fetch(`${healthUrl}/readyz`);
  }
  assert.equal(res.status, 200, await res.text());
  const scrape = await (await fetch(`http://${addr.metrics}/metrics`)).text();
  assert.match(
    scrape,
    /couchestor_reconciles_total\{controller="storage-policy",result="success"\} 1/,
  );

  send("SIGTERM");
  assert.equal(await code, 0);
  assert.equal(readyzDuringDrain, 503, "not ready while draining");
  assert.deepEqual(events, ["in-flight done (aborted=true)", "stopped"]);
  await assert.rejects(fetch(`${healthUrl}/healthz`), "servers are closed after the drain");
  assert.equal(JSON.parse(lines.at(-1)!).msg, "stopped");
});

Deno.test("run: bad config returns 2 and writes one line; --help returns 0", async () => {
  const errs: string[] = [];
  assert.equal(await runRun(["--log-format=xml"], { err: (t) => errs.push(t) }), 2);
  assert.deepEqual(errs, ["--log-format=xml: must be one of text, json (env LOG_FORMAT)"]);
  const outs: string[] = [];
  assert.equal(await runRun(["--help"], { out: (t) => outs.push(t) }), 0);
  assert.match(outs[0], /^Usage: couchestor run/);
});
