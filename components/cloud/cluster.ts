import * as digitalocean from "@pulumi/digitalocean";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CLUSTER_DEFAULTS } from "./defaults.ts";

export interface MaintenanceWindow {
  /** Weekday (`monday` ... `sunday`) or `any`. */
  day: string;
  /** UTC start time `HH:MM`. */
  startTime: string;
}

export interface ClusterArgs {
  /** DigitalOcean region slug, e.g. `sgp1` (the VPC's region). */
  region: string;
  /** VPC the nodes live in (Network.vpcId). */
  vpcId: pulumi.Input<string>;
  /**
   * DOKS minor version as a prefix, e.g. `1.33.`: the newest patch DigitalOcean offers under
   * it is looked up on every run (never a pinned patch slug, which DigitalOcean retires).
   */
  versionPrefix: string;
  /**
   * Command that prints the cluster's exec credential (client.authentication.k8s.io/v1beta1).
   * Default `doctl`, which reads DIGITALOCEAN_ACCESS_TOKEN. No token is stored in the kubeconfig.
   */
  credentialCommand?: string;
  /** Protect the cluster from deletion (`pulumi state unprotect` first). Default true. */
  protect?: boolean;
  /** Droplet size of the node pool. Default `s-4vcpu-8gb`. */
  nodeSize?: string;
  /** Initial node count; must lie within [minNodes, maxNodes]. Default 3. */
  nodeCount?: number;
  /** Autoscaler lower bound, at least 1. Default 3. */
  minNodes?: number;
  /** Autoscaler upper bound. Default 6. */
  maxNodes?: number;
  /** Let DigitalOcean apply patch upgrades in the maintenance window. Default true. */
  autoUpgrade?: boolean;
  /** Upgrade with extra surge nodes so capacity never drops. Default true. */
  surgeUpgrade?: boolean;
  /** Weekly window for upgrades. Default Sunday 03:00 UTC. */
  maintenanceWindow?: MaintenanceWindow;
  /** Droplet tags for the node pool, e.g. the firewall's tag (Network.nodeTag). Default none. */
  nodeTags?: pulumi.Input<string>[];
}

/** Builds a kubeconfig whose user runs `command` for a token (nothing secret inside). */
export function execKubeconfig(args: {
  clusterName: string;
  clusterId: string;
  endpoint: string;
  /** Base64 CA bundle (kubeConfigs[0].clusterCaCertificate). */
  caCertificate: string;
  command: string;
}): string {
  const context = `do-${args.clusterName}`;
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: context,
        cluster: { server: args.endpoint, "certificate-authority-data": args.caCertificate },
      },
    ],
    users: [
      {
        name: `${context}-admin`,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: args.command,
            args: [
              "kubernetes",
              "cluster",
              "kubeconfig",
              "exec-credential",
              "--version=v1beta1",
              args.clusterId,
            ],
            interactiveMode: "Never",
            provideClusterInfo: false,
          },
        },
      },
    ],
    contexts: [{ name: context, context: { cluster: context, user: `${context}-admin` } }],
    "current-context": context,
  });
}

/**
 * A DOKS cluster in the VPC with one autoscaling node pool, and the one explicit
 * Kubernetes provider built from its kubeconfig (kept secret). Every Kubernetes and Helm
 * resource of the stack is created through {@link Cluster.provider}; the ambient
 * kubeconfig is never used. Token `workbench:cloud:Cluster`.
 *
 * The kubeconfig DigitalOcean returns carries a token that expires after 7 days; a
 * provider built from it would fail a week after each `up`. The provider's kubeconfig
 * instead holds the endpoint, the CA and an exec credential ({@link execKubeconfig}):
 * every run asks `doctl` for a fresh short-lived token, and nothing that expires is stored.
 */
export class Cluster extends pulumi.ComponentResource {
  public readonly clusterId: pulumi.Output<string>;
  public readonly clusterName: pulumi.Output<string>;
  public readonly endpoint: pulumi.Output<string>;
  /** DOKS version the cluster was created with (newest patch under the prefix). */
  public readonly version: pulumi.Output<string>;
  /** Admin kubeconfig with an exec credential (no token); kept secret all the same. */
  public readonly kubeconfig: pulumi.Output<string>;
  /** The Kubernetes provider every Kubernetes and Helm resource must use. */
  public readonly provider: k8s.Provider;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:cloud:Cluster", name, {}, opts);

