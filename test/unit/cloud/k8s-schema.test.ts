/**
 * Item 12 of issue 16: every Kubernetes object the prod stack creates (captured by the
 * mocks, workloads on) validates against the strict OpenAPI schema of the cluster's
 * Kubernetes minor version, with kubernetes-validate (scripts/k8s-schema). Helm releases
 * keep their chart-schema checks (prod-stack.test.ts); the cert-manager and Prometheus
 * custom resources are outside the Kubernetes API's schema and are asserted by property
 * in cluster-services.test.ts.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, type RecordedResource } from "../../helpers/pulumi-mocks.ts";
import { REPO_ROOT } from "../../../lib/paths.ts";
import { cloudDataSources, prodConfig } from "./prod-config.ts";

const mocks = await installMocks({ stack: "prod", calls: cloudDataSources });
const { cloudPlatform } = await import("../../../stacks/cloud/index.ts");

/** Custom resources of CRDs the charts install: not part of the Kubernetes OpenAPI. */
const CUSTOM_RESOURCE_GROUPS = ["cert-manager.io/", "monitoring.coreos.com/", "traefik.io/"];

interface Result {
  index: number;
  kind: string;
  name: string;
  errors: string[];
}

/** `kubernetes:apps/v1:Deployment` → apiVersion `apps/v1`, kind `Deployment` (core/v1 → v1). */
export function manifestOf(resource: RecordedResource): Record<string, unknown> {
  const [, groupVersion, kind] = resource.type.split(":") as [string, string, string];
  const apiVersion = groupVersion.startsWith("core/") ? groupVersion.slice("core/".length) : groupVersion;
  return { ...resource.inputs, apiVersion, kind };
}

async function validate(version: string, objects: Record<string, unknown>[]): Promise<Result[]> {
  const file = join(mkdtempSync(join(tmpdir(), "aiwb-k8s-schema-")), "objects.json");
  writeFileSync(file, JSON.stringify(objects));
  const { stdout } = await execa("bash", [`${REPO_ROOT}/scripts/k8s-schema/validate`, version, file]);
  return JSON.parse(stdout) as Result[];
}

describe("every Kubernetes object of the prod stack against the cluster version's OpenAPI schema", () => {
  let objects: RecordedResource[];
  let minor: string;

  beforeAll(async () => {
    cloudPlatform(prodConfig({ overrides: { "workbench:deployWorkloads": true } }));
    await mocks.settle();
    const doks = mocks.one("digitalocean:index/kubernetesCluster:KubernetesCluster");
    // The version the cluster gets (newest patch under the prefix): 1.33.6-do.1 → 1.33.
    minor = /^(\d+\.\d+)\./.exec(String(doks.inputs["version"]))?.[1] ?? "";
    objects = mocks.resources.filter(
      (resource) =>
        resource.custom &&
        resource.type.startsWith("kubernetes:") &&
        resource.type !== "kubernetes:helm.sh/v3:Release" &&
        !CUSTOM_RESOURCE_GROUPS.some((group) => resource.type.includes(`:${group}`)),
    );
  });

  it("covers every object but the Helm releases and the CRDs' custom resources", () => {
    expect(minor).toBe("1.33");
    const kinds = [...new Set(objects.map((resource) => resource.type))].sort();
    expect(kinds).toEqual([
      "kubernetes:apps/v1:Deployment",
      "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
      "kubernetes:batch/v1:CronJob",
      "kubernetes:core/v1:ConfigMap",
      "kubernetes:core/v1:Namespace",
      "kubernetes:core/v1:PersistentVolumeClaim",
      "kubernetes:core/v1:Secret",
      "kubernetes:core/v1:Service",
      "kubernetes:networking.k8s.io/v1:Ingress",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "kubernetes:policy/v1:PodDisruptionBudget",
    ]);
    const left = mocks.resources.filter(
      (resource) => resource.custom && resource.type.startsWith("kubernetes:") && !objects.includes(resource),
    );
    expect(left.map((resource) => resource.type).sort()).toEqual([
      "kubernetes:cert-manager.io/v1:Certificate",
      "kubernetes:cert-manager.io/v1:ClusterIssuer",
      "kubernetes:helm.sh/v3:Release",
      "kubernetes:helm.sh/v3:Release",
      "kubernetes:helm.sh/v3:Release",
      "kubernetes:helm.sh/v3:Release",
      "kubernetes:helm.sh/v3:Release",
      "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
      "kubernetes:traefik.io/v1alpha1:Middleware",
    ]);
  });

  it("finds no schema error in any of them (strict: unknown fields are errors)", async () => {
    const results = await validate(`${minor}.0`, objects.map(manifestOf));
    expect(results).toHaveLength(objects.length);
    const failures = results
      .filter((result) => result.errors.length > 0)
      .map(
        (result) =>
          `${result.kind} ${result.name} (${objects[result.index]?.name}): ${result.errors.join("; ")}`,
      );
    expect(failures).toEqual([]);
  });

  it("the check is not vacuous: a wrong type, an unknown field and an unknown kind are reported", async () => {
    const deployment = manifestOf(mocks.one("kubernetes:apps/v1:Deployment", "workbench-api"));
    const spec = deployment["spec"] as Record<string, unknown>;
    const results = await validate(`${minor}.0`, [
      { ...deployment, spec: { ...spec, replicas: "two" } },
      { ...deployment, spec: { ...spec, replica: 2 } },
      { apiVersion: "v1", kind: "Gadget", metadata: { name: "g" } },
    ]);
    expect(results.map((result) => result.errors)).toEqual([
      ["spec/replicas: 'two' is not of type 'integer', 'null'"],
      ["spec: Additional properties are not allowed ('replica' was unexpected)"],
      ["no schema: Couldn't find schema for kind Gadget with api version v1 for kubernetes version 1.33"],
    ]);
  });
});
