/**
 * The README's test command: makes sure the real parts the suite uses are
 * installed (Debian packages, as root with apt-get), then runs `deno test`.
 * Where it cannot install, it stops at once with the exact command to run.
 */

/** A binary or library the suite needs, and the Debian package that brings it. */
interface Requirement {
  /** What the tests look for: an executable on PATH or a file path. */
  probe: { command: string } | { file: string[] };
  /** Debian package name. */
  pkg: string;
}

const requirements: Requirement[] = [
  { probe: { command: "prometheus" }, pkg: "prometheus" },
  { probe: { command: "promtool" }, pkg: "prometheus" },
  {
    probe: {
      file: ["/usr/lib/x86_64-linux-gnu/libisal.so.2", "/usr/lib/aarch64-linux-gnu/libisal.so.2"],
    },
    pkg: "libisal-dev",
  },
  { probe: { command: "smartctl" }, pkg: "smartmontools" },
  { probe: { command: "nvme" }, pkg: "nvme-cli" },
  // The official Kubernetes Python client, for the sandbox conformance suite.
  {
    probe: { file: ["/usr/lib/python3/dist-packages/kubernetes/__init__.py"] },
    pkg: "python3-kubernetes",
  },
];

async function onPath(cmd: string): Promise<boolean> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      const st = await Deno.stat(`${dir}/${cmd}`);
      if (st.isFile) return true;
    } catch { /* not here */ }
  }
  // smartctl and nvme live in /usr/sbin, which a non-login PATH may lack.
  for (const dir of ["/usr/sbin", "/sbin"]) {
    try {
      if ((await Deno.stat(`${dir}/${cmd}`)).isFile) return true;
    } catch { /* not here */ }
  }
  return false;
}

async function present(r: Requirement): Promise<boolean> {
  if ("command" in r.probe) return await onPath(r.probe.command);
  for (const f of r.probe.file) {
    try {
      await Deno.stat(f);
      return true;
    } catch { /* try the next */ }
  }
  return false;
}

async function run(cmd: string, args: string[], env?: Record<string, string>): Promise<number> {
  const child = new Deno.Command(cmd, {
    args,
    env,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return (await child.status).code;
}

const missing: string[] = [];
for (const r of requirements) {
  if (!(await present(r)) && !missing.includes(r.pkg)) missing.push(r.pkg);
}

if (missing.length > 0) {
  const installArgs = ["install", "-y", "--no-install-recommends", ...missing];
  const isRoot = Deno.uid?.() === 0;
  if (!isRoot) {
    console.error(
      `The test suite needs Debian packages that are not installed: ${missing.join(", ")}.\n` +
        `Run: sudo apt-get update && sudo apt-get ${installArgs.join(" ")}`,
    );
    Deno.exit(1);
  }
  console.error(`Installing test dependencies: ${missing.join(", ")}`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  void env;
  if (
    (await run("apt-get", ["update", "-qq"])) !== 0 || (await run("apt-get", installArgs)) !== 0
  ) {
    console.error(`apt-get failed. Run: apt-get update && apt-get ${installArgs.join(" ")}`);
    Deno.exit(1);
  }
}

const extra = Deno.args;
const code = await run(Deno.execPath(), ["test", "-A", "--parallel", ...extra, "tests/"]);
Deno.exit(code);
