import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { cloudDeployProblems } from "../../stacks/config/deployable.ts";
import { parseStackConfig, StackConfigError, type ConfigProblem } from "../../stacks/config/parse.ts";
import { isPrivateCidr } from "../../stacks/config/rules.ts";
import { SECRET_KEYS, type CloudStackConfig } from "../../stacks/config/schema.ts";

const SECRET = new Set(["workbench:databasePassword"]);
const PASSWORD = "correct-horse-battery";

const local = (extra: Record<string, string> = {}) => ({
  "workbench:profile": "local",
  "workbench:environment": "local",
  "workbench:databasePassword": PASSWORD,
  ...extra,
});

const cluster = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ versionPrefix: "1.33.", ...overrides });

const cloud = (extra: Record<string, string> = {}) => ({
  "workbench:profile": "cloud",
  "workbench:environment": "prod",
  "workbench:region": "sgp1",
  "workbench:domain": "workbench.example.com",
  "workbench:cluster": cluster(),
  "workbench:database": JSON.stringify({ host: "db.example.com", port: 6543, sslMode: "require" }),
  "workbench:databasePassword": PASSWORD,
  ...extra,
});

function problemsOf(raw: Record<string, string>, secrets: ReadonlySet<string> = SECRET): ConfigProblem[] {
  try {
    parseStackConfig(raw, secrets);
  } catch (error) {
    expect(error).toBeInstanceOf(StackConfigError);
    return (error as StackConfigError).problems;
  }
  throw new Error("expected the config to be rejected");
}

function expectOnlyProblem(
  raw: Record<string, string>,
  key: string,
  rule: string,
  got: string,
  secrets = SECRET,
) {
  expect(problemsOf(raw, secrets)).toEqual([{ key, rule, got }]);
}

describe("valid stack config", () => {
  it("fills local defaults", () => {
    const config = parseStackConfig(local(), SECRET);
    expect(config).toEqual({
      profile: "local",
      environment: "local",
      databasePassword: PASSWORD,
      database: { host: "127.0.0.1", port: 54322, name: "postgres", user: "postgres", sslMode: "disable" },
      features: {
        dataStack: true,
        n8n: true,
        litellm: true,
        appPlatform: true,
        backups: true,
        networkPolicies: true,
      },
      sampleData: { transactions: 20_000, badShare: 0.05, seed: 42 },
    });
  });

  it("fills the seed's cloud defaults (VPC 10.10.0.0/16, 3 x s-4vcpu-8gb autoscaling 3-6)", () => {
    const config = parseStackConfig(cloud(), SECRET);
    if (config.profile !== "cloud") throw new Error("expected the cloud profile");
    expect(config.vpcCidr).toBe("10.10.0.0/16");
    expect(config.registryTier).toBe("basic");
    expect(config.cluster).toEqual({
      versionPrefix: "1.33.",
      nodeSize: "s-4vcpu-8gb",
      nodeCount: 3,
      minNodes: 3,
      maxNodes: 6,
      autoUpgrade: true,
      surgeUpgrade: true,
      maintenanceWindow: { day: "sunday", startTime: "03:00" },
    });
    expect(config.database).toEqual({
      host: "db.example.com",
      port: 6543,
      name: "postgres",
      user: "postgres",
      sslMode: "require",
    });
  });

  it("ignores other namespaces", () => {
    expect(parseStackConfig(local({ "digitalocean:token": "x", "aws:region": "y" }), SECRET).profile).toBe(
      "local",
    );
  });

  it("accepts the committed stack files", () => {
    for (const file of ["Pulumi.local.yaml", "Pulumi.prod.yaml"]) {
      const settings = YAML.parse(readFileSync(new URL(`../../${file}`, import.meta.url), "utf8")) as {
        config: Record<string, unknown>;
      };
      const raw: Record<string, string> = {};
      for (const [key, value] of Object.entries(settings.config)) {
        // Secure values are placeholders in the repo; stand in a valid secret.
        const isSecure = typeof value === "object" && value !== null && "secure" in value;
        raw[key] = isSecure ? PASSWORD : typeof value === "string" ? value : JSON.stringify(value);
      }
      raw["workbench:databasePassword"] ??= PASSWORD;
      expect(() => parseStackConfig(raw, SECRET), file).not.toThrow();
    }
  });
});

