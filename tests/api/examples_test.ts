/** Every object in deploy/examples parses with its zod schema and validates against its CRD. */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import {
  DiskPoolSchema,
  ErasureCodingPolicySchema,
  StoragePolicySchema,
  TIER_LABEL_KEY,
  TIERS,
} from "../../src/api/mod.ts";
import { policyVolumes, type VolumeSubject } from "../../src/tiering/selection.ts";
import { validatorFor } from "./helpers.ts";

type KObj = Record<string, unknown>;

const DIR = new URL("../../deploy/examples/", import.meta.url).pathname;
const SCHEMAS = {
  StoragePolicy: StoragePolicySchema,
  ErasureCodingPolicy: ErasureCodingPolicySchema,
  DiskPool: DiskPoolSchema,
} as const;

async function loadExamples(): Promise<{ file: string; obj: Record<string, unknown> }[]> {
  const out = [];
  for await (const e of Deno.readDir(DIR)) {
    if (!e.name.endsWith(".yaml")) continue;
    for (const doc of parseAllDocuments(await Deno.readTextFile(DIR + e.name))) {
      assert.deepEqual(doc.errors, [], `${e.name} is valid YAML`);
      out.push({ file: e.name, obj: doc.toJS() as Record<string, unknown> });
    }
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

Deno.test("deploy/examples: every object parses with zod and passes its CRD", async () => {
  const examples = await loadExamples();
  const kinds = new Set<string>();
  for (const { file, obj } of examples) {
    const kind = obj.kind as string;
    kinds.add(kind);
    if (kind === "Namespace") continue; // the DiskPools' namespace, a built-in kind
    const schema = SCHEMAS[kind as keyof typeof SCHEMAS];
    assert.ok(schema, `${file}: unexpected kind ${kind}`);
    const parsed = schema.safeParse(obj);
    assert.ok(parsed.success, `${file}: ${JSON.stringify(parsed.error?.issues)}`);
    const r = validatorFor(kind).validate(obj);
    assert.ok(r.ok, `${file}: ${JSON.stringify(r)}`);
  }
  assert.deepEqual([...kinds].sort(), [
    "DiskPool",
    "ErasureCodingPolicy",
    "Namespace",
    "StoragePolicy",
  ]);
});

Deno.test("deploy/examples: a database StoragePolicy, 4+2 RS and 12+2+2 LRC, pools of every tier", async () => {
  const examples = (await loadExamples()).map((e) => e.obj);
  const ecps = examples.filter((o) => o.kind === "ErasureCodingPolicy")
    .map((o) => ErasureCodingPolicySchema.parse(o).spec)
    .map((s) => `${s.algorithm} ${s.dataShards}+${s.parityShards}+${s.localGroups ?? 0}`);
  assert.deepEqual(ecps.sort(), ["LRC 12+2+2", "ReedSolomon 4+2+0"]);

  const sp = StoragePolicySchema.parse(
    examples.find((o) => o.kind === "StoragePolicy" && (o.metadata as KObj).name === "databases"),
  );
  assert.equal(sp.spec.claimSelector?.matchLabels?.["app.kubernetes.io/component"], "database");
  assert.equal(sp.spec.volumeSelector, undefined, "provisioned PVs carry no labels");
  assert.ok(ecps.length > 0 && sp.spec.ecPolicyRef === "rs-4-2");

  const pools = examples.filter((o) => o.kind === "DiskPool").map((o) => DiskPoolSchema.parse(o));
  for (const tier of TIERS) {
    assert.ok(pools.some((p) => p.metadata.labels?.[TIER_LABEL_KEY] === tier), `a ${tier} pool`);
  }
  // 4+2 needs six cold pools in distinct failure domains (nodes).
  const coldNodes = new Set(
    pools.filter((p) => p.metadata.labels?.[TIER_LABEL_KEY] === "cold").map((p) => p.spec.node),
  );
  assert.ok(coldNodes.size >= 6);
});

/** A dynamically provisioned PV (no labels, a claimRef) bound to a labelled PVC. */
function provisioned(
  pv: string,
  ns: string,
  claim: string,
  claimLabels: Record<string, string>,
  nsLabels: Record<string, string>,
  storageClassName = "mayastor-3",
): VolumeSubject {
  return {
    pv: {
      metadata: { name: pv },
      spec: { storageClassName, claimRef: { namespace: ns, name: claim, uid: `uid-${claim}` } },
    },
    pvc: {
      metadata: { namespace: ns, name: claim, uid: `uid-${claim}`, labels: claimLabels },
      spec: { volumeName: pv },
    },
    namespaceLabels: nsLabels,
  };
}

Deno.test("deploy/examples: the example policies select provisioned PVs by claim and namespace, never both", async () => {
  const policies = (await loadExamples()).filter((e) => e.obj.kind === "StoragePolicy")
    .map((e) => StoragePolicySchema.parse(e.obj))
    .map((p) => ({ name: p.metadata.name!, enabled: p.spec.enabled, spec: p.spec }));
  assert.deepEqual(policies.map((p) => p.name).sort(), ["analytics", "databases"]);
  const optedIn = { "storage.billyronks.io/tiering": "enabled" };
  const db = { "app.kubernetes.io/component": "database" };
  const subjects = [
    provisioned("pvc-1", "shop", "data-postgres-0", db, optedIn),
    provisioned("pvc-2", "shop", "cache", { "app.kubernetes.io/component": "cache" }, optedIn),
    provisioned("pvc-3", "sandbox", "data-mysql-0", db, {}),
    provisioned("pvc-4", "shop", "data-pg-fast", db, optedIn, "mayastor-1"),
    provisioned("pvc-5", "analytics", "warehouse-0", {
      "app.kubernetes.io/component": "warehouse",
    }, { team: "analytics", ...optedIn }),
    provisioned("pvc-6", "analytics", "data-pg-0", db, { team: "analytics", ...optedIn }),
  ];
  const picked = (name: string) => {
    const p = policyVolumes(policies.find((x) => x.name === name)!, policies, subjects);
    assert.equal(p.contested.size, 0, `${name} shares no volume with another example`);
    return p.selected.map((s) => s.pv.metadata.name);
  };
  assert.deepEqual(picked("databases"), ["pvc-1", "pvc-6"]);
  assert.deepEqual(picked("analytics"), ["pvc-5"]);
});
