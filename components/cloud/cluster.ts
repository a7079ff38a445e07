import * as digitalocean from "@pulumi/digitalocean";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

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
  /** DOKS version slug from config, e.g. `1.33.1-do.0`. */
  version: string;
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

/**
 * A DOKS cluster in the VPC with one autoscaling node pool, and the one explicit
 * Kubernetes provider built from its kubeconfig (kept secret). Every Kubernetes and Helm
 * resource of the stack is created through {@link Cluster.provider}; the ambient
 * kubeconfig is never used. Token `workbench:cloud:Cluster`.
 *
 * The kubeconfig DigitalOcean returns carries a token that expires after 7 days; a
 * `pulumi refresh` fetches a fresh one.
 */
export class Cluster extends pulumi.ComponentResource {
  public readonly clusterId: pulumi.Output<string>;
  public readonly clusterName: pulumi.Output<string>;
  public readonly endpoint: pulumi.Output<string>;
  /** The admin kubeconfig: always a secret. */
  public readonly kubeconfig: pulumi.Output<string>;
  /** The Kubernetes provider every Kubernetes and Helm resource must use. */
  public readonly provider: k8s.Provider;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:cloud:Cluster", name, {}, opts);

    const nodeCount = args.nodeCount ?? 3;
    const minNodes = args.minNodes ?? 3;
    const maxNodes = args.maxNodes ?? 6;
    const autoUpgrade = args.autoUpgrade ?? true;
    const window = args.maintenanceWindow ?? { day: "sunday", startTime: "03:00" };

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
    if (!/^([01][0-9]|2[0-3]):[0-5][0-9]$/.test(window.startTime)) {
      throw new pulumi.ResourceError(
        `${name}: maintenanceWindow.startTime must be a UTC time HH:MM (got ${window.startTime})`,
        this,
      );
    }

    const cluster = new digitalocean.KubernetesCluster(
      name,
      {
        region: args.region,
        version: args.version,
        vpcUuid: args.vpcId,
        autoUpgrade,
        surgeUpgrade: args.surgeUpgrade ?? true,
        maintenancePolicy: { day: window.day, startTime: window.startTime },
        nodePool: {
          name: `${name}-pool`,
          size: args.nodeSize ?? "s-4vcpu-8gb",
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
        // The cluster autoscaler moves nodeCount between minNodes and maxNodes, and with
        // autoUpgrade DigitalOcean moves the patch version: neither is drift to undo.
        ignoreChanges: autoUpgrade ? ["nodePool.nodeCount", "version"] : ["nodePool.nodeCount"],
      },
    );

    this.kubeconfig = pulumi.secret(
      cluster.kubeConfigs.apply((configs) => {
        const raw = configs[0]?.rawConfig;
        if (!raw) throw new Error(`cluster ${name} returned no kubeconfig`);
        return raw;
      }),
    );
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      { parent: this },
    );

    this.clusterId = cluster.id;
    this.clusterName = cluster.name;
    this.endpoint = cluster.endpoint;
    this.registerOutputs({
      clusterId: this.clusterId,
      clusterName: this.clusterName,
      endpoint: this.endpoint,
      kubeconfig: this.kubeconfig,
    });
  }
}
