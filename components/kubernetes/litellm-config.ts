/**
 * LiteLLM's `config.yaml` from a typed routing spec (pure). Credentials never appear in
 * it: every key is an `os.environ/<NAME>` reference the gateway resolves from env vars
 * that come from Kubernetes Secrets.
 */
import YAML from "yaml";

export type LlmProviderName = "anthropic" | "openai" | "gemini";

/** Env var holding each provider's API key. */
export const PROVIDER_KEY_ENV: Record<
  LlmProviderName,
  "ANTHROPIC_API_KEY" | "OPENAI_API_KEY" | "GEMINI_API_KEY"
> = {
  anthropic: "ANTHROPIC_API_KEY",
  openai: "OPENAI_API_KEY",
  gemini: "GEMINI_API_KEY",
};

/** Alias clients use for the routed default (primary, then the fallbacks). */
export const DEFAULT_ALIAS = "workbench-default";
/** Alias clients use for the budget model. */
export const BUDGET_ALIAS = "workbench-budget";

/** Env vars config.yaml refers to (besides the provider keys). */
export const LITELLM_ENV = {
  masterKey: "LITELLM_MASTER_KEY",
  databaseUrl: "DATABASE_URL",
  redisPassword: "REDIS_PASSWORD",
} as const;

export interface LiteLlmRoutingSpec {
  /** `<provider>/<model>` every request tries first, e.g. `anthropic/claude-sonnet-4-5-20250929`. */
  primary: string;
  /** Tried in order when the primary fails, e.g. `openai/gpt-4o-mini` then `gemini/gemini-2.5-flash`. */
  fallbacks: string[];
  /** Cheap model served under {@link BUDGET_ALIAS}. */
  budget: string;
  /** Requests per minute per user (and the cap on any key). */
  rpmPerUser: number;
  /** Tokens per minute per user (and the cap on any key). */
  tpmPerUser: number;
  /** Response cache (and shared rate-limit counters) in Redis. */
  cache: { host: string; port: number; ttlSeconds: number };
  /** Send traces and costs to Langfuse (keys from LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY). */
  langfuse: boolean;
  /** Expose Prometheus metrics on /metrics. */
  prometheus: boolean;
  /**
   * Seconds one provider call may take before it counts as failed (retried, then the next
   * fallback), e.g. seed 004's 60. Default: LiteLLM's own (6000 s in 1.80).
   */
  timeoutSeconds?: number;
  /**
   * Where each provider's API is reached, e.g. `{ openai: "http://127.0.0.1:8081/v1" }` (a
   * stub, or a regional endpoint). Default: LiteLLM's built-in public endpoint per provider.
   */
  apiBase?: Partial<Record<LlmProviderName, string>>;
  /**
   * LiteLLM custom callback instances, `<module>.<instance>`, each module a `.py` file beside
   * config.yaml (e.g. `workbench_usage.usage_recorder`); added to `callbacks`. Default none.
   */
  customCallbacks?: string[];
  /**
   * `general_settings.custom_auth`, `<module>.<function>` beside config.yaml: replaces
   * LiteLLM's virtual-key lookup (e.g. `workbench_auth.user_api_key_auth`). Default none.
   */
  customAuth?: string;
  /**
   * LiteLLM's own database (`DATABASE_URL`: virtual keys, users, teams, spend logs). Default
   * true; false leaves `database_url` out and runs the gateway without one.
   */
  database?: boolean;
}

/** An http(s) URL without a trailing slash, or the reason it is not one. */
function apiBaseProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a URL";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "must be an http(s) URL";
  if (url.endsWith("/")) return "must not end with '/'";
  return undefined;
}

/** `<module>.<name>` naming a Python object in a `.py` file beside config.yaml. */
const PYTHON_REF = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

export function providerOf(modelId: string): LlmProviderName {
  const provider = modelId.split("/")[0];
  if (provider === "anthropic" || provider === "openai" || provider === "gemini") return provider;
  throw new Error(
    `model '${modelId}' must be '<provider>/<model>' with provider anthropic, openai or gemini`,
  );
}

/** The name clients and routing rules use for a model: its id without the provider. */
export function modelNameOf(modelId: string): string {
  return modelId.slice(modelId.indexOf("/") + 1);
}

/** Providers the spec uses, in first-use order (each needs its key in the gateway's Secret). */
export function providersOf(
  spec: Pick<LiteLlmRoutingSpec, "primary" | "fallbacks" | "budget">,
): LlmProviderName[] {
  return [...new Set([spec.primary, ...spec.fallbacks, spec.budget].map(providerOf))];
}

