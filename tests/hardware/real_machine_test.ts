/** Discovery against this machine's real /sys, real block ioctls and a real loop device. */
import assert from "node:assert/strict";
import { queryBlockDevice } from "../../src/ffi/ioctl.ts";
import { discover } from "../../src/hardware/discover.ts";
import { scanBlockDevices } from "../../src/hardware/sysfs.ts";

Deno.test("discover on the real /sys runs and classifies the virtio disk as cold", async () => {
  const found = await discover({ smart: false });
  assert.ok(found.length > 0, "no block devices under /sys/class/block");
  const virtio = found.filter((d) => d.device.transport === "virtio");
  for (const v of virtio) {
    const sysRot = (await Deno.readTextFile(`/sys/class/block/${v.device.name}/queue/rotational`))
      .trim();
    assert.equal(v.classification.tier, sysRot === "1" ? "cold" : "warm", v.device.name);
    const sectors = Number(
      (await Deno.readTextFile(`/sys/class/block/${v.device.name}/size`)).trim(),
    );
    assert.equal(v.device.sizeBytes, sectors * 512);
    // Where this process may open the device, ioctls must agree with sysfs; where it may not
    // (a container's device cgroup answers EPERM), the reason is recorded instead.
    if (v.ioctl.ok) {
      assert.equal(v.ioctl.info.sizeBytes, v.device.sizeBytes);
      assert.equal(v.ioctl.info.logicalBlockSize, v.device.logicalBlockSize);
      assert.equal(v.ioctl.info.physicalBlockSize, v.device.physicalBlockSize);
    } else {
      assert.match(v.ioctl.reason, /open \/dev\/.*errno \d+.*using sysfs alone/);
    }
  }
});

async function losetup(args: string[]): Promise<string> {
  let out;
  try {
    out = await new Deno.Command("losetup", { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error("losetup is missing: apt-get install -y mount (util-linux)");
    }
    throw e;
  }
  if (!out.success) {
    throw new Error(
      `losetup ${args.join(" ")} failed (run the tests as root): ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("block ioctls on a real loop device equal what sysfs says", async () => {
  const dir = await Deno.makeTempDir({ prefix: "couchestor-loop-" });
  const img = `${dir}/disk.img`;
  const f = await Deno.open(img, { create: true, write: true });
  await f.truncate(48 * 1024 * 1024);
  f.close();
  const dev = await losetup(["--find", "--show", "--sector-size", "4096", img]);
  try {
    const name = dev.replace("/dev/", "");
    const info = queryBlockDevice(dev);
    const sys = (await scanBlockDevices("/sys")).find((d) => d.name === name)!;
    assert.ok(sys, `${name} not in /sys/class/block`);
    assert.equal(info.sizeBytes, 48 * 1024 * 1024);
    assert.equal(info.sizeBytes, sys.sizeBytes);
    assert.equal(info.logicalBlockSize, 4096);
    assert.equal(info.logicalBlockSize, sys.logicalBlockSize);
    assert.equal(info.physicalBlockSize, sys.physicalBlockSize);
    assert.equal(info.rotational, sys.rotational);
  } finally {
    await losetup(["--detach", dev]);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ioctl on a regular file fails with ENOTTY, named", () => {
  assert.throws(
    () => queryBlockDevice("/etc/hostname"),
    /BLKGETSIZE64 \/etc\/hostname: .*errno 25/,
  );
  assert.throws(() => queryBlockDevice("/nonexistent/dev"), /open \/nonexistent\/dev: .*errno 2/);
});
