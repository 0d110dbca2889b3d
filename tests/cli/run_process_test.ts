/** `couchestor run` as a real child process: ports, /metrics, /readyz, JSON logs, SIGTERM. */
import assert from "node:assert/strict";
import { createMetrics } from "../../src/observability/metrics.ts";
import { applyDirectory, type Sandbox, startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { runCouchestor, startCouchestor } from "./_process.ts";

/** A free loopback port: bound, read, released (the sandbox binds it later). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

const TOKEN = "run-process-test-token";

async function writeKubeconfig(dir: string, server: string): Promise<string> {
  const path = `${dir}/kubeconfig`;
  await Deno.writeTextFile(
    path,
    [
      "apiVersion: v1",
      "kind: Config",
      "current-context: test",
      `clusters: [{ name: test, cluster: { server: '${server}' } }]`,
      "contexts: [{ name: test, context: { cluster: test, user: test } }]",
      `users: [{ name: test, user: { token: ${TOKEN} } }]`,
    ].join("\n"),
  );
  return path;
}

const CRDS = new URL("../../crds", import.meta.url).pathname;

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

Deno.test("couchestor run (real process)", async (t) => {
  const dir = await Deno.makeTempDir();
  // The operator starts first; the real sandbox API server comes up on this port later.
  const apiPort = freePort();
  const kubeconfig = await writeKubeconfig(dir, `http://127.0.0.1:${apiPort}`);
  let sandbox: Sandbox | undefined;
  const proc = startCouchestor(
    ["run", "--metrics-addr=127.0.0.1:0", "--health-addr=127.0.0.1:0", "--log-format=json"],
    { KUBECONFIG: kubeconfig },
  );
  try {
    const listening = JSON.parse(await proc.waitForLine(/"msg":"listening"/));
    const metricsUrl = `http://${listening.metrics}`;
    const healthUrl = `http://${listening.health}`;
    assert.match(listening.metrics, /^127\.0\.0\.1:\d+$/);
    assert.match(listening.health, /^127\.0\.0\.1:\d+$/);

    await t.step("/metrics lists every family defined in metrics.ts", async () => {
      const res = await get(`${metricsUrl}/metrics`);
      assert.equal(res.status, 200);
      const exposed = new Set(
        [...res.body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]),
      );
      const families = createMetrics().registry.getMetricsAsArray().map((m) => m.name);
      assert.ok(families.length > 20);
      for (const f of families) assert.ok(exposed.has(f), `missing family ${f}`);
      assert.match(res.body, /^couchestor_build_info\{version="0\.1\.0"/m);
    });

    await t.step(
      "/readyz is 503 naming the API server until it answers and caches sync, then 200",
      async () => {
        const before = await get(`${healthUrl}/readyz`);
        assert.equal(before.status, 503);
        assert.match(before.body, /^not ready: .*kubernetes-api: /m);
        assert.match(before.body, /^\[-\]kubernetes-api: /m);
        assert.equal((await get(`${healthUrl}/healthz`)).status, 200);
        sandbox = await startSandbox({ tls: false, port: apiPort, token: TOKEN });
        await applyDirectory(sandbox.core, CRDS);
        await applyDirectory(sandbox.core, `${CRDS}/thirdparty`);
        await proc.waitForLine(/"msg":"kubernetes API reachable"/);
        let after = await get(`${healthUrl}/readyz`);
        for (let i = 0; i < 200 && after.status !== 200; i++) {
          await new Promise((r) => setTimeout(r, 25));
          after = await get(`${healthUrl}/readyz`);
        }
        assert.equal(after.status, 200, after.body);
        assert.match(after.body, /\[\+\]kubernetes-api ok/);
      },
    );

    await t.step("SIGTERM exits 0 within the 10 s deadline", async () => {
      proc.child.kill("SIGTERM");
      const status = await proc.exit(10_000);
      assert.equal(status.code, 0, proc.lines.join("\n"));
      assert.ok(proc.lines.some((l) => l.includes('"msg":"shutting down"')));
    });

    await t.step("every log line is JSON with time, level, msg and component", () => {
      assert.ok(proc.lines.length >= 4);
      for (const line of proc.lines) {
        const o = JSON.parse(line);
        assert.ok(!Number.isNaN(Date.parse(o.time)), line);
        assert.match(o.level, /^(debug|info|warn|error)$/, line);
        assert.equal(typeof o.msg, "string", line);
        assert.equal(typeof o.component, "string", line);
      }
    });
  } finally {
    proc.kill();
    await proc.exit(10_000).catch(() => {});
    await sandbox?.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("couchestor run: SIGINT while a request to the API server hangs still exits 0", async () => {
  // A TCP server that accepts and never answers: the startup check's request stays in flight.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of listener) conns.push(c);
  })().catch(() => {});
  const dir = await Deno.makeTempDir();
  const kubeconfig = await writeKubeconfig(
    dir,
    `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
  );
  const proc = startCouchestor(
    [
      "run",
      "--metrics-addr=127.0.0.1:0",
      "--health-addr=127.0.0.1:0",
      `--kubeconfig=${kubeconfig}`,
    ],
  );
  try {
    await proc.waitForLine(/ listening /);
    const t0 = Date.now();
    while (conns.length === 0 && Date.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(conns.length >= 1, "requests to the API server are in flight");
    proc.child.kill("SIGINT");
    const status = await proc.exit(10_000);
    assert.equal(status.code, 0, proc.lines.join("\n"));
    assert.match(proc.lines.join("\n"), /shutting down reason="received SIGINT"/);
  } finally {
    proc.kill();
    await proc.exit(10_000).catch(() => {});
    listener.close();
    for (const c of conns) c.close();
    await accepting;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("couchestor run: bad values exit 2 with one line naming flag, value and env", async () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [
      ["--max-concurrent-migrations=-1"],
      {},
      /^--max-concurrent-migrations=-1: must be an integer >= 1.*\(env MAX_CONCURRENT_MIGRATIONS\)$/,
    ],
    [
      ["--migration-timeout=soon"],
      {},
      /^--migration-timeout=soon: must be a duration .*\(env MIGRATION_TIMEOUT\)$/,
    ],
    [
      [],
      { PROMETHEUS_URL: "not-a-url" },
      /^PROMETHEUS_URL=not-a-url: must be an http:\/\/ or https:\/\/ URL \(flag --prometheus-url\)$/,
    ],
  ];
  await Promise.all(cases.map(async ([args, env, re]) => {
    const r = await runCouchestor(["run", ...args], env);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], re);
  }));
});

Deno.test("couchestor run --help prints every flag and exits 0", async () => {
  const r = await runCouchestor(["run", "--help"]);
  assert.equal(r.code, 0);
  assert.match(
    r.stdout,
    /--max-concurrent-migrations=<n>\n.*\n\s+default: 2\s+env: MAX_CONCURRENT_MIGRATIONS/,
  );
  assert.match(
    r.stdout,
    /--kubeconfig=<path>\n.*\n\s+default: \(in-cluster service account\)\s+env: KUBECONFIG/,
  );
});

Deno.test("couchestor run: a taken port exits 1 with the address in the log", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const r = await runCouchestor([
      "run",
      "--metrics-addr=127.0.0.1:0",
      `--health-addr=127.0.0.1:${port}`,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot listen .*health=127\\.0\\.0\\.1:${port}`));
  } finally {
    taken.close();
  }
});
