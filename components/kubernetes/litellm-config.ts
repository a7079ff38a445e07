/**
 * LiteLLM's `config.yaml`, generated once from the gateway settings (pure). The same
 * function renders what the cluster deploys and what the integration tests run; the two
 * differ only in {@link GatewayEndpoints} (where Redis and the providers are reached).
 * Credentials never appear in it: every key is an `os.environ/<NAME>` reference the gateway
 * resolves from env vars that come from Kubernetes Secrets.
 *
 * What config.yaml holds besides LiteLLM's own routing:
 * - the workbench's custom auth (`workbench_auth.user_api_key_auth`: a key per caller, the
 *   identity from the key) and the usage recorder (`workbench_usage.usage_recorder`:
 *   budgets, cache scope, deadline, usage rows), Python modules beside config.yaml;
 * - `general_settings.workbench_gateway`: what those modules enforce (prices, max_tokens
 *   per model, the total deadline, which models may serve each requested name);
 * - each model's price in its `litellm_params`, so cost comes from this file only;
 * - Prometheus metrics with no label that names a user, a key or a provider address.
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

/** Env vars config.yaml and the workbench modules read (besides the provider keys). */
export const LITELLM_ENV = {
  masterKey: "LITELLM_MASTER_KEY",
  redisPassword: "REDIS_PASSWORD",
  /** libpq URL of the workbench database (caller keys, budgets, usage rows). */
  workbenchDatabaseUrl: "WORKBENCH_USAGE_DATABASE_URL",
} as const;

/** The workbench's additions, as config.yaml names them (Python modules beside it). */
export const USAGE_CALLBACK = "workbench_usage.usage_recorder";
export const WORKBENCH_AUTH = "workbench_auth.user_api_key_auth";

/** Worker processes per gateway pod (Prometheus then needs PROMETHEUS_MULTIPROC_DIR). */
export const GATEWAY_WORKERS = 2;

/**
 * How the proxy serves, after `--config` and `--port`: the same in the cluster and the tests.
 * Gunicorn loads the app once and forks the workers; uvicorn's own supervisor killed workers
 * whose start took longer than its 5 s health ping on a busy machine.
 */
export const GATEWAY_SERVER_ARGS = ["--num_workers", String(GATEWAY_WORKERS), "--run_gunicorn"] as const;

/** Price of a model in USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
}

/**
 * Prices of the models the workbench routes to by default, USD per 1M tokens: the infrastructure deliverables'
 * for Claude Sonnet 4.5 ($3/$15) and GPT-4o-mini ($0.15/$0.60); the Gemini 2.5 models
 * (the infrastructure deliverables name the retired 1.5 Flash) at their list prices, as in LiteLLM 1.80's cost map.
 */
export const DEFAULT_MODEL_PRICES: Record<string, ModelPrice> = {
  "anthropic/claude-sonnet-4-5-20250929": { input: 3, output: 15 },
  "openai/gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gemini/gemini-2.5-flash": { input: 0.3, output: 2.5 },
  "gemini/gemini-2.5-flash-lite": { input: 0.1, output: 0.4 },
};

/** Defaults of the gateway settings (the one place they live). */
export const GATEWAY_DEFAULTS = {
  /** The product requirements: an LLM request times out after 60 s. */
  timeoutSeconds: 60,
  /** The most a client waits for one request, retries and fallbacks included. */
  totalTimeoutSeconds: 90,
  /** The product requirements: 3 attempts (the first and 2 retries) on a failing provider. */
  numRetries: 2,
  /** max_tokens when a request sets none. */
  defaultMaxTokens: 1024,
  /** The largest max_tokens a request may ask for. */
  maxTokens: 4096,
} as const;

