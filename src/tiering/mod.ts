/** Tier decisions: bands, cooldown, budgets and placement. Pure; no I/O. */
export * from "./bands.ts";
export * from "./cooldown.ts";
export * from "./decide.ts";
export * from "./placement.ts";
export * from "./policy.ts";
export * from "./pass.ts";
