import assert from "node:assert/strict";
import { classify, classifyAll, parseOverride } from "../../src/hardware/classify.ts";
import { type BlockDevice, scanBlockDevices } from "../../src/hardware/sysfs.ts";
import { buildMixedNode } from "./fixtures/sysfs.ts";

function dev(p: Partial<BlockDevice>): BlockDevice {
  return {
    name: "sdx",
    sysPath: "/sys/x",
    sizeBytes: 1e12,
    logicalBlockSize: 512,
    physicalBlockSize: 4096,
    rotational: false,
    removable: false,
    readOnly: false,
    transport: "sata",
    partitions: [],
    holders: [],
    slaves: [],
    zoned: { model: "none" },
    ...p,
  };
}

Deno.test("fixture node: each device gets the documented tier and reason", async () => {
  const base = await Deno.makeTempDir();
  try {
    const devs = await scanBlockDevices(await buildMixedNode(base));
    const c = classifyAll(devs);
    const tiers = Object.fromEntries([...c].map(([k, v]) => [k, v.tier]));
    assert.deepEqual(tiers, {
      "dm-0": "cold",
      loop0: "none",
      nvme10n1: "hot",
      nvme10n2: "none",
      nvme1n1: "hot",
      sda: "warm",
      sdb: "cold",
      vda: "cold",
    });
    assert.match(c.get("nvme10n2")!.reason, /host-managed zoned/);
    assert.match(c.get("dm-0")!.reason, /device-mapper over sdb, all cold/);
    assert.match(c.get("loop0")!.reason, /loop device/);
    assert.match(c.get("sda")!.reason, /non-rotational SATA/);
    assert.match(c.get("sdb")!.reason, /rotational SAS/);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("rules: removable, read-only, empty and USB devices never become pools", () => {
  assert.equal(classify(dev({ removable: true })).tier, "none");
  assert.equal(classify(dev({ readOnly: true })).tier, "none");
  assert.equal(classify(dev({ sizeBytes: 0 })).tier, "none");
  assert.equal(classify(dev({ transport: "usb" })).tier, "none");
  assert.equal(classify(dev({ transport: "sas", rotational: true })).tier, "cold");
  assert.equal(classify(dev({ transport: "sas", rotational: false })).tier, "warm");
  assert.equal(classify(dev({ transport: "nvme", zoned: { model: "host-aware" } })).tier, "hot");
  assert.equal(classify(dev({ rotational: undefined })).tier, "none");
});

Deno.test("stacked devices: mixed or unknown underlying disks are excluded", () => {
  const ssd = dev({ name: "sda" });
  const hdd = dev({ name: "sdb", rotational: true });
  const md = dev({ name: "md0", transport: "md", slaves: ["sda", "sdb"] });
  const byName = new Map([ssd, hdd, md].map((d) => [d.name, d]));
  assert.equal(classify(md, [], byName).tier, "none");
  assert.match(classify(md, [], byName).reason, /mixed tiers/);
  const orphan = dev({ name: "dm-3", transport: "device-mapper", slaves: ["sdz"] });
  assert.match(classify(orphan, [], byName).reason, /underlying disks are unknown/);
});

Deno.test("overrides by name, model or serial glob win over the rules", () => {
  const d = dev({ name: "sdc", model: "Micron 5300", serial: "MX123", rotational: false });
  assert.equal(classify(d, [parseOverride("sdc=cold")]).tier, "cold");
  assert.equal(classify(d, [parseOverride("Micron*=hot")]).tier, "hot");
  assert.equal(classify(d, [parseOverride("MX1??=none")]).tier, "none");
  assert.equal(classify(d, [parseOverride("nvme*=cold")]).tier, "warm");
  assert.equal(classify(d, [parseOverride("sdc=cold")]).overridden, true);
  assert.throws(
    () => parseOverride("sdc=lukewarm"),
    /GLOB=TIER with TIER one of hot, warm, cold, none/,
  );
  assert.throws(() => parseOverride("=hot"), /invalid tier override/);
});
