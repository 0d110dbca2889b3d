/** CoucheStor's API: zod schemas (the single source of truth), CRD generation and validation. */
export * from "./meta.ts";
export * from "./rules.ts";
export * from "./storage_policy.ts";
export * from "./ec_policy.ts";
export * from "./ec_stripe.ts";
export * from "./mayastor.ts";
export * from "./openapi.ts";
export * from "./crd.ts";
export * from "./crd_validate.ts";
export * from "./docs.ts";
export * from "./selector.ts";
export * from "./issues.ts";
