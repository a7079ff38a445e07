/**
 * Defaults shared by a component and the stack config that feeds it, written once: the
 * component falls back to them when an arg is omitted, and stacks/config/schema.ts uses
 * them as the config keys' defaults. A module without imports, so the config schema loads
 * no provider SDK.
 */

/** Registry tiers DigitalOcean offers. */
export const REGISTRY_TIERS = ["starter", "basic", "professional"] as const;
export type RegistryTier = (typeof REGISTRY_TIERS)[number];
/** The default tier (5 repositories). */
export const DEFAULT_REGISTRY_TIER: RegistryTier = "basic";

/** The DOKS node pool's and upgrades' defaults (Cluster). */
export const CLUSTER_DEFAULTS = {
  nodeSize: "s-4vcpu-8gb",
  nodeCount: 3,
  minNodes: 3,
  maxNodes: 6,
  autoUpgrade: true,
  surgeUpgrade: true,
  maintenanceWindow: { day: "sunday", startTime: "03:00" },
} as const;
