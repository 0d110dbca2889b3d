import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { Readiness } from "../../src/observability/readiness.ts";
import { eventually } from "../support/poll.ts";
import { fetchKubeVersion, kubeApiCheck, resolveKubeTarget } from "../../src/startup/kube_api.ts";

/** Waits (briefly, real time) until `cond` holds; the work under test does real network I/O. */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  await eventually(what, cond, { timeoutMs: ms });
}

function versionServer(port = 0, seen: Headers[] = []): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (req) => {
    seen.push(new Headers(req.headers));
    return new URL(req.url).pathname === "/version"
      ? Response.json({ major: "1", minor: "32", gitVersion: "v1.32.0" })
      : new Response("no", { status: 404 });
  });
}

Deno.test("kube target: current context of a kubeconfig, token and CA from data or files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/token`, "secret-token\n");
    const ca = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    await Deno.writeTextFile(
      `${dir}/config`,
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: two",
        "clusters:",
        "- name: c1",
        "  cluster: { server: 'https://one:6443' }",
        "- name: c2",
        `  cluster: { server: 'https://two:6443/', certificate-authority-data: '${btoa(ca)}' }`,
        "contexts:",
        "- { name: one, context: { cluster: c1, user: u1 } }",
        "- { name: two, context: { cluster: c2, user: u2 } }",
        "users:",
        "- { name: u1, user: { token: wrong } }",
        `- { name: u2, user: { tokenFile: '${dir}/token' } }`,
      ].join("\n"),
    );
    const t = await resolveKubeTarget(`${dir}/config`, {}, Deno.readTextFile);
    assert.equal(t.server, "https://two:6443");
    assert.equal(t.token, "secret-token");
    assert.equal(t.caPem, ca);
    assert.equal(t.source, `kubeconfig ${dir}/config`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kube target: without kubeconfig or in-cluster env the reason says so", async () => {
  await assert.rejects(
    resolveKubeTarget(undefined, {}, Deno.readTextFile),
    /no --kubeconfig given and not running in a cluster/,
  );
});

Deno.test("kube version: GET /version with the bearer token", async () => {
  const seen: Headers[] = [];
  const server = versionServer(0, seen);
  try {
    const v = await fetchKubeVersion(
      { server: `http://127.0.0.1:${server.addr.port}`, token: "t0k", source: "test" },
      new AbortController().signal,
    );
    assert.equal(v, "v1.32.0");
    assert.equal(seen[0].get("authorization"), "Bearer t0k");
  } finally {
    await server.shutdown();
  }
});

Deno.test("kube API check: not ready while refused, ready once /version answers", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close(); // nothing listens there now: connection refused
  const clock = new ManualClock();
  const readiness = new Readiness();
  let attempts = 0;
  const check = kubeApiCheck({
    resolve: () => {
      attempts++;
      return Promise.resolve({ server: `http://127.0.0.1:${port}`, source: "test" });
    },
    readiness,
    clock,
    logger: silentLogger,
    retryMs: 100,
  });
  const stop = new AbortController();
  await check.start(stop.signal);
  await until(() => readiness.components()[0].reason !== "not checked yet", "first attempt");
  const first = readiness.status();
  assert.equal(first.ready, false);
  assert.match(first.reasons[0], /^kubernetes-api: .+/);

  const server = versionServer(port);
  try {
    await clock.advance(100);
    await until(() => readiness.status().ready, "ready");
    assert.equal(attempts, 2);
    stop.abort();
    await check.stop();
  } finally {
    await server.shutdown();
  }
});

Deno.test("kube API check: stop ends the retry loop", async () => {
  const clock = new ManualClock();
  const readiness = new Readiness();
  let attempts = 0;
  const check = kubeApiCheck({
    resolve: () => {
      attempts++;
      return Promise.reject(new Error("no kubeconfig"));
    },
    readiness,
    clock,
    logger: silentLogger,
  });
  const stop = new AbortController();
  await check.start(stop.signal);
  await until(() => readiness.status().reasons[0] === "kubernetes-api: no kubeconfig", "attempt");
  // Retries are paced by the injected clock: another attempt comes only after advancing it.
  for (let i = 0; attempts < 2 && i < 100; i++) {
    await clock.advance(250);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(attempts >= 2, "a retry after the backoff");
  stop.abort();
  await check.stop(); // resolves while the loop sleeps on the clock: the abort ends the sleep
  const before = attempts;
  await clock.advance(60_000);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(attempts, before, "no attempt after stop");
  assert.equal(readiness.status().ready, false);
});

Deno.test("kube target: file references are relative to the kubeconfig, as the controller reads them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ca = "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n";
    await Deno.mkdir(`${dir}/pki`);
    await Deno.writeTextFile(`${dir}/pki/ca.crt`, ca);
    await Deno.writeTextFile(
      `${dir}/config`,
      [
        "current-context: c",
        "clusters: [{ name: c, cluster: { server: 'https://c:6443', certificate-authority: pki/ca.crt } }]",
        "contexts: [{ name: c, context: { cluster: c, user: u } }]",
        "users: [{ name: u, user: { token: t } }]",
      ].join("\n"),
    );
    const t = await resolveKubeTarget(`${dir}/config`, {}, Deno.readTextFile);
    assert.equal(t.caPem, ca);
    assert.equal(t.token, "t");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
