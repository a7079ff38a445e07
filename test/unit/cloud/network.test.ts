import * as digitalocean from "@pulumi/digitalocean";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, promiseOf, providerUrn, type RecordedResource } from "../../helpers/pulumi-mocks.ts";

const mocks = await installMocks();
const { Network } = await import("../../../components/cloud/network.ts");

describe("Network", () => {
  let network: InstanceType<typeof Network>;
  let provider: digitalocean.Provider;
  let vpc: RecordedResource;
  let firewall: RecordedResource;
  let tag: RecordedResource;

  beforeAll(async () => {
    provider = new digitalocean.Provider("do", {});
    network = new Network("wb", { region: "sgp1" }, { providers: [provider] });
    await mocks.settle();
    vpc = mocks.one("digitalocean:index/vpc:Vpc");
    firewall = mocks.one("digitalocean:index/firewall:Firewall");
    tag = mocks.one("digitalocean:index/tag:Tag");
  });

  it("creates a VPC in the region with the seed's default range", () => {
    expect(vpc.name).toBe("wb-vpc");
    expect(vpc.inputs).toMatchObject({ region: "sgp1", ipRange: "10.10.0.0/16" });
  });

  it("opens 443 and 80 inbound, and 443/5432/6543/6333 outbound, on the node tag", () => {
    expect(firewall.name).toBe("wb-firewall");
    expect(tag.inputs["name"]).toBe("wb-nodes");
    expect(firewall.inputs["tags"]).toEqual(["wb-nodes"]);
    expect(firewall.inputs["inboundRules"]).toEqual([
      { protocol: "tcp", portRange: "443", sourceAddresses: ["0.0.0.0/0", "::/0"] },
      { protocol: "tcp", portRange: "80", sourceAddresses: ["0.0.0.0/0", "::/0"] },
    ]);
    expect(firewall.inputs["outboundRules"]).toEqual(
      ["443", "5432", "6543", "6333"].map((portRange) => ({
        protocol: "tcp",
        portRange,
        destinationAddresses: ["0.0.0.0/0", "::/0"],
      })),
    );
  });

  it("parents every child to the component and uses the explicit DigitalOcean provider", async () => {
    const urn = await promiseOf(network.urn);
    const providerRef = await promiseOf(provider.urn);
    for (const child of [vpc, firewall, tag]) {
      expect(child.parent, child.name).toBe(urn);
      expect(providerUrn(child.provider), child.name).toBe(providerRef);
    }
    expect(mocks.byUrn(urn)?.type).toBe("workbench:cloud:Network");
  });

  it("outputs the VPC id and the node tag", async () => {
    expect(await promiseOf(network.vpcId)).toBe("wb-vpc-id");
    expect(await promiseOf(network.nodeTag)).toBe("wb-nodes");
    expect(await promiseOf(network.ipRange)).toBe("10.10.0.0/16");
  });

  it("refuses a database port open to the internet", () => {
    expect(() => new Network("bad-db", { region: "sgp1", inboundPorts: [443, 5432] })).toThrow(
      "bad-db: inbound port 5432 (PostgreSQL) must not be open to the internet (0.0.0.0/0, ::/0): reach databases over the VPC, or restrict inboundSources",
    );
  });

  it("allows a database port from a private source only", async () => {
    new Network("vpc-only", { region: "sgp1", inboundPorts: [443, 6333], inboundSources: ["10.10.0.0/16"] });
    await mocks.settle();
    expect(
      mocks.one("digitalocean:index/firewall:Firewall", "vpc-only-firewall").inputs["inboundRules"][1],
    ).toEqual({
      protocol: "tcp",
      portRange: "6333",
      sourceAddresses: ["10.10.0.0/16"],
    });
  });

  it("refuses ports outside 1-65535 and an empty inbound list", () => {
    expect(() => new Network("bad-port", { region: "sgp1", outboundPorts: [70000] })).toThrow(
      "bad-port: port 70000 is not a TCP port (1-65535)",
    );
    expect(() => new Network("no-in", { region: "sgp1", inboundPorts: [] })).toThrow(
      "no-in: inboundPorts is empty: the workbench needs at least 443 for HTTPS",
    );
  });
});
