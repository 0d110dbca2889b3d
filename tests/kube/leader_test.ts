import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { LeaderElector, type Lease } from "../../src/kube/leader.ts";
import { BuiltinResources } from "../../src/kube/resource.ts";
import { startEnv, until, type WriteEntry } from "./_env.ts";

const LEASES = BuiltinResources.leases;

Deno.test("leader: a leader that cannot renew within renewDeadline aborts at once; release on shutdown", async () => {
  const env = await startEnv();
  const clock = new ManualClock();
  const stop = new AbortController();
  try {
    const mk = async (identity: string) =>
      new LeaderElector({
        client: await env.newClient(`test/${identity}`, clock),
        namespace: "default",
        name: "lease-a",
        identity,
        clock,
        logger: silentLogger,
      });
    const a = await mk("pod-a");
    const b = await mk("pod-b");
    let leadSignal: AbortSignal | undefined;
    let bLed = false;
    const ra = a.run(stop.signal, {
      onStartedLeading: (s) => {
        leadSignal = s;
        return new Promise((r) => s.addEventListener("abort", () => r(), { once: true }));
      },
    });
    await clock.runUntil(() => a.isLeader(), { limitMs: 5_000, what: "a leads" });
    const rb = b.run(stop.signal, { onStartedLeading: () => void (bLed = true) });
    await clock.runFor(20_000); // 20 s of renewals: a keeps it, b waits
    assert.ok(a.isLeader());
    assert.equal(bLed, false, "a follower never leads while the lease is renewed");
    assert.equal(b.observedLeader, "pod-a");

    // From now on the API server refuses every Lease request.
    env.faults.failLeases(503);
    const cut = clock.now();
    let abortedAt: number | undefined;
    leadSignal!.addEventListener("abort", () => abortedAt = clock.now(), { once: true });
    await clock.runUntil(() => abortedAt !== undefined, { limitMs: 20_000, what: "a aborts" });
    // The last successful renew was at most one retry period (2 s) before the cut, and the
    // leader gives up exactly renewDeadline (10 s) after it: never later, never much sooner.
    const after = abortedAt! - cut;
    assert.ok(after >= 10_000 - 2_000 && after <= 10_000, `aborted ${after} ms after the cut`);
    assert.equal(a.isLeader(), false);
    assert.equal(bLed, false, "b cannot write either while the server refuses");

    // Server heals: b (or a again) takes over once the lease has expired on its own clock.
    env.faults.clear();
    await clock.runUntil(() => a.isLeader() || b.isLeader(), { limitMs: 30_000, what: "a leader" });
    assert.ok(a.isLeader() !== b.isLeader(), "exactly one leads");
    const leader = a.isLeader() ? "pod-a" : "pod-b";

    // Shutdown releases the Lease: holder cleared, duration 1 s.
    stop.abort();
    await Promise.all([ra, rb]);
    const lease = await env.client.get<Lease>(LEASES, "lease-a", { namespace: "default" });
    assert.equal(lease.spec?.holderIdentity ?? "", "", `released by ${leader}`);
    assert.equal(lease.spec?.leaseDurationSeconds, 1);
  } finally {
    stop.abort();
    env.faults.clear();
    await env.close();
  }
});

/** Reads JSON lines from a child's stdout into `out`. */
async function collect(stream: ReadableStream<Uint8Array>, out: Record<string, unknown>[]) {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line.startsWith("{")) out.push(JSON.parse(line));
    }
  }
}

Deno.test("leader: two operator processes — exactly one leads; SIGKILL it and the other leads; writes never overlap", async () => {
  const env = await startEnv();
  const procs: Deno.ChildProcess[] = [];
  try {
    for (const name of ["elector-work", "elector-out"]) {
      await env.client.create(BuiltinResources.namespaces, { metadata: { name } });
    }
    const since = env.writeMark();
    const fixture = new URL("./fixtures/elector.ts", import.meta.url).pathname;
    const lines: Record<string, Record<string, unknown>[]> = { p1: [], p2: [] };
    const readers: Promise<void>[] = [];
    for (const id of ["p1", "p2"]) {
      const p = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", fixture, env.kubeconfigPath, id, "2000", "1500", "300"],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      procs.push(p);
      readers.push(collect(p.stdout, lines[id]));
    }
    const leading = (id: string) => lines[id].filter((l) => l.event === "leading").length;
    await until(() => leading("p1") + leading("p2") >= 1, 20_000);
    const first = leading("p1") ? "p1" : "p2";
    const second = first === "p1" ? "p2" : "p1";
    // Both run side by side until the follower has seen the leader renew several times: still
    // one leader (an event count on the write log, not a fixed sleep).
    const renewalsBy = (id: string) =>
      env.writesSince(since).filter((w) => w.resource === "leases" && writerOf(w) === id).length;
    await until(() => renewalsBy(first) >= 5, 20_000);
    assert.equal(leading("p1") + leading("p2"), 1, "exactly one leads");
    await until(() => env.writesSince(since).some((w) => w.resource === "namespaces"));

    const killedAt = Date.now();
    procs[first === "p1" ? 0 : 1].kill("SIGKILL");
    await until(() => leading(second) === 1, 20_000);
    const tookOverMs = Date.now() - killedAt;
    assert.ok(tookOverMs < 20_000, `took over in ${tookOverMs} ms`);
    await until(() =>
      env.writesSince(since).some((w) => w.resource === "namespaces" && writerOf(w) === second)
    );

    // Stop the survivor cleanly: it releases the lease.
    procs[second === "p1" ? 0 : 1].kill("SIGTERM");
    await procs[0].status;
    await procs[1].status;
    await Promise.all(readers);

    // The write log: all of the first leader's writes, then all of the second's; never interleaved.
    const writers = env.writesSince(since)
      .filter((w) => w.resource === "namespaces" || w.resource === "leases")
      .map(writerOf);
    const firstIdx = writers.lastIndexOf(first);
    const secondIdx = writers.indexOf(second);
    assert.ok(firstIdx >= 0 && secondIdx >= 0, `both wrote: ${writers.join(",")}`);
    assert.ok(firstIdx < secondIdx, `no overlap: ${writers.join(",")}`);
    const lease = await env.client.get<Lease>(LEASES, "elector-test", { namespace: "default" });
    assert.equal(lease.spec?.holderIdentity ?? "", "", "released on SIGTERM");
  } finally {
    for (const p of procs) {
      try {
        p.kill("SIGKILL");
      } catch { /* already gone */ }
      await p.status.catch(() => {});
    }
    await env.close();
  }
});

/** Who made a successful write: the fixture sets User-Agent "elector/<identity>". */
function writerOf(w: WriteEntry): string {
  return w.identity.replace(/^elector\//, "");
}
