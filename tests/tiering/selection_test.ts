/** Selection by PV, claim and namespace, and the one-volume hold of two policies. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  boundClaim,
  claimKey,
  policyVolumes,
  type PvcObject,
  type PvObject,
  selectVolume,
  type VolumeSubject,
} from "../../src/tiering/selection.ts";

/** A dynamically provisioned PV: no labels, a claimRef to its PVC. */
function provisioned(name: string, ns: string, claim: string, sc = "mayastor"): PvObject {
  return {
    metadata: { name },
    spec: { storageClassName: sc, claimRef: { namespace: ns, name: claim, uid: `uid-${claim}` } },
  };
}

function pvc(ns: string, name: string, volume: string, labels?: Record<string, string>): PvcObject {
  return {
    metadata: { namespace: ns, name, uid: `uid-${name}`, ...(labels ? { labels } : {}) },
    spec: { volumeName: volume },
  };
}

const subject = (
  pv: PvObject,
  claim?: PvcObject,
  nsLabels?: Record<string, string>,
): VolumeSubject => ({ pv, ...(claim ? { pvc: claim } : {}), namespaceLabels: nsLabels });

Deno.test("selection: a provisioned PV is selected by its claim's and namespace's labels", () => {
  const pv = provisioned("pvc-1", "shop", "db-data");
  const s = subject(pv, pvc("shop", "db-data", "pvc-1", { app: "postgres" }), { tier: "gold" });
  assert.equal(claimKey(pv), "shop/db-data");
  assert.deepEqual(selectVolume({ claimSelector: { matchLabels: { app: "postgres" } } }, s), {
    selected: true,
  });
  assert.deepEqual(
    selectVolume({
      storageClassName: "mayastor",
      claimSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["postgres"] }] },
      namespaceSelector: { matchLabels: { tier: "gold" } },
    }, s),
    { selected: true },
  );
  // The old way, PV labels, selects nothing on such a PV.
  const byPv = selectVolume({ volumeSelector: { matchLabels: { app: "postgres" } } }, s);
  assert.equal(byPv.selected, false);
  if (!byPv.selected) {
    assert.equal(byPv.field, "volumeSelector");
    assert.match(byPv.reason, /PV labels do not match "app=postgres"/);
  }
});

Deno.test("selection: each selector names why it does not match", () => {
  const pv = provisioned("pvc-1", "shop", "db-data", "fast");
  const good = subject(pv, pvc("shop", "db-data", "pvc-1", { app: "web" }), { team: "a" });
  const cases: [Parameters<typeof selectVolume>[0], VolumeSubject, string, RegExp][] = [
    [{ storageClassName: "mayastor" }, good, "storageClassName", /"fast", not "mayastor"/],
    [{ claimSelector: { matchLabels: { app: "db" } } }, good, "claimSelector", /shop\/db-data/],
    [
      { namespaceSelector: { matchLabels: { team: "b" } } },
      good,
      "namespaceSelector",
      /namespace shop labels do not match "team=b"/,
    ],
    [
      { namespaceSelector: {} },
      subject(pv, pvc("shop", "db-data", "pvc-1")),
      "namespaceSelector",
      /namespace shop is not found/,
    ],
    [{ claimSelector: {} }, subject(pv), "claimSelector", /claim shop\/db-data is not found/],
    [
      { claimSelector: {} },
      subject({ metadata: { name: "static" }, spec: {} }),
      "claimSelector",
      /no bound claim/,
    ],
  ];
  for (const [spec, s, field, reason] of cases) {
    const v = selectVolume(spec, s);
    assert.equal(v.selected, false, JSON.stringify(spec));
    if (!v.selected) {
      assert.equal(v.field, field);
      assert.match(v.reason, reason);
    }
  }
});

Deno.test("selection: a claim recreated under the same name, or bound elsewhere, is not the PV's", () => {
  const pv = provisioned("pvc-1", "shop", "db-data");
  const recreated = pvc("shop", "db-data", "pvc-1", { app: "db" });
  recreated.metadata.uid = "uid-new";
  assert.equal(boundClaim(subject(pv, recreated)), undefined);
  assert.equal(boundClaim(subject(pv, pvc("shop", "db-data", "pvc-2"))), undefined);
  assert.equal(boundClaim(subject(pv, pvc("other", "db-data", "pvc-1"))), undefined);
  const pending = pvc("shop", "db-data", "pvc-1");
  delete pending.spec;
  assert.ok(boundClaim(subject(pv, pending)), "a claim still binding counts");
});

Deno.test("selection: every given selector must match (property against the single ones)", () => {
  const labels = fc.dictionary(fc.constantFrom("a", "b", "c"), fc.constantFrom("1", "2"), {
    maxKeys: 3,
  });
  const sel = fc.option(fc.record({ matchLabels: labels }), { nil: undefined });
  fc.assert(
    fc.property(sel, sel, sel, labels, labels, labels, (vs, cs, ns, pvL, pvcL, nsL) => {
      const pv: PvObject = {
        metadata: { name: "v", labels: pvL },
        spec: { claimRef: { namespace: "n", name: "c" } },
      };
      const s = subject(pv, pvc("n", "c", "v", pvcL), nsL);
      const all = selectVolume({ volumeSelector: vs, claimSelector: cs, namespaceSelector: ns }, s);
      const each = [
        selectVolume({ volumeSelector: vs }, s),
        selectVolume({ claimSelector: cs }, s),
        selectVolume({ namespaceSelector: ns }, s),
      ].every((v) => v.selected);
      assert.equal(all.selected, each);
    }),
  );
});

Deno.test("selection: two policies on one volume hold only that volume, not both policies", () => {
  const vols = ["a", "b", "c"].map((n) => {
    const pv = provisioned(`pv-${n}`, "shop", n);
    return subject(pv, pvc("shop", n, `pv-${n}`, { app: n === "c" ? "shared" : n }), {});
  });
  const dbs = {
    name: "dbs",
    enabled: true,
    spec: {
      claimSelector: {
        matchExpressions: [{ key: "app", operator: "In" as const, values: ["a", "shared"] }],
      },
    },
  };
  const web = {
    name: "web",
    enabled: true,
    spec: {
      claimSelector: {
        matchExpressions: [{ key: "app", operator: "In" as const, values: ["b", "shared"] }],
      },
    },
  };
  const off = { name: "off", enabled: false, spec: {} };
  const d = policyVolumes(dbs, [dbs, web, off], vols);
  assert.deepEqual(d.selected.map((s) => s.pv.metadata.name), ["pv-a", "pv-c"]);
  assert.deepEqual([...d.contested], [["pv-c", ["web"]]], "the disabled policy contests nothing");
  const w = policyVolumes(web, [dbs, web, off], vols);
  assert.deepEqual(w.selected.map((s) => s.pv.metadata.name), ["pv-b", "pv-c"]);
  assert.deepEqual([...w.contested], [["pv-c", ["dbs"]]]);
  const o = policyVolumes(off, [dbs, web, off], vols);
  assert.deepEqual([...o.contested.keys()].sort(), ["pv-a", "pv-b", "pv-c"]);
});
