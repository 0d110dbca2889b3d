import assert from "node:assert/strict";
import { parseNvmeSmartLog, parseSmartctl, readSmart } from "../../src/hardware/smart.ts";

const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`./fixtures/${name}`, import.meta.url));

Deno.test("smartctl NVMe: health, temperature, hours, media errors, wear", () => {
  const r = parseSmartctl(fixture("smartctl-nvme-healthy.json"));
  assert.ok(r.available);
  assert.equal(r.source, "smartctl");
  assert.equal(r.healthy, true);
  assert.equal(r.temperatureCelsius, 41);
  assert.equal(r.powerOnHours, 8761);
  assert.equal(r.mediaErrors, 0);
  assert.equal(r.percentageUsed, 3);
  assert.deepEqual(r.warnings, []);
});

Deno.test("smartctl NVMe with a critical warning and exit bit 3 is failing", () => {
  const r = parseSmartctl(fixture("smartctl-nvme-critical.json"));
  assert.ok(r.available);
  assert.equal(r.healthy, false);
  assert.equal(r.mediaErrors, 1289);
  assert.ok(r.warnings.includes("SMART status: DISK FAILING"));
  assert.ok(r.warnings.includes("NVMe critical warning 0x4"));
});

Deno.test("smartctl SATA SSD: attributes 5, 9 and 194", () => {
  const r = parseSmartctl(fixture("smartctl-sata-ssd.json"));
  assert.ok(r.available);
  assert.equal(r.healthy, true);
  assert.equal(r.reallocatedSectors, 0);
  assert.equal(r.powerOnHours, 7305);
  assert.equal(r.temperatureCelsius, 33);
});

Deno.test("smartctl SAS HDD: grown defects and the error-log exit bit as a warning", () => {
  const r = parseSmartctl(fixture("smartctl-sas-hdd.json"));
  assert.ok(r.available);
  assert.equal(r.reallocatedSectors, 12);
  assert.equal(r.temperatureCelsius, 36);
  assert.deepEqual(r.warnings, ["the device error log has errors"]);
});

Deno.test("smartctl that cannot detect the device gives its own message as the reason", () => {
  const r = parseSmartctl(fixture("smartctl-virtio-undetected.json"));
  assert.deepEqual(r, {
    available: false,
    reason: "smartctl: /dev/vda: Unable to detect device type",
  });
});

Deno.test("malformed, truncated, empty and wrongly shaped output never throws", () => {
  const whole = fixture("smartctl-nvme-healthy.json");
  for (
    const text of [
      whole.slice(0, whole.length / 2),
      "not json",
      "",
      "[]",
      "null",
      '{"smart_status": 5}',
    ]
  ) {
    const r = parseSmartctl(text);
    assert.equal(r.available, false, text.slice(0, 20));
    if (!r.available) assert.ok(r.reason.length > 0);
  }
  const nvme = fixture("nvme-cli-smart-log.json");
  for (const text of [nvme.slice(0, 40), "{}", "", "oops"]) {
    assert.equal(parseNvmeSmartLog(text).available, false);
  }
});

Deno.test("nvme-cli smart-log: Kelvin converted, unit strings understood", () => {
  const r = parseNvmeSmartLog(fixture("nvme-cli-smart-log.json"));
  assert.ok(r.available);
  assert.equal(r.source, "nvme-cli");
  assert.equal(r.temperatureCelsius, 41);
  assert.equal(r.percentageUsed, 3);
  assert.equal(r.powerOnHours, 8761);
  const newer = parseNvmeSmartLog(
    JSON.stringify({
      critical_warning: 0,
      temperature: "36 °C (309 K)",
      percent_used: "5%",
      power_on_hours: "1,024",
    }),
  );
  assert.ok(newer.available);
  assert.equal(newer.temperatureCelsius, 36);
  assert.equal(newer.percentageUsed, 5);
  assert.equal(newer.powerOnHours, 1024);
});

Deno.test("readSmart with a smartctl that is not installed says how to install it", async () => {
  const r = await readSmart("/dev/sdz", undefined, { smartctlPath: "/nonexistent/smartctl" });
  assert.equal(r.available, false);
  if (!r.available) assert.match(r.reason, /not installed.*apt-get install smartmontools/);
});

Deno.test("readSmart runs the real smartctl and reports why a device has no SMART", async () => {
  try {
    await Deno.stat("/usr/sbin/smartctl");
  } catch {
    throw new Error("smartctl is missing: apt-get install -y smartmontools");
  }
  const r = await readSmart("/dev/nonexistent-disk", undefined);
  assert.equal(r.available, false);
  if (!r.available) assert.match(r.reason, /^smartctl: .*nonexistent-disk/);
});