/** The gateway's settings: stack config `workbench:llm` (stacks/config/schema.ts), defaults above. */
export interface GatewaySettings {
  /** `<provider>/<model>` every request tries first, e.g. `anthropic/claude-sonnet-4-5-20250929`. */
  primary: string;
  /** Tried in order when the primary fails, e.g. `openai/gpt-4o-mini` then `gemini/gemini-2.5-flash`. */
  fallbacks: string[];
  /** Cheap model served under {@link BUDGET_ALIAS}. */
  budget: string;
  /** Requests per minute per caller (a key may carry a lower or higher limit of its own). */
  rpmPerUser: number;
  /** Tokens per minute per caller. */
  tpmPerUser: number;
  /** Response cache TTL in Redis, seconds. */
  cacheTtlSeconds: number;
  /** Langfuse host; the callback is on when set. */
  langfuseHost?: string | undefined;
  /** Seconds one provider call may take before it counts as failed. Default 60 (the product requirements). */
  timeoutSeconds?: number | undefined;
  /** Seconds a client waits at most for one request, retries and fallbacks included. Default 90. */
  totalTimeoutSeconds?: number | undefined;
  /** Retries on a failing provider before its fallback (timeouts are not retried). Default 2. */
  numRetries?: number | undefined;
  /** max_tokens when a request sets none. Default 1024. */
  defaultMaxTokens?: number | undefined;
  /** The largest max_tokens a request may ask for (and at most each model's own). Default 4096. */
  maxTokens?: number | undefined;
  /** USD per 1M tokens per model id; merged over {@link DEFAULT_MODEL_PRICES}. */
  prices?: Record<string, ModelPrice> | undefined;
}

/** Where a deployment reaches Redis and the providers: the only part of config.yaml that differs. */
export interface GatewayEndpoints {
  redis: { host: string; port: number };
  /**
   * Where each provider's API is reached, e.g. `{ openai: "http://127.0.0.1:8081/v1" }` (a
   * stub, or a regional endpoint). Default: LiteLLM's built-in public endpoint per provider.
   */
  apiBase?: Partial<Record<LlmProviderName, string>>;
}

/**
 * Prometheus metrics the gateway exports, each with the labels kept: every label LiteLLM
 * 1.80 defines for it except those naming a user (`end_user`, `user`, `user_email`), a key
 * (`hashed_api_key`, `api_key_alias`), a team or tag, or a provider address (`api_base`).
 * Metrics not listed are off.
 */
export const PROMETHEUS_METRICS: Record<string, string[]> = {
  litellm_proxy_total_requests_metric: ["requested_model", "status_code", "route"],
  litellm_proxy_failed_requests_metric: ["requested_model", "exception_status", "exception_class", "route"],
  litellm_request_total_latency_metric: ["requested_model", "model"],
  litellm_llm_api_latency_metric: ["model", "requested_model"],
  litellm_llm_api_time_to_first_token_metric: ["model"],
  litellm_input_tokens_metric: ["model", "requested_model"],
  litellm_output_tokens_metric: ["model", "requested_model"],
  litellm_total_tokens_metric: ["model", "requested_model"],
  litellm_spend_metric: ["model"],
  litellm_requests_metric: ["model"],
  litellm_deployment_state: ["litellm_model_name", "model_id", "api_provider"],
  litellm_deployment_cooled_down: ["litellm_model_name", "model_id", "api_provider", "exception_status"],
  litellm_deployment_total_requests: ["requested_model", "litellm_model_name", "model_id", "api_provider"],
  litellm_deployment_success_responses: ["requested_model", "litellm_model_name", "model_id", "api_provider"],
  litellm_deployment_failure_responses: [
    "requested_model",
    "litellm_model_name",
    "model_id",
    "api_provider",
    "exception_status",
    "exception_class",
  ],
  litellm_deployment_successful_fallbacks: [
    "requested_model",
    "fallback_model",
    "exception_status",
    "exception_class",
  ],
  litellm_deployment_failed_fallbacks: [
    "requested_model",
    "fallback_model",
    "exception_status",
    "exception_class",
  ],
};

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

