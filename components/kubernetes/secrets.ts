import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** Kubernetes names of the Secrets this component creates (stable: workloads reference them). */
export const SECRET_NAMES = {
  supabase: "supabase",
  integrations: "integrations",
  llm: "litellm-keys",
  n8n: "n8n-core",
  registry: "registry",
} as const;

/** Env var names of the LLM provider keys (what LiteLLM's `os.environ/` references read). */
export type ProviderKeyName = "ANTHROPIC_API_KEY" | "OPENAI_API_KEY" | "GEMINI_API_KEY";

export interface WorkbenchSecretsArgs {
  /** The cluster's Kubernetes provider (Cluster.provider). */
  provider: k8s.Provider;
  /** Namespace of the workbench services: gets the Supabase and integration Secrets. */
  workbenchNamespace: pulumi.Input<string>;
  /**
   * Supabase credentials: keys SUPABASE_SERVICE_ROLE_KEY and DATABASE_URL (the services'
   * login, WorkbenchDatabase.apiRole, never the admin).
   */
  supabase: { serviceRoleKey: pulumi.Input<string>; databaseUrl: pulumi.Input<string> };
  /**
   * LiteLLM gateway credentials, in its namespace: the provider keys, LITELLM_MASTER_KEY,
   * LANGFUSE_PUBLIC_KEY/SECRET_KEY and WORKBENCH_USAGE_DATABASE_URL. No DATABASE_URL: LiteLLM
   * would take it for a database of its own (Prisma). Omit when the gateway is off.
   */
  llm?: {
    /** The gateway's namespace. */
    namespace: pulumi.Input<string>;
    /** Admin key of the gateway (LITELLM_MASTER_KEY). */
    masterKey: pulumi.Input<string>;
    /** Keys of the providers the routing uses; at least one. */
    providerKeys: Partial<Record<ProviderKeyName, pulumi.Input<string>>>;
    /** Langfuse keys for the callback. Default none. */
    langfuse?: { publicKey: pulumi.Input<string>; secretKey: pulumi.Input<string> };
    /**
     * The gateway's database URL (WORKBENCH_USAGE_DATABASE_URL): the usage login, a member of
     * workbench_usage_recorder (caller keys, budgets and usage rows through the llm_gateway
     * functions, its cost_tracker rows; nothing in schema private).
     */
    usageDatabaseUrl: pulumi.Input<string>;
  };
  /**
   * n8n's core Secret in its namespace, in the keys its chart reads through
   * `secretRefs.existingSecret` (N8N_ENCRYPTION_KEY, N8N_HOST, N8N_PORT, N8N_PROTOCOL) plus
   * DB_POSTGRESDB_PASSWORD. Omit when n8n is off.
   */
  n8n?: {
    /** n8n's namespace. */
    namespace: pulumi.Input<string>;
    /** Encrypts n8n's stored credentials: keep it stable and backed up. */
    encryptionKey: pulumi.Input<string>;
    /** Public host name, e.g. `n8n.workbench.example.com`. */
    host: string;
    /** Password of n8n's database login (WorkbenchDatabase.n8nPassword), never the admin's. */
    databasePassword: pulumi.Input<string>;
  };
  /**
   * Integration credentials (ODOO_API_KEY, MATTERMOST_WEBHOOK_URL, LITELLM_API_KEY), put in
   * the workbench namespace and, with `n8n`, in n8n's. Absent values are left out.
   */
  integrations?: {
    /** Odoo API key. Default absent. */
    odooApiKey?: pulumi.Input<string>;
    /** Mattermost incoming-webhook URL for alerts. Default absent. */
    mattermostWebhookUrl?: pulumi.Input<string>;
    /** Key for calling the LiteLLM gateway. Default absent. */
    litellmApiKey?: pulumi.Input<string>;
  };
  /** Image pull Secret (`.dockerconfigjson`) for the private registry, per namespace (label → namespace). */
  registry?: { dockerConfigJson: pulumi.Input<string>; namespaces: Record<string, pulumi.Input<string>> };
}

type SecretData = Record<string, pulumi.Input<string> | undefined>;

/**
 * The workbench's Kubernetes Secrets, built from Pulumi secret config: every value reaches
 * the cluster through `stringData` wrapped as a Pulumi secret, so it is encrypted in the
 * state and never printed. Token `workbench:kubernetes:WorkbenchSecrets`.
 */
