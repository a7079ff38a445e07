import * as digitalocean from "@pulumi/digitalocean";
import { beforeAll, describe, expect, it } from "vitest";
import {
  FAKE_KUBECONFIG,
  installMocks,
  isSecretInput,
  isSecretOutput,
  promiseOf,
  providerUrn,
  type RecordedResource,
} from "../../helpers/pulumi-mocks.ts";

const mocks = await installMocks();
const { Cluster } = await import("../../../components/cloud/cluster.ts");

const base = { region: "sgp1", vpcId: "vpc-123", version: "1.33.1-do.0" };

describe("Cluster", () => {
  let cluster: InstanceType<typeof Cluster>;
  let doProvider: digitalocean.Provider;
  let doks: RecordedResource;
  let k8sProvider: RecordedResource;

  beforeAll(async () => {
    doProvider = new digitalocean.Provider("do", {});
    cluster = new Cluster("wb", { ...base, nodeTags: ["wb-nodes"] }, { providers: [doProvider] });
    await mocks.settle();
    doks = mocks.one("digitalocean:index/kubernetesCluster:KubernetesCluster");
    k8sProvider = mocks.one("pulumi:providers:kubernetes");
  });

  it("creates DOKS in the VPC: 3 x s-4vcpu-8gb autoscaling 3-6, auto and surge upgrades, Sunday 03:00", () => {
    expect(doks.name).toBe("wb");
    expect(doks.inputs).toMatchObject({
      region: "sgp1",
      version: "1.33.1-do.0",
      vpcUuid: "vpc-123",
      autoUpgrade: true,
      surgeUpgrade: true,
      maintenancePolicy: { day: "sunday", startTime: "03:00" },
      nodePool: {
        name: "wb-pool",
        size: "s-4vcpu-8gb",
        nodeCount: 3,
        autoScale: true,
        minNodes: 3,
        maxNodes: 6,
        tags: ["wb-nodes"],
      },
    });
  });

  it("ignores what the autoscaler and auto-upgrades change", () => {
    expect(doks.ignoreChanges).toEqual(["nodePool.nodeCount", "version"]);
  });

  it("builds one Kubernetes provider from the cluster's kubeconfig, kept secret", async () => {
    expect(k8sProvider.name).toBe("wb-k8s");
    expect(isSecretInput(k8sProvider.rawInputs["kubeconfig"])).toBe(true);
    expect(k8sProvider.inputs["kubeconfig"]).toBe(FAKE_KUBECONFIG);
    // Provider inputs travel as strings.
    expect(k8sProvider.inputs["enableServerSideApply"]).toBe("true");
    expect(await isSecretOutput(cluster.kubeconfig)).toBe(true);
    expect(await promiseOf(cluster.kubeconfig)).toBe(FAKE_KUBECONFIG);
    expect(await promiseOf(cluster.provider.urn)).toBe(k8sProvider.urn);
  });

  it("parents the cluster and the provider to the component; the cluster uses the DigitalOcean provider", async () => {
    const urn = await promiseOf(cluster.urn);
    expect(doks.parent).toBe(urn);
    expect(k8sProvider.parent).toBe(urn);
    expect(providerUrn(doks.provider)).toBe(await promiseOf(doProvider.urn));
  });

  it("keeps the version under management when auto-upgrade is off", async () => {
    new Cluster("manual", { ...base, autoUpgrade: false });
    await mocks.settle();
    const manual = mocks.one("digitalocean:index/kubernetesCluster:KubernetesCluster", "manual");
    expect(manual.ignoreChanges).toEqual(["nodePool.nodeCount"]);
    expect(manual.inputs["autoUpgrade"]).toBe(false);
  });

  it.each([
    [{ minNodes: 5, maxNodes: 4, nodeCount: 4 }, "c1: minNodes (5) must not exceed maxNodes (4)"],
    [{ nodeCount: 7 }, "c1: nodeCount (7) must lie between minNodes (3) and maxNodes (6)"],
    [{ minNodes: 0, nodeCount: 1 }, "c1: minNodes must be a whole number of at least 1 (got 0)"],
    [
      { maintenanceWindow: { day: "sunday", startTime: "3am" } },
      "c1: maintenanceWindow.startTime must be a UTC time HH:MM (got 3am)",
    ],
  ])("refuses %j", (overrides, message) => {
    expect(() => new Cluster("c1", { ...base, ...overrides })).toThrow(message);
  });
});