const env = (name: string) => `os.environ/${name}`;

/** config.yaml as an object (the structure tests assert). */
export function liteLlmConfig(spec: LiteLlmRoutingSpec): Record<string, unknown> {
  const chain = [spec.primary, ...spec.fallbacks];
  const seen = new Set<string>();
  for (const model of chain) {
    if (seen.has(model))
      throw new Error(`model '${model}' appears twice in the routing chain (primary, then fallbacks)`);
    seen.add(model);
  }
  for (const [field, value] of [
    ["rpmPerUser", spec.rpmPerUser],
    ["tpmPerUser", spec.tpmPerUser],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`${field} must be a whole number of at least 1 (got ${value})`);
  }
  if (!Number.isInteger(spec.cache.ttlSeconds) || spec.cache.ttlSeconds < 0) {
    throw new Error(`cache.ttlSeconds must be a whole number of at least 0 (got ${spec.cache.ttlSeconds})`);
  }
  if (
    spec.timeoutSeconds !== undefined &&
    !(Number.isFinite(spec.timeoutSeconds) && spec.timeoutSeconds > 0)
  ) {
    throw new Error(`timeoutSeconds must be a number of seconds above 0 (got ${spec.timeoutSeconds})`);
  }
  for (const [provider, url] of Object.entries(spec.apiBase ?? {})) {
    const problem = url === undefined ? undefined : apiBaseProblem(url);
    if (problem) throw new Error(`apiBase.${provider} '${url}' ${problem}`);
  }
  for (const ref of [
    ...(spec.customCallbacks ?? []),
    ...(spec.customAuth === undefined ? [] : [spec.customAuth]),
  ]) {
    if (!PYTHON_REF.test(ref)) {
      throw new Error(
        `'${ref}' must be '<module>.<name>' (a Python object in a .py file beside config.yaml)`,
      );
    }
  }

  const models = [...new Set([...chain, spec.budget])];
  const limits = { rpm_limit: spec.rpmPerUser, tpm_limit: spec.tpmPerUser };
  const redis = { host: spec.cache.host, port: spec.cache.port, password: env(LITELLM_ENV.redisPassword) };
  const primaryName = modelNameOf(spec.primary);

  const callbacks = [...(spec.prometheus ? ["prometheus"] : []), ...(spec.customCallbacks ?? [])];

  return {
    model_list: models.map((model) => {
      const apiBase = spec.apiBase?.[providerOf(model)];
      return {
        model_name: modelNameOf(model),
        litellm_params: {
          model,
          api_key: env(PROVIDER_KEY_ENV[providerOf(model)]),
          ...(apiBase === undefined ? {} : { api_base: apiBase }),
        },
      };
    }),
    router_settings: {
      model_group_alias: { [DEFAULT_ALIAS]: primaryName, [BUDGET_ALIAS]: modelNameOf(spec.budget) },
      // LiteLLM looks fallbacks up by the model group the client asked for, before the alias
      // is resolved: the alias needs its own entry (the real proxy answered "No fallback model
      // group found for original model_group=workbench-default" without it).
      fallbacks: [
        { [primaryName]: spec.fallbacks.map(modelNameOf) },
        { [DEFAULT_ALIAS]: spec.fallbacks.map(modelNameOf) },
      ],
      num_retries: 2,
      ...(spec.timeoutSeconds === undefined ? {} : { timeout: spec.timeoutSeconds }),
      // Rate-limit and routing state shared by every replica.
      redis_host: redis.host,
      redis_port: redis.port,
      redis_password: redis.password,
    },
    litellm_settings: {
      drop_params: true,
      cache: true,
      cache_params: { type: "redis", ...redis, ttl: spec.cache.ttlSeconds },
      ...(spec.langfuse ? { success_callback: ["langfuse"], failure_callback: ["langfuse"] } : {}),
      ...(callbacks.length > 0 ? { callbacks } : {}),
      // Every user gets these limits; no key can be issued above them.
      default_internal_user_params: limits,
      upperbound_key_generate_params: limits,
    },
    general_settings: {
      master_key: env(LITELLM_ENV.masterKey),
      ...((spec.database ?? true) ? { database_url: env(LITELLM_ENV.databaseUrl) } : {}),
      ...(spec.customAuth === undefined ? {} : { custom_auth: spec.customAuth }),
    },
  };
}

/** config.yaml as text. */
export function renderLiteLlmConfig(spec: LiteLlmRoutingSpec): string {
  return YAML.stringify(liteLlmConfig(spec), { lineWidth: 0 });
}
