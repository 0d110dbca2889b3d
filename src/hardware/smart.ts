/**
 * SMART health (FR-404) from `smartctl --json` and `nvme smart-log -o json`.
 * Parsing is pure and total: malformed or truncated output gives a "not
 * available" report with the reason, never an exception.
 */
import { z } from "zod";

/** Health figures for one device, or why there are none. */
export type SmartReport =
  | {
    available: true;
    /** Which tool answered. */
    source: "smartctl" | "nvme-cli";
    /** SMART overall assessment; undefined when the tool did not say. */
    healthy?: boolean;
    temperatureCelsius?: number;
    powerOnHours?: number;
    mediaErrors?: number;
    /** NVMe "percentage used" endurance estimate. */
    percentageUsed?: number;
    /** ATA attribute 5, or SCSI grown defects. */
    reallocatedSectors?: number;
    /** Warnings the tool printed, and bits of its exit status that matter. */
    warnings: string[];
  }
  | { available: false; reason: string };

const num = z.number().finite();

const SmartctlJson = z.object({
  smartctl: z.object({
    exit_status: z.number().int().optional(),
    messages: z.array(z.object({ string: z.string(), severity: z.string().optional() })).optional(),
  }).optional(),
  device: z.object({ protocol: z.string().optional() }).optional(),
  smart_status: z.object({ passed: z.boolean().optional() }).optional(),
  temperature: z.object({ current: num.optional() }).optional(),
  power_on_time: z.object({ hours: num.optional() }).optional(),
  nvme_smart_health_information_log: z.object({
    critical_warning: num.optional(),
    temperature: num.optional(),
    percentage_used: num.optional(),
    media_errors: num.optional(),
    power_on_hours: num.optional(),
  }).optional(),
  ata_smart_attributes: z.object({
    table: z.array(z.object({ id: z.number(), raw: z.object({ value: num }).optional() })),
  }).optional(),
  scsi_grown_defect_list: num.optional(),
});

// smartctl's exit status is a bit mask (smartctl(8), "RETURN VALUES").
const EXIT_BITS: [number, string][] = [
  [1 << 0, "command line did not parse"],
  [1 << 1, "device open failed or device did not answer"],
  [1 << 2, "a SMART command failed or the data has a checksum error"],
  [1 << 3, "SMART status: DISK FAILING"],
  [1 << 4, "prefail attributes at or below threshold"],
  [1 << 5, "attributes were at or below threshold in the past"],
  [1 << 6, "the device error log has errors"],
  [1 << 7, "the self-test log has errors"],
];

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, reason: `output is not valid JSON (${(e as Error).message})` };
  }
}

/** Turns `smartctl --json -a` output into a report. */
export function parseSmartctl(text: string): SmartReport {
  if (text.trim() === "") return { available: false, reason: "smartctl printed nothing" };
  const json = parseJson(text);
  if (!json.ok) return { available: false, reason: `smartctl ${json.reason}` };
  const parsed = SmartctlJson.safeParse(json.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      available: false,
      reason: `smartctl JSON has an unexpected shape at ${issue.path.join(".")}: ${issue.message}`,
    };
  }
  const j = parsed.data;
  const exit = j.smartctl?.exit_status ?? 0;
  const errors = (j.smartctl?.messages ?? []).filter((m) => m.severity === "error").map((m) =>
    m.string
  );
  const hasData = j.smart_status !== undefined ||
    j.nvme_smart_health_information_log !== undefined ||
    j.ata_smart_attributes !== undefined || j.temperature !== undefined;
  if (!hasData) {
    const why = errors[0] ?? EXIT_BITS.filter(([b]) => exit & b).map(([, t]) => t)[0] ??
      "no SMART data in the output";
    return { available: false, reason: `smartctl: ${why}` };
  }
  const nvme = j.nvme_smart_health_information_log;
  const ataRaw = (id: number) => j.ata_smart_attributes?.table.find((a) => a.id === id)?.raw?.value;
  let healthy = j.smart_status?.passed;
  if (exit & (1 << 3)) healthy = false;
  if (nvme?.critical_warning !== undefined && nvme.critical_warning !== 0) healthy = false;
  const warnings = [
    ...errors,
    ...EXIT_BITS.filter(([b]) => b >= 1 << 2 && exit & b).map(([, t]) => t),
  ];
  if (nvme?.critical_warning) {
    warnings.push(`NVMe critical warning 0x${nvme.critical_warning.toString(16)}`);
  }
  return {
    available: true,
    source: "smartctl",
    healthy,
    temperatureCelsius: j.temperature?.current ?? nvme?.temperature ?? ataRaw(194),
    powerOnHours: j.power_on_time?.hours ?? nvme?.power_on_hours ?? ataRaw(9),
    mediaErrors: nvme?.media_errors,
    percentageUsed: nvme?.percentage_used,
    reallocatedSectors: ataRaw(5) ?? j.scsi_grown_defect_list,
    warnings,
  };
}

