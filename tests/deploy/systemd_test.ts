/** The systemd unit passes systemd's own verifier and its offline security audit. */
import assert from "node:assert/strict";

const UNIT = new URL("../../deploy/systemd/couchestor.service", import.meta.url);

async function systemdAnalyze(args: string[]): Promise<{ code: number; out: string }> {
  let r;
  try {
    r = await new Deno.Command("systemd-analyze", { args, stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error("systemd-analyze is missing: apt-get install -y systemd");
    }
    throw e;
  }
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

/** A copy of the unit whose ExecStart names an executable that exists on this machine. */
async function unitCopy(): Promise<{ dir: string; path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "couchestor-unit-" });
  const text = (await Deno.readTextFile(UNIT)).replaceAll(
    "/usr/local/bin/couchestor",
    Deno.execPath(),
  );
  const path = `${dir}/couchestor.service`;
  await Deno.writeTextFile(path, text);
  return { dir, path };
}

Deno.test("systemd-analyze verify accepts the unit with no warnings", async () => {
  const { dir, path } = await unitCopy();
  try {
    const r = await systemdAnalyze(["verify", path]);
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out.trim(), "", `systemd-analyze printed warnings:\n${r.out}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("systemd-analyze verify does report a broken unit (the check can fail)", async () => {
  const { dir, path } = await unitCopy();
  try {
    await Deno.writeTextFile(
      path,
      (await Deno.readTextFile(path)).replace("RestartSec=2s", "RestartSec=soon"),
    );
    const r = await systemdAnalyze(["verify", path]);
    assert.match(r.out, /Failed to parse sec value/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the unit is hardened: offline exposure score at most 2.0", async () => {
  const { dir, path } = await unitCopy();
  try {
    const r = await systemdAnalyze(["security", "--offline=true", path]);
    const m = /Overall exposure level for couchestor\.service: ([\d.]+)/.exec(r.out);
    assert.ok(m, r.out);
    assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]}:\n${r.out}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the unit restarts on failure within 10 s and stops gracefully", async () => {
  const text = await Deno.readTextFile(UNIT);
  assert.match(text, /^Restart=on-failure$/m);
  const sec = /^RestartSec=(\d+)s$/m.exec(text);
  assert.ok(sec && Number(sec[1]) < 10, "RestartSec must be under 10 s (NFR-203)");
  assert.match(text, /^KillSignal=SIGTERM$/m);
  assert.match(text, /^DynamicUser=yes$/m);
  assert.match(text, /^ProtectSystem=strict$/m);
  assert.match(text, /^ReadWritePaths=\/var\/lib\/couchestor \/var\/cache\/couchestor$/m);
});
