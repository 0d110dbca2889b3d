import assert from "node:assert/strict";
import { redrawPrefix, renderDemoTable } from "../../src/cli/demo_table.ts";

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