    const nodeCount = args.nodeCount ?? CLUSTER_DEFAULTS.nodeCount;
    const minNodes = args.minNodes ?? CLUSTER_DEFAULTS.minNodes;
    const maxNodes = args.maxNodes ?? CLUSTER_DEFAULTS.maxNodes;
    const autoUpgrade = args.autoUpgrade ?? CLUSTER_DEFAULTS.autoUpgrade;
    const window = args.maintenanceWindow ?? CLUSTER_DEFAULTS.maintenanceWindow;

    if (!Number.isInteger(minNodes) || minNodes < 1) {
      throw new pulumi.ResourceError(
        `${name}: minNodes must be a whole number of at least 1 (got ${minNodes})`,
        this,
      );
    }
    if (minNodes > maxNodes) {
      throw new pulumi.ResourceError(
        `${name}: minNodes (${minNodes}) must not exceed maxNodes (${maxNodes})`,
        this,
      );
    }
    if (nodeCount < minNodes || nodeCount > maxNodes) {
      throw new pulumi.ResourceError(
        `${name}: nodeCount (${nodeCount}) must lie between minNodes (${minNodes}) and maxNodes (${maxNodes})`,
        this,
      );
    }
    if (!/^1\.[0-9]+\.$/.test(args.versionPrefix)) {
      throw new pulumi.ResourceError(
        `${name}: versionPrefix must be a DOKS minor version with a trailing dot, like 1.33. (got ${args.versionPrefix})`,
        this,
      );
    }
    if (!/^([01][0-9]|2[0-3]):[0-5][0-9]$/.test(window.startTime)) {
      throw new pulumi.ResourceError(
        `${name}: maintenanceWindow.startTime must be a UTC time HH:MM (got ${window.startTime})`,
        this,
      );
    }

    // Looked up on every run: the newest patch of the configured minor version.
    const versions = digitalocean.getKubernetesVersionsOutput(
      { versionPrefix: args.versionPrefix },
      { parent: this },
    );
    const version = versions.latestVersion.apply((latest) => {
      if (!latest) {
        throw new Error(
          `${name}: DigitalOcean offers no DOKS version under ${args.versionPrefix}: set workbench:cluster.versionPrefix to a supported minor (doctl kubernetes options versions)`,
        );
      }
      return latest;
    });

    const cluster = new digitalocean.KubernetesCluster(
      name,
      {
        region: args.region,
        version,
        vpcUuid: args.vpcId,
        autoUpgrade,
        surgeUpgrade: args.surgeUpgrade ?? CLUSTER_DEFAULTS.surgeUpgrade,
        maintenancePolicy: { day: window.day, startTime: window.startTime },
        nodePool: {
          name: `${name}-pool`,
          size: args.nodeSize ?? CLUSTER_DEFAULTS.nodeSize,
          nodeCount,
          autoScale: true,
          minNodes,
          maxNodes,
          tags: args.nodeTags ?? [],
          labels: { "workbench/pool": "general" },
        },
      },
      {
        parent: this,
        protect: args.protect ?? true,
        // The cluster autoscaler moves nodeCount between minNodes and maxNodes, and with
        // autoUpgrade DigitalOcean moves the patch version: neither is drift to undo (nor is a
        // newer patch appearing under the prefix).
        ignoreChanges: autoUpgrade ? ["nodePool.nodeCount", "version"] : ["nodePool.nodeCount"],
      },
    );

    const command = args.credentialCommand ?? "doctl";
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.id, cluster.endpoint, cluster.kubeConfigs])
        .apply(([clusterName, clusterId, endpoint, configs]) => {
          const caCertificate = configs[0]?.clusterCaCertificate;
          if (!caCertificate) throw new Error(`cluster ${name} returned no CA certificate`);
          return execKubeconfig({ clusterName, clusterId, endpoint, caCertificate, command });
        }),
    );
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      { parent: this },
    );

    this.clusterId = cluster.id;
    this.version = cluster.version;
    this.clusterName = cluster.name;
    this.endpoint = cluster.endpoint;
    this.registerOutputs({
      clusterId: this.clusterId,
      clusterName: this.clusterName,
      endpoint: this.endpoint,
      version: this.version,
      kubeconfig: this.kubeconfig,
    });
  }
}
