/**
 * `couchestor ec put|get|verify|repair|stat`: the erasure-coded store on a local directory.
 * Results go to stdout (text or --json), progress of long work to stderr.
 */
import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { type Clock, systemClock } from "../clock.ts";
import { KERNEL_NAMES, type KernelName, selectKernel } from "../ec/kernels/select.ts";
import { createBlockHasher } from "../ec/store/checksum.ts";
import type { CodeParams } from "../ec/store/codec.ts";
import { EcStore, type EcStoreDeps, type Progress, type ScrubReport } from "../ec/store/store.ts";
import { type Logger, silentLogger } from "../observability/log.ts";

/** Where the command writes; tests capture these. */
export interface EcCliDeps {
  stdout: (bytes: Uint8Array) => void;
  stderr: (text: string) => void;
  clock: Clock;
  logger: Logger;
}

const HELP = `usage: couchestor ec <command> --store DIR [options]

commands:
  put FILE [--name NAME]   store FILE (the store is created on first put)
  get NAME [--out FILE]    write the object to FILE (default: stdout), rebuilding lost shards
  verify                   read every stripe, check block checksums and parity (exit 1 on damage)
  repair                   like verify, and rewrite damaged or lost shards (onto a spare
                           target, or a re-created target directory when there is no spare;
                           exit 1 when something could not be healed)
  stat                     objects, stripes by health, targets, journal, last scrub

options:
  --store DIR              store directory (required)
  --algorithm A            ReedSolomon (default) or LRC          (used when creating)
  --k N --m N              data and parity shards (default 4, 2)  (used when creating)
  --l N --g N              LRC local groups and global parities (default 2, 2)
  --stripe-size SIZE       user bytes per stripe, e.g. 4MiB (default 4MiB)
  --targets N              shard targets (default: one per shard; more gives spares)
  --bandwidth SIZE         verify/repair read budget per second, e.g. 200MiB (default: none)
  --kernel NAME            isal, wasm-simd or ts (default: fastest available)
  --json                   machine-readable output
  -h, --help               this text
`;

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** Parses "4MiB", "64KiB", "1000" into bytes; throws on anything else. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`invalid size "${text}" (e.g. 4MiB, 64KiB, 1000)`);
  return Math.round(Number(m[1]) * unit);
}

function defaultDeps(): EcCliDeps {
  return {
    stdout: (b) => {
      let off = 0;
      while (off < b.length) off += Deno.stdout.writeSync(b.subarray(off));
    },
    stderr: (t) => void Deno.stderr.writeSync(new TextEncoder().encode(t)),
    clock: systemClock,
    logger: silentLogger,
  };
}

class UsageError extends Error {}

