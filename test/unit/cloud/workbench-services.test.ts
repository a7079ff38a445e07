import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { FAKE_KUBECONFIG, installMocks, promiseOf, providerUrn } from "../../helpers/pulumi-mocks.ts";

const mocks = await installMocks();
const { WorkbenchServices } = await import("../../../components/kubernetes/workbench-services.ts");

const services = [
  {
    name: "frontend",
    image: "registry.digitalocean.com/ai-workbench/workbench-frontend:0.1.0",
    port: 3000,
    host: "workbench.example.com",
    readinessPath: "/",
  },
  {
    name: "api",
    image: "registry.digitalocean.com/ai-workbench/workbench-api:0.1.0",
    port: 8000,
    host: "api.workbench.example.com",
    env: { SUPABASE_URL: "https://abcd.supabase.co" },
    secretEnv: { SUPABASE_SERVICE_ROLE_KEY: { secretName: "supabase", key: "SUPABASE_SERVICE_ROLE_KEY" } },
  },
  { name: "agent-runtime", image: "registry.digitalocean.com/ai-workbench/agent-runtime:0.1.0", port: 8080 },
  {
    name: "guardian",
    image: "registry.digitalocean.com/ai-workbench/guardian:0.1.0",
    port: 8080,
    minReplicas: 3,
    maxReplicas: 8,
  },
];

