/**
 * The write fence against the real sandbox API server: writes leave a process only while it
 * is sure it holds the Lease (judged at the instant of each write), a paused leader refuses its
 * own writes the moment it wakes, one identity in two processes leads once, a 409 on owned state
 * steps a stale leader down, and releasing the Lease at shutdown is bounded in time.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.ts";
import { ApiError, isConflict } from "../../src/kube/errors.ts";
import { isNotLeader, NotLeaderError, writeOwned } from "../../src/kube/fence.ts";
import { HOLDER_NONCE_ANNOTATION, LeaderElector, type Lease } from "../../src/kube/leader.ts";
import { BuiltinResources, type KubeObject } from "../../src/kube/resource.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { createLogger, silentLogger } from "../../src/observability/log.ts";
import { startEnv, type TestEnv, WIDGETS } from "./_env.ts";

const LEASES = BuiltinResources.leases;
const NS = BuiltinResources.namespaces;
const TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** One simulated process: its own client (User-Agent `test/<name>`), clock and elector. */
async function processOf(env: TestEnv, name: string, identity = name, clock = new ManualClock()) {
  const client = await env.newClient(`test/${name}`, clock);
  const logs: string[] = [];
  const elector = new LeaderElector({
    client,
    namespace: "default",
    name: "fence",
    identity,
    clock,
    logger: createLogger({ write: (l) => logs.push(l) }),
    ...TIMING,
  });
  const stop = new AbortController();
  let leadSignal: AbortSignal | undefined;
  const running = elector.run(stop.signal, {
    onStartedLeading: (s) => {
      leadSignal = s;
      return new Promise((r) => s.addEventListener("abort", () => r(), { once: true }));
    },
  });
  return { client, clock, elector, logs, stop, running, leadSignal: () => leadSignal };
}

function nsObject(name: string): KubeObject {
  return { metadata: { name } };
}

/** Write requests that reached the server from `name` after `mark`, as "verb resource/name". */
function attemptsBy(env: TestEnv, mark: number, name: string): string[] {
  return env.writeAttemptsSince(mark).filter((w) => w.identity === `test/${name}`).map((w) =>
    `${w.verb} ${w.resource}/${w.name}`
  );
}

Deno.test("fence: only the leader's writes leave the process; a follower's are refused unsent", async () => {
  const env = await startEnv();
  const clock = new ManualClock();
  const a = await processOf(env, "a", "a", clock);
  const b = await processOf(env, "b", "b", clock);
  try {
    await clock.runUntil(() => a.elector.isLeader() || b.elector.isLeader(), { limitMs: 5_000 });
    const [leader, follower] = a.elector.isLeader() ? [a, b] : [b, a];
    const mark = env.writeMark();
    await leader.client.create(NS, nsObject("by-leader"));
    const refused = await follower.client.create(NS, nsObject("by-follower")).catch((e) => e);
    assert.ok(isNotLeader(refused), String(refused));
    assert.match(
      refused.message,
      /not leader: POST \/api\/v1\/namespaces refused \(. does not hold Lease fence\)/,
    );
    const followerName = follower === a ? "a" : "b";
    assert.deepEqual(attemptsBy(env, mark, followerName), [], "nothing was sent");
    assert.equal(env.writesSince(mark).filter((w) => w.name === "by-leader").length, 1);
    // Without leader election a client is not fenced at all.
    assert.equal(env.client.fenced, false);
    await env.client.create(NS, nsObject("unfenced"));
  } finally {
    a.stop.abort();
    b.stop.abort();
    await Promise.all([a.running, b.running]);
    await env.close();
  }
});

Deno.test("fence: a leader paused past its lease refuses its own writes the instant it wakes", async () => {
  const env = await startEnv();
  // Two processes, two clocks: a's stands still while it is "stopped".
  const a = await processOf(env, "a");
  try {
    await a.clock.runUntil(() => a.elector.isLeader(), { limitMs: 5_000 });
    await a.client.create(NS, nsObject("before-pause"));
    // a is SIGSTOPped now: its clock and timers do not move. b campaigns on its own clock.
    const b = await processOf(env, "b");
    try {
      await b.clock.runUntil(() => b.elector.isLeader(), { limitMs: 40_000, what: "b takes over" });
      const takeover = env.writeMark();
      // SIGCONT: a sees 30 s gone before any of its timers has run; its next write is refused.
      a.clock.jump(30_000);
      const refused = await a.client.patch(NS, "before-pause", {
        metadata: { labels: { stale: "true" } },
      }).catch((e) => e);
      assert.ok(refused instanceof NotLeaderError, String(refused));
      assert.match(refused.message, /last renewal 30000 ms ago, renew deadline 10000 ms/);
      assert.equal(a.elector.isLeader(), false);
      assert.ok(a.leadSignal()!.aborted, "a's work was told to stop at once");
      // a's timers now run: it does not renew (the deadline passed) nor take the Lease back.
      // (Both clocks move together from now on, in retry-period steps.)
      for (let i = 0; i < 10; i++) {
        await a.clock.runFor(2_000);
        await b.clock.runFor(2_000);
      }
      assert.equal(a.elector.isLeader(), false);
      assert.ok(b.elector.isLeader());
      assert.deepEqual(attemptsBy(env, takeover, "a"), [], "no write from a after the takeover");
    } finally {
      b.stop.abort();
      await b.running;
    }
  } finally {
    a.stop.abort();
    await a.running;
    await env.close();
  }
});

