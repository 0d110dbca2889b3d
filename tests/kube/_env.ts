/**
 * Test environment for src/kube: a real sandbox API server on 127.0.0.1 (port 0),
 * a client from its kubeconfig, a small test CRD (Widget), and helpers over the
 * server's write log and fault injection.
 */
import type { Clock } from "../../src/clock.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { loadKubeconfigFile } from "../../src/kube/kubeconfig.ts";
import { BuiltinResources, type ResourceRef } from "../../src/kube/resource.ts";
import { startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { eventually } from "../support/poll.ts";

/** The test CRD: widgets.test.couchestor.io, namespaced, with a status subresource. */
export const WIDGETS: ResourceRef = {
  group: "test.couchestor.io",
  version: "v1",
  plural: "widgets",
  namespaced: true,
  kind: "Widget",
};

/** One successful write as the server's write log recorded it. */
export interface WriteEntry {
  seq: number;
  verb: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  identity: string;
  resourceVersion: string;
}

/** A running sandbox plus a client. */
export interface TestEnv {
  client: KubeClient;
  kubeconfigPath: string;
  /** The write log position now (pass to writesSince). */
  writeMark(): number;
  /** Successful writes after `mark`, oldest first. */
  writesSince(mark: number): WriteEntry[];
  /** Every write request that reached the server after `mark` (refused ones too). */
  writeAttemptsSince(mark: number): (WriteEntry & { code: number })[];
  /** A client of its own (as another process would have), with this User-Agent and clock. */
  newClient(userAgent: string, clock?: Clock): Promise<KubeClient>;
  faults: {
    /** Ends every open watch stream. */
    dropWatches(): void;
    /** Forgets watch history up to now: resuming from an older version gets 410. */
    compact(): void;
    /** Delays GET requests whose path contains `plural` by `ms` (until cleared). */
    delayReads(plural: string, ms: number): void;
    /** Answers the next `count` requests whose path contains `path` with `status`. */
    failPath(status: 429 | 500 | 503, path: string, count: number): void;
    /** Answers every Lease request with `status` until cleared. */
    failLeases(status: 503 | 500): void;
    clear(): void;
  };
  close(): Promise<void>;
}

/** Starts a sandbox (HTTPS when `tls`), installs the Widget CRD and returns the environment. */
export async function startEnv(
  opts: { tls?: boolean; bookmarkIntervalMs?: number } = {},
): Promise<TestEnv> {
  const dataDir = await Deno.makeTempDir({ prefix: "kube-test-" });
  const sb = await startSandbox({
    port: 0,
    dataDir,
    tls: opts.tls ?? false,
    bookmarkIntervalMs: opts.bookmarkIntervalMs,
  });
  const client = new KubeClient({ connection: await loadKubeconfigFile(sb.kubeconfigPath) });
  const extra: KubeClient[] = [];
  await client.create(BuiltinResources.customResourceDefinitions, {
    metadata: { name: "widgets.test.couchestor.io" },
    spec: {
      group: WIDGETS.group,
      scope: "Namespaced",
      names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
      versions: [{
        name: "v1",
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: {
                type: "object",
                properties: {
                  size: { type: "integer" },
                  color: { type: "string" },
                  owner: { type: "string" },
                },
              },
              status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
            },
          },
        },
      }],
    },
  });
  await until(async () => {
    try {
      await client.list(WIDGETS);
      return true;
    } catch {
      return false;
    }
  });
  return {
    client,
    kubeconfigPath: sb.kubeconfigPath,
    writeMark: () => sb.writes.lastSeq,
    writesSince: (mark) =>
      sb.writes.list({ since: mark }).filter((w) => w.code < 300 && w.resourceVersion !== ""),
    writeAttemptsSince: (mark) => sb.writes.list({ since: mark }),
    newClient: async (userAgent, clock) => {
      const c = new KubeClient({
        connection: await loadKubeconfigFile(sb.kubeconfigPath),
        userAgent,
        clock,
      });
      extra.push(c);
      return c;
    },
    faults: {
      dropWatches: () => void sb.faults.closeWatches(),
      compact: () => void sb.faults.compact(),
      delayReads: (plural, ms) =>
        void sb.faults.latency(ms, { pathPattern: `/${plural}`, methods: ["GET"] }),
      failPath: (status, path, count) => void sb.faults.fail(status, { pathPattern: path, count }),
      failLeases: (status) => void sb.faults.fail(status, { pathPattern: "/leases" }),
      clear: () => sb.faults.clear(),
    },
    close: async () => {
      client.close();
      for (const c of extra) c.close();
      await sb.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** Polls `cond` until it holds; throws after `timeoutMs` (default 10 s). See tests/support/poll.ts. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  await eventually(String(cond), cond, { timeoutMs });
}
