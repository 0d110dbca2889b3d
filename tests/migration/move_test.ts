/**
 * Whole-volume moves through the product path (planner → executor → REST adapter) against the
 * control-plane-faithful simulator: 1-, 2- and 3-replica volumes, hot → cold and cold → hot.
 */
import assert from "node:assert/strict";
import { withRig } from "./rig.ts";

for (const replicas of [1, 2, 3]) {
  for (const [from, to] of [["hot", "cold"], ["cold", "hot"]] as const) {
    Deno.test(`move: a ${replicas}-replica volume ${from} → ${to}, data intact, nothing leaked`, () =>
      withRig({ replicas, from }, async (r) => {
        const plan = await r.plan(to);
        assert.equal(plan.steps.length, replicas);
        const end = await r.run(plan);
        assert.equal(end.result, "Succeeded", String(end.error));
        assert.equal(end.cordonWindowsMs.length, replicas, "one cordon window per replica");
        await r.assertClean({ on: to, count: replicas });
      }));
  }
}
