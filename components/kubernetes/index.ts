export {
  Namespaces,
  type NamespacesArgs,
  WORKBENCH_NAMESPACES,
  type WorkbenchNamespace,
} from "./namespaces.ts";
export {
  configSecret,
  formerHubSecret,
  SECRET_NAMES,
  type SecretData,
  type SecretOrigin,
} from "./owned-secret.ts";
export { Redis, type RedisArgs } from "./redis.ts";
export {
  Traefik,
  type TraefikArgs,
  type TraefikSettings,
  traefikValues,
  TRAEFIK_CHART_REPO,
} from "./traefik.ts";
export {
  CertManager,
  type CertManagerArgs,
  certManagerValues,
  ACME_SERVERS,
  DEFAULT_TLS_SECRET,
} from "./cert-manager.ts";
export { MetricsServer, type MetricsServerArgs, metricsServerValues } from "./metrics-server.ts";
export {
  Monitoring,
  type MonitoringArgs,
  type AlertRule,
  workbenchAlertRules,
  kubePrometheusStackValues,
  ANNOTATED_PODS_SCRAPE,
} from "./monitoring.ts";
export {
  NetworkPolicies,
  type NetworkPoliciesArgs,
  type PolicyPlan,
  networkPolicyPlan,
  EGRESS_PORTS,
} from "./network-policies.ts";
export { N8n, type N8nArgs, type N8nCore, type N8nSettings, n8nValues, N8N_CHART } from "./n8n.ts";
export {
  n8nEdge,
  traefikFileConfig,
  type N8nEdge,
  type N8nEdgeRoute,
  N8N_EDGE_ROUTES,
  N8N_WORKFLOW_BODY_LIMIT_BYTES,
  N8N_PAYLOAD_SIZE_MAX_BYTES,
} from "./n8n-edge.ts";
export {
  gatewayConfig,
  renderGatewayConfig,
  providersOf,
  modelNameOf,
  type GatewaySettings,
  type GatewayEndpoints,
  DEFAULT_ALIAS,
  BUDGET_ALIAS,
  PROVIDER_KEY_ENV,
} from "./litellm-config.ts";
export {
  LiteLlm,
  type LiteLlmArgs,
  type LiteLlmKeys,
  type ProviderKeyName,
  LITELLM_PORT,
  LITELLM_PUBLIC_PATHS,
} from "./litellm.ts";
export {
  WorkbenchServices,
  type WorkbenchServicesArgs,
  type WorkbenchServiceSpec,
} from "./workbench-services.ts";
export {
  DbtSchedules,
  type SchedulesArgs,
  type DbtSchedule,
  DBT_SCHEDULES,
  DATA_QUALITY_SCRIPT,
  DQ_BELOW_THRESHOLD_EXIT,
} from "./schedules.ts";
export {
  PostgresBackups,
  type PostgresBackupsArgs,
  type BackupTier,
  BACKUP_TIERS,
  backupLifecycleRules,
} from "./backups.ts";
export { mergeValues, readValuesFile, baseValuesPath, type HelmValues } from "./helm-values.ts";
export { LETSENCRYPT_RESOLVER, TRAEFIK_INGRESS_CLASS, type ResourceBudget } from "./workload.ts";
