/**
 * The workbench's additions to the LiteLLM gateway, as config.yaml sees them: the usage
 * recorder callback and the DB-free auth, each a Python module that sits beside config.yaml
 * (LiteLLM resolves `<module>.<name>` relative to the config file).
 */
import { fileURLToPath } from "node:url";
import type { LiteLlmRoutingSpec } from "../kubernetes/litellm-config.ts";

/** The callback that records usage into ip_workbench.llm_requests and cost_tracker (workbench_usage.py). */
export const USAGE_CALLBACK = "workbench_usage.usage_recorder";
/** Auth without LiteLLM's database: the gateway key plus per-user limits (workbench_auth.py). */
export const WORKBENCH_AUTH = "workbench_auth.user_api_key_auth";
/** Env var with the workbench database URL the usage recorder writes to. */
export const USAGE_DATABASE_URL_ENV = "WORKBENCH_USAGE_DATABASE_URL";

/** The Python modules to place beside config.yaml. */
export const GATEWAY_PYTHON_FILES = ["workbench_usage.py", "workbench_auth.py"].map((file) =>
  fileURLToPath(new URL(file, import.meta.url)),
);

/**
 * A routing spec for a gateway without LiteLLM's own database: usage recorded into the
 * catalog, per-user limits from the workbench auth, Prometheus on.
 */
export function databaseFreeGateway(spec: LiteLlmRoutingSpec): LiteLlmRoutingSpec {
  return {
    ...spec,
    database: false,
    customAuth: WORKBENCH_AUTH,
    customCallbacks: [...new Set([...(spec.customCallbacks ?? []), USAGE_CALLBACK])],
  };
}