describe("WorkbenchServices", () => {
  let provider: k8s.Provider;
  let component: InstanceType<typeof WorkbenchServices>;

  beforeAll(async () => {
    provider = new k8s.Provider("cluster-k8s", { kubeconfig: pulumi.secret(FAKE_KUBECONFIG) });
    component = new WorkbenchServices("workbench", {
      provider,
      namespace: "ai-workbench",
      services,
      imagePullSecret: "registry",
    });
    await mocks.settle();
  });

  it("runs a hardened Deployment per service from the configured images", () => {
    // Registration order follows output resolution: look each up by name.
    const deployments = services.map((service) =>
      mocks.one("kubernetes:apps/v1:Deployment", `workbench-${service.name}`),
    );
    expect(mocks.ofType("kubernetes:apps/v1:Deployment")).toHaveLength(4);
    for (const [index, deployment] of deployments.entries()) {
      const pod = deployment.inputs["spec"]["template"]["spec"];
      const [container] = pod["containers"];
      expect(deployment.inputs["metadata"]).toMatchObject({
        name: services[index]?.name,
        namespace: "ai-workbench",
      });
      // The HPA owns the replica count: a value here would reset it on every up.
      expect(deployment.inputs["spec"]).not.toHaveProperty("replicas");
      expect(pod["topologySpreadConstraints"]).toEqual([
        {
          maxSkew: 1,
          topologyKey: "kubernetes.io/hostname",
          whenUnsatisfiable: "ScheduleAnyway",
          labelSelector: {
            matchLabels: {
              "app.kubernetes.io/name": services[index]?.name,
              "app.kubernetes.io/part-of": "ai-workbench",
            },
          },
        },
      ]);
      expect(container["image"]).toBe(services[index]?.image);
      expect(container["ports"]).toEqual([{ name: "http", containerPort: services[index]?.port }]);
      expect(container["securityContext"]).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
      });
      expect(container["resources"]).toEqual({
        requests: { cpu: "100m", memory: "256Mi" },
        limits: { cpu: "1", memory: "1Gi" },
      });
      expect(pod["imagePullSecrets"]).toEqual([{ name: "registry" }]);
      expect(pod["securityContext"]).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    }
    const api = deployments[1]?.inputs["spec"]["template"]["spec"]["containers"][0];
    expect(api["env"]).toEqual([
      { name: "SUPABASE_URL", value: "https://abcd.supabase.co" },
      {
        name: "SUPABASE_SERVICE_ROLE_KEY",
        valueFrom: { secretKeyRef: { name: "supabase", key: "SUPABASE_SERVICE_ROLE_KEY" } },
      },
    ]);
    expect(api["readinessProbe"]["httpGet"]).toEqual({ path: "/health", port: "http" });
    for (const deployment of deployments) {
      const [container] = deployment.inputs["spec"]["template"]["spec"]["containers"];
      expect(container["readinessProbe"]).toMatchObject({ httpGet: { port: "http" }, periodSeconds: 10 });
      expect(container["livenessProbe"]).toMatchObject({ httpGet: { port: "http" }, periodSeconds: 20 });
    }
  });

  it("gives every service a PodDisruptionBudget and a CPU HorizontalPodAutoscaler on its Deployment", () => {
    for (const service of services) {
      const selector = {
        "app.kubernetes.io/name": service.name,
        "app.kubernetes.io/part-of": "ai-workbench",
      };
      const pdb = mocks.one(
        "kubernetes:policy/v1:PodDisruptionBudget",
        `workbench-${service.name}-pdb`,
      ).inputs;
      expect(pdb["metadata"]).toMatchObject({ name: service.name, namespace: "ai-workbench" });
      expect(pdb["spec"]).toEqual({ minAvailable: 1, selector: { matchLabels: selector } });
      const hpa = mocks.one(
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        `workbench-${service.name}-hpa`,
      ).inputs;
      expect(hpa["spec"]).toEqual({
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: service.name },
        minReplicas: service.minReplicas ?? 2,
        maxReplicas: service.maxReplicas ?? 6,
        metrics: [
          {
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
          },
        ],
      });
    }
  });

  it("exposes each on a Service, and the public ones on one TLS Ingress", async () => {
    expect(
      mocks
        .ofType("kubernetes:core/v1:Service")
        .map((service) => service.inputs["metadata"]["name"])
        .sort(),
    ).toEqual(["agent-runtime", "api", "frontend", "guardian"]);
    const ingress = mocks.one("kubernetes:networking.k8s.io/v1:Ingress").inputs;
    expect(ingress["spec"]["tls"]).toEqual([
      { hosts: ["workbench.example.com", "api.workbench.example.com"] },
    ]);
    expect(ingress["spec"]["rules"].map((rule: { host: string }) => rule.host)).toEqual([
      "workbench.example.com",
      "api.workbench.example.com",
    ]);
    expect(await promiseOf(component.publicUrls)).toEqual({
      frontend: "https://workbench.example.com",
      api: "https://api.workbench.example.com",
    });
    expect((await promiseOf(component.internalUrls))["agent-runtime"]).toBe(
      "http://agent-runtime.ai-workbench.svc.cluster.local",
    );
  });

  it("parents everything to the component and uses the cluster provider", async () => {
    const urn = await promiseOf(component.urn);
    const providerRef = await promiseOf(provider.urn);
    const objects = mocks.resources.filter((resource) => resource.type.startsWith("kubernetes:"));
    // 4 x (Deployment, Service, PDB, HPA) and the Ingress.
    expect(objects).toHaveLength(17);
    for (const object of objects) {
      expect(object.parent).toBe(urn);
      expect(providerUrn(object.provider)).toBe(providerRef);
    }
  });

  it.each([
    [
      [{ ...services[2], env: { OPENAI_API_KEY: "sk" } }],
      "s1: service 'agent-runtime' env OPENAI_API_KEY looks like a credential: pass it in secretEnv",
    ],
    [[services[0], services[0]], "s1: service 'frontend' is listed twice"],
    [
      [{ ...services[2], image: "registry.digitalocean.com/ai-workbench/agent-runtime:latest" }],
      's1: service \'agent-runtime\' image "registry.digitalocean.com/ai-workbench/agent-runtime:latest" uses the floating tag "latest": pin a version or a digest',
    ],
    [[{ ...services[2], name: "Agent" }], "s1: service name 'Agent' must be a DNS label (a-z, 0-9, -)"],
    [[], "s1: services is empty"],
    [
      [{ ...services[2], minReplicas: 1 }],
      "s1: service 'agent-runtime' minReplicas must be at least 2 (its PodDisruptionBudget keeps 1 up) (got 1)",
    ],
    [
      [{ ...services[2], minReplicas: 4, maxReplicas: 3 }],
      "s1: service 'agent-runtime' maxReplicas (3) must not be below minReplicas (4)",
    ],
  ])("refuses %#", (list, message) => {
    expect(
      () =>
        new WorkbenchServices("s1", {
          provider,
          namespace: "ai-workbench",
          services: list as typeof services,
        }),
    ).toThrow(message);
  });
});