describe("each rule rejects with the key, the rule and what was found", () => {
  it("profile is required", () => {
    const { "workbench:profile": _omit, ...raw } = local();
    expectOnlyProblem(raw, "workbench:profile", "must be 'local' or 'cloud'", "nothing");
  });

  it("profile must be local or cloud", () => {
    expectOnlyProblem(
      local({ "workbench:profile": "staging" }),
      "workbench:profile",
      "must be 'local' or 'cloud'",
      '"staging"',
    );
  });

  it("environment must be a DNS label", () => {
    expectOnlyProblem(
      local({ "workbench:environment": "Prod_1" }),
      "workbench:environment",
      "must be a lowercase DNS label (a-z, 0-9, -)",
      '"Prod_1"',
    );
  });

  it("environment is required", () => {
    const { "workbench:environment": _omit, ...raw } = local();
    expectOnlyProblem(raw, "workbench:environment", "is required", "nothing");
  });

  it("databasePassword must be secret config", () => {
    expectOnlyProblem(
      local(),
      "workbench:databasePassword",
      "must be stored as a secret: pulumi config set --secret workbench:databasePassword <value>",
      "a plaintext value",
      new Set(),
    );
  });

  it("databasePassword is required and never echoed", () => {
    const { "workbench:databasePassword": _omit, ...raw } = local();
    expectOnlyProblem(raw, "workbench:databasePassword", "is required", "[secret]");
    expectOnlyProblem(
      local({ "workbench:databasePassword": "short" }),
      "workbench:databasePassword",
      "must be at least 12 characters",
      "[secret]",
    );
  });

  it("unknown keys are reported as typos, at any depth", () => {
    expect(problemsOf(local({ "workbench:enviroment": "x", "workbench:features": '{"n8m": true}' }))).toEqual(
      [
        { key: "workbench:features.n8m", rule: "is not a known setting (check for a typo)", got: "true" },
        { key: "workbench:enviroment", rule: "is not a known setting (check for a typo)", got: '"x"' },
      ],
    );
  });

  it("database.port must be a TCP port", () => {
    expectOnlyProblem(
      local({ "workbench:database": '{"port": 70000}' }),
      "workbench:database.port",
      "must be a TCP port (1-65535)",
      "70000",
    );
    expectOnlyProblem(
      local({ "workbench:database": '{"port": 54.5}' }),
      "workbench:database.port",
      "must be a whole number",
      "54.5",
    );
  });

  it("database.host must be a hostname", () => {
    expectOnlyProblem(
      local({ "workbench:database": '{"host": "db host"}' }),
      "workbench:database.host",
      "must be a hostname or IPv4 address",
      '"db host"',
    );
  });

  it("database.name and user must be PostgreSQL identifiers", () => {
    expect(problemsOf(local({ "workbench:database": '{"name": "My-DB", "user": "Admin"}' }))).toEqual([
      { key: "workbench:database.name", rule: "must be a lowercase PostgreSQL identifier", got: '"My-DB"' },
      { key: "workbench:database.user", rule: "must be a lowercase PostgreSQL role name", got: '"Admin"' },
    ]);
  });

  it("database.sslMode must be a known mode", () => {
    expectOnlyProblem(
      local({ "workbench:database": '{"sslMode": "prefer"}' }),
      "workbench:database.sslMode",
      "must be one of disable, require, verify-full",
      '"prefer"',
    );
  });

  it("feature toggles must be booleans", () => {
    expectOnlyProblem(
      local({ "workbench:features": '{"n8n": "yes"}' }),
      "workbench:features.n8n",
      "must be true or false",
      '"yes"',
    );
  });

  it("cloud needs region, domain and cluster", () => {
    const { "workbench:region": _r, "workbench:domain": _d, "workbench:cluster": _c, ...raw } = cloud();
    expect(problemsOf(raw)).toEqual([
      { key: "workbench:region", rule: "is required", got: "nothing" },
      { key: "workbench:domain", rule: "is required", got: "nothing" },
      { key: "workbench:cluster", rule: "is required", got: "nothing" },
    ]);
  });

  it("region must be a DigitalOcean slug", () => {
    expectOnlyProblem(
      cloud({ "workbench:region": "Singapore" }),
      "workbench:region",
      "must be a DigitalOcean region slug like sgp1",
      '"Singapore"',
    );
  });

  it("domain must be a DNS name", () => {
    expectOnlyProblem(
      cloud({ "workbench:domain": "https://workbench.example.com" }),
      "workbench:domain",
      "must be a lowercase DNS name like workbench.example.com",
      '"https://workbench.example.com"',
    );
  });

  it("vpcCidr must be a private network", () => {
    for (const bad of ["8.8.8.0/24", "10.10.0.1/16", "10.10.0.0", "300.1.0.0/16"]) {
      expectOnlyProblem(
        cloud({ "workbench:vpcCidr": bad }),
        "workbench:vpcCidr",
        "must be a private IPv4 network (RFC 1918) in CIDR form like 10.10.0.0/16",
        JSON.stringify(bad),
      );
    }
  });

  it("cluster.versionPrefix must be a DOKS minor version prefix", () => {
    expectOnlyProblem(
      cloud({ "workbench:cluster": cluster({ versionPrefix: "1.33.1-do.0" }) }),
      "workbench:cluster.versionPrefix",
      "must be a DOKS minor version with a trailing dot, like 1.33.",
      '"1.33.1-do.0"',
    );
  });

  it("cluster.nodeSize must be a size slug", () => {
    expectOnlyProblem(
      cloud({ "workbench:cluster": cluster({ nodeSize: "large" }) }),
      "workbench:cluster.nodeSize",
      "must be a DigitalOcean size slug like s-4vcpu-8gb",
      '"large"',
    );
  });

  it("cluster.minNodes must not exceed maxNodes", () => {
    expectOnlyProblem(
      cloud({ "workbench:cluster": cluster({ minNodes: 5, maxNodes: 4, nodeCount: 4 }) }),
      "workbench:cluster.minNodes",
      "must not exceed maxNodes (4)",
      "5",
    );
  });

  it("cluster.nodeCount must lie within the autoscaling bounds", () => {
    expectOnlyProblem(
      cloud({ "workbench:cluster": cluster({ nodeCount: 8 }) }),
      "workbench:cluster.nodeCount",
      "must lie between minNodes (3) and maxNodes (6)",
      "8",
    );
  });

  it("cluster.maxNodes is capped and minNodes is at least 1", () => {
    expect(problemsOf(cloud({ "workbench:cluster": cluster({ minNodes: 0, maxNodes: 50 }) }))).toEqual([
      { key: "workbench:cluster.minNodes", rule: "must be at least 1", got: "0" },
      {
        key: "workbench:cluster.maxNodes",
        rule: "must be at most 20 (raise the DigitalOcean droplet limit first)",
        got: "50",
      },
    ]);
  });

  it("maintenance window day and time", () => {
    expect(
      problemsOf(
        cloud({ "workbench:cluster": cluster({ maintenanceWindow: { day: "sun", startTime: "25:00" } }) }),
      ),
    ).toEqual([
      {
        key: "workbench:cluster.maintenanceWindow.day",
        rule: "must be one of monday, tuesday, wednesday, thursday, friday, saturday, sunday, any",
        got: '"sun"',
      },
      {
        key: "workbench:cluster.maintenanceWindow.startTime",
        rule: "must be a UTC time HH:MM",
        got: '"25:00"',
      },
    ]);
  });

  it("qualityAlertsWebhookUrl must be an http(s) URL", () => {
    expectOnlyProblem(
      local({ "workbench:qualityAlertsWebhookUrl": "ftp://n8n.example.com/webhook/quality-alerts" }),
      "workbench:qualityAlertsWebhookUrl",
      "must be an http(s) URL",
      '"ftp://n8n.example.com/webhook/quality-alerts"',
    );
    expect(
      parseStackConfig(
        local({ "workbench:qualityAlertsWebhookUrl": "http://127.0.0.1:5678/webhook/quality-alerts" }),
        SECRET,
      ).qualityAlertsWebhookUrl,
    ).toBe("http://127.0.0.1:5678/webhook/quality-alerts");
  });

  it("sampleData bounds", () => {
    expect(
      problemsOf(local({ "workbench:sampleData": '{"transactions": -1, "badShare": 0.9, "seed": 1.5}' })),
    ).toEqual([
      { key: "workbench:sampleData.transactions", rule: "must be at least 0", got: "-1" },
      { key: "workbench:sampleData.badShare", rule: "must be between 0 and 0.5", got: "0.9" },
      { key: "workbench:sampleData.seed", rule: "must be a whole number", got: "1.5" },
    ]);
  });

  it("registryTier must be a DigitalOcean tier", () => {
    expectOnlyProblem(
      cloud({ "workbench:registryTier": "free" }),
      "workbench:registryTier",
      "must be one of starter, basic, professional",
      '"free"',
    );
  });

  it("reports every problem at once, in one readable message", () => {
    try {
      parseStackConfig(cloud({ "workbench:region": "x", "workbench:domain": "-bad-" }), SECRET);
      throw new Error("expected a StackConfigError");
    } catch (error) {
      expect((error as Error).message).toBe(
        "invalid stack configuration (nothing was changed):\n" +
          '  - workbench:region: must be a DigitalOcean region slug like sgp1 (got "x")\n' +
          '  - workbench:domain: must be a lowercase DNS name like workbench.example.com (got "-bad-")',
      );
    }
  });
});