/** Runs `couchestor ec …`; returns the exit code (0 ok, 1 damage or failure, 2 usage). */
export async function runEc(args: string[], deps: Partial<EcCliDeps> = {}): Promise<number> {
  const io = { ...defaultDeps(), ...deps };
  const out = (text: string) =>
    io.stdout(new TextEncoder().encode(text.endsWith("\n") ? text : text + "\n"));
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        store: { type: "string" },
        algorithm: { type: "string" },
        k: { type: "string" },
        m: { type: "string" },
        l: { type: "string" },
        g: { type: "string" },
        "stripe-size": { type: "string" },
        targets: { type: "string" },
        bandwidth: { type: "string" },
        kernel: { type: "string" },
        name: { type: "string" },
        out: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    io.stderr(`ec: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    out(HELP);
    return 0;
  }
  const [cmd, ...rest] = positionals;
  try {
    if (!cmd) throw new UsageError("missing command");
    if (!values.store) throw new UsageError("--store DIR is required");
    const kernelName = values.kernel as KernelName | undefined;
    if (kernelName && !KERNEL_NAMES.includes(kernelName)) {
      throw new UsageError(`--kernel must be one of ${KERNEL_NAMES.join(", ")}`);
    }
    const selection = selectKernel({ prefer: kernelName });
    const storeDeps: EcStoreDeps = {
      kernel: selection.kernel,
      hasher: await createBlockHasher(),
      clock: io.clock,
      logger: io.logger,
    };
    const progress = progressPrinter(io, values.json ? null : cmd);
    switch (cmd) {
      case "put": {
        const file = rest[0];
        if (!file) throw new UsageError("put needs a FILE");
        const code = codeParams(values);
        const store = await EcStore.openOrCreate(values.store, {
          code,
          stripeSizeBytes: values["stripe-size"] ? parseSize(values["stripe-size"]) : undefined,
          targets: values.targets ? positiveInt(values.targets, "--targets") : undefined,
        }, storeDeps);
        try {
          checkSameCode(store.code, code, values);
          const name = values.name ?? file.split("/").pop()!;
          const total = (await Deno.stat(file)).size;
          const obj = await store.put(name, readChunks(file), (p) => progress({ ...p, total }));
          const result = {
            name,
            size: obj.size,
            sha256: obj.sha256,
            stripes: obj.extents.length,
            kernel: selection.kernel.name,
          };
          out(
            values.json
              ? JSON.stringify(result)
              : `stored ${name}: ${obj.size} bytes in ${obj.extents.length} stripes, sha256 ${obj.sha256}`,
          );
          return 0;
        } finally {
          store.close();
        }
      }
      case "get": {
        const name = rest[0];
        if (!name) throw new UsageError("get needs a NAME");
        if (values.json && !values.out) {
          throw new UsageError("get --json needs --out FILE (stdout carries the report)");
        }
        const store = await EcStore.open(values.store, storeDeps);
        try {
          const info = store.objectInfo(name);
          const sha = createHash("sha256");
          let size = 0;
          const target = values.out
            ? await Deno.open(values.out, { write: true, create: true, truncate: true })
            : null;
          try {
            for await (const chunk of store.read(name)) {
              sha.update(chunk);
              size += chunk.length;
              if (target) {
                let off = 0;
                while (off < chunk.length) off += await target.write(chunk.subarray(off));
              } else io.stdout(chunk);
              progress({ done: 0, total: info?.size ?? 0, bytes: size });
            }
          } finally {
            target?.close();
          }
          const digest = sha.digest("hex");
          if (info && digest !== info.sha256) {
            io.stderr(
              `ec get: ${name}: SHA-256 ${digest} differs from the stored ${info.sha256}\n`,
            );
            return 1;
          }
          const result = { name, size, sha256: digest, degradedReads: store.stats.degradedReads };
          if (values.json) out(JSON.stringify(result));
          else if (values.out) {
            out(
              `wrote ${name} to ${values.out}: ${size} bytes, ${store.stats.degradedReads} stripes rebuilt on the fly`,
            );
          }
          return 0;
        } finally {
          store.close();
        }
      }
      case "verify":
      case "repair": {
        const store = await EcStore.open(values.store, storeDeps);
        try {
          const report = await store.scrub({
            repair: cmd === "repair",
            reprovision: true,
            bytesPerSecond: values.bandwidth ? parseSize(values.bandwidth) : undefined,
            onProgress: progress,
          });
          out(values.json ? JSON.stringify(report) : describeScrub(cmd, report));
          const unhealed = report.findings.some((f) => !f.repaired) ||
            report.unrecoverable.length > 0;
          return unhealed ? 1 : 0;
        } finally {
          store.close();
        }
      }
      case "stat": {
        const store = await EcStore.open(values.store, storeDeps);
        try {
          const st = await store.stat();
          if (values.json) out(JSON.stringify(st));
          else {
            out(
              [
                `code: ${
                  JSON.stringify(st.code)
                } kernel: ${st.kernel} stripe size: ${st.stripeSizeBytes}`,
                `objects: ${st.objects}, logical ${st.logicalBytes} bytes, stored ${st.storedBytes} bytes`,
                `stripes: ${st.stripes.healthy} healthy, ${st.stripes.degraded} degraded, ${st.stripes.lost} lost`,
                ...st.targets.map((t) =>
                  `target ${t.id} ${t.path}: ${t.healthy ? "up" : "DOWN"}, ${t.shards} shards`
                ),
                `journal: ${st.journal.pendingWrites} pending writes, ${st.journal.bytes} bytes`,
                `last scrub: ${st.lastScrub ? new Date(st.lastScrub.at).toISOString() : "never"}`,
              ].join("\n"),
            );
          }
          return 0;
        } finally {
          store.close();
        }
      }
      default:
        throw new UsageError(`unknown command ${cmd}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`ec: ${e.message}\n\n${HELP}`);
      return 2;
    }
    io.stderr(`ec ${cmd}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/** Reads a file in 1 MiB chunks (fresh buffers: the store may keep them until a stripe fills). */
async function* readChunks(path: string): AsyncGenerator<Uint8Array> {
  const f = await Deno.open(path, { read: true });
  try {
    for (;;) {
      const buf = new Uint8Array(1 << 20);
      const n = await f.read(buf);
      if (n === null) return;
      yield buf.subarray(0, n);
    }
  } finally {
    f.close();
  }
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`${flag} must be a positive integer, got ${text}`);
  }
  return n;
}

function codeParams(v: Record<string, string | boolean | undefined>): CodeParams {
  const alg = (v.algorithm as string | undefined) ?? "ReedSolomon";
  const k = positiveInt((v.k as string | undefined) ?? "4", "--k");
  if (alg === "ReedSolomon") {
    return { algorithm: alg, k, m: positiveInt((v.m as string | undefined) ?? "2", "--m") };
  }
  if (alg === "LRC") {
    return {
      algorithm: alg,
      k,
      l: positiveInt((v.l as string | undefined) ?? "2", "--l"),
      g: Number((v.g as string | undefined) ?? "2"),
    };
  }
  throw new UsageError(`--algorithm must be ReedSolomon or LRC, got ${alg}`);
}

/** An existing store keeps its code; flags that contradict it are an error, not ignored. */
function checkSameCode(have: CodeParams, asked: CodeParams, v: Record<string, unknown>): void {
  const explicit = ["algorithm", "k", "m", "l", "g"].some((f) => v[f] !== undefined);
  if (explicit && JSON.stringify(have) !== JSON.stringify(asked)) {
    throw new Error(
      `the store was created with ${JSON.stringify(have)}; it cannot change to ${
        JSON.stringify(asked)
      }`,
    );
  }
}

function describeScrub(cmd: string, r: ScrubReport): string {
  const lines = [
    `${cmd}: ${r.stripes} stripes, ${r.bytesRead} bytes read, ${r.findings.length} problems`,
  ];
  for (const f of r.findings) {
    lines.push(
      `  stripe ${f.stripe} shard ${f.shard}: ${f.kind}${
        f.repaired ? ` (repaired on ${f.target})` : ""
      }`,
    );
  }
  for (const s of r.unrecoverable) lines.push(`  stripe ${s}: UNRECOVERABLE`);
  return lines.join("\n");
}

/** Progress lines on stderr, at most twice a second (none in --json mode). */
function progressPrinter(io: EcCliDeps, label: string | null): (p: Progress) => void {
  let last = -Infinity;
  return (p) => {
    if (!label) return;
    const now = io.clock.now();
    const finished = p.total > 0 && (p.bytes >= p.total || p.done >= p.total);
    if (now - last < 500 && !finished) return;
    last = now;
    const mib = (p.bytes / 1048576).toFixed(1);
    const of = p.total > 0 && label !== "verify" && label !== "repair"
      ? ` of ${(p.total / 1048576).toFixed(1)} MiB`
      : "";
    const stripes = label === "verify" || label === "repair"
      ? ` (${p.done}/${p.total} stripes)`
      : "";
    io.stderr(`${label}: ${mib} MiB${of}${stripes}\n`);
  };
}
