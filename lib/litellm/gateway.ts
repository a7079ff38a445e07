/**
 * The workbench's additions to the LiteLLM gateway as files: the Python modules that sit
 * beside config.yaml (LiteLLM resolves `<module>.<name>` relative to the config file), and
 * the names config.yaml uses for them (components/kubernetes/litellm-config.ts renders them).
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";

export { LITELLM_ENV, USAGE_CALLBACK, WORKBENCH_AUTH } from "../../components/kubernetes/litellm-config.ts";

/** Env var with the workbench database URL (caller keys, budgets, usage rows). */
export const USAGE_DATABASE_URL_ENV = "WORKBENCH_USAGE_DATABASE_URL";

/** The Python modules to place beside config.yaml. */
export const GATEWAY_PYTHON_FILES = ["workbench_common.py", "workbench_auth.py", "workbench_usage.py"].map(
  (file) => fileURLToPath(new URL(`../../python/litellm/${file}`, import.meta.url)),
);

/** The Python modules as `{ file name: source }`, e.g. for a ConfigMap beside config.yaml. */
export function gatewayPythonSources(): Record<string, string> {
  return Object.fromEntries(GATEWAY_PYTHON_FILES.map((file) => [basename(file), readFileSync(file, "utf8")]));
}
