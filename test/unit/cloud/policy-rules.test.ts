/**
 * The policy rules kept one per file under components/policy/rules/ (typed with
 * validateResourceOfType): each with a resource that passes and one that fails, with the
 * exact message, run the way the policy server runs them.
 */
import { describe, expect, it } from "vitest";
import { RULES } from "../../../components/policy/rules/index.ts";
import { cronJobsBounded } from "../../../components/policy/rules/cronjobs-bounded.ts";
import { noLoadBalancerServices } from "../../../components/policy/rules/no-load-balancer-services.ts";
import { statefulResourcesProtected } from "../../../components/policy/rules/stateful-resources-protected.ts";
import { workloadsHaveProbes } from "../../../components/policy/rules/workloads-have-probes.ts";
import { WORKBENCH_POLICIES } from "../../../components/policy/validations.ts";
import { runPolicy } from "./policy-args.ts";

const SERVICE = "kubernetes:core/v1:Service";
const service = (name: string, namespace: string, type: string) => ({
  type: SERVICE,
  name,
  props: { metadata: { name, namespace }, spec: { type, ports: [{ port: 80 }] } },
});
const probe = { httpGet: { path: "/health", port: "http" } };
const deployment = (container: Record<string, unknown>) => ({
  type: "kubernetes:apps/v1:Deployment",
  name: "workbench-api",
  props: {
    metadata: { name: "api", namespace: "ai-workbench" },
    spec: { template: { spec: { containers: [{ name: "api", image: "x:1.0.0", ...container }] } } },
  },
});
const cronJob = (spec: Record<string, unknown>) => ({
  type: "kubernetes:batch/v1:CronJob",
  name: "dbt-ingest",
  props: { metadata: { name: "dbt-ingest" }, spec: { schedule: "0 2 * * *", ...spec } },
});

describe("the pack", () => {
  it("has at least 12 rules, all mandatory, with unique names", () => {
    const all = [...WORKBENCH_POLICIES, ...RULES];
    expect(all.length).toBe(13);
    expect(new Set(all.map((policy) => policy.name)).size).toBe(all.length);
    expect(RULES.map((policy) => [policy.name, policy.enforcementLevel])).toEqual([
      ["no-load-balancer-services", "mandatory"],
      ["workloads-have-probes", "mandatory"],
      ["stateful-resources-protected", "mandatory"],
      ["cronjobs-bounded", "mandatory"],
    ]);
  });

  it("rules ignore resources of other types", () => {
    const bucket = { type: "digitalocean:index/spacesBucket:SpacesBucket", name: "b", props: {} };
    expect(runPolicy(noLoadBalancerServices, bucket)).toEqual([]);
    expect(runPolicy(workloadsHaveProbes, service("api", "ai-workbench", "ClusterIP"))).toEqual([]);
    expect(runPolicy(cronJobsBounded, bucket)).toEqual([]);
    expect(runPolicy(statefulResourcesProtected, deployment({}))).toEqual([]);
  });
});

describe("no-load-balancer-services", () => {
  it("passes ClusterIP Services and Traefik's load balancer", () => {
    expect(runPolicy(noLoadBalancerServices, service("api", "ai-workbench", "ClusterIP"))).toEqual([]);
    expect(runPolicy(noLoadBalancerServices, service("traefik", "traefik", "LoadBalancer"))).toEqual([]);
  });

  it("fails any other LoadBalancer Service", () => {
    expect(runPolicy(noLoadBalancerServices, service("litellm", "litellm", "LoadBalancer"))).toEqual([
      'Service "litellm" in namespace "litellm" is of type LoadBalancer: only Traefik\'s Service gets a load balancer; use ClusterIP and an Ingress.',
    ]);
  });
});

describe("workloads-have-probes", () => {
  it("passes containers with readiness and liveness probes", () => {
    expect(
      runPolicy(workloadsHaveProbes, deployment({ readinessProbe: probe, livenessProbe: probe })),
    ).toEqual([]);
  });

  it("fails a container missing either", () => {
    expect(runPolicy(workloadsHaveProbes, deployment({ readinessProbe: probe }))).toEqual([
      'Container "api" in Deployment "api" has no livenessProbe: add HTTP, TCP or exec probes.',
    ]);
    expect(runPolicy(workloadsHaveProbes, deployment({}))).toEqual([
      'Container "api" in Deployment "api" has no readinessProbe or livenessProbe: add HTTP, TCP or exec probes.',
    ]);
  });
});

describe("stateful-resources-protected", () => {
  const cluster = {
    type: "digitalocean:index/kubernetesCluster:KubernetesCluster",
    name: "workbench-prod",
    props: {},
  };
  const registry = {
    type: "digitalocean:index/containerRegistry:ContainerRegistry",
    name: "workbench-prod-registry",
    props: {},
  };
  const bucket = {
    type: "digitalocean:index/spacesBucket:SpacesBucket",
    name: "workbench-prod-data",
    props: {},
  };

  it("passes protected clusters, registries and buckets", () => {
    for (const resource of [cluster, registry, bucket])
      expect(runPolicy(statefulResourcesProtected, { ...resource, protect: true })).toEqual([]);
  });

  it("fails unprotected ones", () => {
    expect(runPolicy(statefulResourcesProtected, cluster)).toEqual([
      'Kubernetes cluster "workbench-prod" is not protected: set protect: true (deleting it must be an explicit operator step).',
    ]);
    expect(runPolicy(statefulResourcesProtected, registry)).toEqual([
      'Container registry "workbench-prod-registry" is not protected: set protect: true (deleting it must be an explicit operator step).',
    ]);
    expect(runPolicy(statefulResourcesProtected, bucket)).toEqual([
      'Spaces bucket "workbench-prod-data" is not protected: set protect: true (deleting it must be an explicit operator step).',
    ]);
  });
});

describe("cronjobs-bounded", () => {
  it("passes Forbid with a Job deadline", () => {
    expect(
      runPolicy(
        cronJobsBounded,
        cronJob({ concurrencyPolicy: "Forbid", jobTemplate: { spec: { activeDeadlineSeconds: 3600 } } }),
      ),
    ).toEqual([]);
  });

  it("fails overlapping or unbounded runs", () => {
    expect(runPolicy(cronJobsBounded, cronJob({ jobTemplate: { spec: {} } }))).toEqual([
      'CronJob "dbt-ingest" allows overlapping runs: set spec.concurrencyPolicy: Forbid.',
      'CronJob "dbt-ingest" has no deadline: set spec.jobTemplate.spec.activeDeadlineSeconds.',
    ]);
  });
});
