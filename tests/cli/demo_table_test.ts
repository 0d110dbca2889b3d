import assert from "node:assert/strict";
import {
  applyEcState,
  ecSummaryLine,
  redrawPrefix,
  renderDemoTable,
} from "../../src/cli/demo_table.ts";

Deno.test("demo table: aligned columns, IOPS right-aligned, unknown shown as -", () => {
  const text = renderDemoTable({
    header: ["h"],
    rows: [
      { volume: "pvc-a", iops: 12.4, tier: "hot", pools: ["nvme-1"], migration: "" },
      { volume: "pvc-long-name", tier: "cold", pools: ["hdd-1", "nvme-2"], migration: "x" },
    ],
  });
  assert.equal(
    text,
    [
      "h",
      "",
      "VOLUME         IOPS  TIER  REPLICAS ON   MIGRATION",
      "pvc-a            12  hot   nvme-1",
      "pvc-long-name     -  cold  hdd-1,nvme-2  x",
    ].join("\n"),
  );
});

Deno.test("demo table: the redraw prefix moves up over the previous frame and clears it", () => {
  assert.equal(redrawPrefix(0), "");
  assert.equal(redrawPrefix(3), "\x1b[3F\x1b[J");
});

Deno.test("demo table: an EC-tiered volume shows `ec k+m` on its shard pools; a move in flight its phase", () => {
  const row = { volume: "pvc-a", tier: "?", pools: [], migration: "" };
  const ec = { k: 2, m: 1 };
  applyEcState(
    row,
    { kind: "ec-move", phase: "Done", to: "ec", shardPools: ["c1", "c2", "c3", "spare"] },
    ec,
    true,
  );
  assert.deepEqual(row, {
    volume: "pvc-a",
    tier: "ec 2+1",
    pools: ["c1", "c2", "c3"],
    migration: "",
  });
  const moving = { volume: "pvc-b", tier: "hot", pools: ["n1"], migration: "" };
  applyEcState(
    moving,
    { kind: "ec-move", phase: "Writing", to: "ec", shardPools: ["c1"] },
    ec,
    false,
  );
  assert.deepEqual(moving, {
    volume: "pvc-b",
    tier: "hot",
    pools: ["n1"],
    migration: "→ ec 2+1 Writing",
  });
  const back = { volume: "pvc-c", tier: "?", pools: [], migration: "" };
  applyEcState(
    back,
    { kind: "rehydrate", phase: "Creating", to: "hot", shardPools: ["c1", "c2", "c3"] },
    ec,
    true,
  );
  assert.equal(back.tier, "ec 2+1");
  assert.equal(back.migration, "ec → hot Creating");
});

Deno.test("demo table: the EC summary line gives logical, stored, efficiency and the saving vs 3 replicas", () => {
  assert.equal(
    ecSummaryLine({ ecPolicy: "demo-ec", k: 2, m: 1, volumes: 0 }),
    "EC demo-ec 2+1: no volume in stripes yet",
  );
  const MiB = 1024 * 1024;
  assert.equal(
    ecSummaryLine({
      ecPolicy: "demo-ec",
      k: 2,
      m: 1,
      volumes: 2,
      bytes: { logical: 48 * MiB, stored: 72 * MiB, efficiency: 0.667 },
    }),
    "EC demo-ec 2+1: 2 volumes, 48.0 MiB logical in 72.0 MiB stored (stored/logical 1.50, " +
      "efficiency 0.667); 3 replicas would take 144.0 MiB: 72.0 MiB saved (50%)",
  );
  assert.match(
    ecSummaryLine({
      ecPolicy: "p",
      k: 4,
      m: 2,
      volumes: 1,
      bytes: { logical: 4 * MiB, stored: 6 * MiB, efficiency: 0.667 },
      replicas: 2,
    }),
    /1 volume, .*2 replicas would take 8\.0 MiB: 2\.0 MiB saved \(25%\)$/,
  );
});
