/**
 * `couchestor ec put|get|verify|repair|stat`: the erasure-coded store on a local directory, or
 * on k+m block devices (`--devices`, one per shard). Results go to stdout (text or --json),
 * progress of long work and warnings to stderr. `get`, `verify` and `stat` open the store
 * read-only: they never change the journal, the manifest or a device.
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { type Clock, systemClock } from "../clock.ts";
import { KERNEL_NAMES, type KernelName, selectKernel } from "../ec/kernels/select.ts";
import { dirname, syncDir, TMP_INFIX } from "../ec/store/atomic.ts";
import { createBlockHasher } from "../ec/store/checksum.ts";
import type { CodeParams } from "../ec/store/codec.ts";
import {
  createDeviceStore,
  NoDeviceStoreError,
  openDeviceStore,
} from "../ec/store/device_store.ts";
import { namingNoSpace } from "../ec/store/nospace.ts";
import {
  EcStore,
  type EcStoreDeps,
  type EcStoreOptions,
  type FindingKind,
  type JournalDamageReport,
  type Progress,
  type ScrubReport,
  type ShardProblemNote,
} from "../ec/store/store.ts";
import { type Logger, silentLogger } from "../observability/log.ts";

/** Where the command writes; tests capture these. */
export interface EcCliDeps {
  stdout: (bytes: Uint8Array) => void;
  stderr: (text: string) => void;
  clock: Clock;
  logger: Logger;
}

