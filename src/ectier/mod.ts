/** The erasure-coded cold tier: decisions, persisted state, pure steps, executor and runner. */
export * from "./decide.ts";
export * from "./ports.ts";
export * from "./state.ts";
export * from "./step.ts";
export * from "./store.ts";
export * from "./executor.ts";
export * from "./runner.ts";
export * from "./sim.ts";
