/**
 * Moved to stacks/config/ (schema.ts, parse.ts, deployable.ts, rules.ts). This re-export
 * stays only for the importers on other branches (stacks/prod.ts, test/unit/cloud/*):
 * delete it once they import from stacks/config/ directly.
 */
export { CONFIG_NAMESPACE, SECRET_KEYS, type CloudStackConfig, type StackConfig } from "./config/schema.ts";
export { parseStackConfig, StackConfigError, type ConfigProblem } from "./config/parse.ts";
export {
  assertCloudDeployable,
  cloudDeployProblems,
  featureSecret,
  type DeployableCloudConfig,
} from "./config/deployable.ts";