describe("isPrivateCidr", () => {
  it.each([
    ["10.10.0.0/16", true],
    ["172.16.0.0/12", true],
    ["172.31.8.0/24", true],
    ["192.168.0.0/16", true],
    ["172.32.0.0/16", false],
    ["10.0.0.0/7", false],
    ["192.169.0.0/16", false],
    ["10.10.0.0/33", false],
  ])("%s -> %s", (cidr, expected) => {
    expect(isPrivateCidr(cidr)).toBe(expected);
  });
});

describe("cloud-platform settings (images, models, prices, charts, secrets)", () => {
  const ALL_SECRETS = new Set(SECRET_KEYS.map((key) => `workbench:${key}`));
  const parseCloud = (
    raw: Record<string, string>,
    secrets: ReadonlySet<string> = ALL_SECRETS,
  ): CloudStackConfig => {
    const config = parseStackConfig(raw, secrets);
    if (config.profile !== "cloud") throw new Error("expected the cloud profile");
    return config;
  };
  const deploySecrets = {
    "workbench:supabase": '{"url": "https://abcd.supabase.co"}',
    "workbench:supabaseServiceRoleKey": "eyJhbGciOiJIUzI1NiJ9.service-role",
    "workbench:anthropicApiKey": "sk-ant-placeholder-000000",
    "workbench:openaiApiKey": "sk-placeholder-0000000000",
    "workbench:geminiApiKey": "AIza-placeholder-00000000",
    "workbench:langfusePublicKey": "pk-lf-placeholder",
    "workbench:langfuseSecretKey": "sk-lf-placeholder",
    "workbench:n8nEncryptionKey": "0123456789abcdef0123456789abcdef",
  };

  it("fills the defaults: pinned images, the seed's routing and limits, chart versions, seed 000's prices", () => {
    const config = parseCloud(cloud());
    expect(config.registryName).toBe("ai-workbench");
    expect(config.images.litellm).toBe("ghcr.io/berriai/litellm:v1.80.11-stable.1");
    expect(config.images.n8n).toBe("docker.n8n.io/n8nio/n8n:2.11.2");
    expect(config.llm).toEqual({
      primary: "anthropic/claude-sonnet-4-5-20250929",
      fallbacks: ["openai/gpt-4o-mini", "gemini/gemini-2.5-flash"],
      budget: "gemini/gemini-2.5-flash-lite",
      rpmPerUser: 500,
      tpmPerUser: 10_000,
      cacheTtlSeconds: 3600,
      langfuseHost: "https://cloud.langfuse.com",
    });
    expect(config.charts).toEqual({
      traefik: "41.3.0",
      n8n: "1.11.0",
      certManager: "v1.19.1",
      metricsServer: "3.13.0",
      kubePrometheusStack: "79.2.0",
    });
    expect(config.appPlatform).toEqual({ instanceSize: "apps-s-1vcpu-1gb", instanceCount: 2 });
    expect(config.supabase).toEqual({ sessionPort: 5432 });
    expect(config.prices).toEqual({
      dropletMonthly: { "s-4vcpu-8gb": 40 },
      appInstanceMonthly: { "apps-s-1vcpu-1gb": 12 },
      registryMonthly: { starter: 0, basic: 5, professional: 20 },
      spacesMonthly: 5,
      loadBalancerMonthly: 12,
      volumeGibMonthly: 0.1,
      supabaseMonthly: 25,
      llmApiMonthly: 50,
    });
  });

  it("images must be pinned to a version or digest", () => {
    const rule =
      "must be an image reference pinned to a version tag or digest, like registry.example.com/team/app:1.2.3 (not :latest, not untagged)";
    expectOnlyProblem(
      cloud({ "workbench:images": '{"api": "registry.example.com/team/api:latest"}' }),
      "workbench:images.api",
      rule,
      '"registry.example.com/team/api:latest"',
    );
    expectOnlyProblem(
      cloud({ "workbench:images": '{"redis": "redis"}' }),
      "workbench:images.redis",
      rule,
      '"redis"',
    );
  });

  it("model ids name a known provider, and Gemini 1.5 is retired", () => {
    expectOnlyProblem(
      cloud({ "workbench:llm": '{"primary": "mistral/large"}' }),
      "workbench:llm.primary",
      "must be '<provider>/<model>' with provider anthropic, openai or gemini, like openai/gpt-4o-mini",
      '"mistral/large"',
    );
    expectOnlyProblem(
      cloud({ "workbench:llm": '{"fallbacks": ["openai/gpt-4o-mini", "gemini/gemini-1.5-flash"]}' }),
      "workbench:llm.fallbacks.1",
      "Gemini 1.5 models are retired: use a current Flash model like gemini/gemini-2.5-flash",
      '"gemini/gemini-1.5-flash"',
    );
    expectOnlyProblem(
      cloud({ "workbench:llm": '{"fallbacks": []}' }),
      "workbench:llm.fallbacks",
      "must name at least one fallback model",
      "[]",
    );
  });

  it("rate limits and the cache TTL are bounded whole numbers", () => {
    expect(
      problemsOf(
        cloud({ "workbench:llm": '{"rpmPerUser": 0, "tpmPerUser": 1.5, "cacheTtlSeconds": 90000}' }),
      ),
    ).toEqual([
      { key: "workbench:llm.rpmPerUser", rule: "must be at least 1", got: "0" },
      { key: "workbench:llm.tpmPerUser", rule: "must be a whole number", got: "1.5" },
      { key: "workbench:llm.cacheTtlSeconds", rule: "must be at most 86400 (one day)", got: "90000" },
    ]);
  });

  it("prices are non-negative numbers", () => {
    expect(
      problemsOf(
        cloud({
          "workbench:prices": '{"loadBalancerMonthly": -12, "dropletMonthly": {"s-4vcpu-8gb": "forty"}}',
        }),
      ),
    ).toEqual([
      { key: "workbench:prices.dropletMonthly.s-4vcpu-8gb", rule: "must be a number", got: '"forty"' },
      { key: "workbench:prices.loadBalancerMonthly", rule: "must be a price in USD, at least 0", got: "-12" },
    ]);
  });

  it("App Platform size and instance count", () => {
    expect(
      problemsOf(cloud({ "workbench:appPlatform": '{"instanceSize": "XS", "instanceCount": 0}' })),
    ).toEqual([
      {
        key: "workbench:appPlatform.instanceSize",
        rule: "must be an App Platform size slug like apps-s-1vcpu-1gb",
        got: '"XS"',
      },
      { key: "workbench:appPlatform.instanceCount", rule: "must be at least 1", got: "0" },
    ]);
  });

  it("supabase.url is an https URL and sessionPort a TCP port", () => {
    expect(
      problemsOf(cloud({ "workbench:supabase": '{"url": "http://abcd.supabase.co", "sessionPort": 0}' })),
    ).toEqual([
      {
        key: "workbench:supabase.url",
        rule: "must be the project's https URL like https://abcd.supabase.co",
        got: '"http://abcd.supabase.co"',
      },
      { key: "workbench:supabase.sessionPort", rule: "must be a TCP port (1-65535)", got: "0" },
    ]);
  });

  it("chart versions, the ACME email and the registry name", () => {
    expect(
      problemsOf(
        cloud({
          "workbench:charts": '{"traefik": "latest"}',
          "workbench:acmeEmail": "ops",
          "workbench:registryName": "AI_Workbench",
        }),
      ),
    ).toEqual([
      {
        key: "workbench:registryName",
        rule: "must be a lowercase DNS label (a-z, 0-9, -)",
        got: '"AI_Workbench"',
      },
      { key: "workbench:acmeEmail", rule: "must be an email address", got: '"ops"' },
      { key: "workbench:charts.traefik", rule: "must be a chart version like 41.3.0", got: '"latest"' },
    ]);
  });

  it.each([
    "anthropicApiKey",
    "n8nEncryptionKey",
    "supabaseServiceRoleKey",
    "digitaloceanToken",
    "mattermostWebhookUrl",
    "n8nApiKey",
  ])("%s must be secret config", (key) => {
    const value =
      key === "mattermostWebhookUrl"
        ? "https://chat.example.com/hooks/x"
        : "0123456789abcdef0123456789abcdef";
    expectOnlyProblem(
      cloud({ [`workbench:${key}`]: value }),
      `workbench:${key}`,
      `must be stored as a secret: pulumi config set --secret workbench:${key} <value>`,
      "a plaintext value",
    );
  });

  it("n8nApiKey must look like an API key, and is never echoed", () => {
    expectOnlyProblem(
      cloud({ "workbench:n8nApiKey": "short" }),
      "workbench:n8nApiKey",
      "must be an n8n API key",
      "[secret]",
      new Set(["workbench:databasePassword", "workbench:n8nApiKey"]),
    );
  });

  it("a bad secret is reported without its value", () => {
    expectOnlyProblem(
      cloud({ "workbench:n8nEncryptionKey": "too-short" }),
      "workbench:n8nEncryptionKey",
      "must be at least 32 characters (e.g. openssl rand -hex 32)",
      "[secret]",
      ALL_SECRETS,
    );
  });

  it("cloud settings are unknown to the local profile", () => {
    expectOnlyProblem(
      local({ "workbench:images": '{"api": "api:1.0.0"}' }),
      "workbench:images",
      "is not a known setting (check for a typo)",
      '{"api":"api:1.0.0"}',
    );
  });

  it("deploying needs the Supabase URL and key, the keys of the providers the models use, Langfuse's and n8n's", () => {
    expect(cloudDeployProblems(parseCloud(cloud()))).toEqual([
      {
        key: "workbench:supabase.url",
        rule: "is required for the cloud stack (the project's https URL, e.g. https://abcd.supabase.co)",
        got: "nothing",
      },
      {
        key: "workbench:supabaseServiceRoleKey",
        rule: "is required for the cloud stack: pulumi config set --secret workbench:supabaseServiceRoleKey <value>",
        got: "nothing",
      },
      {
        key: "workbench:anthropicApiKey",
        rule: "is required by features.litellm (model anthropic/claude-sonnet-4-5-20250929): pulumi config set --secret workbench:anthropicApiKey <value>",
        got: "nothing",
      },
      {
        key: "workbench:openaiApiKey",
        rule: "is required by features.litellm (model openai/gpt-4o-mini): pulumi config set --secret workbench:openaiApiKey <value>",
        got: "nothing",
      },
      {
        key: "workbench:geminiApiKey",
        rule: "is required by features.litellm (model gemini/gemini-2.5-flash): pulumi config set --secret workbench:geminiApiKey <value>",
        got: "nothing",
      },
      {
        key: "workbench:langfusePublicKey",
        rule: "is required by features.litellm (the Langfuse callback): pulumi config set --secret workbench:langfusePublicKey <value>",
        got: "nothing",
      },
      {
        key: "workbench:langfuseSecretKey",
        rule: "is required by features.litellm (the Langfuse callback): pulumi config set --secret workbench:langfuseSecretKey <value>",
        got: "nothing",
      },
      {
        key: "workbench:n8nEncryptionKey",
        rule: "is required by features.n8n: pulumi config set --secret workbench:n8nEncryptionKey <value>",
        got: "nothing",
      },
    ]);
    expect(cloudDeployProblems(parseCloud(cloud(deploySecrets)))).toEqual([]);
  });

  it("deploying asks only for what the enabled features use", () => {
    const { "workbench:geminiApiKey": _gemini, "workbench:n8nEncryptionKey": _n8n, ...rest } = deploySecrets;
    const openaiOnly = '{"fallbacks": ["openai/gpt-4o-mini"], "budget": "openai/gpt-4o-mini"}';
    const features = '{"n8n": false}';
    expect(
      cloudDeployProblems(
        parseCloud(cloud({ ...rest, "workbench:llm": openaiOnly, "workbench:features": features })),
      ),
    ).toEqual([]);
  });
});
