import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { DATABASE_PORTS, INTERNET } from "./ports.ts";

export interface NetworkArgs {
  /** DigitalOcean region slug for the VPC, e.g. `sgp1`. */
  region: string;
  /** VPC range (RFC 1918, validated by the stack config). Default `10.10.0.0/16`. */
  ipRange?: string;
  /**
   * Public inbound TCP ports on the cluster's nodes. Default `[443, 80]`: 443 for HTTPS and
   * 80 only so Traefik can redirect HTTP to HTTPS. Database ports are refused.
   */
  inboundPorts?: number[];
  /** Where inbound traffic may come from. Default the internet (`0.0.0.0/0`, `::/0`). */
  inboundSources?: string[];
  /**
   * Outbound TCP ports. Default `[443, 5432, 6543, 6333]`: HTTPS APIs, Supabase (direct and
   * pooler) and Qdrant.
   */
  outboundPorts?: number[];
}

/**
 * The private network: a VPC, a droplet tag for the cluster's nodes, and a firewall on that
 * tag (inbound 443/80, outbound 443/5432/6543/6333 per seeds 000/001).
 *
 * DigitalOcean firewalls add up: DOKS keeps its own managed firewall for the control plane
 * and node-to-node traffic; this one declares the workbench's public surface.
 * Token `workbench:cloud:Network`.
 */
export class Network extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly vpcUrn: pulumi.Output<string>;
  public readonly ipRange: pulumi.Output<string>;
  /** Tag to put on the node pool: the firewall applies to every droplet carrying it. */
  public readonly nodeTag: pulumi.Output<string>;
  public readonly firewallId: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:cloud:Network", name, {}, opts);

    const ipRange = args.ipRange ?? "10.10.0.0/16";
    const inboundPorts = args.inboundPorts ?? [443, 80];
    const inboundSources = args.inboundSources ?? [...INTERNET];
    const outboundPorts = args.outboundPorts ?? [443, 5432, 6543, 6333];

    for (const port of [...inboundPorts, ...outboundPorts]) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new pulumi.ResourceError(`${name}: port ${port} is not a TCP port (1-65535)`, this);
      }
    }
    if (inboundPorts.length === 0) {
      throw new pulumi.ResourceError(
        `${name}: inboundPorts is empty: the workbench needs at least 443 for HTTPS`,
        this,
      );
    }
    const publicSources = inboundSources.filter((source) => INTERNET.includes(source));
    const exposedDatabase = inboundPorts.find((port) => DATABASE_PORTS.has(port));
    if (exposedDatabase !== undefined && publicSources.length > 0) {
      throw new pulumi.ResourceError(
        `${name}: inbound port ${exposedDatabase} (${DATABASE_PORTS.get(exposedDatabase)}) must not be open to the internet ` +
          `(${publicSources.join(", ")}): reach databases over the VPC, or restrict inboundSources`,
        this,
      );
    }

    const vpc = new digitalocean.Vpc(
      `${name}-vpc`,
      { region: args.region, ipRange, description: `AI Workbench private network (${name})` },
      { parent: this },
    );
    const tag = new digitalocean.Tag(`${name}-nodes`, { name: `${name}-nodes` }, { parent: this });

    const firewall = new digitalocean.Firewall(
      `${name}-firewall`,
      {
        tags: [tag.name],
        inboundRules: inboundPorts.map((port) => ({
          protocol: "tcp",
          portRange: String(port),
          sourceAddresses: inboundSources,
        })),
        outboundRules: outboundPorts.map((port) => ({
          protocol: "tcp",
          portRange: String(port),
          destinationAddresses: [...INTERNET],
        })),
      },
      { parent: this },
    );

    this.vpcId = vpc.id;
    this.vpcUrn = vpc.vpcUrn;
    this.ipRange = vpc.ipRange;
    this.nodeTag = tag.name;
    this.firewallId = firewall.id;
    this.registerOutputs({
      vpcId: this.vpcId,
      vpcUrn: this.vpcUrn,
      ipRange: this.ipRange,
      nodeTag: this.nodeTag,
      firewallId: this.firewallId,
    });
  }
}
