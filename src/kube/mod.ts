/** The controller runtime's public surface (client, informer, queue, controller, leases, helpers). */
export * from "./resource.ts";
export * from "./errors.ts";
export * from "./kubeconfig.ts";
export * from "./client.ts";
export * from "./store.ts";
export * from "./informer.ts";
export * from "./workqueue.ts";
export * from "./controller.ts";
export * from "./leader.ts";
export * from "./fence.ts";
export * from "./conditions.ts";
export * from "./status.ts";
export * from "./events.ts";
export * from "./finalizers.ts";
export * from "./manager.ts";
