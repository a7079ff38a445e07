import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartRelease } from "./helm-release.ts";
import { MONITORING_DEFAULTS } from "./defaults.ts";
import * as random from "@pulumi/random";
import type { HelmValues } from "./helm-values.ts";
import { appLabels } from "./workload.ts";

export const PROMETHEUS_COMMUNITY_REPO = "https://prometheus-community.github.io/helm-charts";

/** One Prometheus alerting rule. */
export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: "critical" | "warning" };
  annotations: { summary: string; description: string };
}

export interface AlertRuleTargets {
  /** Namespaces whose pods are watched for crash loops. */
  namespaces: readonly string[];
  /** Namespace of the backup and data-job CronJobs (`ai-workbench`). */
  jobsNamespace: string;
  /** CronJob names of the backups that must succeed at least every 26 h (hourly, daily). */
  backupCronJobs: readonly string[];
  /** CronJob names of the dbt stages (ingest, transform, backfill). */
  dbtCronJobs: readonly string[];
  /** CronJob of the daily data-quality run: its Job fails (exit 3) when a table's DQ is below 80 %. */
  dataQualityCronJob: string;
}

/** Hours a backup may go without a success before it pages. */
export const BACKUP_MAX_AGE_HOURS = 26;

const jobsOf = (cronJobs: readonly string[]) => `(${cronJobs.join("|")})-[0-9]+`;

/** The workbench's alert rules (the implementation plan §7.2 and issue 16): pure, so tests read them. */
export function workbenchAlertRules(targets: AlertRuleTargets): AlertRule[] {
  const ns = targets.jobsNamespace;
  const namespaces = targets.namespaces.join("|");
  // A failed Job stays listed until its TTL: only failures that started within a day count.
  const recentFailure = (jobNames: string) =>
    `max by (namespace, job_name) (kube_job_status_failed{namespace="${ns}", job_name=~"${jobNames}"}) > 0 ` +
    `and on (namespace, job_name) (time() - kube_job_status_start_time{namespace="${ns}", job_name=~"${jobNames}"}) < 86400`;
  const backups = targets.backupCronJobs.join("|");
  const maxAge = BACKUP_MAX_AGE_HOURS * 3600;
  return [
    {
      alert: "WorkbenchPodCrashLooping",
      expr: `max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", namespace=~"${namespaces}"}[5m])) >= 1`,
      for: "10m",
      labels: { severity: "critical" },
      annotations: {
        summary: "A pod is crash-looping",
        description:
          "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) has been in CrashLoopBackOff for 10 minutes.",
      },
    },
    {
      alert: "WorkbenchBackupFailed",
      expr: recentFailure(jobsOf(targets.backupCronJobs)),
      for: "0m",
      labels: { severity: "critical" },
      annotations: {
        summary: "A PostgreSQL backup Job failed",
        description:
          "Backup Job {{ $labels.job_name }} failed: kubectl -n " + ns + " logs job/{{ $labels.job_name }}",
      },
    },
    {
      alert: "WorkbenchBackupMissing",
      expr:
        `time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{namespace="${ns}", cronjob=~"${backups}"}) > ${maxAge} ` +
        `or (time() - max by (namespace, cronjob) (kube_cronjob_created{namespace="${ns}", cronjob=~"${backups}"}) > ${maxAge} ` +
        `unless on (namespace, cronjob) kube_cronjob_status_last_successful_time{namespace="${ns}", cronjob=~"${backups}"})`,
      for: "15m",
      labels: { severity: "critical" },
      annotations: {
        summary: `No successful backup for more than ${BACKUP_MAX_AGE_HOURS} h`,
        description: `CronJob {{ $labels.cronjob }} has not completed a backup in ${BACKUP_MAX_AGE_HOURS} hours.`,
      },
    },
    {
      alert: "WorkbenchDbtJobFailed",
      expr: recentFailure(jobsOf(targets.dbtCronJobs)),
      for: "0m",
      labels: { severity: "warning" },
      annotations: {
        summary: "A dbt CronJob failed",
        description:
          "dbt Job {{ $labels.job_name }} failed: kubectl -n " + ns + " logs job/{{ $labels.job_name }}",
      },
    },
    {
      alert: "WorkbenchDataQualityBelowThreshold",
      expr: recentFailure(jobsOf([targets.dataQualityCronJob])),
      for: "0m",
      labels: { severity: "warning" },
      annotations: {
        summary: "Data quality below 80 %",
        description:
          "The data-quality run {{ $labels.job_name }} failed: a table's DQ score is below 80 % (exit 3; alerts are in ip_workbench.alerts) or the run could not complete (see its log).",
      },
    },
  ];
}