/** Providers the settings use, in first-use order (each needs its key in the gateway's Secret). */
export function providersOf(
  spec: Pick<GatewaySettings, "primary" | "fallbacks" | "budget">,
): LlmProviderName[] {
  return [...new Set([spec.primary, ...spec.fallbacks, spec.budget].map(providerOf))];
}

const env = (name: string) => `os.environ/${name}`;

function wholeAtLeast(field: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${field} must be a whole number of at least ${min} (got ${value})`);
}

/** The settings with every default applied, validated (throws naming the field and the rule). */
export function resolvedSettings(
  settings: GatewaySettings,
): Required<Omit<GatewaySettings, "langfuseHost">> & Pick<GatewaySettings, "langfuseHost"> {
  const resolved = {
    ...settings,
    timeoutSeconds: settings.timeoutSeconds ?? GATEWAY_DEFAULTS.timeoutSeconds,
    totalTimeoutSeconds: settings.totalTimeoutSeconds ?? GATEWAY_DEFAULTS.totalTimeoutSeconds,
    numRetries: settings.numRetries ?? GATEWAY_DEFAULTS.numRetries,
    defaultMaxTokens: settings.defaultMaxTokens ?? GATEWAY_DEFAULTS.defaultMaxTokens,
    maxTokens: settings.maxTokens ?? GATEWAY_DEFAULTS.maxTokens,
    prices: { ...DEFAULT_MODEL_PRICES, ...settings.prices },
  };
  const chain = [resolved.primary, ...resolved.fallbacks];
  const seen = new Set<string>();
  for (const model of chain) {
    providerOf(model);
    if (seen.has(model))
      throw new Error(`model '${model}' appears twice in the routing chain (primary, then fallbacks)`);
    seen.add(model);
  }
  providerOf(resolved.budget);
  wholeAtLeast("rpmPerUser", resolved.rpmPerUser, 1);
  wholeAtLeast("tpmPerUser", resolved.tpmPerUser, 1);
  wholeAtLeast("cacheTtlSeconds", resolved.cacheTtlSeconds, 0);
  wholeAtLeast("timeoutSeconds", resolved.timeoutSeconds, 1);
  wholeAtLeast("numRetries", resolved.numRetries, 0);
  wholeAtLeast("defaultMaxTokens", resolved.defaultMaxTokens, 1);
  wholeAtLeast("maxTokens", resolved.maxTokens, 1);
  if (
    !Number.isInteger(resolved.totalTimeoutSeconds) ||
    resolved.totalTimeoutSeconds < resolved.timeoutSeconds
  ) {
    throw new Error(
      `totalTimeoutSeconds must be a whole number of seconds of at least timeoutSeconds (${resolved.timeoutSeconds}) (got ${resolved.totalTimeoutSeconds})`,
    );
  }
  if (resolved.defaultMaxTokens > resolved.maxTokens) {
    throw new Error(
      `defaultMaxTokens (${resolved.defaultMaxTokens}) must not be above maxTokens (${resolved.maxTokens})`,
    );
  }
  for (const model of new Set([...chain, resolved.budget])) {
    const price = resolved.prices[model];
    if (!price) {
      throw new Error(
        `prices has no price for model '${model}': add prices.${model} = { input, output } in USD per 1M tokens`,
      );
    }
    for (const side of ["input", "output"] as const) {
      if (!(Number.isFinite(price[side]) && price[side] >= 0))
        throw new Error(
          `prices.${model}.${side} must be a number of USD per 1M tokens, at least 0 (got ${price[side]})`,
        );
    }
  }
  return resolved;
}

/** Which model names may serve each name a client may ask for (the fallbacks included). */
export function servingChains(
  settings: Pick<GatewaySettings, "primary" | "fallbacks" | "budget">,
): Record<string, string[]> {
  const chain = [settings.primary, ...settings.fallbacks].map(modelNameOf);
  const chains: Record<string, string[]> = {
    [DEFAULT_ALIAS]: chain,
    [BUDGET_ALIAS]: [modelNameOf(settings.budget)],
  };
  for (const model of [settings.primary, ...settings.fallbacks, settings.budget]) {
    const name = modelNameOf(model);
    chains[name] ??= model === settings.primary ? chain : [name];
  }
  return chains;
}

/** config.yaml as an object (the structure tests assert). */
export function gatewayConfig(
  settings: GatewaySettings,
  endpoints: GatewayEndpoints,
): Record<string, unknown> {
  const spec = resolvedSettings(settings);
  for (const [provider, url] of Object.entries(endpoints.apiBase ?? {})) {
    const problem = url === undefined ? undefined : apiBaseProblem(url);
    if (problem) throw new Error(`apiBase.${provider} '${url}' ${problem}`);
  }
  const chain = [spec.primary, ...spec.fallbacks];
  const models = [...new Set([...chain, spec.budget])];
  const limits = { rpm_limit: spec.rpmPerUser, tpm_limit: spec.tpmPerUser };
  const redis = {
    host: endpoints.redis.host,
    port: endpoints.redis.port,
    password: env(LITELLM_ENV.redisPassword),
  };
  const primaryName = modelNameOf(spec.primary);
  const perToken = (usdPerMTok: number) => usdPerMTok / 1_000_000;

  return {
    model_list: models.map((model) => {
      const apiBase = endpoints.apiBase?.[providerOf(model)];
      const price = spec.prices[model] as ModelPrice;
      return {
        model_name: modelNameOf(model),
        litellm_params: {
          model,
          api_key: env(PROVIDER_KEY_ENV[providerOf(model)]),
          ...(apiBase === undefined ? {} : { api_base: apiBase }),
          // The price LiteLLM computes each call's cost with: from here, never from a request.
          input_cost_per_token: perToken(price.input),
          output_cost_per_token: perToken(price.output),
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
      num_retries: spec.numRetries,
      // A provider that timed out is not retried: the next fallback is tried at once, so the
      // wait is not retries x timeout per model. The total is capped by the deadline below.
      retry_policy: { TimeoutErrorRetries: 0 },
      timeout: spec.timeoutSeconds,
      // Rate-limit and routing state shared by every replica.
      redis_host: redis.host,
      redis_port: redis.port,
      redis_password: redis.password,
    },
    litellm_settings: {
      drop_params: true,
      request_timeout: spec.timeoutSeconds,
      cache: true,
      cache_params: { type: "redis", ...redis, ttl: spec.cacheTtlSeconds },
      ...(spec.langfuseHost !== undefined
        ? { success_callback: ["langfuse"], failure_callback: ["langfuse"] }
        : {}),
      callbacks: ["prometheus", USAGE_CALLBACK],
      prometheus_metrics_config: Object.entries(PROMETHEUS_METRICS).map(([metric, labels]) => ({
        group: metric,
        metrics: [metric],
        include_labels: labels,
      })),
      // Every caller gets these limits unless its key carries its own.
      default_internal_user_params: limits,
      upperbound_key_generate_params: limits,
    },
    general_settings: {
      master_key: env(LITELLM_ENV.masterKey),
      custom_auth: WORKBENCH_AUTH,
      // What workbench_auth and workbench_usage enforce.
      workbench_gateway: {
        total_timeout_seconds: spec.totalTimeoutSeconds,
        chains: servingChains(spec),
        models: Object.fromEntries(
          models.map((model) => {
            const price = spec.prices[model] as ModelPrice;
            return [
              modelNameOf(model),
              {
                input_usd_per_token: perToken(price.input),
                output_usd_per_token: perToken(price.output),
                default_max_tokens: spec.defaultMaxTokens,
                max_tokens: spec.maxTokens,
              },
            ];
          }),
        ),
      },
    },
  };
}

/** config.yaml as text. */
export function renderGatewayConfig(settings: GatewaySettings, endpoints: GatewayEndpoints): string {
  return YAML.stringify(gatewayConfig(settings, endpoints), { lineWidth: 0 });
}
