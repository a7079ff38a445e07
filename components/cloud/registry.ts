import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

import { DEFAULT_REGISTRY_TIER, REGISTRY_TIERS, type RegistryTier } from "./defaults.ts";

export interface RegistryArgs {
  /** Registry name: a lowercase DNS label, unique across DigitalOcean. */
  registryName: string;
  /** Subscription tier from config (`starter`, `basic`, `professional`). Default `basic` (seed: 5 repos). */
  tier?: RegistryTier;
  /** Region slug for the registry's storage, e.g. `sgp1`. Default DigitalOcean's choice. */
  region?: string;
  /** Protect the registry (and the images in it) from deletion. Default true. */
  protect?: boolean;
}

/**
 * The DigitalOcean Container Registry for the workbench's own images, plus read-only
 * Docker credentials (a secret) for the cluster's image pull secret.
 * Token `workbench:cloud:Registry`.
 */
export class Registry extends pulumi.ComponentResource {
  /** `registry.digitalocean.com/<name>`: prefix of every image pushed here. */
  public readonly endpoint: pulumi.Output<string>;
  public readonly serverUrl: pulumi.Output<string>;
  /** Read-only `.dockerconfigjson` content: always a secret. */
  public readonly dockerConfigJson: pulumi.Output<string>;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:cloud:Registry", name, {}, opts);

    const tier = args.tier ?? DEFAULT_REGISTRY_TIER;
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(args.registryName)) {
      throw new pulumi.ResourceError(
        `${name}: registryName '${args.registryName}' must be a lowercase DNS label (a-z, 0-9, -)`,
        this,
      );
    }
    if (!(REGISTRY_TIERS as readonly string[]).includes(tier)) {
      throw new pulumi.ResourceError(
        `${name}: tier '${tier}' must be one of ${REGISTRY_TIERS.join(", ")}`,
        this,
      );
    }

    const registry = new digitalocean.ContainerRegistry(
      name,
      {
        name: args.registryName,
        subscriptionTierSlug: tier,
        ...(args.region ? { region: args.region } : {}),
      },
      { parent: this, protect: args.protect ?? true },
    );
    const credentials = new digitalocean.ContainerRegistryDockerCredentials(
      `${name}-pull`,
      { registryName: registry.name, write: false },
      { parent: this },
    );

    this.endpoint = registry.endpoint;
    this.serverUrl = registry.serverUrl;
    this.dockerConfigJson = pulumi.secret(credentials.dockerCredentials);
    this.registerOutputs({
      endpoint: this.endpoint,
      serverUrl: this.serverUrl,
      dockerConfigJson: this.dockerConfigJson,
    });
  }
}
