/** The StoragePolicy controller: reconcile, move tracking and wiring. */
export * from "./reconcile.ts";
export * from "./resources.ts";
export * from "./tracker.ts";
export * from "./view.ts";
export * from "./wiring.ts";
