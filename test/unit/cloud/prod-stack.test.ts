/**
 * The prod stack composed from the committed Pulumi.prod.yaml (placeholder secrets) under
 * mocks: what it registers, through which providers, what stays secret, and that it passes
 * the policy pack and the charts' schemas.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  installMocks,
  isSecretInput,
  isSecretOutput,
  promiseOf,
  providerUrn,
  type RecordedResource,
} from "../../helpers/pulumi-mocks.ts";
import { chartSchemaErrors, N8N_SCHEMA, TRAEFIK_SCHEMA } from "./chart-schemas.ts";
import { runPolicy } from "./policy-args.ts";
import { cloudDataSources, prodConfig } from "./prod-config.ts";

const mocks = await installMocks({ stack: "prod", calls: cloudDataSources });
const { cloudPlatform } = await import("../../../stacks/cloud/index.ts");
const { violations } = await import("../../../components/policy/validations.ts");
const { RULES } = await import("../../../components/policy/rules/index.ts");
const { StackConfigError } = await import("../../../stacks/config/parse.ts");

/** The database layer is composed as-is from components/database; its internals are that layer's to test. */
const isDatabaseLayer = (type: string) =>
  type.startsWith("workbench:database:") || type.startsWith("pulumi-nodejs:dynamic/workbench:database:");

/** The prod stack's inventory (type → count), database-layer internals aside. */
const PROD_INVENTORY: Record<string, number> = {
  "digitalocean:index/app:App": 2,
  "digitalocean:index/containerRegistry:ContainerRegistry": 1,
  "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials": 1,
  "digitalocean:index/firewall:Firewall": 1,
  "digitalocean:index/kubernetesCluster:KubernetesCluster": 1,
  "digitalocean:index/spacesBucket:SpacesBucket": 1,
  "digitalocean:index/spacesKey:SpacesKey": 1,
  "digitalocean:index/tag:Tag": 1,
  "digitalocean:index/vpc:Vpc": 1,
  "kubernetes:apps/v1:Deployment": 7,
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 4,
  "kubernetes:batch/v1:CronJob": 7,
  "kubernetes:cert-manager.io/v1:Certificate": 1,
  "kubernetes:cert-manager.io/v1:ClusterIssuer": 1,
  "kubernetes:core/v1:ConfigMap": 1,
  "kubernetes:core/v1:Namespace": 9,
  "kubernetes:core/v1:PersistentVolumeClaim": 1,
  "kubernetes:core/v1:Secret": 12,
  "kubernetes:core/v1:Service": 7,
  "kubernetes:helm.sh/v3:Release": 5,
  "kubernetes:monitoring.coreos.com/v1:PrometheusRule": 1,
  "kubernetes:traefik.io/v1alpha1:Middleware": 1,
  // two before, and n8n's two webhook Ingresses (the body-limited one and the streams one)
  "kubernetes:networking.k8s.io/v1:Ingress": 4,
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": 60,
  "kubernetes:policy/v1:PodDisruptionBudget": 5,
  "pulumi:providers:digitalocean": 1,
  "pulumi:providers:kubernetes": 1,
  // one n8n webhook token per token webhook (4), one LLM caller key per service (5), Grafana's
  // admin password, and the other generated passwords (3)
  "random:index/randomPassword:RandomPassword": 13,
  "workbench:cloud:AppPlatformService": 2,
  "workbench:cloud:Cluster": 1,
  "workbench:cloud:Network": 1,
  "workbench:cloud:Registry": 1,
  "workbench:cloud:SpacesBucket": 1,
  "workbench:kubernetes:CertManager": 1,
  "workbench:kubernetes:DbtSchedules": 1,
  "workbench:kubernetes:LiteLlm": 1,
  "workbench:kubernetes:MetricsServer": 1,
  "workbench:kubernetes:Monitoring": 1,
  "workbench:kubernetes:N8n": 1,
  "workbench:kubernetes:Namespaces": 1,
  "workbench:kubernetes:NetworkPolicies": 1,
  "workbench:kubernetes:PostgresBackups": 1,
  "workbench:kubernetes:Redis": 2,
  "workbench:kubernetes:Traefik": 1,
  "workbench:kubernetes:WorkbenchServices": 1,
  // The data stack: four dbt stages and the catalog seed, run by the deployment.
  "workbench:data:DataStack": 1,
  "pulumi-nodejs:dynamic/workbench:data:DbtStage": 4,
  "pulumi-nodejs:dynamic/workbench:data:CatalogSeed": 1,
};

