import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartRelease } from "./helm-release.ts";
import { baseValuesPath, type HelmValues, mergeValues, readValuesFile } from "./helm-values.ts";
import { DEFAULT_TLS_SECRET } from "./cert-manager.ts";
import type { ResourceBudget } from "./workload.ts";

export const TRAEFIK_CHART_REPO = "https://traefik.github.io/charts";

/** The typed overrides merged over helm-values/traefik.yaml. */
export interface TraefikSettings {
  /** Helm release name; also the pods' instance label. */
  releaseName: string;
  /** Secret (in Traefik's namespace) with the certificate served for every host (cert-manager's). */
  defaultCertificateSecret: string;
  /** Autoscaling lower bound. */
  minReplicas: number;
  /** Autoscaling upper bound. */
  maxReplicas: number;
  /** Name of the DigitalOcean load balancer. */
  loadBalancerName: string;
  /** Load balancer size units (1 unit: 10k connections). */
  loadBalancerSizeUnit: number;
  /** Public host name the load balancer answers for (needed with PROXY protocol for in-cluster hairpin traffic). */
  hostname: string;
  /** Networks whose PROXY protocol and X-Forwarded-* headers are trusted: the VPC (the load balancer lives there). */
  trustedIps: string[];
  /** Requests and limits of the Traefik container. */
  resources: ResourceBudget;
}

/** Traefik's chart values: the base file merged with the typed settings (pure; tests validate it against the chart schema). */
export function traefikValues(base: HelmValues, settings: TraefikSettings): HelmValues {
  const proxied = {
    forwardedHeaders: { trustedIPs: settings.trustedIps },
    proxyProtocol: { trustedIPs: settings.trustedIps },
  };
  const podLabels = {
    "app.kubernetes.io/name": "traefik",
    "app.kubernetes.io/instance": settings.releaseName,
  };
  return mergeValues(base, {
    instanceLabelOverride: settings.releaseName,
    ports: {
      // Port 80 only redirects to HTTPS.
      web: {
        http: { redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } } },
        ...proxied,
      },
      websecure: { http: { tls: { enabled: true } }, ...proxied },
    },
    // Certificates are cert-manager's, in a Secret: every replica serves the same one and
    // keeps no state, so replicas spread over nodes and a node loss costs nothing.
    tlsStore: { default: { defaultCertificate: { secretName: settings.defaultCertificateSecret } } },
    autoscaling: {
      enabled: true,
      minReplicas: settings.minReplicas,
      maxReplicas: settings.maxReplicas,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
        },
      ],
    },
    persistence: { enabled: false },
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              labelSelector: { matchLabels: podLabels },
              topologyKey: "kubernetes.io/hostname",
            },
          },
        ],
      },
    },
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: podLabels },
      },
    ],
    service: {
      annotations: {
        "service.beta.kubernetes.io/do-loadbalancer-name": settings.loadBalancerName,
        "service.beta.kubernetes.io/do-loadbalancer-size-unit": String(settings.loadBalancerSizeUnit),
        "service.beta.kubernetes.io/do-loadbalancer-protocol": "tcp",
        "service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol": "true",
        "service.beta.kubernetes.io/do-loadbalancer-hostname": settings.hostname,
        "service.beta.kubernetes.io/do-loadbalancer-healthcheck-protocol": "tcp",
      },
    },
    resources: settings.resources,
  });
}

