/** Picks the fastest kernel this process can run: ISA-L, then WASM SIMD, then TypeScript. */
import type { Logger } from "../../observability/log.ts";
import type { Metrics } from "../../observability/metrics.ts";
import { VERSION } from "../../version.ts";
import type { Kernel } from "./kernel.ts";
import { createIsalKernel } from "./isal_kernel.ts";
import { createTsKernel } from "./ts_kernel.ts";
import { createWasmSimdKernel, wasmSimdSupported } from "./wasm_simd_kernel.ts";

/** Kernel names, fastest first. */
export const KERNEL_NAMES = ["isal", "wasm-simd", "ts"] as const;
/** One of the kernel names. */
export type KernelName = typeof KERNEL_NAMES[number];

/** The chosen kernel and why the faster ones were skipped (for the start-up log). */
export interface KernelSelection {
  kernel: Kernel;
  skipped: { name: KernelName; reason: string }[];
}

/** Builds the named kernel; throws when it cannot run here. */
export function createKernel(
  name: KernelName,
  opts: { isalPaths?: readonly string[] } = {},
): Kernel {
  switch (name) {
    case "isal":
      return createIsalKernel(opts.isalPaths);
    case "wasm-simd":
      if (!wasmSimdSupported()) throw new Error("WebAssembly SIMD is not supported");
      return createWasmSimdKernel();
    case "ts":
      return createTsKernel();
  }
}

/**
 * Tries kernels fastest first (or only `prefer` and slower ones when given) and returns the
 * first that loads. Report `kernel.name` as the `codec_kernel` label of metrics.buildInfo.
 */
export function selectKernel(
  opts: { prefer?: KernelName; isalPaths?: readonly string[] } = {},
): KernelSelection {
  const start = opts.prefer ? KERNEL_NAMES.indexOf(opts.prefer) : 0;
  const skipped: KernelSelection["skipped"] = [];
  for (const name of KERNEL_NAMES.slice(start)) {
    try {
      return { kernel: createKernel(name, opts), skipped };
    } catch (e) {
      skipped.push({ name, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  // The TypeScript kernel cannot fail, so this is unreachable in practice.
  return { kernel: createTsKernel(), skipped };
}

/** Every kernel that loads here (tests and the benchmark compare them all). */
export function availableKernels(opts: { isalPaths?: readonly string[] } = {}): Kernel[] {
  const out: Kernel[] = [];
  for (const name of KERNEL_NAMES) {
    try {
      out.push(createKernel(name, opts));
    } catch { /* not available on this machine */ }
  }
  return out;
}

/** Logs the chosen kernel (and why faster ones were skipped) and sets build_info's codec_kernel. */
export function reportKernel(selection: KernelSelection, logger: Logger, metrics?: Metrics): void {
  logger.info("erasure-coding kernel selected", {
    kernel: selection.kernel.name,
    skipped: selection.skipped,
  });
  metrics?.buildInfo.set({ version: VERSION, codec_kernel: selection.kernel.name }, 1);
}
