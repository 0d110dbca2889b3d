/** Watch: the Python client's `watch=True`, bookmarks, resumption; kubectl's `get -w`. */
import assert from "node:assert/strict";
import { kubectlCmd } from "../kubectl.ts";
import { type Case, type Ctx, kok, manifest, persistentVolume, py } from "./case.ts";

/** The three kinds every watch case covers: a custom resource, a PV and a Lease. */
function kinds(c: Ctx) {
  return [
    {
      resource: "widgets.test.couchestor.io",
      plural: "widgets",
      obj: {
        apiVersion: "test.couchestor.io/v1",
        kind: "Widget",
        metadata: { name: "w", namespace: c.ns },
        spec: { tier: "hot" },
      },
      patch: '{"spec":{"tier":"cold"}}',
    },
    {
      resource: "persistentvolumes",
      plural: "persistentvolumes",
      obj: persistentVolume(`${c.ns}-pv`),
      patch: '{"metadata":{"labels":{"seen":"yes"}}}',
    },
    {
      resource: "leases.coordination.k8s.io",
      plural: "leases",
      obj: {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "l", namespace: c.ns },
        spec: { holderIdentity: "a", leaseDurationSeconds: 15 },
      },
      patch: '{"spec":{"holderIdentity":"b"}}',
    },
  ];
}

/** Watch requests the sandbox has answered for a resource. */
function watchCount(c: Ctx, resource: string): number {
  return c.sb.requests.list({ verb: "watch", resource }).length;
}

/** Polls until `ok()` (a bounded wait for something to happen). */
async function waitUntil(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(ok(), "timed out waiting");
}

/** kubectl `get -w --output-watch-events` while kubectl creates, patches and deletes. */
async function kubectlWatch(c: Ctx): Promise<void> {
  for (const k of kinds(c)) {
    const name = (k.obj.metadata as { name: string }).name;
    const watchesBefore = watchCount(c, k.plural);
    const child = kubectlCmd(c.sb, c.home, [
      "-n",
      c.ns,
      "get",
      k.resource,
      "--watch-only",
      "--output-watch-events",
      "-o",
      'jsonpath={.type} {.object.metadata.name}{"\\n"}',
    ]).spawn();
    try {
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const file = await manifest(c, name, k.obj);
      // Write once kubectl's watch is open, so every event arrives live.
      await waitUntil(() => watchCount(c, k.plural) > watchesBefore);
      await kok(c, "create", "-f", file);
      await kok(c, "patch", k.resource, name, "--type=merge", "-p", k.patch);
      await kok(c, "delete", k.resource, name, "--wait=false");
      let text = "";
      while (!text.includes(`DELETED ${name}`)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      await reader.cancel().catch(() => {});
      const lines = text.trim().split("\n").filter((l) => l.endsWith(` ${name}`));
      assert.deepEqual(
        distinct(lines.map((l) => l.split(" ")[0])),
        ["ADDED", "MODIFIED", "DELETED"],
        `${k.resource}: ${text}`,
      );
    } finally {
      try {
        child.kill();
      } catch { /* already gone */ }
      await child.status;
      await child.stderr.cancel().catch(() => {});
    }
  }
}

/** The stock `watch.Watch().stream(...)` over the three kinds. */
const PY_WATCH = `
pv_body = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": NS + "-pv"},
  "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/tmp"}}}
lease_body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l"},
  "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}
w_body = {"apiVersion": "test.couchestor.io/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"tier": "hot"}}
G = ("test.couchestor.io", "v1")
kinds = {
  "widget": dict(
    list=(custom.list_namespaced_custom_object, G + (NS, "widgets")),
    rv=lambda: custom.list_namespaced_custom_object(*G, NS, "widgets")["metadata"]["resourceVersion"],
    create=lambda: custom.create_namespaced_custom_object(*G, NS, "widgets", w_body),
    patch=lambda: custom.patch_namespaced_custom_object(*G, NS, "widgets", "w", {"spec": {"tier": "cold"}}),
    delete=lambda: custom.delete_namespaced_custom_object(*G, NS, "widgets", "w")),
  "pv": dict(
    list=(core.list_persistent_volume, ()),
    rv=lambda: core.list_persistent_volume().metadata.resource_version,
    create=lambda: core.create_persistent_volume(pv_body),
    patch=lambda: core.patch_persistent_volume(NS + "-pv", {"metadata": {"labels": {"seen": "yes"}}}),
    delete=lambda: core.delete_persistent_volume(NS + "-pv")),
  "lease": dict(
    list=(coord.list_namespaced_lease, (NS,)),
    rv=lambda: coord.list_namespaced_lease(NS).metadata.resource_version,
    create=lambda: coord.create_namespaced_lease(NS, lease_body),
    patch=lambda: coord.patch_namespaced_lease("l", NS, {"spec": {"holderIdentity": "b"}}),
    delete=lambda: coord.delete_namespaced_lease("l", NS)),
}
def rv_of(ev):
    o = ev["raw_object"]
    return o["metadata"]["resourceVersion"]
result = {}
for name, k in kinds.items():
    fn, args = k["list"]
    start = k["rv"]()
    k["create"]()
    w = watch.Watch()
    seen, added_rv = [], None
    for ev in w.stream(fn, *args, resource_version=start, allow_watch_bookmarks=True):
        seen.append(ev["type"])
        if ev["type"] == "ADDED":
            added_rv = rv_of(ev)
            k["patch"]()
        elif ev["type"] == "MODIFIED" and "MODIFIED" not in seen[:-1]:
            # A PV's delete is a MODIFIED (pv-protection) before its DELETED: delete once.
            k["delete"]()
        elif ev["type"] == "BOOKMARK" and "DELETED" in seen:
            w.stop()
    # Resume after the ADDED event; no bookmarks asked, so the timeout ends the stream bare.
    resumed = [ev["type"] for ev in watch.Watch().stream(fn, *args, resource_version=added_rv, timeout_seconds=1)]
    result[name] = {"seen": seen, "resumed": resumed}
out(result)
`;

/** Event types in order of first appearance. */
function distinct(types: string[]): string[] {
  return types.filter((t, i) => types.indexOf(t) === i);
}

/** Events in order with bookmarks squeezed out (their count depends on timing). */
function withoutBookmarks(types: string[]): string[] {
  return types.filter((t) => t !== "BOOKMARK");
}

/** Watches stream over every kind for both clients. */
export const watchCases: Case[] = [{
  name: "watch streams ADDED/MODIFIED/DELETED, bookmarks when asked, and resumes",
  expects:
    "a list request with watch=True (any value but 0/false) streams WatchEvents; BOOKMARK events only with allowWatchBookmarks; a watch from a resourceVersion replays what followed it",
  upstream:
    "staging/src/k8s.io/apimachinery/pkg/runtime/conversion.go (Convert_Slice_string_To_bool), staging/src/k8s.io/apiserver/pkg/endpoints/handlers/watch.go, staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go (bookmarks)",
  kubectl: kubectlWatch,
  async python(c) {
    const r = await py<Record<string, { seen: string[]; resumed: string[] }>>(c, PY_WATCH);
    for (const [kind, ev] of Object.entries(r)) {
      assert.deepEqual(distinct(withoutBookmarks(ev.seen)), ["ADDED", "MODIFIED", "DELETED"], kind);
      assert.equal(ev.seen.at(-1), "BOOKMARK", `${kind}: a bookmark follows when asked`);
      assert.deepEqual(
        distinct(ev.resumed),
        ["MODIFIED", "DELETED"],
        `${kind}: resumed from ADDED`,
      );
    }
  },
}];
