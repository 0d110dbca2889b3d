import assert from "node:assert/strict";
import { scanBlockDevices, scanNvmeControllers, transportOf } from "../../src/hardware/sysfs.ts";
import { buildMixedNode } from "./fixtures/sysfs.ts";

async function withNode(fn: (sys: string) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "couchestor-sysfs-" });
  try {
    await fn(await buildMixedNode(base));
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

Deno.test("scanner lists whole devices, with partitions inside their disk", async () => {
  await withNode(async (sys) => {
    const devs = await scanBlockDevices(sys);
    assert.deepEqual(devs.map((d) => d.name), [
      "dm-0",
      "loop0",
      "nvme10n1",
      "nvme10n2",
      "nvme1n1",
      "sda",
      "sdb",
      "vda",
    ]);
    const n1 = devs.find((d) => d.name === "nvme1n1")!;
    assert.deepEqual(n1.partitions, ["nvme1n1p1"]);
    assert.equal(n1.sizeBytes, 1953525168 * 512);
  });
});

Deno.test("NVMe namespaces map to their own controller: nvme1 is not nvme10", async () => {
  await withNode(async (sys) => {
    const devs = await scanBlockDevices(sys);
    const by = new Map(devs.map((d) => [d.name, d]));
    assert.equal(by.get("nvme1n1")!.controller, "nvme1");
    assert.equal(by.get("nvme1n1")!.model, "Samsung SSD 980 PRO 1TB");
    assert.equal(by.get("nvme1n1")!.firmware, "5B2QGXA7");
    assert.equal(by.get("nvme10n1")!.controller, "nvme10");
    assert.equal(by.get("nvme10n1")!.serial, "ZNS0000000042");
    assert.equal(by.get("nvme10n2")!.controller, "nvme10");
    const ctrls = await scanNvmeControllers(sys);
    assert.deepEqual(ctrls.map((c) => [c.name, c.transport]), [["nvme1", "pcie"], [
      "nvme10",
      "pcie",
    ]]);
  });
});

Deno.test("ZNS namespace: zoned model, zone count, zone size and append limit", async () => {
  await withNode(async (sys) => {
    const zns = (await scanBlockDevices(sys)).find((d) => d.name === "nvme10n2")!;
    assert.deepEqual(zns.zoned, {
      model: "host-managed",
      nrZones: 3726,
      zoneSizeBytes: 2097152 * 512,
      zoneAppendMaxBytes: 1048576,
      maxOpenZones: undefined,
      maxActiveZones: undefined,
    });
    const conv = (await scanBlockDevices(sys)).find((d) => d.name === "nvme10n1")!;
    assert.deepEqual(conv.zoned, { model: "none" });
  });
});

Deno.test("transports: SATA under libata, SAS behind an HBA, virtio, loop, dm with its stack", async () => {
  await withNode(async (sys) => {
    const by = new Map((await scanBlockDevices(sys)).map((d) => [d.name, d]));
    assert.equal(by.get("sda")!.transport, "sata");
    assert.equal(by.get("sda")!.rotational, false);
    assert.equal(by.get("sda")!.model, "Samsung SSD 870 EVO 2TB");
    assert.equal(by.get("sda")!.firmware, "SVT02B6Q");
    assert.equal(by.get("sdb")!.transport, "sas");
    assert.equal(by.get("sdb")!.physicalBlockSize, 4096);
    assert.deepEqual(by.get("sdb")!.holders, ["dm-0"]);
    assert.equal(by.get("vda")!.transport, "virtio");
    assert.equal(by.get("vda")!.serial, undefined);
    assert.equal(by.get("loop0")!.transport, "loop");
    assert.equal(by.get("dm-0")!.transport, "device-mapper");
    assert.equal(by.get("dm-0")!.dmName, "vg0-data");
    assert.deepEqual(by.get("dm-0")!.slaves, ["sdb"]);
  });
});

Deno.test("transportOf: name patterns and path hints", () => {
  assert.equal(transportOf("nvme0c1n1", "/x"), "nvme");
  assert.equal(transportOf("sdc", "/sys/devices/pci0000:00/usb2/2-1/host6/block/sdc"), "usb");
  assert.equal(
    transportOf("sdd", "/sys/devices/x/host0/target0:0:0/0:0:0:0/block/sdd", { hasVpdPg89: true }),
    "sata",
  );
  assert.equal(transportOf("sde", "/sys/devices/x/host0/block/sde"), "scsi");
  assert.equal(transportOf("zram0", "/x"), "zram");
  assert.equal(transportOf("md127", "/x"), "md");
  assert.equal(transportOf("sr0", "/x"), "optical");
  assert.equal(transportOf("mmcblk0", "/x"), "mmc");
  assert.equal(transportOf("weird", "/x"), "unknown");
});

Deno.test("a missing sysfs root gives an empty list, not a crash", async () => {
  assert.deepEqual(await scanBlockDevices("/nonexistent-sysfs-root"), []);
});