export class WorkbenchSecrets extends pulumi.ComponentResource {
  /** Secret with SUPABASE_SERVICE_ROLE_KEY and DATABASE_URL (workbench namespace). */
  public readonly supabaseSecretName: pulumi.Output<string>;
  /** Secret with the integration credentials (same name in each namespace it is put in). */
  public readonly integrationsSecretName: pulumi.Output<string> | undefined;
  /** Secret with the LiteLLM gateway's keys. */
  public readonly llmSecretName: pulumi.Output<string> | undefined;
  /** Secret n8n's chart reads (`secretRefs.existingSecret`). */
  public readonly n8nSecretName: pulumi.Output<string> | undefined;
  /** `kubernetes.io/dockerconfigjson` pull Secret (same name in each namespace). */
  public readonly registrySecretName: pulumi.Output<string> | undefined;

  private readonly provider: k8s.Provider;

  constructor(name: string, args: WorkbenchSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:kubernetes:WorkbenchSecrets", name, {}, opts);
    this.provider = args.provider;

    if (args.llm && Object.keys(args.llm.providerKeys).length === 0) {
      throw new pulumi.ResourceError(
        `${name}: llm.providerKeys is empty: the gateway needs at least one provider key`,
        this,
      );
    }
    if (args.n8n && !/^[a-z0-9.-]+$/.test(args.n8n.host)) {
      throw new pulumi.ResourceError(`${name}: n8n.host '${args.n8n.host}' must be a DNS name`, this);
    }

    this.supabaseSecretName = this.secret(
      `${name}-supabase`,
      args.workbenchNamespace,
      SECRET_NAMES.supabase,
      {
        SUPABASE_SERVICE_ROLE_KEY: args.supabase.serviceRoleKey,
        DATABASE_URL: args.supabase.databaseUrl,
      },
    );

    if (args.llm) {
      this.llmSecretName = this.secret(`${name}-llm`, args.llm.namespace, SECRET_NAMES.llm, {
        ...args.llm.providerKeys,
        LITELLM_MASTER_KEY: args.llm.masterKey,
        LANGFUSE_PUBLIC_KEY: args.llm.langfuse?.publicKey,
        LANGFUSE_SECRET_KEY: args.llm.langfuse?.secretKey,
        WORKBENCH_USAGE_DATABASE_URL: args.llm.usageDatabaseUrl,
      });
    }

    if (args.n8n) {
      this.n8nSecretName = this.secret(`${name}-n8n`, args.n8n.namespace, SECRET_NAMES.n8n, {
        N8N_ENCRYPTION_KEY: args.n8n.encryptionKey,
        N8N_HOST: args.n8n.host,
        N8N_PORT: "5678",
        // n8n listens on plain HTTP inside the cluster; Traefik terminates TLS.
        N8N_PROTOCOL: "http",
        DB_POSTGRESDB_PASSWORD: args.n8n.databasePassword,
      });
    }

    if (args.integrations) {
      const data: SecretData = {
        ODOO_API_KEY: args.integrations.odooApiKey,
        MATTERMOST_WEBHOOK_URL: args.integrations.mattermostWebhookUrl,
        LITELLM_API_KEY: args.integrations.litellmApiKey,
      };
      this.integrationsSecretName = this.secret(
        `${name}-integrations-workbench`,
        args.workbenchNamespace,
        SECRET_NAMES.integrations,
        data,
      );
      if (args.n8n)
        this.secret(`${name}-integrations-n8n`, args.n8n.namespace, SECRET_NAMES.integrations, data);
    }

    if (args.registry) {
      for (const [label, namespace] of Object.entries(args.registry.namespaces)) {
        this.registrySecretName = this.secret(
          `${name}-registry-${label}`,
          namespace,
          SECRET_NAMES.registry,
          { ".dockerconfigjson": args.registry.dockerConfigJson },
          "kubernetes.io/dockerconfigjson",
        );
      }
    }

    this.registerOutputs({
      supabaseSecretName: this.supabaseSecretName,
      integrationsSecretName: this.integrationsSecretName,
      llmSecretName: this.llmSecretName,
      n8nSecretName: this.n8nSecretName,
      registrySecretName: this.registrySecretName,
    });
  }

  private secret(
    resourceName: string,
    namespace: pulumi.Input<string>,
    secretName: string,
    data: SecretData,
    type = "Opaque",
  ): pulumi.Output<string> {
    const present = Object.fromEntries(
      Object.entries(data).filter((entry): entry is [string, pulumi.Input<string>] => entry[1] !== undefined),
    );
    const secret = new k8s.core.v1.Secret(
      resourceName,
      {
        metadata: {
          name: secretName,
          namespace,
          labels: { "app.kubernetes.io/part-of": "ai-workbench", "app.kubernetes.io/managed-by": "pulumi" },
        },
        type,
        stringData: pulumi.secret(present),
      },
      { parent: this, provider: this.provider },
    );
    return secret.metadata.name;
  }
}