const numOrString = z.union([num, z.string()]);

const NvmeSmartLogJson = z.object({
  critical_warning: numOrString.optional(),
  temperature: numOrString.optional(),
  percent_used: numOrString.optional(),
  percentage_used: numOrString.optional(),
  power_on_hours: numOrString.optional(),
  media_errors: numOrString.optional(),
});

function asNumber(v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "number") return v;
  const m = /-?\d+(?:\.\d+)?/.exec(v.replaceAll(",", ""));
  return m ? Number(m[0]) : undefined;
}

/** nvme-cli reports Kelvin as a bare number (2.x) or a string with its unit (newer releases). */
function temperatureCelsius(v: number | string | undefined): number | undefined {
  const n = asNumber(v);
  if (n === undefined) return undefined;
  if (typeof v === "string") {
    // "36 °C (309 K)": the first number is Celsius; "309 K" alone is Kelvin.
    if (/\d\s*°?\s*C\b/.test(v)) return n;
    return /K\b/.test(v) ? Math.round(n - 273.15) : n;
  }
  return n > 200 ? Math.round(n - 273.15) : n;
}

/** Turns `nvme smart-log DEV -o json` output into a report. */
export function parseNvmeSmartLog(text: string): SmartReport {
  if (text.trim() === "") return { available: false, reason: "nvme smart-log printed nothing" };
  const json = parseJson(text);
  if (!json.ok) return { available: false, reason: `nvme smart-log ${json.reason}` };
  const parsed = NvmeSmartLogJson.safeParse(json.value);
  if (!parsed.success || parsed.data.critical_warning === undefined) {
    return { available: false, reason: "nvme smart-log JSON lacks critical_warning" };
  }
  const j = parsed.data;
  const cw = asNumber(j.critical_warning) ?? 0;
  return {
    available: true,
    source: "nvme-cli",
    healthy: cw === 0,
    temperatureCelsius: temperatureCelsius(j.temperature),
    powerOnHours: asNumber(j.power_on_hours),
    mediaErrors: asNumber(j.media_errors),
    percentageUsed: asNumber(j.percent_used ?? j.percentage_used),
    warnings: cw ? [`NVMe critical warning 0x${cw.toString(16)}`] : [],
  };
}

/** Where the SMART tools are and how long they may take. */
export interface SmartToolOptions {
  smartctlPath?: string;
  nvmePath?: string;
  timeoutMs?: number;
}

async function runTool(
  bin: string,
  args: string[],
  timeoutMs: number,
): Promise<{ ok: true; stdout: string } | { ok: false; reason: string }> {
  try {
    const out = await new Deno.Command(bin, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    return { ok: true, stdout: new TextDecoder().decode(out.stdout) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { ok: false, reason: `${bin} is not installed` };
    return { ok: false, reason: `${bin} failed: ${(e as Error).message}` };
  }
}

/**
 * Reads SMART for one device: smartctl first; for NVMe, `nvme smart-log` on the
 * controller when smartctl has nothing.
 */
export async function readSmart(
  devPath: string,
  nvmeController: string | undefined,
  opts: SmartToolOptions = {},
): Promise<SmartReport> {
  const timeout = opts.timeoutMs ?? 15_000;
  const smartctl = opts.smartctlPath ?? "/usr/sbin/smartctl";
  const first = await runTool(smartctl, ["--json", "-a", devPath], timeout);
  const report = first.ok ? parseSmartctl(first.stdout) : undefined;
  if (report?.available) return report;
  if (nvmeController) {
    const nvme = opts.nvmePath ?? "/usr/sbin/nvme";
    const ctrlPath = devPath.replace(/[^/]+$/, nvmeController);
    const second = await runTool(nvme, ["smart-log", ctrlPath, "-o", "json"], timeout);
    const r2 = second.ok ? parseNvmeSmartLog(second.stdout) : undefined;
    if (r2?.available) return r2;
    const reasons = [
      report?.reason ?? (first.ok ? "" : first.reason),
      r2?.reason ?? (second.ok ? "" : second.reason),
    ]
      .filter(Boolean);
    return { available: false, reason: reasons.join("; ") };
  }
  if (report) return report;
  return {
    available: false,
    reason: first.ok ? "no SMART data" : `${first.reason} (apt-get install smartmontools)`,
  };
}
