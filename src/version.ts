/** The product version, printed by `couchestor version` and exported as build info. */
export const VERSION = "0.1.0";