/** Scrape job for pods annotated prometheus.io/scrape (Traefik, n8n, LiteLLM, cert-manager). */
export const ANNOTATED_PODS_SCRAPE = {
  job_name: "workbench-annotated-pods",
  kubernetes_sd_configs: [{ role: "pod" }],
  relabel_configs: [
    {
      source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
      action: "keep",
      regex: "true",
    },
    {
      source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_path"],
      action: "replace",
      target_label: "__metrics_path__",
      regex: "(.+)",
    },
    {
      source_labels: ["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
      action: "replace",
      regex: "([^:]+)(?::\\d+)?;(\\d+)",
      replacement: "$1:$2",
      target_label: "__address__",
    },
    { source_labels: ["__meta_kubernetes_namespace"], action: "replace", target_label: "namespace" },
    { source_labels: ["__meta_kubernetes_pod_name"], action: "replace", target_label: "pod" },
    {
      source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
      action: "replace",
      target_label: "app",
    },
  ],
};

export interface MonitoringSizing {
  retentionDays: number;
  prometheusStorageGi: number;
  alertmanagerStorageGi: number;
  storageClass: string;
  grafanaAdminSecret: string;
}

const volume = (gi: number, storageClass: string) => ({
  volumeClaimTemplate: {
    spec: {
      storageClassName: storageClass,
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: `${gi}Gi` } },
    },
  },
});

/**
 * kube-prometheus-stack's values for a 3-6 node DOKS cluster: one Prometheus (2 GiB
 * requested, retention by time and size), one Alertmanager, Grafana, kube-state-metrics,
 * node-exporter; the managed control plane's components are not scraped (DigitalOcean
 * runs them); every ServiceMonitor and PrometheusRule in the cluster is picked up.
 */
export function kubePrometheusStackValues(sizing: MonitoringSizing): HelmValues {
  const retentionSizeGb = Math.floor(sizing.prometheusStorageGi * 0.85);
  return {
    crds: { enabled: true },
    defaultRules: {
      create: true,
      rules: { etcd: false, kubeControllerManager: false, kubeScheduler: false, kubeProxy: false },
    },
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeEtcd: { enabled: false },
    kubeProxy: { enabled: false },
    prometheus: {
      prometheusSpec: {
        replicas: 1,
        retention: `${sizing.retentionDays}d`,
        retentionSize: `${retentionSizeGb}GB`,
        scrapeInterval: "30s",
        resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
        storageSpec: volume(sizing.prometheusStorageGi, sizing.storageClass),
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        additionalScrapeConfigs: [ANNOTATED_PODS_SCRAPE],
      },
    },
    alertmanager: {
      alertmanagerSpec: {
        replicas: 1,
        resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "200m", memory: "256Mi" } },
        storage: volume(sizing.alertmanagerStorageGi, sizing.storageClass),
      },
    },
    grafana: {
      enabled: true,
      replicas: 1,
      // Admin login from a Secret the stack generates (the chart's default password is public).
      admin: {
        existingSecret: sizing.grafanaAdminSecret,
        userKey: "admin-user",
        passwordKey: "admin-password",
      },
      resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    },
    "kube-state-metrics": {
      resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "200m", memory: "256Mi" } },
    },
    "prometheus-node-exporter": {
      resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
    },
    prometheusOperator: {
      resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    },
  };
}