describe("the prod stack from Pulumi.prod.yaml", () => {
  let outputs: ReturnType<typeof cloudPlatform>;
  let custom: RecordedResource[];

  beforeAll(async () => {
    outputs = cloudPlatform(prodConfig({ overrides: { "workbench:deployWorkloads": true } }));
    await mocks.settle();
    custom = mocks.resources.filter((resource) => resource.custom);
  });

  it("registers the expected inventory", () => {
    const inventory = Object.fromEntries(
      Object.entries(mocks.inventory()).filter(([type]) => !isDatabaseLayer(type)),
    );
    expect(inventory).toEqual(PROD_INVENTORY);
    // The dbt stages chain bronze → platinum on Supabase, as the dbt login, with the prod target.
    const stages = ["bronze", "silver", "gold", "platinum"].map((layer) =>
      mocks.one("pulumi-nodejs:dynamic/workbench:data:DbtStage", `medallion-${layer}`),
    );
    expect(stages.map((stage) => [stage.inputs["layer"], stage.inputs["target"]])).toEqual([
      ["bronze", "prod"],
      ["silver", "prod"],
      ["gold", "prod"],
      ["platinum", "prod"],
    ]);
    expect(
      mocks.one("pulumi-nodejs:dynamic/workbench:data:CatalogSeed", "catalog").inputs["artifactDirs"],
    ).toEqual(["bronze", "silver", "gold", "platinum"].map((layer) => `dbt/target/prod/${layer}`));
    // The database layer is there, with the schema for n8n's tables (LiteLLM keeps none).
    expect(mocks.one("workbench:database:WorkbenchDatabase", "workbench")).toBeDefined();
    expect(
      mocks.one("pulumi-nodejs:dynamic/workbench:database:SqlStatements", "workbench-prod-app-schemas")
        .inputs["apply"],
    ).toEqual(["create schema if not exists n8n"]);
  });

  it("creates every DigitalOcean resource through the one explicit DigitalOcean provider", () => {
    const provider = mocks.one("pulumi:providers:digitalocean");
    expect(provider.name).toBe("workbench-prod-digitalocean");
    const onDigitalOcean = custom.filter((resource) => resource.type.startsWith("digitalocean:"));
    expect(onDigitalOcean).toHaveLength(10);
    for (const resource of onDigitalOcean)
      expect(providerUrn(resource.provider), resource.name).toBe(provider.urn);
  });

  it("creates every Kubernetes and Helm resource through the cluster's provider", () => {
    const provider = mocks.one("pulumi:providers:kubernetes");
    expect(provider.name).toBe("workbench-prod-k8s");
    expect(provider.parent).toBe(mocks.one("workbench:cloud:Cluster").urn);
    const onKubernetes = custom.filter((resource) => resource.type.startsWith("kubernetes:"));
    expect(onKubernetes).toHaveLength(126);
    for (const resource of onKubernetes)
      expect(providerUrn(resource.provider), resource.name).toBe(provider.urn);
  });

  it("parents every cloud and Kubernetes resource to a workbench component", () => {
    for (const resource of custom.filter(
      (r) => r.type.startsWith("digitalocean:") || r.type.startsWith("kubernetes:"),
    )) {
      expect(mocks.byUrn(resource.parent)?.type ?? "", resource.name).toMatch(
        /^workbench:(cloud|kubernetes):/,
      );
    }
  });

  it("puts the cluster in the VPC and the firewall on its nodes", () => {
    const doks = mocks.one("digitalocean:index/kubernetesCluster:KubernetesCluster");
    expect(doks.inputs["vpcUuid"]).toBe("workbench-prod-vpc-id");
    expect(doks.inputs["nodePool"]["tags"]).toEqual(["workbench-prod-nodes"]);
    // The newest patch DigitalOcean offers under workbench:cluster.versionPrefix (1.33.).
    expect(doks.inputs["version"]).toBe("1.33.6-do.1");
    expect(mocks.one("digitalocean:index/firewall:Firewall").inputs["tags"]).toEqual([
      "workbench-prod-nodes",
    ]);
    expect(mocks.one("digitalocean:index/vpc:Vpc").inputs).toMatchObject({
      region: "sgp1",
      ipRange: "10.10.0.0/16",
    });
  });

  it("keeps the kubeconfig, the gateway key and the database URL secret", async () => {
    expect(await isSecretOutput(outputs.kubeconfig)).toBe(true);
    // The provider authenticates through doctl on every run: DigitalOcean's 7-day token is never stored.
    const kubeconfig = mocks.one("pulumi:providers:kubernetes").inputs["kubeconfig"] as string;
    expect(kubeconfig).not.toContain("mock-token");
    expect(JSON.parse(kubeconfig).users[0].user.exec.command).toBe("doctl");
    expect(await promiseOf(outputs.kubeconfig)).toBe(kubeconfig);
    expect(await isSecretOutput(outputs.databaseUrl)).toBe(true);
    expect(await isSecretOutput(outputs.litellmMasterKey as pulumi.Output<string>)).toBe(true);
    expect(await promiseOf(outputs.litellmMasterKey as pulumi.Output<string>)).toMatch(/^sk-/);
  });

  it("wires config into the workloads", () => {
    const n8n = mocks.one("kubernetes:helm.sh/v3:Release", "n8n").inputs;
    expect(n8n["version"]).toBe("1.11.0");
    // Supabase's pooler (IPv4) with its user format, on the session port, as the n8n login.
    expect(n8n["values"]["database"]).toMatchObject({
      host: "aws-0-ap-southeast-1.pooler.supabase.com",
      port: 5432,
      schema: "n8n",
      user: "wb_prod_n8n.abcdefghijklmnopqrst",
    });
    expect(n8n["values"]["ingress"]["hosts"][0]["host"]).toBe("n8n.workbench.example.com");
    const traefik = mocks.one("kubernetes:helm.sh/v3:Release", "traefik").inputs;
    const issuer = mocks.one("kubernetes:cert-manager.io/v1:ClusterIssuer").inputs;
    expect(issuer["spec"]["acme"]).toMatchObject({
      email: "ops@example.com",
      server: "https://acme-v02.api.letsencrypt.org/directory",
    });
    expect(mocks.one("kubernetes:cert-manager.io/v1:Certificate").inputs["spec"]["dnsNames"]).toEqual([
      "workbench.example.com",
      "api.workbench.example.com",
      "n8n.workbench.example.com",
      "litellm.workbench.example.com",
    ]);
    expect(
      traefik["values"]["service"]["annotations"]["service.beta.kubernetes.io/do-loadbalancer-name"],
    ).toBe("workbench-prod-lb");
    const config = mocks.one("kubernetes:core/v1:ConfigMap").inputs["data"]["config.yaml"] as string;
    expect(config).toContain("model: anthropic/claude-sonnet-4-5-20250929");
    expect(config).toContain("ttl: 3600");
    const api = mocks.one("kubernetes:apps/v1:Deployment", "workbench-api").inputs["spec"]["template"][
      "spec"
    ]["containers"][0];
    expect(api["image"]).toBe("registry.digitalocean.com/ai-workbench/workbench-api:0.1.0");
    expect(api["env"]).toContainEqual({
      name: "LITELLM_BASE_URL",
      value: "http://litellm.litellm.svc.cluster.local:4000",
    });
    // Each service calls the gateway with its own caller key, registered by hash only.
    expect(api["env"]).toContainEqual({
      name: "LITELLM_API_KEY",
      valueFrom: { secretKeyRef: { name: "llm-caller-keys", key: "api" } },
    });
    const callerKeys = mocks.one("kubernetes:core/v1:Secret", "litellm-caller-keys");
    expect(isSecretInput(callerKeys.rawInputs["stringData"])).toBe(true);
    const registered = mocks.one(
      "pulumi-nodejs:dynamic/workbench:database:SqlStatements",
      "workbench-prod-llm-callers",
    );
    const statements = registered.inputs["apply"] as string[];
    expect(statements.map((sql) => sql.replace(/'[0-9a-f]{64}'/, "'<sha256>'"))).toEqual([
      "select private.llm_register_key('api', 'service', '<sha256>')",
      "select private.llm_register_key('agent-runtime', 'agent', '<sha256>')",
      "select private.llm_register_key('n8n', 'service', '<sha256>')",
      "select private.llm_register_key('ocr-backend', 'service', '<sha256>')",
      "select private.llm_register_key('guardian', 'service', '<sha256>')",
    ]);
    for (const key of Object.values(callerKeys.inputs["stringData"] as Record<string, string>))
      expect(statements.join("\n")).not.toContain(key);
    const dbt = mocks.one("kubernetes:batch/v1:CronJob", "dbt-ingest").inputs;
    expect(dbt["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]).toContainEqual({
      name: "DBT_PORT",
      value: "6543",
    });
    const apps = mocks
      .ofType("digitalocean:index/app:App")
      .map((app) => app.inputs["spec"]["name"])
      .sort();
    expect(apps).toEqual(["workbench-prod-expense-api", "workbench-prod-ocr-backend"]);
  });

  it("has Prometheus scrape Traefik, n8n and LiteLLM (annotated pods), and alert on the workbench's jobs", () => {
    const scraped = (value: unknown) => JSON.stringify(value).includes('"prometheus.io/scrape":"true"');
    expect(scraped(mocks.one("kubernetes:helm.sh/v3:Release", "traefik").inputs["values"])).toBe(true);
    expect(scraped(mocks.one("kubernetes:helm.sh/v3:Release", "n8n").inputs["values"])).toBe(true);
    const gateway = mocks
      .ofType("kubernetes:apps/v1:Deployment")
      .find(
        (deployment) =>
          deployment.inputs["metadata"]["namespace"] === "litellm" && deployment.name === "litellm",
      );
    expect(scraped(gateway?.inputs["spec"]["template"]["metadata"])).toBe(true);
    const monitoring = mocks.one("kubernetes:helm.sh/v3:Release", "monitoring").inputs["values"];
    expect(monitoring.prometheus.prometheusSpec.additionalScrapeConfigs[0].job_name).toBe(
      "workbench-annotated-pods",
    );
    // The alert rules name the CronJobs this stack creates.
    const cronJobs = mocks.ofType("kubernetes:batch/v1:CronJob").map((job) => job.inputs["metadata"]["name"]);
    const rules = JSON.stringify(mocks.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs);
    for (const name of [
      "postgres-backup-hourly",
      "postgres-backup-daily",
      "dbt-ingest",
      "dbt-transform",
      "dbt-data-quality",
    ]) {
      expect(cronJobs, name).toContain(name);
      expect(rules, name).toContain(name);
    }
    // cert-manager's HTTP-01 self-check reaches the load balancer on 80.
    const certManagerEgress = mocks.one(
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "network-policies-cert-manager-allow-internet-egress",
    ).inputs["spec"]["egress"][0]["ports"];
    expect(certManagerEgress.map((port: { port: number }) => port.port)).toEqual([443, 5432, 6543, 80]);
  });

  it("passes every rule of the policy pack", () => {
    const found = custom.flatMap((resource) =>
      violations({
        type: resource.type,
        name: resource.name,
        props: resource.inputs,
        opts: { additionalSecretOutputs: resource.additionalSecretOutputs },
      }),
    );
    expect(found).toEqual([]);
    // The rules kept one per file (components/policy/rules), with the resources' protect flags.
    const ruleViolations = custom.flatMap((resource) =>
      RULES.flatMap((rule) =>
        runPolicy(rule, {
          type: resource.type,
          name: resource.name,
          props: resource.inputs,
          protect: resource.protect,
        }).map((message) => `${rule.name}: ${message}`),
      ),
    );
    expect(ruleViolations).toEqual([]);
    // Credential outputs are declared secret on their resources (what the rule checks).
    expect(
      mocks.one("digitalocean:index/kubernetesCluster:KubernetesCluster").additionalSecretOutputs,
    ).toContain("kubeConfigs");
    expect(mocks.one("digitalocean:index/spacesKey:SpacesKey").additionalSecretOutputs).toContain(
      "secretKey",
    );
  });

  it("passes Helm values that validate against the charts' schemas", () => {
    expect(
      chartSchemaErrors(
        TRAEFIK_SCHEMA,
        mocks.one("kubernetes:helm.sh/v3:Release", "traefik").inputs["values"],
      ),
    ).toEqual([]);
    expect(
      chartSchemaErrors(N8N_SCHEMA, mocks.one("kubernetes:helm.sh/v3:Release", "n8n").inputs["values"]),
    ).toEqual([]);
  });

  it("refuses to deploy without the secrets its features need, before creating anything", () => {
    const before = mocks.resources.length;
    let thrown: unknown;
    try {
      cloudPlatform(prodConfig({ without: ["supabaseServiceRoleKey", "geminiApiKey", "n8nEncryptionKey"] }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StackConfigError);
    expect((thrown as Error).message).toBe(
      "invalid stack configuration (nothing was changed):\n" +
        "  - workbench:supabaseServiceRoleKey: is required for the cloud stack: pulumi config set --secret workbench:supabaseServiceRoleKey <value> (got nothing)\n" +
        "  - workbench:geminiApiKey: is required by features.litellm (model gemini/gemini-2.5-flash): pulumi config set --secret workbench:geminiApiKey <value> (got nothing)\n" +
        "  - workbench:n8nEncryptionKey: is required by features.n8n: pulumi config set --secret workbench:n8nEncryptionKey <value> (got nothing)",
    );
    expect(mocks.resources.length).toBe(before);
  });
});
