import { describe, expect, it } from "vitest";
import YAML from "yaml";
import {
  liteLlmConfig,
  type LiteLlmRoutingSpec,
  modelNameOf,
  providersOf,
  renderLiteLlmConfig,
} from "../../../components/kubernetes/litellm-config.ts";
import { databaseFreeGateway, USAGE_CALLBACK, WORKBENCH_AUTH } from "../../../components/litellm/gateway.ts";

const spec: LiteLlmRoutingSpec = {
  primary: "anthropic/claude-sonnet-4-5-20250929",
  fallbacks: ["openai/gpt-4o-mini", "gemini/gemini-2.5-flash"],
  budget: "gemini/gemini-2.5-flash-lite",
  rpmPerUser: 500,
  tpmPerUser: 10_000,
  cache: { host: "litellm-redis.litellm.svc.cluster.local", port: 6379, ttlSeconds: 3600 },
  langfuse: true,
  prometheus: true,
};

describe("liteLlmConfig", () => {
  it("routes Claude Sonnet 4.5 first, then GPT-4o-mini, then Gemini Flash, with a budget alias, per-user limits, a 1 h Redis cache, Langfuse and Prometheus", () => {
    expect(liteLlmConfig(spec)).toEqual({
      model_list: [
        {
          model_name: "claude-sonnet-4-5-20250929",
          litellm_params: {
            model: "anthropic/claude-sonnet-4-5-20250929",
            api_key: "os.environ/ANTHROPIC_API_KEY",
          },
        },
        {
          model_name: "gpt-4o-mini",
          litellm_params: { model: "openai/gpt-4o-mini", api_key: "os.environ/OPENAI_API_KEY" },
        },
        {
          model_name: "gemini-2.5-flash",
          litellm_params: { model: "gemini/gemini-2.5-flash", api_key: "os.environ/GEMINI_API_KEY" },
        },
        {
          model_name: "gemini-2.5-flash-lite",
          litellm_params: { model: "gemini/gemini-2.5-flash-lite", api_key: "os.environ/GEMINI_API_KEY" },
        },
      ],
      router_settings: {
        model_group_alias: {
          "workbench-default": "claude-sonnet-4-5-20250929",
          "workbench-budget": "gemini-2.5-flash-lite",
        },
        fallbacks: [
          { "claude-sonnet-4-5-20250929": ["gpt-4o-mini", "gemini-2.5-flash"] },
          // The alias clients call needs its own entry (found in the real proxy, test/integration/litellm.test.ts).
          { "workbench-default": ["gpt-4o-mini", "gemini-2.5-flash"] },
        ],
        num_retries: 2,
        redis_host: "litellm-redis.litellm.svc.cluster.local",
        redis_port: 6379,
        redis_password: "os.environ/REDIS_PASSWORD",
      },
      litellm_settings: {
        drop_params: true,
        cache: true,
        cache_params: {
          type: "redis",
          host: "litellm-redis.litellm.svc.cluster.local",
          port: 6379,
          password: "os.environ/REDIS_PASSWORD",
          ttl: 3600,
        },
        success_callback: ["langfuse"],
        failure_callback: ["langfuse"],
        callbacks: ["prometheus"],
        default_internal_user_params: { rpm_limit: 500, tpm_limit: 10_000 },
        upperbound_key_generate_params: { rpm_limit: 500, tpm_limit: 10_000 },
      },
      general_settings: {
        master_key: "os.environ/LITELLM_MASTER_KEY",
        database_url: "os.environ/DATABASE_URL",
      },
    });
  });

  it("renders YAML that parses back to the same structure and holds no credential", () => {
    const text = renderLiteLlmConfig(spec);
    expect(YAML.parse(text)).toEqual(liteLlmConfig(spec));
    const references = [...text.matchAll(/(api_key|password|master_key|database_url): (.*)/g)].map(
      (match) => match[2],
    );
    expect(references.length).toBeGreaterThan(0);
    for (const value of references) expect(value).toMatch(/^os\.environ\/[A-Z_]+$/);
  });

  it("leaves Langfuse and Prometheus out when off, and lists a model once", () => {
    const config = liteLlmConfig({
      ...spec,
      budget: "openai/gpt-4o-mini",
      langfuse: false,
      prometheus: false,
    });
    const settings = config["litellm_settings"] as Record<string, unknown>;
    expect(settings["success_callback"]).toBeUndefined();
    expect(settings["callbacks"]).toBeUndefined();
    expect((config["model_list"] as unknown[]).length).toBe(3);
  });

  it("refuses a model twice in the chain and bad limits", () => {
    expect(() => liteLlmConfig({ ...spec, fallbacks: ["openai/gpt-4o-mini", "openai/gpt-4o-mini"] })).toThrow(
      "model 'openai/gpt-4o-mini' appears twice in the routing chain (primary, then fallbacks)",
    );
    expect(() => liteLlmConfig({ ...spec, rpmPerUser: 0 })).toThrow(
      "rpmPerUser must be a whole number of at least 1 (got 0)",
    );
    expect(() => liteLlmConfig({ ...spec, primary: "mistral/large" })).toThrow(
      "model 'mistral/large' must be '<provider>/<model>' with provider anthropic, openai or gemini",
    );
  });

  it("names models and the providers a spec needs keys for", () => {
    expect(modelNameOf("anthropic/claude-sonnet-4-5-20250929")).toBe("claude-sonnet-4-5-20250929");
    expect(providersOf(spec)).toEqual(["anthropic", "openai", "gemini"]);
    expect(
      providersOf({
        primary: "openai/gpt-4.1",
        fallbacks: ["openai/gpt-4o-mini"],
        budget: "openai/gpt-4o-mini",
      }),
    ).toEqual(["openai"]);
  });
});

