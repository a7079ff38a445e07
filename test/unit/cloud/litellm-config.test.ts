import { describe, expect, it } from "vitest";
import YAML from "yaml";
import {
  gatewayConfig,
  type GatewayEndpoints,
  type GatewaySettings,
  modelNameOf,
  PROMETHEUS_METRICS,
  providersOf,
  renderGatewayConfig,
  servingChains,
} from "../../../components/kubernetes/litellm-config.ts";

const settings: GatewaySettings = {
  primary: "anthropic/claude-sonnet-4-5-20250929",
  fallbacks: ["openai/gpt-4o-mini", "gemini/gemini-2.5-flash"],
  budget: "gemini/gemini-2.5-flash-lite",
  rpmPerUser: 500,
  tpmPerUser: 10_000,
  cacheTtlSeconds: 3600,
  langfuseHost: "https://cloud.langfuse.com",
};
const cluster: GatewayEndpoints = { redis: { host: "litellm-redis.litellm.svc.cluster.local", port: 6379 } };
const redis = {
  host: "litellm-redis.litellm.svc.cluster.local",
  port: 6379,
  password: "os.environ/REDIS_PASSWORD",
};

describe("gatewayConfig", () => {
  it("routes Claude Sonnet 4.5, then GPT-4o-mini, then Gemini Flash, at config prices, with the workbench auth, recorder, timeouts and budgets", () => {
    const config = gatewayConfig(settings, cluster);
    expect(config["model_list"]).toEqual([
      {
        model_name: "claude-sonnet-4-5-20250929",
        litellm_params: {
          model: "anthropic/claude-sonnet-4-5-20250929",
          api_key: "os.environ/ANTHROPIC_API_KEY",
          input_cost_per_token: 3 / 1_000_000,
          output_cost_per_token: 15 / 1_000_000,
        },
      },
      {
        model_name: "gpt-4o-mini",
        litellm_params: {
          model: "openai/gpt-4o-mini",
          api_key: "os.environ/OPENAI_API_KEY",
          input_cost_per_token: 0.15 / 1_000_000,
          output_cost_per_token: 0.6 / 1_000_000,
        },
      },
      {
        model_name: "gemini-2.5-flash",
        litellm_params: {
          model: "gemini/gemini-2.5-flash",
          api_key: "os.environ/GEMINI_API_KEY",
          input_cost_per_token: 0.3 / 1_000_000,
          output_cost_per_token: 2.5 / 1_000_000,
        },
      },
      {
        model_name: "gemini-2.5-flash-lite",
        litellm_params: {
          model: "gemini/gemini-2.5-flash-lite",
          api_key: "os.environ/GEMINI_API_KEY",
          input_cost_per_token: 0.1 / 1_000_000,
          output_cost_per_token: 0.4 / 1_000_000,
        },
      },
    ]);
    expect(config["router_settings"]).toEqual({
      model_group_alias: {
        "workbench-default": "claude-sonnet-4-5-20250929",
        "workbench-budget": "gemini-2.5-flash-lite",
      },
      fallbacks: [
        { "claude-sonnet-4-5-20250929": ["gpt-4o-mini", "gemini-2.5-flash"] },
        // The alias clients call needs its own entry (found in the real proxy, test/integration/litellm.test.ts).
        { "workbench-default": ["gpt-4o-mini", "gemini-2.5-flash"] },
      ],
      // Seed 004: 60 s per LLM request, 3 attempts; a timed-out provider is not retried.
      num_retries: 2,
      retry_policy: { TimeoutErrorRetries: 0 },
      timeout: 60,
      redis_host: redis.host,
      redis_port: redis.port,
      redis_password: redis.password,
    });
    const litellmSettings = config["litellm_settings"] as Record<string, unknown>;
    expect(litellmSettings).toMatchObject({
      drop_params: true,
      request_timeout: 60,
      cache: true,
      cache_params: { type: "redis", ...redis, ttl: 3600 },
      success_callback: ["langfuse"],
      failure_callback: ["langfuse"],
      callbacks: ["prometheus", "workbench_usage.usage_recorder"],
      default_internal_user_params: { rpm_limit: 500, tpm_limit: 10_000 },
      upperbound_key_generate_params: { rpm_limit: 500, tpm_limit: 10_000 },
    });
    expect(config["general_settings"]).toEqual({
      master_key: "os.environ/LITELLM_MASTER_KEY",
      custom_auth: "workbench_auth.user_api_key_auth",
      workbench_gateway: {
        total_timeout_seconds: 90,
        chains: {
          "workbench-default": ["claude-sonnet-4-5-20250929", "gpt-4o-mini", "gemini-2.5-flash"],
          "workbench-budget": ["gemini-2.5-flash-lite"],
          "claude-sonnet-4-5-20250929": ["claude-sonnet-4-5-20250929", "gpt-4o-mini", "gemini-2.5-flash"],
          "gpt-4o-mini": ["gpt-4o-mini"],
          "gemini-2.5-flash": ["gemini-2.5-flash"],
          "gemini-2.5-flash-lite": ["gemini-2.5-flash-lite"],
        },
        models: {
          "claude-sonnet-4-5-20250929": {
            input_usd_per_token: 3 / 1_000_000,
            output_usd_per_token: 15 / 1_000_000,
            default_max_tokens: 1024,
            max_tokens: 4096,
          },
          "gpt-4o-mini": {
            input_usd_per_token: 0.15 / 1_000_000,
            output_usd_per_token: 0.6 / 1_000_000,
            default_max_tokens: 1024,
            max_tokens: 4096,
          },
          "gemini-2.5-flash": {
            input_usd_per_token: 0.3 / 1_000_000,
            output_usd_per_token: 2.5 / 1_000_000,
            default_max_tokens: 1024,
            max_tokens: 4096,
          },
          "gemini-2.5-flash-lite": {
            input_usd_per_token: 0.1 / 1_000_000,
            output_usd_per_token: 0.4 / 1_000_000,
            default_max_tokens: 1024,
            max_tokens: 4096,
          },
        },
      },
    });
  });

  it("exports Prometheus metrics with no label naming a user, a key, a team or a provider address", () => {
    const config = gatewayConfig(settings, cluster);
    const groups = (config["litellm_settings"] as Record<string, unknown>)["prometheus_metrics_config"] as {
      metrics: string[];
      include_labels: string[];
    }[];
    expect(groups.map((group) => group.metrics)).toEqual(
      Object.keys(PROMETHEUS_METRICS).map((metric) => [metric]),
    );
    for (const group of groups) {
      expect(group.include_labels.length).toBeGreaterThan(0); // an empty list would mean "every label"
      for (const label of [
        "end_user",
        "user",
        "user_email",
        "hashed_api_key",
        "api_key_alias",
        "team",
        "team_alias",
        "tag",
        "api_base",
      ])
        expect(group.include_labels).not.toContain(label);
    }
  });

  it("renders YAML that parses back to the same structure and holds no credential", () => {
    const text = renderGatewayConfig(settings, cluster);
    expect(YAML.parse(text)).toEqual(gatewayConfig(settings, cluster));
    const references = [...text.matchAll(/(api_key|password|master_key|database_url): (.*)/g)].map(
      (match) => match[2],
    );
    expect(references.length).toBeGreaterThan(0);
    for (const value of references) expect(value).toMatch(/^os\.environ\/[A-Z_]+$/);
  });

  it("takes timeouts, retries, max_tokens and prices from the settings", () => {
    const config = gatewayConfig(
      {
        ...settings,
        langfuseHost: undefined,
        timeoutSeconds: 30,
        totalTimeoutSeconds: 45,
        numRetries: 1,
        defaultMaxTokens: 256,
        maxTokens: 512,
        prices: { "openai/gpt-4o-mini": { input: 1, output: 2 } },
      },
      cluster,
    );
    expect(config["router_settings"]).toMatchObject({ timeout: 30, num_retries: 1 });
    const gateway = (config["general_settings"] as Record<string, Record<string, unknown>>)[
      "workbench_gateway"
    ];
    expect(gateway?.["total_timeout_seconds"]).toBe(45);
    expect((gateway?.["models"] as Record<string, unknown>)["gpt-4o-mini"]).toEqual({
      input_usd_per_token: 1 / 1_000_000,
      output_usd_per_token: 2 / 1_000_000,
      default_max_tokens: 256,
      max_tokens: 512,
    });
    expect((config["litellm_settings"] as Record<string, unknown>)["success_callback"]).toBeUndefined();
  });

  it("points each provider's models at its api_base and leaves the others on the public API", () => {
    const config = gatewayConfig(settings, {
      ...cluster,
      apiBase: { anthropic: "http://127.0.0.1:8001", openai: "http://127.0.0.1:8002/v1" },
    });
    expect(
      (config["model_list"] as { litellm_params: Record<string, unknown> }[]).map(
        (entry) => entry.litellm_params["api_base"],
      ),
    ).toEqual(["http://127.0.0.1:8001", "http://127.0.0.1:8002/v1", undefined, undefined]);
  });

  it("lists a model once and chains the primary's name through the fallbacks", () => {
    const config = gatewayConfig({ ...settings, budget: "openai/gpt-4o-mini" }, cluster);
    expect((config["model_list"] as unknown[]).length).toBe(3);
    expect(servingChains({ ...settings, budget: "openai/gpt-4o-mini" })).toMatchObject({
      "workbench-budget": ["gpt-4o-mini"],
      "gpt-4o-mini": ["gpt-4o-mini"],
    });
  });

  it.each([
    [
      { fallbacks: ["openai/gpt-4o-mini", "openai/gpt-4o-mini"] },
      "model 'openai/gpt-4o-mini' appears twice in the routing chain (primary, then fallbacks)",
    ],
    [{ rpmPerUser: 0 }, "rpmPerUser must be a whole number of at least 1 (got 0)"],
    [
      { primary: "mistral/large" },
      "model 'mistral/large' must be '<provider>/<model>' with provider anthropic, openai or gemini",
    ],
    [{ timeoutSeconds: 0 }, "timeoutSeconds must be a whole number of at least 1 (got 0)"],
    [
      { totalTimeoutSeconds: 30 },
      "totalTimeoutSeconds must be a whole number of seconds of at least timeoutSeconds (60) (got 30)",
    ],
    [{ defaultMaxTokens: 5000 }, "defaultMaxTokens (5000) must not be above maxTokens (4096)"],
    [
      { budget: "openai/gpt-4.1" },
      "prices has no price for model 'openai/gpt-4.1': add prices.openai/gpt-4.1 = { input, output } in USD per 1M tokens",
    ],
    [
      { prices: { "openai/gpt-4o-mini": { input: -1, output: 1 } } },
      "prices.openai/gpt-4o-mini.input must be a number of USD per 1M tokens, at least 0 (got -1)",
    ],
  ] as [Partial<GatewaySettings>, string][])("refuses %j", (overrides, message) => {
    expect(() => gatewayConfig({ ...settings, ...overrides }, cluster)).toThrow(message);
  });

  it("refuses a bad api_base", () => {
    expect(() => gatewayConfig(settings, { ...cluster, apiBase: { openai: "ftp://127.0.0.1/v1" } })).toThrow(
      "apiBase.openai 'ftp://127.0.0.1/v1' must be an http(s) URL",
    );
    expect(() => gatewayConfig(settings, { ...cluster, apiBase: { gemini: "not a url" } })).toThrow(
      "apiBase.gemini 'not a url' is not a URL",
    );
    expect(() =>
      gatewayConfig(settings, { ...cluster, apiBase: { anthropic: "http://127.0.0.1:8001/" } }),
    ).toThrow("apiBase.anthropic 'http://127.0.0.1:8001/' must not end with '/'");
  });

  it("names models and the providers a spec needs keys for", () => {
    expect(modelNameOf("anthropic/claude-sonnet-4-5-20250929")).toBe("claude-sonnet-4-5-20250929");
    expect(providersOf(settings)).toEqual(["anthropic", "openai", "gemini"]);
    expect(
      providersOf({
        primary: "openai/gpt-4.1",
        fallbacks: ["openai/gpt-4o-mini"],
        budget: "openai/gpt-4o-mini",
      }),
    ).toEqual(["openai"]);
  });
});
