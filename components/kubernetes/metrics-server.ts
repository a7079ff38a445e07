import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartRelease } from "./helm-release.ts";
import { spreadOverNodes } from "./cert-manager.ts";
import type { HelmValues } from "./helm-values.ts";

export const METRICS_SERVER_CHART_REPO = "https://kubernetes-sigs.github.io/metrics-server/";

/** metrics-server's chart values: highly available (2 replicas, PDB, spread), sized for 3-20 nodes. */
export function metricsServerValues(replicas: number): HelmValues {
  return {
    replicas,
    podDisruptionBudget: { enabled: true, minAvailable: 1 },
    topologySpreadConstraints: spreadOverNodes({
      "app.kubernetes.io/name": "metrics-server",
      "app.kubernetes.io/instance": "metrics-server",
    }),
    // The HPAs' window: resource metrics every 15 s (the chart's default --metric-resolution).
    defaultArgs: [
      "--cert-dir=/tmp",
      "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
      "--kubelet-use-node-status-port",
      "--metric-resolution=15s",
    ],
    resources: {
      requests: { cpu: "100m", memory: "200Mi" },
      limits: { cpu: "500m", memory: "400Mi" },
    },
    metrics: { enabled: true },
    serviceMonitor: { enabled: false },
  };
}

export interface MetricsServerArgs {
  /** The cluster's Kubernetes provider (Cluster.provider). */
  provider: k8s.Provider;
  /** Chart version from config, e.g. `3.13.0`. */
  chartVersion: string;
  /** Namespace. Default `kube-system` (where the aggregated metrics API conventionally lives). */
  namespace?: pulumi.Input<string>;
  /** Replicas. Default 2. */
  replicas?: number;
}

/**
 * metrics-server from the official chart: the `metrics.k8s.io` API the HorizontalPodAutoscalers
 * (Traefik, n8n workers, LiteLLM, the workbench services) read CPU and memory from.
 * Token `workbench:kubernetes:MetricsServer`.
 */
export class MetricsServer extends pulumi.ComponentResource {
  public readonly values: HelmValues;
  public readonly releaseName: pulumi.Output<string>;

  constructor(name: string, args: MetricsServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:kubernetes:MetricsServer", name, {}, opts);

    const replicas = args.replicas ?? 2;
    if (!Number.isInteger(replicas) || replicas < 1) {
      throw new pulumi.ResourceError(
        `${name}: replicas must be a whole number of at least 1 (got ${replicas})`,
        this,
      );
    }
    this.values = metricsServerValues(replicas);
    const release = chartRelease(
      name,
      {
        chart: "metrics-server",
        version: args.chartVersion,
        repo: METRICS_SERVER_CHART_REPO,
        namespace: args.namespace ?? "kube-system",
        values: this.values,
        timeoutSeconds: 600,
      },
      { parent: this, provider: args.provider },
    );
    this.releaseName = release.status.name;
    this.registerOutputs({ releaseName: this.releaseName });
  }
}
