import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { isPrivateCidr, parseStackConfig, StackConfigError, type ConfigProblem } from "../../stacks/config.ts";

const SECRET = new Set(["workbench:databasePassword"]);
const PASSWORD = "correct-horse-battery";

const local = (extra: Record<string, string> = {}) => ({
  "workbench:profile": "local",
  "workbench:environment": "local",
  "workbench:databasePassword": PASSWORD,
  ...extra,
});

const cluster = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ version: "1.33.1-do.0", ...overrides });

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

function expectOnlyProblem(raw: Record<string, string>, key: string, rule: string, got: string, secrets = SECRET) {
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
      features: { dataStack: true, n8n: true, litellm: true, appPlatform: true, backups: true },
      sampleData: { transactions: 20_000, badShare: 0.05, seed: 42 },
    });
  });

  it("fills the seed's cloud defaults (VPC 10.10.0.0/16, 3 x s-4vcpu-8gb autoscaling 3-6)", () => {
    const config = parseStackConfig(cloud(), SECRET);
    if (config.profile !== "cloud") throw new Error("expected the cloud profile");
    expect(config.vpcCidr).toBe("10.10.0.0/16");
    expect(config.registryTier).toBe("basic");
    expect(config.cluster).toEqual({
      version: "1.33.1-do.0",
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
    expect(parseStackConfig(local({ "digitalocean:token": "x", "aws:region": "y" }), SECRET).profile).toBe("local");
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
    expectOnlyProblem(local({ "workbench:profile": "staging" }), "workbench:profile", "must be 'local' or 'cloud'", '"staging"');
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
    expect(problemsOf(local({ "workbench:enviroment": "x", "workbench:features": '{"n8m": true}' }))).toEqual([
      { key: "workbench:features.n8m", rule: "is not a known setting (check for a typo)", got: "true" },
      { key: "workbench:enviroment", rule: "is not a known setting (check for a typo)", got: '"x"' },
    ]);
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

  it("cluster.version must be a DOKS slug", () => {
    expectOnlyProblem(
      cloud({ "workbench:cluster": cluster({ version: "1.33" }) }),
      "workbench:cluster.version",
      "must be a DOKS version slug like 1.33.1-do.0",
      '"1.33"',
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
      problemsOf(cloud({ "workbench:cluster": cluster({ maintenanceWindow: { day: "sun", startTime: "25:00" } }) })),
    ).toEqual([
      {
        key: "workbench:cluster.maintenanceWindow.day",
        rule: "must be one of monday, tuesday, wednesday, thursday, friday, saturday, sunday, any",
        got: '"sun"',
      },
      { key: "workbench:cluster.maintenanceWindow.startTime", rule: "must be a UTC time HH:MM", got: '"25:00"' },
    ]);
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
