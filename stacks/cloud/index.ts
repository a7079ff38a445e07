/**
 * The `cloud` profile (the prod stack): DigitalOcean (VPC, firewall, DOKS, registry,
 * Spaces, App Platform) and the Kubernetes workloads on the cluster, with the database
 * layer on Supabase. Everything comes from the validated stack config.
 */
import type { CostInput } from "../../components/cloud/index.ts";
import { assertCloudDeployable, type DeployableCloudConfig as Config } from "../config/deployable.ts";
import type { CloudStackConfig } from "../config/schema.ts";
import { backups, dataJobs } from "./data.ts";
import { supabase } from "./database.ts";
import { digitalOcean } from "./foundation.ts";
import {
  APP_PLATFORM_APPS,
  appPlatformApps,
  clusterBase,
  clusterServices,
  gateway,
  N8N_REDIS_VOLUME_GIB,
  n8nService,
  workbenchServices,
} from "./workloads.ts";

export { APP_PLATFORM_APPS, LLM_CALLERS, N8N_REDIS_VOLUME_GIB } from "./workloads.ts";
export { APP_SCHEMAS } from "./database.ts";
export { BACKUP_JOB_PREFIX } from "./data.ts";

/** What `npm run cost` prices: derived from the config exactly as {@link cloudPlatform} deploys it. */
export function costInputFromConfig(config: CloudStackConfig): CostInput {
  return {
    cluster: {
      nodeSize: config.cluster.nodeSize,
      nodeCount: config.cluster.nodeCount,
      maxNodes: config.cluster.maxNodes,
    },
    // The full platform (deployWorkloads true), which is what runs after the first deploy.
    apps: config.features.appPlatform
      ? APP_PLATFORM_APPS.map((name) => ({
          name,
          instanceSize: config.appPlatform.instanceSize,
          instanceCount: config.appPlatform.instanceCount,
        }))
      : [],
    registryTier: config.registryTier,
    spacesBuckets: 1,
    loadBalancers: 1,
    // Prometheus and Alertmanager (monitoring), n8n's queue Redis. Traefik keeps no volume.
    volumes: [
      { name: "prometheus", gib: config.monitoring.prometheusStorageGi },
      { name: "alertmanager", gib: config.monitoring.alertmanagerStorageGi },
      ...(config.features.n8n ? [{ name: "n8n-redis", gib: N8N_REDIS_VOLUME_GIB }] : []),
    ],
    supabase: true,
    llmApi: config.features.litellm,
  };
}

/**
 * The cloud platform, section by section (each function above is one section and
 * registers its resources in the order the single function did).
 */
export function cloudPlatform(stackConfig: CloudStackConfig) {
  assertCloudDeployable(stackConfig);
  const config: Config = stackConfig;
  const env = config.environment;
  const base = `workbench-${env}`;
  const foundation = digitalOcean(config, base);
  const { network, registry, cluster, bucket } = foundation;
  const db = supabase(config, base);
  const { database, databaseUrl } = db;
  const k8s = clusterBase(config, base, foundation);
  const { masterKey } = k8s;
  const { traefik } = clusterServices(config, base, k8s);
  const llmGateway = gateway(config, base, k8s, db);
  const { litellm } = llmGateway;
  const { n8n, n8nWebhookTokens } = n8nService(config, base, k8s, db, traefik);
  const services = workbenchServices(config, base, foundation, db, k8s, llmGateway);
  dataJobs(config, k8s, db, n8nWebhookTokens, services);
  backups(config, k8s, db, foundation);
  const apps = appPlatformApps(config, base, foundation, db, k8s, llmGateway);
  const workloads = config.deployWorkloads;

  return {
    environment: env,
    region: config.region,
    vpcId: network.vpcId,
    clusterId: cluster.clusterId,
    clusterVersion: cluster.version,
    workloadsDeployed: workloads,
    kubeconfig: cluster.kubeconfig,
    registryEndpoint: registry.endpoint,
    bucketName: bucket.bucketName,
    appliedMigrations: database.appliedVersions,
    urls: {
      ...(services ? { services: services.publicUrls } : {}),
      ...(n8n ? { n8n: n8n.url } : {}),
      ...(litellm ? { litellm: litellm.url } : {}),
      ...apps,
    },
    ...(masterKey ? { litellmMasterKey: masterKey } : {}),
    ...(n8nWebhookTokens ? { n8nWebhookTokens } : {}),
    databaseUrl,
  };
}
