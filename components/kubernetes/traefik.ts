import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { baseValuesPath, type HelmValues, mergeValues, readValuesFile } from "./helm-values.ts";
import { LETSENCRYPT_RESOLVER, type ResourceBudget } from "./workload.ts";

export const TRAEFIK_CHART_REPO = "https://traefik.github.io/charts";
const LETSENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";

/** The typed overrides merged over helm-values/traefik.yaml. */
export interface TraefikSettings {
  /** Helm release name; also the pods' instance label. */
  releaseName: string;
  /** Certificate resolver name routers refer to. */
  certResolver: string;
  /** Let's Encrypt account email (optional). */
  acmeEmail?: string;
  /** Use Let's Encrypt's staging CA (untrusted certificates, generous rate limits). */
  acmeStaging: boolean;
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
  /** Size of the volume holding acme.json, GiB. */
  persistenceSizeGi: number;
  /** Storage class of that volume. */
  storageClass: string;
  /** Requests and limits of the Traefik container. */
  resources: ResourceBudget;
}

/** Traefik's chart values: the base file merged with the typed settings (pure; tests validate it against the chart schema). */
export function traefikValues(base: HelmValues, settings: TraefikSettings): HelmValues {
  const proxied = {
    forwardedHeaders: { trustedIPs: settings.trustedIps },
    proxyProtocol: { trustedIPs: settings.trustedIps },
  };
  return mergeValues(base, {
    instanceLabelOverride: settings.releaseName,
    certificatesResolvers: {
      [settings.certResolver]: {
        acme: {
          ...(settings.acmeEmail ? { email: settings.acmeEmail } : {}),
          // On the persistent volume: certificates survive restarts (Let's Encrypt rate limits).
          storage: "/data/acme.json",
          tlsChallenge: true,
          ...(settings.acmeStaging ? { caServer: LETSENCRYPT_STAGING } : {}),
        },
      },
    },
    ports: {
      // Port 80 only redirects to HTTPS.
      web: {
        http: { redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } } },
        ...proxied,
      },
      websecure: { http: { tls: { enabled: true, certResolver: settings.certResolver } }, ...proxied },
    },
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
    persistence: {
      enabled: true,
      size: `${settings.persistenceSizeGi}Gi`,
      storageClass: settings.storageClass,
      accessMode: "ReadWriteOnce",
    },
    // acme.json sits on a ReadWriteOnce volume: every replica must run on the node that
    // mounts it. Replicas still absorb load and pod restarts; node failure is covered by
    // the volume re-attaching elsewhere.
    affinity: {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: {
              matchLabels: {
                "app.kubernetes.io/name": "traefik",
                "app.kubernetes.io/instance": settings.releaseName,
              },
            },
            topologyKey: "kubernetes.io/hostname",
          },
        ],
      },
    },
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
  /** Let's Encrypt account email. Default none (Let's Encrypt no longer needs one). */
  acmeEmail?: string;
  /** Use Let's Encrypt's staging CA. Default false. */
  acmeStaging?: boolean;
  /** Certificate resolver name. Default `letsencrypt`. */
  certResolver?: string;
  /** Autoscaling lower bound, at least 1. Default 2. */
  minReplicas?: number;
  /** Autoscaling upper bound, at most 20. Default 5. */
  maxReplicas?: number;
  /** DigitalOcean load balancer name. Default `<name>-lb`. */
  loadBalancerName?: string;
  /** Load balancer size units (1-100). Default 1. */
  loadBalancerSizeUnit?: number;
  /** Size of the acme.json volume, GiB (DigitalOcean's minimum is 1). Default 1. */
  persistenceSizeGi?: number;
  /** Storage class of the acme.json volume. Default `do-block-storage`. */
  storageClass?: string;
  /** Requests and limits of the Traefik container. Default 100m/128Mi requests, 1 CPU/512Mi limits. */
  resources?: ResourceBudget;
}

/**
 * Traefik as the cluster's ingress controller, from the official chart: Let's Encrypt
 * (TLS challenge) with acme.json on a volume, HTTP → HTTPS redirect, Prometheus metrics,
 * autoscaling, behind a DigitalOcean load balancer. Token `workbench:kubernetes:Traefik`.
 */
export class Traefik extends pulumi.ComponentResource {
  public readonly releaseName: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;
  /** Resolver name Ingresses put in `router.tls.certresolver`. */
  public readonly certResolver: string;
  /** The values the release was installed with (for inspection). */
  public readonly values: HelmValues;

  constructor(name: string, args: TraefikArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:kubernetes:Traefik", name, {}, opts);

    const minReplicas = args.minReplicas ?? 2;
    const maxReplicas = args.maxReplicas ?? 5;
    const persistenceSizeGi = args.persistenceSizeGi ?? 1;
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
    if (!Number.isInteger(persistenceSizeGi) || persistenceSizeGi < 1) {
      throw new pulumi.ResourceError(
        `${name}: persistenceSizeGi must be a whole number of at least 1 (got ${persistenceSizeGi})`,
        this,
      );
    }
    if (!Number.isInteger(sizeUnit) || sizeUnit < 1 || sizeUnit > 100) {
      throw new pulumi.ResourceError(`${name}: loadBalancerSizeUnit must be 1-100 (got ${sizeUnit})`, this);
    }
    if (args.acmeEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(args.acmeEmail)) {
      throw new pulumi.ResourceError(`${name}: acmeEmail '${args.acmeEmail}' is not an email address`, this);
    }
    if (args.trustedIps.length === 0) {
      throw new pulumi.ResourceError(
        `${name}: trustedIps is empty: pass the VPC CIDR the load balancer connects from`,
        this,
      );
    }

    this.certResolver = args.certResolver ?? LETSENCRYPT_RESOLVER;
    this.values = traefikValues(readValuesFile(args.baseValuesFile ?? baseValuesPath("traefik")), {
      releaseName: name,
      certResolver: this.certResolver,
      ...(args.acmeEmail ? { acmeEmail: args.acmeEmail } : {}),
      acmeStaging: args.acmeStaging ?? false,
      minReplicas,
      maxReplicas,
      loadBalancerName: args.loadBalancerName ?? `${name}-lb`,
      loadBalancerSizeUnit: sizeUnit,
      hostname: args.hostname,
      trustedIps: args.trustedIps,
      persistenceSizeGi,
      storageClass: args.storageClass ?? "do-block-storage",
      resources: args.resources ?? {
        requests: { cpu: "100m", memory: "128Mi" },
        limits: { cpu: "1", memory: "512Mi" },
      },
    });

    const release = new k8s.helm.v3.Release(
      name,
      {
        name,
        chart: "traefik",
        version: args.chartVersion,
        repositoryOpts: { repo: args.chartRepository ?? TRAEFIK_CHART_REPO },
        namespace: args.namespace,
        values: this.values,
        atomic: true,
        cleanupOnFail: true,
        maxHistory: 5,
        timeout: 900,
      },
      { parent: this, provider: args.provider },
    );

    this.releaseName = release.status.name;
    this.namespace = release.status.namespace;
    this.registerOutputs({ releaseName: this.releaseName, namespace: this.namespace });
  }
}
