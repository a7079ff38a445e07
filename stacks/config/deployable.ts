/**
 * What a cloud deployment needs beyond a well-formed config: the secrets and settings its
 * enabled features use. Kept out of the schema so tools that only read sizes (`npm run
 * cost`) work without credentials.
 */
import { StackConfigError, type ConfigProblem } from "./parse.ts";
import {
  CONFIG_NAMESPACE,
  LLM_PROVIDERS,
  type CloudStackConfig,
  type LlmProvider,
  type SecretKey,
} from "./schema.ts";

/** The provider a model id routes to: its prefix (`anthropic/claude-...` is anthropic). */
function llmProviderOf(modelId: string): LlmProvider {
  const provider = modelId.split("/")[0];
  const known = LLM_PROVIDERS.find((name) => name === provider);
  if (!known) throw new Error(`model id '${modelId}' names no known provider (${LLM_PROVIDERS.join(", ")})`);
  return known;
}

const PROVIDER_KEYS: Record<LlmProvider, SecretKey> = {
  anthropic: "anthropicApiKey",
  openai: "openaiApiKey",
  gemini: "geminiApiKey",
};

/** The value of secret `key` in `config`, if set (`databasePassword` is always set). */
function secretValue(config: CloudStackConfig, key: SecretKey): string | undefined {
  return config[key];
}

/** Empty when the stack can be deployed; else each missing secret or setting, with the command that sets it. */
export function cloudDeployProblems(config: CloudStackConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const requireSecret = (key: SecretKey, reason: string) => {
    if (secretValue(config, key) === undefined) {
      problems.push({
        key: `${CONFIG_NAMESPACE}:${key}`,
        rule: `is required ${reason}: pulumi config set --secret ${CONFIG_NAMESPACE}:${key} <value>`,
        got: "nothing",
      });
    }
  };

  if (config.supabase.url === undefined) {
    problems.push({
      key: `${CONFIG_NAMESPACE}:supabase.url`,
      rule: "is required for the cloud stack (the project's https URL, e.g. https://abcd.supabase.co)",
      got: "nothing",
    });
  }
  requireSecret("supabaseServiceRoleKey", "for the cloud stack");
  if (config.features.litellm) {
    const models = [config.llm.primary, ...config.llm.fallbacks, config.llm.budget];
    for (const provider of LLM_PROVIDERS) {
      const first = models.find((model) => llmProviderOf(model) === provider);
      if (first) requireSecret(PROVIDER_KEYS[provider], `by features.litellm (model ${first})`);
    }
    requireSecret("langfusePublicKey", "by features.litellm (the Langfuse callback)");
    requireSecret("langfuseSecretKey", "by features.litellm (the Langfuse callback)");
  }
  if (config.features.n8n) requireSecret("n8nEncryptionKey", "by features.n8n");
  if (config.features.n8n && config.n8nApiKey !== undefined)
    requireSecret(
      "supabaseJwtSecret",
      "by n8nApiKey (the pipeline-trigger webhook verifies callers' tokens)",
    );
  return problems;
}

/**
 * A cloud config that passed {@link assertCloudDeployable}: the values every cloud
 * deployment needs are present. The feature secrets stay optional in the type (a
 * disabled feature needs none): read them with {@link featureSecret}.
 */
export type DeployableCloudConfig = CloudStackConfig & {
  supabase: CloudStackConfig["supabase"] & { url: string };
  supabaseServiceRoleKey: string;
};

/** Throws a StackConfigError listing everything {@link cloudDeployProblems} finds. */
export function assertCloudDeployable(config: CloudStackConfig): asserts config is DeployableCloudConfig {
  const problems = cloudDeployProblems(config);
  if (problems.length > 0) throw new StackConfigError(problems);
}

/**
 * A secret an enabled feature requires, after {@link assertCloudDeployable} checked it is
 * set; reading one the check did not require is a programming error, named here.
 */
export function featureSecret(config: DeployableCloudConfig, key: SecretKey): string {
  const value = secretValue(config, key);
  if (value === undefined) {
    throw new Error(
      `${CONFIG_NAMESPACE}:${key} is read by the cloud stack but cloudDeployProblems does not require it`,
    );
  }
  return value;
}
