import * as digitalocean from "@pulumi/digitalocean";
import { beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import {
  installMocks,
  isSecretInput,
  isSecretOutput,
  promiseOf,
  providerUrn,
  type RecordedResource,
} from "../../helpers/pulumi-mocks.ts";

const versionCalls: { inputs: Record<string, unknown>; provider: string | undefined }[] = [];
const mocks = await installMocks({
  calls: (args) => {
    if (args.token !== "digitalocean:index/getKubernetesVersions:getKubernetesVersions") return undefined;
    versionCalls.push({ inputs: args.inputs, provider: args.provider });
    const prefix = String(args.inputs["versionPrefix"]);
    const offered = ["1.32.9-do.0", "1.33.4-do.0", "1.33.6-do.1"].filter((slug) => slug.startsWith(prefix));
    return {
      versionPrefix: prefix,
      validVersions: offered,
      latestVersion: offered.at(-1) ?? "",
    };
  },
});
const { Cluster } = await import("../../../components/cloud/cluster.ts");

const base = { region: "sgp1", vpcId: "vpc-123", versionPrefix: "1.33." };

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
      version: "1.33.6-do.1",
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

  it("takes the newest DOKS patch under the configured prefix from the versions data source", async () => {
    expect(versionCalls[0]?.inputs).toEqual({ versionPrefix: "1.33." });
    // Through the DigitalOcean provider the component was given.
    expect(providerUrn(versionCalls[0]?.provider ?? "")).toBe(await promiseOf(doProvider.urn));
    expect(await promiseOf(cluster.version)).toBe("1.33.6-do.1");
  });

  it("protects the cluster from deletion", () => {
    expect(doks.protect).toBe(true);
  });

  it("builds one Kubernetes provider whose kubeconfig holds no token: an exec credential via doctl", async () => {
    expect(k8sProvider.name).toBe("wb-k8s");
    expect(isSecretInput(k8sProvider.rawInputs["kubeconfig"])).toBe(true);
    const kubeconfig = k8sProvider.inputs["kubeconfig"] as string;
    // DigitalOcean's raw kubeconfig carries a 7-day token ("mock-token" here): none of it is used.
    expect(kubeconfig).not.toContain("mock-token");
    const parsed = YAML.parse(kubeconfig);
    expect(parsed.clusters).toEqual([
      {
        name: "do-wb",
        cluster: {
          server: "https://mock-cluster.k8s.ondigitalocean.com",
          "certificate-authority-data": "bW9jay1jYQ==",
        },
      },
    ]);
    expect(parsed.users).toHaveLength(1);
    const user = parsed.users[0].user;
    expect(Object.keys(user)).toEqual(["exec"]);
    for (const field of ["token", "client-key-data", "client-certificate-data", "password"])
      expect(user).not.toHaveProperty(field);
    expect(user.exec).toEqual({
      apiVersion: "client.authentication.k8s.io/v1beta1",
      command: "doctl",
      args: ["kubernetes", "cluster", "kubeconfig", "exec-credential", "--version=v1beta1", "wb-id"],
      interactiveMode: "Never",
      provideClusterInfo: false,
    });
    expect(parsed["current-context"]).toBe("do-wb");
    // Provider inputs travel as strings.
    expect(k8sProvider.inputs["enableServerSideApply"]).toBe("true");
    expect(await isSecretOutput(cluster.kubeconfig)).toBe(true);
    expect(await promiseOf(cluster.kubeconfig)).toBe(kubeconfig);
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
    expect(manual.inputs["version"]).toBe("1.33.6-do.1");
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
    [
      { versionPrefix: "1.33.1-do.0" },
      "c1: versionPrefix must be a DOKS minor version with a trailing dot, like 1.33. (got 1.33.1-do.0)",
    ],
  ])("refuses %j", (overrides, message) => {
    expect(() => new Cluster("c1", { ...base, ...overrides })).toThrow(message);
  });
});
