/** The ec-policy component plugged into `couchestor run`: /readyz waits for it, /metrics shows it. */
import assert from "node:assert/strict";
import { couchestorCrds } from "../../src/api/mod.ts";
import { runRun } from "../../src/cli/run.ts";
import {
  ecPolicyComponents,
  EcPolicyController,
  parseVolumeBindings,
} from "../../src/controllers/ec-policy/mod.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { BuiltinResources, type KubeObject } from "../../src/kube/resource.ts";
import type { SignalSource } from "../../src/lifecycle.ts";
import { startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { bytes, createPolicy, eventually } from "./ec_policy_helpers.ts";

Deno.test("ec-policy in run: ready after sync, stripes on /metrics, stops on SIGTERM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "couchestor-ecctl-run-" });
  const sb = await startSandbox({ tls: false });
  const client = new KubeClient({ connection: { server: sb.httpUrl, token: sb.token } });
  try {
    for (const crd of couchestorCrds()) {
      await client.create(BuiltinResources.customResourceDefinitions, crd as unknown as KubeObject);
    }
    await createPolicy(client, "cold", {
      dataShards: 2,
      parityShards: 1,
      stripeSizeBytes: 64 * 1024,
    });
    const listeners = new Map<string, () => void>();
    const signals: SignalSource = {
      add: (sig, fn) => void listeners.set(sig, fn),
      remove: (sig) => void listeners.delete(sig),
    };
    let addrs!: (a: { metrics: string; health: string }) => void;
    const bound = new Promise<{ metrics: string; health: string }>((r) => (addrs = r));
    let ctl!: EcPolicyController;
    const factory = ecPolicyComponents({
      client: () => client,
      volumes: parseVolumeBindings(`pv-1=cold:${dir}/pv-1:4`),
    });
    const code = runRun(
      ["--metrics-addr=127.0.0.1:0", "--health-addr=127.0.0.1:0", "--log-format=json"],
      {
        env: { POD_NAME: "op-1" },
        signals,
        components: (ctx) => {
          const cs = factory(ctx);
          ctl = cs[0] as EcPolicyController;
          return cs;
        },
        log: (line) => {
          const o = JSON.parse(line);
          if (o.msg === "listening") addrs(o);
        },
      },
    );
    const { metrics, health } = await bound;
    await eventually("ready", async () => {
      const r = await fetch(`http://${health}/readyz`);
      await r.body?.cancel();
      return r.status === 200;
    });
    const vol = await eventually("pv-1 opened", async () => await ctl.volume("pv-1"));
    await vol.store.put("data", bytes(1, 3 * 64 * 1024));
    ctl.controller.enqueue("cold");
    const scrape = await eventually("stripes on /metrics", async () => {
      const text = await (await fetch(`http://${metrics}/metrics`)).text();
      return text.includes('couchestor_ec_stripes{policy="cold",state="healthy"} 3') ? text : "";
    });
    assert.match(scrape, /couchestor_ec_bytes\{policy="cold",kind="logical"\} 196608/);
    assert.match(scrape, /couchestor_reconciles_total\{controller="ec-policy",result="requeue"\}/);
    listeners.get("SIGTERM")!();
    assert.equal(await code, 0);
  } finally {
    client.close();
    await sb.close();
    await Deno.remove(dir, { recursive: true });
  }
});
