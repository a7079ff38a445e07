import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartRelease } from "./helm-release.ts";
import type { HelmValues } from "./helm-values.ts";
import { LETSENCRYPT_RESOLVER, TRAEFIK_INGRESS_CLASS, type ResourceBudget } from "./workload.ts";

export const CERT_MANAGER_CHART_REPO = "https://charts.jetstack.io";
export const ACME_SERVERS = {
  production: "https://acme-v02.api.letsencrypt.org/directory",
  staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;
/** Secret (in the Traefik namespace) holding the certificate Traefik serves by default. */
export const DEFAULT_TLS_SECRET = "workbench-tls";

const SMALL: ResourceBudget = {
  requests: { cpu: "20m", memory: "64Mi" },
  limits: { cpu: "200m", memory: "256Mi" },
};

/** Pod placement that spreads `component`'s replicas over nodes (a soft rule: one node still schedules). */
export function spreadOverNodes(labels: Record<string, string>) {
  return [
    {
      maxSkew: 1,
      topologyKey: "kubernetes.io/hostname",
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: { matchLabels: labels },
    },
  ];
}

/** cert-manager's chart values: CRDs installed, two replicas of each controller spread over nodes. */
export function certManagerValues(replicas: number): HelmValues {
  const component = (name: string) => ({
    replicaCount: replicas,
    podDisruptionBudget: { enabled: true, minAvailable: 1 },
    resources: SMALL,
    topologySpreadConstraints: spreadOverNodes({
      "app.kubernetes.io/name": name,
      "app.kubernetes.io/instance": "cert-manager",
    }),
  });
  return {
    crds: { enabled: true, keep: true },
    ...component("cert-manager"),
    webhook: component("webhook"),
    cainjector: component("cainjector"),
    // Metrics for the monitoring stack's pod scrape job.
    prometheus: { enabled: true, servicemonitor: { enabled: false } },
    podAnnotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "9402" },
    global: { leaderElection: { namespace: "cert-manager" } },
  };
}

export interface CertManagerArgs {
  /** The cluster's Kubernetes provider (Cluster.provider). */
  provider: k8s.Provider;
  /** Namespace of cert-manager (`cert-manager`). */
  namespace: pulumi.Input<string>;
  /** Chart version from config, e.g. `v1.19.1`. */
  chartVersion: string;
  /** Let's Encrypt account email. Default none. */
  acmeEmail?: string;
  /** Let's Encrypt CA. Default `production`. */
  acmeServer?: keyof typeof ACME_SERVERS;
  /** ClusterIssuer name. Default `letsencrypt`. */
  issuerName?: string;
  /** Ingress class that serves HTTP-01 challenges. Default `traefik`. */
  ingressClass?: string;
  /** Replicas of each controller (2 keeps one through a node drain). Default 2. */
  replicas?: number;
  /**
   * The certificate Traefik serves for every host: its namespace and DNS names. Traefik
   * reads it from its default TLS store, so its replicas share nothing else.
   */
  certificate: { namespace: pulumi.Input<string>; dnsNames: string[] };
}

/**
 * cert-manager from the official chart, a Let's Encrypt ClusterIssuer (HTTP-01 through
 * Traefik) and one Certificate for the platform's hosts, stored in a Secret Traefik serves
 * by default. Certificates live in Secrets, so Traefik stays stateless.
 * Token `workbench:kubernetes:CertManager`.
 */
export class CertManager extends pulumi.ComponentResource {
  public readonly issuerName: string;
  /** Secret name of the served certificate (in `certificate.namespace`). */
  public readonly secretName: string;
  public readonly values: HelmValues;

  constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:kubernetes:CertManager", name, {}, opts);

    const replicas = args.replicas ?? 2;
    if (!Number.isInteger(replicas) || replicas < 1) {
      throw new pulumi.ResourceError(
        `${name}: replicas must be a whole number of at least 1 (got ${replicas})`,
        this,
      );
    }
    if (args.certificate.dnsNames.length === 0) {
      throw new pulumi.ResourceError(`${name}: certificate.dnsNames is empty`, this);
    }
    const wildcard = args.certificate.dnsNames.find((dnsName) => dnsName.startsWith("*"));
    if (wildcard) {
      throw new pulumi.ResourceError(
        `${name}: ${wildcard} is a wildcard, which HTTP-01 cannot validate: list each host`,
        this,
      );
    }
    if (args.acmeEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(args.acmeEmail)) {
      throw new pulumi.ResourceError(`${name}: acmeEmail '${args.acmeEmail}' is not an email address`, this);
    }

    this.issuerName = args.issuerName ?? LETSENCRYPT_RESOLVER;
    this.secretName = DEFAULT_TLS_SECRET;
    this.values = certManagerValues(replicas);
    const child = { parent: this, provider: args.provider };

    const release = chartRelease(
      name,
      {
        chart: "cert-manager",
        version: args.chartVersion,
        repo: CERT_MANAGER_CHART_REPO,
        namespace: args.namespace,
        values: this.values,
        timeoutSeconds: 600,
      },
      child,
    );

    // The CRDs come with the release: the issuer and certificate wait for it.
    const issuer = new k8s.apiextensions.CustomResource(
      `${name}-issuer`,
      {
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: this.issuerName },
        spec: {
          acme: {
            server: ACME_SERVERS[args.acmeServer ?? "production"],
            ...(args.acmeEmail ? { email: args.acmeEmail } : {}),
            privateKeySecretRef: { name: `${this.issuerName}-account-key` },
            solvers: [
              { http01: { ingress: { ingressClassName: args.ingressClass ?? TRAEFIK_INGRESS_CLASS } } },
            ],
          },
        },
      },
      { ...child, dependsOn: [release] },
    );

    new k8s.apiextensions.CustomResource(
      `${name}-certificate`,
      {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name: DEFAULT_TLS_SECRET, namespace: args.certificate.namespace },
        spec: {
          secretName: DEFAULT_TLS_SECRET,
          dnsNames: args.certificate.dnsNames,
          issuerRef: { kind: "ClusterIssuer", name: this.issuerName },
          privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
        },
      },
      { ...child, dependsOn: [issuer] },
    );

    this.registerOutputs({});
  }
}