const HELP = `usage: couchestor ec <command> (--store DIR | --devices DEV,DEV,…) [options]

commands:
  put FILE [--name NAME]   store FILE (the store is created on first put)
  get NAME [--out FILE]    write the object to FILE (default: stdout), rebuilding lost shards;
                           FILE appears only once the object's SHA-256 matched, stdout gets
                           only verified stripes (exit 1, nothing unverified written, on damage)
  verify                   read every stripe, check block checksums, shard identities, parity,
                           data hashes and the manifest's extents (exit 1 on damage); read-only
  repair                   like verify, and rewrite damaged, lost or foreign shards (onto a spare
                           target, or a re-created target directory when there is no spare;
                           exit 1 when something could not be healed)
  stat                     objects, stripes by health, targets, journal, last scrub; read-only

options:
  --store DIR              store directory
  --devices LIST           or: k+m block devices (or fixed-size files), comma separated, one per
                           shard in shard order at creation, any order later; the manifest lives
                           on the devices (no journal)
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

const OPTIONS = {
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
  devices: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];

/** What every command gets. */
interface Ctx {
  io: EcCliDeps;
  values: Values;
  /** The devices of a device store (from --devices), else undefined. */
  devices?: string[];
  /** The store directory (--store), when not a device store. */
  dir: string;
  rest: string[];
  deps: EcStoreDeps;
  kernelName: string;
  out: (text: string) => void;
  progress: (p: Progress) => void;
}

/** Runs `couchestor ec …`; returns the exit code (0 ok, 1 damage or failure, 2 usage). */
export async function runEc(args: string[], deps: Partial<EcCliDeps> = {}): Promise<number> {
  const io = { ...defaultDeps(), ...deps };
  const out = (text: string) =>
    io.stdout(new TextEncoder().encode(text.endsWith("\n") ? text : text + "\n"));
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    io.stderr(`ec: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(HELP);
    return 0;
  }
  const [cmd, ...rest] = positionals;
  try {
    if (!cmd) throw new UsageError("missing command");
    const run = COMMANDS[cmd];
    if (!run) throw new UsageError(`unknown command ${cmd}`);
    if (!values.store === !values.devices) {
      throw new UsageError("give --store DIR or --devices DEV,DEV,… (one of them)");
    }
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
      onShardProblem: shardProblemPrinter(io, cmd),
    };
    return await run({
      io,
      values,
      devices: values.devices?.split(",").map((d) => d.trim()).filter((d) => d),
      dir: values.store ?? "",
      rest,
      deps: storeDeps,
      kernelName: selection.kernel.name,
      out,
      progress: progressPrinter(io, values.json ? null : cmd),
    });
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`ec: ${e.message}\n\n${HELP}`);
      return 2;
    }
    io.stderr(`ec ${cmd}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

const COMMANDS: Record<string, (c: Ctx) => Promise<number>> = {
  put: cmdPut,
  get: cmdGet,
  verify: (c) => cmdScrub(c, false),
  repair: (c) => cmdScrub(c, true),
  stat: cmdStat,
};

/** Opens the store, reporting journal damage on stderr; closes it after fn. */
async function withStore<T>(
  c: Ctx,
  opts: EcStoreOptions,
  fn: (s: EcStore) => Promise<T>,
): Promise<T> {
  const store = c.devices
    ? (await openDeviceStore(c.devices, c.deps, opts)).store
    : await EcStore.open(c.dir, c.deps, opts);
  try {
    reportJournalDamage(c, store);
    return await fn(store);
  } finally {
    store.close();
  }
}

const READ_ONLY: EcStoreOptions = { readOnly: true };

async function cmdPut(c: Ctx): Promise<number> {
  const file = c.rest[0];
  if (!file) throw new UsageError("put needs a FILE");
  const code = codeParams(c.values);
  const config = {
    code,
    stripeSizeBytes: c.values["stripe-size"] ? parseSize(c.values["stripe-size"]) : undefined,
  };
  const existed = c.devices || await Deno.stat(c.dir).then(() => true, () => false);
  const store = c.devices ? await deviceStoreFor(c, config) : await EcStore.openOrCreate(c.dir, {
    ...config,
    targets: c.values.targets ? positiveInt(c.values.targets, "--targets") : undefined,
  }, c.deps);
  let ok = false;
  try {
    reportJournalDamage(c, store);
    checkSameCode(store.code, code, c.values);
    const name = c.values.name ?? file.split("/").pop()!;
    const totalBytes = (await Deno.stat(file)).size;
    const obj = await store.put(name, readChunks(file), { onProgress: c.progress, totalBytes });
    ok = true;
    const result = {
      name,
      size: obj.size,
      sha256: obj.sha256,
      stripes: obj.extents.length,
      kernel: c.kernelName,
      storeId: store.storeId,
    };
    c.out(
      c.values.json
        ? JSON.stringify(result)
        : `stored ${name}: ${obj.size} bytes in ${obj.extents.length} stripes, sha256 ${obj.sha256}`,
    );
    return 0;
  } finally {
    store.close();
    // A store this put created and could not fill is not left behind half-made.
    if (!ok && !existed) await Deno.remove(c.dir, { recursive: true }).catch(() => {});
  }
}

/** The store on --devices, created on them (shard-0 … in the order given) when they hold none. */
async function deviceStoreFor(
  c: Ctx,
  config: { code: CodeParams; stripeSizeBytes?: number },
): Promise<EcStore> {
  const devices = c.devices!;
  try {
    return (await openDeviceStore(devices, c.deps)).store;
  } catch (e) {
    if (!(e instanceof NoDeviceStoreError)) throw e;
  }
  const specs = devices.map((path, i) => ({ id: `shard-${i}`, path }));
  return (await createDeviceStore(specs, config, c.deps)).store;
}

async function cmdGet(c: Ctx): Promise<number> {
  const name = c.rest[0];
  if (!name) throw new UsageError("get needs a NAME");
  const outPath = c.values.out;
  if (c.values.json && !outPath) {
    throw new UsageError("get --json needs --out FILE (stdout carries the report)");
  }
  return await withStore(c, READ_ONLY, async (store) => {
    const onProgress = c.progress;
    const { size, sha256 } = outPath
      ? await getToFile(store, name, outPath, onProgress)
      : await drain(store.read(name, { onProgress }), c.io.stdout);
    const result = { name, size, sha256, degradedReads: store.stats.degradedReads };
    if (c.values.json) c.out(JSON.stringify(result));
    else if (outPath) {
      c.out(
        `wrote ${name} to ${outPath}: ${size} bytes, ${store.stats.degradedReads} stripes rebuilt on the fly`,
      );
    }
    return 0;
  });
}

/**
 * Writes an object to a temp file beside `out` and renames it over `out` only after the store
 * verified the whole object, so `out` never holds bytes that failed a check.
 */
async function getToFile(
  store: EcStore,
  name: string,
  out: string,
  onProgress: (p: Progress) => void,
): Promise<{ size: number; sha256: string }> {
  const tmp = `${out}${TMP_INFIX}${crypto.randomUUID()}`;
  try {
    return await namingNoSpace(dirname(out), async () => {
      const f = await Deno.open(tmp, { write: true, createNew: true });
      let r;
      try {
        r = await drain(store.read(name, { onProgress }), async (chunk) => {
          let off = 0;
          while (off < chunk.length) off += await f.write(chunk.subarray(off));
        });
        await f.sync();
      } finally {
        f.close();
      }
      await Deno.rename(tmp, out);
      await syncDir(dirname(out));
      return r;
    });
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Feeds every chunk to sink, returning size and SHA-256 of what went through. */
async function drain(
  chunks: AsyncIterable<Uint8Array>,
  sink: (b: Uint8Array) => void | Promise<void>,
): Promise<{ size: number; sha256: string }> {
  const sha = createHash("sha256");
  let size = 0;
  for await (const chunk of chunks) {
    sha.update(chunk);
    size += chunk.length;
    await sink(chunk);
  }
  return { size, sha256: sha.digest("hex") };
}

async function cmdScrub(c: Ctx, repair: boolean): Promise<number> {
  const opts: EcStoreOptions = repair ? {} : { readOnly: true, allowUntrustedManifest: true };
  return await withStore(c, opts, async (store) => {
    const report = await store.scrub({
      repair,
      reprovision: true,
      bytesPerSecond: c.values.bandwidth ? parseSize(c.values.bandwidth) : undefined,
      onProgress: c.progress,
    });
    c.out(
      c.values.json ? JSON.stringify(report) : describeScrub(repair ? "repair" : "verify", report),
    );
    const unhealed = report.findings.some((f) => !f.repaired) ||
      report.unrecoverable.length > 0 || report.extentProblems.length > 0 ||
      report.manifestProblem !== undefined || report.journalProblems.length > 0;
    return unhealed ? 1 : 0;
  });
}

async function cmdStat(c: Ctx): Promise<number> {
  return await withStore(c, { readOnly: true, allowUntrustedManifest: true }, async (store) => {
    const st = await store.stat();
    if (c.values.json) {
      c.out(JSON.stringify({ ...st, manifestProblem: store.manifestProblem }));
      return 0;
    }
    c.out(
      [
        `store ${st.storeId}`,
        `code: ${JSON.stringify(st.code)} kernel: ${st.kernel} stripe size: ${st.stripeSizeBytes}`,
        ...(store.manifestProblem ? [`manifest: ${store.manifestProblem}`] : []),
        `objects: ${st.objects}, logical ${st.logicalBytes} bytes, stored ${st.storedBytes} bytes`,
        `stripes: ${st.stripes.healthy} healthy, ${st.stripes.degraded} degraded, ${st.stripes.lost} lost`,
        ...st.targets.map((t) =>
          `target ${t.id} ${t.path}: ${t.healthy ? "up" : "DOWN"}, ${t.shards} shards${
            t.problem ? ` (${t.problem})` : ""
          }`
        ),
        `journal: ${st.journal.pendingWrites} pending writes, ${st.journal.bytes} bytes`,
        ...st.journal.damaged.map((d) => `journal: ${describeDamage(d)}`),
        `last scrub: ${st.lastScrub ? new Date(st.lastScrub.at).toISOString() : "never"}`,
      ].join("\n"),
    );
    return 0;
  });
}

/** Warns on stderr of each damaged journal record replay stepped over. */
function reportJournalDamage(c: Ctx, store: EcStore): void {
  for (const d of store.journalProblems()) {
    c.io.stderr(`ec: journal: ${describeDamage(d)}; the records after it were kept\n`);
  }
}

/** "damaged record at offset N (L bytes, seq S, object X): reason". */
function describeDamage(d: JournalDamageReport): string {
  const seq = d.seq !== undefined ? `, seq ${d.seq}` : "";
  const name = d.name !== undefined ? `, object ${d.name}` : "";
  return `damaged record at offset ${d.offset} (${d.length} bytes${seq}${name}): ${d.reason}`;
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

function codeParams(v: Values): CodeParams {
  const alg = v.algorithm ?? "ReedSolomon";
  const k = positiveInt(v.k ?? "4", "--k");
  if (alg === "ReedSolomon") return { algorithm: alg, k, m: positiveInt(v.m ?? "2", "--m") };
  if (alg === "LRC") {
    return { algorithm: alg, k, l: positiveInt(v.l ?? "2", "--l"), g: Number(v.g ?? "2") };
  }
  throw new UsageError(`--algorithm must be ReedSolomon or LRC, got ${alg}`);
}

/** An existing store keeps its code; flags that contradict it are an error, not ignored. */
function checkSameCode(have: CodeParams, asked: CodeParams, v: Values): void {
  const explicit = (["algorithm", "k", "m", "l", "g"] as const).some((f) => v[f] !== undefined);
  if (explicit && JSON.stringify(have) !== JSON.stringify(asked)) {
    throw new Error(
      `the store was created with ${JSON.stringify(have)}; it cannot change to ${
        JSON.stringify(asked)
      }`,
    );
  }
}

const KIND_LABEL: Record<FindingKind, string> = {
  missing: "missing",
  checksum: "checksum",
  parity: "parity",
  identity: "foreign shard",
  data: "data hash mismatch",
};

function describeScrub(cmd: string, r: ScrubReport): string {
  const problems = r.findings.length + r.extentProblems.length + (r.manifestProblem ? 1 : 0) +
    r.journalProblems.length;
  const lines = [
    `${cmd}: ${r.stripes} stripes, ${r.bytesRead} bytes read, ${problems} problems`,
  ];
  if (r.manifestProblem) lines.push(`  manifest: ${r.manifestProblem}`);
  for (const d of r.journalProblems) lines.push(`  journal: ${describeDamage(d)}`);
  for (const p of r.extentProblems) {
    lines.push(`  object ${p.object}${p.extent >= 0 ? ` extent ${p.extent}` : ""}: ${p.problem}`);
  }
  for (const f of r.findings) {
    lines.push(
      `  stripe ${f.stripe} shard ${f.shard}: ${KIND_LABEL[f.kind]}${
        f.detail ? ` (${f.detail})` : ""
      }${f.repaired ? ` (repaired on ${f.target})` : ""}`,
    );
  }
  for (const s of r.unrecoverable) lines.push(`  stripe ${s}: UNRECOVERABLE`);
  return lines.join("\n");
}

/** Warns once per shard on stderr when a read steps around an unusable one. */
function shardProblemPrinter(io: EcCliDeps, cmd: string): (p: ShardProblemNote) => void {
  const seen = new Set<string>();
  return (p) => {
    const key = `${p.stripe}/${p.shard}`;
    if (seen.has(key)) return;
    seen.add(key);
    const what = p.kind === "identity" ? `foreign shard (${p.detail})` : p.kind;
    io.stderr(
      `ec ${cmd}: stripe ${p.stripe} shard ${p.shard} on target ${p.target}: ${what}; ` +
        `reading around it\n`,
    );
  };
}

/** Progress lines on stderr, at most twice a second (none in --json mode). */
function progressPrinter(io: EcCliDeps, label: string | null): (p: Progress) => void {
  let last = -Infinity;
  return (p) => {
    if (!label) return;
    const now = io.clock.now();
    const finished = p.total > 0 && p.done >= p.total;
    if (now - last < 500 && !finished) return;
    last = now;
    const mib = (n: number) => (n / 1048576).toFixed(1);
    const of = p.totalBytes ? ` of ${mib(p.totalBytes)} MiB` : "";
    const stripes = p.total > 0 ? ` (${p.done}/${p.total} stripes)` : "";
    io.stderr(`${label}: ${mib(p.bytes)} MiB${of}${stripes}\n`);
  };
}
