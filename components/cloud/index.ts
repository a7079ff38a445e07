export { Network, type NetworkArgs } from "./network.ts";
export { Cluster, type ClusterArgs, type MaintenanceWindow } from "./cluster.ts";
export { Registry, type RegistryArgs } from "./registry.ts";
export { SpacesBucket, type SpacesBucketArgs, type LifecycleRule } from "./spaces-bucket.ts";
export { AppPlatformService, type AppPlatformServiceArgs, appImageSpec } from "./app-platform.ts";
export {
  estimateMonthlyCost,
  formatCostEstimate,
  type CostEstimate,
  type CostInput,
  type CostLine,
  type PriceTable,
} from "../../lib/cost.ts";
export { imagePinProblem, isPinnedImage, parseImageReference, type ImageReference } from "./image-ref.ts";
export { DATABASE_PORTS, INTERNET, databasePortsIn, portRangeBounds } from "./ports.ts";
