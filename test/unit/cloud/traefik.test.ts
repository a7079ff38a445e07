import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  FAKE_KUBECONFIG,
  installMocks,
  promiseOf,
  providerUrn,
  type RecordedResource,
} from "../../helpers/pulumi-mocks.ts";
import { chartSchemaErrors, TRAEFIK_SCHEMA } from "./chart-schemas.ts";

const mocks = await installMocks();
const { Traefik } = await import("../../../components/kubernetes/traefik.ts");

const args = (provider: k8s.Provider) => ({
  provider,
  namespace: "traefik",
  chartVersion: "41.3.0",
  hostname: "workbench.example.com",
  trustedIps: ["10.10.0.0/16"],
  loadBalancerName: "workbench-prod-lb",
});

describe("Traefik", () => {
  let provider: k8s.Provider;
  let traefik: InstanceType<typeof Traefik>;
  let release: RecordedResource;

  beforeAll(async () => {
    provider = new k8s.Provider("cluster-k8s", { kubeconfig: pulumi.secret(FAKE_KUBECONFIG) });
    traefik = new Traefik("traefik", args(provider));
    await mocks.settle();
    release = mocks.one("kubernetes:helm.sh/v3:Release");
  });

  it("installs the official chart at the configured version through the cluster provider", async () => {
    expect(release.inputs).toMatchObject({
      name: "traefik",
      chart: "traefik",
      version: "41.3.0",
      repositoryOpts: { repo: "https://traefik.github.io/charts" },
      namespace: "traefik",
      atomic: true,
    });
    expect(release.parent).toBe(await promiseOf(traefik.urn));
    expect(providerUrn(release.provider)).toBe(await promiseOf(provider.urn));
    expect(await promiseOf(traefik.releaseName)).toBe("traefik");
  });

  it("passes values that validate against the chart's own schema", () => {
    expect(release.inputs["values"]).toEqual(traefik.values);
    expect(chartSchemaErrors(TRAEFIK_SCHEMA, release.inputs["values"])).toEqual([]);
  });

  it("the schema check catches bad values (it is not vacuous)", () => {
    expect(chartSchemaErrors(TRAEFIK_SCHEMA, { autoscaling: { enabled: "yes" }, colour: "blue" })).toEqual([
      '/ must NOT have additional properties {"additionalProperty":"colour"}',
      '/autoscaling/enabled must be boolean {"type":"boolean"}',
    ]);
  });

  it("is stateless: serves cert-manager's certificate Secret from the default TLS store, no ACME, no volume", () => {
    const values = release.inputs["values"];
    expect(values.tlsStore).toEqual({
      default: { defaultCertificate: { secretName: "workbench-tls" } },
    });
    expect(values).not.toHaveProperty("certificatesResolvers");
    expect(values.persistence).toEqual({ enabled: false });
    expect(values.ports.websecure.http.tls).toEqual({ enabled: true });
    expect(JSON.stringify(values)).not.toContain("acme");
  });

  it("redirects HTTP to HTTPS and trusts PROXY protocol from the VPC only", () => {
    const { web, websecure } = release.inputs["values"].ports;
    expect(web.http.redirections).toEqual({
      entryPoint: { to: "websecure", scheme: "https", permanent: true },
    });
    for (const port of [web, websecure]) {
      expect(port.proxyProtocol).toEqual({ trustedIPs: ["10.10.0.0/16"] });
      expect(port.forwardedHeaders).toEqual({ trustedIPs: ["10.10.0.0/16"] });
    }
  });

  it("exposes Prometheus metrics, autoscales 2-5, and configures the DigitalOcean load balancer", () => {
    const values = release.inputs["values"];
    expect(values.metrics.prometheus).toMatchObject({ entryPoint: "metrics", addRoutersLabels: true });
    expect(values.deployment.podAnnotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "9100",
    });
    expect(values.autoscaling).toMatchObject({ enabled: true, minReplicas: 2, maxReplicas: 5 });
    expect(values.service.annotations).toEqual({
      "service.beta.kubernetes.io/do-loadbalancer-name": "workbench-prod-lb",
      "service.beta.kubernetes.io/do-loadbalancer-size-unit": "1",
      "service.beta.kubernetes.io/do-loadbalancer-protocol": "tcp",
      "service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol": "true",
      "service.beta.kubernetes.io/do-loadbalancer-hostname": "workbench.example.com",
      "service.beta.kubernetes.io/do-loadbalancer-healthcheck-protocol": "tcp",
    });
    expect(values.ingressClass).toEqual({ enabled: true, isDefaultClass: true, name: "traefik" });
    expect(values.resources).toEqual({
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "1", memory: "512Mi" },
    });
  });

  it("spreads the replicas across nodes (no affinity pinning them to one)", () => {
    const values = release.inputs["values"];
    const pods = { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik" };
    expect(values.affinity).not.toHaveProperty("podAffinity");
    expect(values.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        weight: 100,
        podAffinityTerm: { labelSelector: { matchLabels: pods }, topologyKey: "kubernetes.io/hostname" },
      },
    ]);
    expect(values.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: pods },
      },
    ]);
    expect(values.podDisruptionBudget).toEqual({ enabled: true, minAvailable: 1 });
    expect(values.instanceLabelOverride).toBe("traefik");
  });

  it.each([
    [{ minReplicas: 3, maxReplicas: 2 }, "t1: maxReplicas (2) must not be below minReplicas (3)"],
    [{ maxReplicas: 30 }, "t1: maxReplicas (30) must be at most 20"],
    [{ minReplicas: 0 }, "t1: minReplicas must be a whole number of at least 1 (got 0)"],
    [{ trustedIps: [] }, "t1: trustedIps is empty: pass the VPC CIDR the load balancer connects from"],
    [{ loadBalancerSizeUnit: 0 }, "t1: loadBalancerSizeUnit must be 1-100 (got 0)"],
  ])("refuses %j", (overrides, message) => {
    expect(() => new Traefik("t1", { ...args(provider), ...overrides })).toThrow(message);
  });
});
