/**
 * `kubectl get sp -o wide` with the machine's kubectl against the sandbox API server: the
 * Approval and Pending columns show a Manual policy's proposals waiting for approval, and the
 * CRD refuses a move window it cannot parse and a migrationTimeout under the floor.
 */
import assert from "node:assert/strict";
import { couchestorCrds } from "../../src/api/crd.ts";
import { applyObjects, startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import type { KObj } from "../../src/sandbox/apiserver/store.ts";
import { STORAGE_POLICIES } from "../../src/controllers/storage-policy/resources.ts";
import { KubeClient } from "../../src/kube/client.ts";
import type { KubeObject } from "../../src/kube/resource.ts";
import { kubectl, requireKubectl } from "../sandbox/kubectl.ts";

Deno.test("kubectl get sp -o wide shows approval mode and pending approvals; the CRD refuses bad windows", async () => {
  await requireKubectl();
  const home = await Deno.makeTempDir({ prefix: "kubectl-home-" });
  const sb = await startSandbox({});
  const client = new KubeClient({ connection: { server: sb.httpUrl, token: sb.token } });
  try {
    applyObjects(sb.core, couchestorCrds() as unknown as KObj[]);
    const sp = (name: string, spec: Record<string, unknown>) =>
      ({
        apiVersion: "storage.billyronks.io/v1",
        kind: "StoragePolicy",
        metadata: { name },
        spec,
      }) as KubeObject;
    await client.create(STORAGE_POLICIES, sp("auto", {}));
    const manual = await client.create(
      STORAGE_POLICIES,
      sp("reviewed", {
        approval: "Manual",
        moveWindows: ["Sat-Sun 01:00-06:00 Europe/Paris"],
      }),
    );
    await client.updateStatus(STORAGE_POLICIES, { ...manual, status: { pendingApprovals: 3 } });
    const wide = await kubectl(sb, home, "get", "sp", "-o", "wide");
    assert.equal(wide.code, 0, wide.stderr);
    const [head, ...rows] = wide.stdout.trim().split("\n");
    // kubectl aligns columns: a cell is the text under its header (empty cells included).
    const starts = [...head.matchAll(/\S+/g)].map((m) => [m[0], m.index!] as const);
    const cell = (row: string, col: string) => {
      const i = starts.findIndex(([name]) => name === col);
      assert.ok(i >= 0, `${col} in ${head}`);
      return row.slice(starts[i][1], starts[i + 1]?.[1]).trim();
    };
    const reviewed = rows.find((r) => r.startsWith("reviewed"))!;
    assert.equal(cell(reviewed, "APPROVAL"), "Manual");
    assert.equal(cell(reviewed, "PENDING"), "3");
    assert.equal(cell(rows.find((r) => r.startsWith("auto"))!, "APPROVAL"), "Auto");
    const plain = await kubectl(sb, home, "get", "sp");
    assert.ok(!plain.stdout.includes("PENDING"), "the columns are -o wide only");

    for (
      const [patch, field] of [
        ['{"spec":{"moveWindows":["Sat-Sun 1:00-06:00 Europe/Paris"]}}', /spec\.moveWindows\[0\]/],
        ['{"spec":{"moveWindows":["Sat 06:00-06:00 UTC"]}}', /start and end must differ/],
        ['{"spec":{"migrationTimeout":"0ms"}}', /migrationTimeout must be at least 1m/],
      ] as const
    ) {
      const bad = await kubectl(sb, home, "patch", "sp", "reviewed", "--type=merge", "-p", patch);
      assert.notEqual(bad.code, 0, patch);
      assert.match(bad.stderr, field);
    }
  } finally {
    client.close();
    await sb.close();
    await Deno.remove(home, { recursive: true });
  }
});
