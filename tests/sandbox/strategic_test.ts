/**
 * Strategic merge patch on built-in kinds, case by case as
 * k8s.io/apimachinery/pkg/util/strategicpatch/patch.go applies it (pure).
 */
import assert from "node:assert/strict";
import { PatchError } from "../../src/sandbox/apiserver/patch.ts";
import { builtinShape } from "../../src/sandbox/apiserver/shape.ts";
import { strategicMerge } from "../../src/sandbox/apiserver/strategic.ts";

type Obj = Record<string, unknown>;
const DEPLOY = builtinShape("apps/deployments");

function deployment(): Obj {
  return {
    metadata: { name: "web", finalizers: ["a", "b"], labels: { app: "web", tier: "x" } },
    spec: {
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } },
      template: {
        spec: {
          containers: [
            { name: "a", image: "nginx", env: [{ name: "A", value: "1" }], args: ["x", "y"] },
            { name: "b", image: "busybox" },
          ],
          volumes: [{ name: "v", emptyDir: {} }],
          tolerations: [{ key: "k1" }],
        },
      },
    },
  };
}
const podSpec = (o: unknown) => ((o as Obj).spec as Obj & { template: Obj }).template.spec as Obj;
const containers = (o: unknown) => podSpec(o).containers as Obj[];
const patchContainers = (list: unknown[], extra: Obj = {}) => ({
  spec: { template: { spec: { containers: list, ...extra } } },
});

Deno.test("strategic: containers merge by name, env by name, other fields replace", () => {
  const out = strategicMerge(
    deployment(),
    patchContainers([{
      name: "a",
      image: "nginx:2",
      env: [{ name: "B", value: "2" }],
      args: ["z"],
    }]),
    DEPLOY,
  );
  const [a, b] = containers(out);
  assert.equal(a.image, "nginx:2");
  assert.deepEqual(a.env, [{ name: "A", value: "1" }, { name: "B", value: "2" }]);
  assert.deepEqual(a.args, ["z"], "args has no merge strategy: replaced");
  assert.deepEqual(b, { name: "b", image: "busybox" });
});

Deno.test("strategic: a list without patchMergeKey is replaced; null deletes a field", () => {
  const out = strategicMerge(
    deployment(),
    {
      metadata: { labels: { tier: null } },
      ...patchContainers([], { tolerations: [{ key: "k2" }] }),
    },
    DEPLOY,
  );
  assert.deepEqual(podSpec(out).tolerations, [{ key: "k2" }]);
  assert.deepEqual((out as Obj & { metadata: Obj }).metadata.labels, { app: "web" });
  assert.equal(containers(out).length, 2, "an empty merge list adds nothing");
});

Deno.test("strategic: $patch delete removes one item, replace takes the list whole", () => {
  const del = strategicMerge(
    deployment(),
    patchContainers([{ name: "b", $patch: "delete" }]),
    DEPLOY,
  );
  assert.deepEqual(containers(del).map((c) => c.name), ["a"]);
  const rep = strategicMerge(
    deployment(),
    patchContainers([{ $patch: "replace" }, { name: "c", image: "alpine" }]),
    DEPLOY,
  );
  assert.deepEqual(containers(rep), [{ name: "c", image: "alpine" }]);
  const mapReplace = strategicMerge(
    deployment(),
    { metadata: { labels: { $patch: "replace", only: "this" } } },
    DEPLOY,
  ) as Obj & { metadata: Obj };
  assert.deepEqual(mapReplace.metadata.labels, { only: "this" });
  const mapDelete = strategicMerge(
    deployment(),
    { metadata: { labels: { $patch: "delete" } } },
    DEPLOY,
  ) as
    & Obj
    & { metadata: Obj };
  assert.equal(mapDelete.metadata.labels, undefined);
});

Deno.test("strategic: $retainKeys clears the fields not named (Deployment strategy)", () => {
  const out = strategicMerge(
    deployment(),
    { spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } },
    DEPLOY,
  ) as Obj & { spec: Obj };
  assert.deepEqual(out.spec.strategy, { type: "Recreate" });
});

Deno.test("strategic: $setElementOrder orders a merged list, $deleteFromPrimitiveList drops values", () => {
  const out = strategicMerge(deployment(), {
    metadata: { "$deleteFromPrimitiveList/finalizers": ["a"], finalizers: ["c"] },
    spec: {
      template: {
        spec: {
          "$setElementOrder/containers": [{ name: "b" }, { name: "a" }],
          containers: [{ name: "a", image: "nginx:3" }],
        },
      },
    },
  }, DEPLOY) as Obj & { metadata: Obj };
  assert.deepEqual(containers(out).map((c) => [c.name, c.image]), [["b", "busybox"], [
    "a",
    "nginx:3",
  ]]);
  assert.deepEqual(out.metadata.finalizers, ["b", "c"], "finalizers merge as a set");
});

Deno.test("strategic: an item without its merge key, or an unknown $patch, is an error", () => {
  assert.throws(
    () => strategicMerge(deployment(), patchContainers([{ image: "x" }]), DEPLOY),
    (e) => e instanceof PatchError && /does not contain declared merge key: name/.test(e.message),
  );
  assert.throws(
    () => strategicMerge(deployment(), { metadata: { $patch: "bogus" } }, DEPLOY),
    (e) => e instanceof PatchError && /Unknown patch type: bogus/.test(e.message),
  );
  assert.throws(() => strategicMerge(deployment(), [1], DEPLOY), PatchError);
});

Deno.test("strategic: the original is not modified", () => {
  const d = deployment();
  const before = JSON.stringify(d);
  strategicMerge(
    d,
    patchContainers([{ name: "a", image: "other" }, { name: "b", $patch: "delete" }]),
    DEPLOY,
  );
  assert.equal(JSON.stringify(d), before);
});
