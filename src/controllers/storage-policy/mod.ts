/** The StoragePolicy controller. */
export * from "./controller.ts";
export * from "./reconcile.ts";
export * from "./resources.ts";
