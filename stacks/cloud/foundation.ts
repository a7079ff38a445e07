/** The cloud profile's foundation on DigitalOcean: provider, VPC, registry, cluster, Spaces bucket. */
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { Cluster, Network, Registry, SpacesBucket } from "../../components/cloud/index.ts";
import { backupLifecycleRules } from "../../components/kubernetes/index.ts";
import type { DeployableCloudConfig as Config } from "../config/deployable.ts";

/** DigitalOcean: the provider, VPC, registry, cluster and Spaces bucket. */
export function digitalOcean(config: Config, base: string) {
  const features = config.features;
  const secret = (value: string | undefined) => (value === undefined ? undefined : pulumi.secret(value));
  // One explicit provider: credentials from secret config, else the provider's env vars
  // (DIGITALOCEAN_TOKEN, SPACES_ACCESS_KEY_ID, SPACES_SECRET_ACCESS_KEY), as in CI.
  const doProvider = new digitalocean.Provider(`${base}-digitalocean`, {
    ...(config.digitaloceanToken ? { token: secret(config.digitaloceanToken) } : {}),
    ...(config.spacesAccessKeyId ? { spacesAccessId: secret(config.spacesAccessKeyId) } : {}),
    ...(config.spacesSecretKey ? { spacesSecretKey: secret(config.spacesSecretKey) } : {}),
  });
  const onDigitalOcean = { providers: [doProvider] };

  const network = new Network(base, { region: config.region, ipRange: config.vpcCidr }, onDigitalOcean);
  const registry = new Registry(
    `${base}-registry`,
    { registryName: config.registryName, tier: config.registryTier, region: config.region },
    onDigitalOcean,
  );
  const cluster = new Cluster(
    base,
    {
      region: config.region,
      vpcId: network.vpcId,
      versionPrefix: config.cluster.versionPrefix,
      nodeSize: config.cluster.nodeSize,
      nodeCount: config.cluster.nodeCount,
      minNodes: config.cluster.minNodes,
      maxNodes: config.cluster.maxNodes,
      autoUpgrade: config.cluster.autoUpgrade,
      surgeUpgrade: config.cluster.surgeUpgrade,
      maintenanceWindow: config.cluster.maintenanceWindow,
      nodeTags: [network.nodeTag],
    },
    onDigitalOcean,
  );
  const bucket = new SpacesBucket(
    `${base}-data`,
    {
      region: config.region,
      lifecycleRules: features.backups ? backupLifecycleRules() : [],
      ...(features.backups ? { accessKeyPermission: "readwrite" as const } : {}),
    },
    onDigitalOcean,
  );
  return { onDigitalOcean, network, registry, cluster, bucket };
}
export type Foundation = ReturnType<typeof digitalOcean>;