Deno.test("fence: two processes with one identity — only one leads; the other says why and waits", async () => {
  const env = await startEnv();
  const clock = new ManualClock();
  const first = await processOf(env, "first", "twin", clock);
  try {
    await clock.runUntil(() => first.elector.isLeader(), { limitMs: 5_000 });
    const second = await processOf(env, "second", "twin", clock);
    try {
      await clock.runFor(30_000);
      assert.ok(first.elector.isLeader());
      assert.equal(second.elector.isLeader(), false, "the same identity does not make a leader");
      assert.equal(second.leadSignal(), undefined);
      assert.ok(
        second.logs.some((l) => /held under this identity by another process/.test(l)),
        second.logs.join("\n"),
      );
      const lease = await env.client.get<Lease>(LEASES, "fence", { namespace: "default" });
      assert.equal(lease.metadata.annotations?.[HOLDER_NONCE_ANNOTATION], first.elector.nonce);
      // The first one stops and releases: the second takes over.
      first.stop.abort();
      await first.running;
      await clock.runUntil(() => second.elector.isLeader(), { limitMs: 10_000 });
    } finally {
      second.stop.abort();
      await second.running;
    }
  } finally {
    first.stop.abort();
    await first.running;
    await env.close();
  }
});

Deno.test("fence: a 409 on owned state steps a stale leader down; a benign one is retried", async () => {
  const env = await startEnv();
  const a = await processOf(env, "a");
  try {
    await a.clock.runUntil(() => a.elector.isLeader(), { limitMs: 5_000 });
    await env.client.create(WIDGETS, {
      metadata: { name: "w", namespace: "default" },
      spec: { size: 1 },
    });
    const conditional = async (client: KubeClient, size: number) => {
      const w = await client.get<KubeObject>(WIDGETS, "w", { namespace: "default" });
      const rv = w.metadata.resourceVersion;
      // Someone else writes between our read and our write.
      await env.client.patch(WIDGETS, "w", { spec: { color: `c${size}` } }, {
        namespace: "default",
      });
      return () =>
        client.patch(WIDGETS, "w", { metadata: { resourceVersion: rv }, spec: { size } }, {
          namespace: "default",
        });
    };
    // The Lease is still ours: the 409 comes back for the caller to re-read and retry.
    const benign = await writeOwned(a.client, "widget w", await conditional(a.client, 2))
      .catch((e) => e);
    assert.ok(benign instanceof ApiError && isConflict(benign), String(benign));
    assert.ok(a.elector.isLeader());

    // Another process takes the Lease behind a's back (as a leader that took over would).
    const lease = await env.client.get<Lease>(LEASES, "fence", { namespace: "default" });
    await env.client.update<Lease>(LEASES, {
      ...lease,
      metadata: { ...lease.metadata, annotations: { [HOLDER_NONCE_ANNOTATION]: "other" } },
      spec: { ...lease.spec, holderIdentity: "usurper" },
    });
    const stale = await writeOwned(a.client, "widget w", await conditional(a.client, 3))
      .catch((e) => e);
    assert.ok(isNotLeader(stale), String(stale));
    assert.match(stale.message, /widget w refused .*409 and the Lease is no longer ours/);
    assert.equal(a.elector.isLeader(), false);
    assert.ok(a.leadSignal()!.aborted);
    assert.match(a.logs.join("\n"), /stepping down .*held by usurper/);
    // Nothing was written by the stale leader.
    const w = await env.client.get<KubeObject>(WIDGETS, "w", { namespace: "default" });
    assert.equal((w as { spec?: { size?: number } }).spec?.size, 1);
  } finally {
    a.stop.abort();
    await a.running;
    await env.close();
  }
});

Deno.test("fence: releasing the Lease at shutdown is bounded when the API server hangs", async () => {
  const env = await startEnv();
  const clock = new ManualClock();
  const client = await env.newClient("test/release", clock);
  const logs: string[] = [];
  const elector = new LeaderElector({
    client,
    namespace: "default",
    name: "release",
    identity: "r",
    clock,
    logger: createLogger({ write: (l) => logs.push(l) }),
    ...TIMING,
    releaseTimeoutMs: 3_000,
  });
  const stop = new AbortController();
  let done = false;
  const running = elector.run(stop.signal, { onStartedLeading: () => {} }).then(() => done = true);
  try {
    await clock.runUntil(() => elector.isLeader(), { limitMs: 5_000 });
    env.faults.delayReads("leases", 2_500); // the release's read hangs (longer than it may take)
    stop.abort();
    const took = await clock.runUntil(() => done, { limitMs: 60_000, what: "run returns" });
    assert.ok(took <= 3_000, `release took ${took} ms of clock time`);
    assert.match(logs.join("\n"), /lease release failed .*took longer than 3000 ms/);
  } finally {
    stop.abort();
    await running;
    env.faults.clear();
    await env.close();
  }
});

Deno.test("leader: an empty identity is refused at construction", () => {
  assert.throws(
    () =>
      new LeaderElector({
        client: {} as KubeClient,
        namespace: "default",
        name: "x",
        identity: " ",
        clock: new ManualClock(),
        logger: silentLogger,
      }),
    /non-empty identity/,
  );
});
