/** Replica moves: persisted state, pure transitions, the executor and the store port. */
export * from "./state.ts";
export * from "./step.ts";
export * from "./store.ts";
export * from "./history.ts";
export * from "./executor.ts";
export * from "./runner.ts";