describe("liteLlmConfig options for a gateway off the cluster (api_base, callbacks, custom auth, no database)", () => {
  const stubbed: LiteLlmRoutingSpec = {
    ...spec,
    timeoutSeconds: 60,
    apiBase: { anthropic: "http://127.0.0.1:8001", openai: "http://127.0.0.1:8002/v1" },
    customCallbacks: ["workbench_usage.usage_recorder"],
    customAuth: "workbench_auth.user_api_key_auth",
    database: false,
  };

  it("points each provider's models at its api_base, leaves the others on the public API, and sets the timeout", () => {
    const config = liteLlmConfig(stubbed);
    expect(
      (config["model_list"] as { litellm_params: Record<string, unknown> }[]).map(
        (entry) => entry.litellm_params,
      ),
    ).toEqual([
      {
        model: "anthropic/claude-sonnet-4-5-20250929",
        api_key: "os.environ/ANTHROPIC_API_KEY",
        api_base: "http://127.0.0.1:8001",
      },
      {
        model: "openai/gpt-4o-mini",
        api_key: "os.environ/OPENAI_API_KEY",
        api_base: "http://127.0.0.1:8002/v1",
      },
      { model: "gemini/gemini-2.5-flash", api_key: "os.environ/GEMINI_API_KEY" },
      { model: "gemini/gemini-2.5-flash-lite", api_key: "os.environ/GEMINI_API_KEY" },
    ]);
    expect((config["router_settings"] as Record<string, unknown>)["timeout"]).toBe(60);
  });

  it("adds custom callbacks after Prometheus, sets custom auth, and drops database_url when database is false", () => {
    const config = liteLlmConfig(stubbed);
    expect((config["litellm_settings"] as Record<string, unknown>)["callbacks"]).toEqual([
      "prometheus",
      "workbench_usage.usage_recorder",
    ]);
    expect(config["general_settings"]).toEqual({
      master_key: "os.environ/LITELLM_MASTER_KEY",
      custom_auth: "workbench_auth.user_api_key_auth",
    });
    const withoutPrometheus = liteLlmConfig({ ...stubbed, prometheus: false });
    expect((withoutPrometheus["litellm_settings"] as Record<string, unknown>)["callbacks"]).toEqual([
      "workbench_usage.usage_recorder",
    ]);
  });

  it("keeps the cluster's config unchanged when no option is given", () => {
    const config = liteLlmConfig(spec);
    expect(config["general_settings"]).toEqual({
      master_key: "os.environ/LITELLM_MASTER_KEY",
      database_url: "os.environ/DATABASE_URL",
    });
    expect((config["router_settings"] as Record<string, unknown>)["timeout"]).toBeUndefined();
  });

  it("databaseFreeGateway adds the usage recorder and the workbench auth, once, and turns the database off", () => {
    const gateway = databaseFreeGateway({ ...spec, customCallbacks: [USAGE_CALLBACK] });
    expect(gateway).toEqual({
      ...spec,
      database: false,
      customAuth: WORKBENCH_AUTH,
      customCallbacks: [USAGE_CALLBACK],
    });
    expect(USAGE_CALLBACK).toBe("workbench_usage.usage_recorder");
    expect(WORKBENCH_AUTH).toBe("workbench_auth.user_api_key_auth");
  });

  it("refuses a bad api_base, a Python reference that is not <module>.<name>, and a bad timeout", () => {
    expect(() => liteLlmConfig({ ...spec, apiBase: { openai: "ftp://127.0.0.1/v1" } })).toThrow(
      "apiBase.openai 'ftp://127.0.0.1/v1' must be an http(s) URL",
    );
    expect(() => liteLlmConfig({ ...spec, apiBase: { gemini: "not a url" } })).toThrow(
      "apiBase.gemini 'not a url' is not a URL",
    );
    expect(() => liteLlmConfig({ ...spec, apiBase: { anthropic: "http://127.0.0.1:8001/" } })).toThrow(
      "apiBase.anthropic 'http://127.0.0.1:8001/' must not end with '/'",
    );
    expect(() => liteLlmConfig({ ...spec, customCallbacks: ["workbench_usage"] })).toThrow(
      "'workbench_usage' must be '<module>.<name>' (a Python object in a .py file beside config.yaml)",
    );
    expect(() => liteLlmConfig({ ...spec, customAuth: "workbench-auth.check" })).toThrow(
      "'workbench-auth.check' must be '<module>.<name>'",
    );
    expect(() => liteLlmConfig({ ...spec, timeoutSeconds: 0 })).toThrow(
      "timeoutSeconds must be a number of seconds above 0 (got 0)",
    );
  });
});