export interface TraefikArgs {
  /** The cluster's Kubernetes provider (Cluster.provider). */
  provider: k8s.Provider;
  /** Namespace to install into (`traefik`). */
  namespace: pulumi.Input<string>;
  /** Chart version from config, e.g. `41.3.0`. */
  chartVersion: string;
  /** Chart repository. Default the official `https://traefik.github.io/charts`. */
  chartRepository?: string;
  /** Base values file. Default `helm-values/traefik.yaml`. */
  baseValuesFile?: string;
  /** Public domain the load balancer serves, e.g. `workbench.example.com`. */
  hostname: string;
  /** Networks trusted for PROXY protocol and forwarded headers: the VPC CIDR. */
  trustedIps: string[];
  /** Secret with the certificate served for every host (CertManager.secretName). Default `workbench-tls`. */
  defaultCertificateSecret?: string;
  /** Autoscaling lower bound, at least 1. Default 2. */
  minReplicas?: number;
  /** Autoscaling upper bound, at most 20. Default 5. */
  maxReplicas?: number;
  /** DigitalOcean load balancer name. Default `<name>-lb`. */
  loadBalancerName?: string;
  /** Load balancer size units (1-100). Default 1. */
  loadBalancerSizeUnit?: number;
  /** Requests and limits of the Traefik container. Default 100m/128Mi requests, 1 CPU/512Mi limits. */
  resources?: ResourceBudget;
}

/**
 * Traefik as the cluster's ingress controller, from the official chart: stateless
 * replicas spread over nodes serving cert-manager's certificate from the default TLS
 * store, HTTP → HTTPS redirect, Prometheus metrics, autoscaling, behind a DigitalOcean
 * load balancer. Token `workbench:kubernetes:Traefik`.
 */
export class Traefik extends pulumi.ComponentResource {
  public readonly releaseName: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;
  /** The values the release was installed with (for inspection). */
  public readonly values: HelmValues;

  constructor(name: string, args: TraefikArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:kubernetes:Traefik", name, {}, opts);

    const minReplicas = args.minReplicas ?? 2;
    const maxReplicas = args.maxReplicas ?? 5;
    const sizeUnit = args.loadBalancerSizeUnit ?? 1;
    if (!Number.isInteger(minReplicas) || minReplicas < 1) {
      throw new pulumi.ResourceError(
        `${name}: minReplicas must be a whole number of at least 1 (got ${minReplicas})`,
        this,
      );
    }
    if (maxReplicas < minReplicas) {
      throw new pulumi.ResourceError(
        `${name}: maxReplicas (${maxReplicas}) must not be below minReplicas (${minReplicas})`,
        this,
      );
    }
    if (maxReplicas > 20) {
      throw new pulumi.ResourceError(`${name}: maxReplicas (${maxReplicas}) must be at most 20`, this);
    }
    if (!Number.isInteger(sizeUnit) || sizeUnit < 1 || sizeUnit > 100) {
      throw new pulumi.ResourceError(`${name}: loadBalancerSizeUnit must be 1-100 (got ${sizeUnit})`, this);
    }
    if (args.trustedIps.length === 0) {
      throw new pulumi.ResourceError(
        `${name}: trustedIps is empty: pass the VPC CIDR the load balancer connects from`,
        this,
      );
    }

    this.values = traefikValues(readValuesFile(args.baseValuesFile ?? baseValuesPath("traefik")), {
      releaseName: name,
      defaultCertificateSecret: args.defaultCertificateSecret ?? DEFAULT_TLS_SECRET,
      minReplicas,
      maxReplicas,
      loadBalancerName: args.loadBalancerName ?? `${name}-lb`,
      loadBalancerSizeUnit: sizeUnit,
      hostname: args.hostname,
      trustedIps: args.trustedIps,
      resources: args.resources ?? {
        requests: { cpu: "100m", memory: "128Mi" },
        limits: { cpu: "1", memory: "512Mi" },
      },
    });

    const release = chartRelease(
      name,
      {
        chart: "traefik",
        version: args.chartVersion,
        repo: args.chartRepository ?? TRAEFIK_CHART_REPO,
        namespace: args.namespace,
        values: this.values,
        timeoutSeconds: 900,
      },
      { parent: this, provider: args.provider },
    );

    this.releaseName = release.status.name;
    this.namespace = release.status.namespace;
    this.registerOutputs({ releaseName: this.releaseName, namespace: this.namespace });
  }
}
