import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.ts";
import { createLogger, silentLogger } from "../../src/observability/log.ts";
import { runCouchestor } from "../cli/_process.ts";
import { Readiness } from "../../src/observability/readiness.ts";
import { fetchKubeVersion, kubeApiCheck } from "../../src/startup/kube_api.ts";
import { connectionFor } from "../../src/app/cluster.ts";

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
    const t = await connectionFor(`${dir}/config`, {});
    assert.equal(t.server, "https://two:6443");
    assert.equal(t.tokenFile, `${dir}/token`);
    assert.equal(t.caData, ca);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kube target: without kubeconfig or in-cluster env the reason says so", async () => {
  await assert.rejects(
    connectionFor(undefined, {}),
    /no --kubeconfig given and not running in a cluster/,
  );
});

Deno.test("kube version: GET /version with the bearer token", async () => {
  const seen: Headers[] = [];
  const server = versionServer(0, seen);
  try {
    const v = await fetchKubeVersion(
      { server: `http://127.0.0.1:${server.addr.port}`, token: "t0k" },
      new AbortController().signal,
    );
    assert.equal(v, "v1.32.0");
    assert.equal(seen[0].get("authorization"), "Bearer t0k");
  } finally {
    await server.shutdown();
  }
});

Deno.test("kube API check: while refused, every attempt is logged with the URL and error and /readyz says so; ready once /version answers", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close(); // nothing listens there now: connection refused
  const clock = new ManualClock();
  const readiness = new Readiness();
  const lines: string[] = [];
  let attempts = 0;
  const url = `http://127.0.0.1:${port}`;
  const check = kubeApiCheck({
    resolve: () => {
      attempts++;
      return Promise.resolve({ server: url, source: "test" });
    },
    readiness,
    clock,
    logger: createLogger({ write: (l) => lines.push(l), format: "json" }),
    retryMs: 100,
    maxRetryMs: 400,
  });
  const stop = new AbortController();
  await check.start(stop.signal);
  // Four refused attempts, backing off 100, 200, 400 ms of clock time between them.
  const took = await clock.runUntil(() => attempts === 4 && lines.length === 4, {
    limitMs: 10_000,
    what: "four attempts",
  });
  assert.equal(took, 100 + 200 + 400);
  const logged = lines.map((l) => JSON.parse(l));
  for (const [i, l] of logged.entries()) {
    assert.equal(l.msg, "kubernetes API not reachable; retrying");
    assert.equal(l.level, "warn");
    assert.equal(l.server, url);
    assert.equal(l.attempt, i + 1);
    assert.match(l.error, /refused|connect/i);
  }
  assert.deepEqual(logged.map((l) => l.retryInMs), [100, 200, 400, 400]);
  const status = readiness.status();
  assert.equal(status.ready, false);
  assert.match(
    status.reasons[0],
    new RegExp(`^kubernetes-api: API server ${url} not reachable: .+; retrying in 400ms$`),
  );

  const server = versionServer(port);
  try {
    await clock.runUntil(() => readiness.status().ready, { limitMs: 1_000, what: "ready" });
    assert.equal(attempts, 5);
    assert.match(lines.at(-1)!, /"msg":"kubernetes API reachable".*"attempts":5/);
    stop.abort();
    await check.stop();
  } finally {
    await server.shutdown();
  }
});

Deno.test("kube API check: a bad kubeconfig is reported (file and field) at error level, and retried", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/config`, "current-context: x\ncontexts: 7\n");
    const clock = new ManualClock();
    const readiness = new Readiness();
    const lines: string[] = [];
    const check = kubeApiCheck({
      resolve: () => connectionFor(`${dir}/config`, {}),
      readiness,
      clock,
      logger: createLogger({ write: (l) => lines.push(l), format: "json" }),
    });
    const stop = new AbortController();
    await check.start(stop.signal);
    await clock.runUntil(() => lines.length === 2, { limitMs: 10_000 });
    const l = JSON.parse(lines[0]);
    assert.equal(l.level, "error");
    assert.equal(l.msg, "cannot find the Kubernetes API server; retrying");
    assert.match(l.error, /^kubeconfig .*\/config: context "x": contexts: Invalid input/);
    assert.match(readiness.status().reasons[0], /^kubernetes-api: kubeconfig .*\/config: /);
    stop.abort();
    await check.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
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
  // Retries are paced by the injected clock: the second attempt comes after the 250 ms backoff.
  const took = await clock.runUntil(() => attempts === 2, { limitMs: 10_000, what: "a retry" });
  assert.equal(took, 250);
  assert.match(readiness.status().reasons[0], /^kubernetes-api: no kubeconfig; retrying in 500ms$/);
  stop.abort();
  await check.stop(); // resolves while the loop sleeps on the clock: the abort ends the sleep
  // Nothing is left that could run another attempt: no timer is armed on the clock.
  assert.equal(clock.pendingSleepers, 0);
  const before = attempts;
  await clock.runFor(60_000);
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
    const t = await connectionFor(`${dir}/config`, {});
    assert.equal(t.caData, ca);
    assert.equal(t.token, "t");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("couchestor run with a corrupt kubeconfig exits 1 naming the file, the context and the field", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/kubeconfig`;
    await Deno.writeTextFile(
      path,
      [
        "current-context: x",
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
        'users: [{name: u, user: {client-key-data: "not*base64"}}]',
        "contexts: [{name: x, context: {cluster: c, user: u}}]",
      ].join("\n"),
    );
    const r = await runCouchestor([
      "run",
      `--kubeconfig=${path}`,
      "--metrics-addr=127.0.0.1:0",
      "--health-addr=127.0.0.1:0",
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(
      r.stderr.includes(
        `kubeconfig ${path}: context \\"x\\": users[0].user.client-key-data: is not valid base64`,
      ),
      r.stderr,
    );
    assert.doesNotMatch(r.stderr, /ZodError|Failed to decode base64/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
