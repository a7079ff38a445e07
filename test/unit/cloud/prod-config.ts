/**
 * The committed Pulumi.prod.yaml as a validated config, with placeholder secrets, for the
 * prod-stack tests (the file holds no secrets; a deployment sets them with
 * `pulumi config set --secret`).
 */
import { readFileSync } from "node:fs";
import YAML from "yaml";
import { parseStackConfig } from "../../../stacks/config/parse.ts";
import { type CloudStackConfig, SECRET_KEYS } from "../../../stacks/config/schema.ts";

/** Placeholder value per secret key (each passes its schema rule). */
export const PLACEHOLDER_SECRETS: Record<string, string> = {
  databasePassword: "placeholder-database-password",
  supabaseServiceRoleKey: "placeholder-supabase-service-role-key",
  anthropicApiKey: "placeholder-anthropic-api-key-000",
  openaiApiKey: "placeholder-openai-api-key-00000",
  geminiApiKey: "placeholder-gemini-api-key-00000",
  langfusePublicKey: "pk-lf-placeholder",
  langfuseSecretKey: "sk-lf-placeholder",
  n8nEncryptionKey: "0123456789abcdef0123456789abcdef0123456789abcdef",
  odooApiKey: "placeholder-odoo-api-key",
  mattermostWebhookUrl: "https://chat.example.com/hooks/placeholder",
};

/** DOKS versions DigitalOcean "offers" to the mocks' getKubernetesVersions data source. */
export const OFFERED_DOKS_VERSIONS = ["1.32.9-do.0", "1.33.4-do.0", "1.33.6-do.1", "1.34.1-do.0"];

/** installMocks `calls` answering the cloud stack's data sources (newest patch under the prefix). */
export function cloudDataSources(args: { token: string; inputs: Record<string, unknown> }) {
  if (args.token !== "digitalocean:index/getKubernetesVersions:getKubernetesVersions") return undefined;
  const prefix = String(args.inputs["versionPrefix"] ?? "");
  const valid = OFFERED_DOKS_VERSIONS.filter((version) => version.startsWith(prefix));
  return { versionPrefix: prefix, validVersions: valid, latestVersion: valid.at(-1) ?? "" };
}

/** The password the mocks give a database-layer login (the provider generates one per login). */
export const mockLoginPassword = (role: string) => `generated-password-of-${role}`;

/** installMocks `outputs`: each LoginRole's generated password, as its provider would return it. */
export function loginPasswords(args: { type: string; inputs: Record<string, unknown> }) {
  return args.type === "pulumi-nodejs:dynamic/workbench:database:LoginRole"
    ? { password: mockLoginPassword(String(args.inputs["name"])) }
    : undefined;
}

/** Pulumi.prod.yaml's raw config map (as `pulumi.runtime.allConfig()` would give it). */
export function prodRawConfig(overrides: Record<string, unknown> = {}): Record<string, string> {
  const file = YAML.parse(readFileSync(new URL("../../../Pulumi.prod.yaml", import.meta.url), "utf8")) as {
    config: Record<string, unknown>;
  };
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...file.config, ...overrides })) {
    raw[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return raw;
}

/** The validated prod config with every placeholder secret set (minus `without`). */
export function prodConfig(
  options: { without?: string[]; overrides?: Record<string, unknown> } = {},
): CloudStackConfig {
  const raw = prodRawConfig(options.overrides);
  for (const [key, value] of Object.entries(PLACEHOLDER_SECRETS)) {
    if (!options.without?.includes(key)) raw[`workbench:${key}`] = value;
  }
  const config = parseStackConfig(raw, new Set(SECRET_KEYS.map((key) => `workbench:${key}`)));
  if (config.profile !== "cloud") throw new Error("Pulumi.prod.yaml must use the cloud profile");
  return config;
}