export interface MonitoringArgs {
  /** The cluster's Kubernetes provider (Cluster.provider). */
  provider: k8s.Provider;
  /** Namespace (`monitoring`). */
  namespace: pulumi.Input<string>;
  /** kube-prometheus-stack chart version from config, e.g. `79.2.0`. */
  chartVersion: string;
  /** What the workbench's alert rules watch. */
  alerts: AlertRuleTargets;
  /** Days of samples. Default 15. */
  retentionDays?: number;
  /** Prometheus volume, GiB. Default 20. */
  prometheusStorageGi?: number;
  /** Alertmanager volume, GiB. Default 2. */
  alertmanagerStorageGi?: number;
  /** Storage class. Default `do-block-storage`. */
  storageClass?: string;
}

/**
 * The `monitoring` namespace's Prometheus stack (kube-prometheus-stack): metrics from the
 * annotated pods (Traefik, n8n, LiteLLM, cert-manager) and the cluster, and the workbench's
 * alert rules as a PrometheusRule. Token `workbench:kubernetes:Monitoring`.
 */
export class Monitoring extends pulumi.ComponentResource {
  public readonly values: HelmValues;
  public readonly rules: AlertRule[];

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:kubernetes:Monitoring", name, {}, opts);

    const sizing: MonitoringSizing = {
      retentionDays: args.retentionDays ?? MONITORING_DEFAULTS.retentionDays,
      prometheusStorageGi: args.prometheusStorageGi ?? MONITORING_DEFAULTS.prometheusStorageGi,
      alertmanagerStorageGi: args.alertmanagerStorageGi ?? MONITORING_DEFAULTS.alertmanagerStorageGi,
      storageClass: args.storageClass ?? MONITORING_DEFAULTS.storageClass,
      grafanaAdminSecret: `${name}-grafana-admin`,
    };
    if (!Number.isInteger(sizing.prometheusStorageGi) || sizing.prometheusStorageGi < 5) {
      throw new pulumi.ResourceError(
        `${name}: prometheusStorageGi must be a whole number of at least 5 (got ${sizing.prometheusStorageGi})`,
        this,
      );
    }
    if (args.alerts.backupCronJobs.length === 0 || args.alerts.dbtCronJobs.length === 0) {
      throw new pulumi.ResourceError(`${name}: alerts need the backup and dbt CronJob names`, this);
    }
    const child = { parent: this, provider: args.provider };

    const password = new random.RandomPassword(
      `${name}-grafana-admin`,
      { length: 32, special: false },
      { parent: this, additionalSecretOutputs: ["result"] },
    );
    const adminSecret = new k8s.core.v1.Secret(
      `${name}-grafana-admin`,
      {
        metadata: {
          name: sizing.grafanaAdminSecret,
          namespace: args.namespace,
          labels: appLabels("grafana", "credentials"),
        },
        type: "Opaque",
        stringData: pulumi.secret({ "admin-user": "admin", "admin-password": password.result }),
      },
      child,
    );

    this.values = kubePrometheusStackValues(sizing);
    const release = chartRelease(
      name,
      {
        chart: "kube-prometheus-stack",
        version: args.chartVersion,
        repo: PROMETHEUS_COMMUNITY_REPO,
        namespace: args.namespace,
        values: this.values,
        timeoutSeconds: 900,
      },
      { ...child, dependsOn: [adminSecret] },
    );

    this.rules = workbenchAlertRules(args.alerts);
    new k8s.apiextensions.CustomResource(
      `${name}-workbench-rules`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "workbench", namespace: args.namespace, labels: appLabels("workbench", "alerts") },
        spec: { groups: [{ name: "workbench", rules: this.rules }] },
      },
      { ...child, dependsOn: [release] },
    );
    this.registerOutputs({});
  }
}
