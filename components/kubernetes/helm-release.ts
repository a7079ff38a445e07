/**
 * The one way the workbench installs a chart: atomic (a failed install or upgrade rolls
 * back), cleaned up on failure, five revisions kept.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { HelmValues } from "./helm-values.ts";

export interface ChartRelease {
  /** Chart name, or an OCI reference. */
  chart: string;
  /** Pinned chart version. */
  version: string;
  /** Chart repository URL (none for an OCI reference). */
  repo?: string;
  namespace: pulumi.Input<string>;
  values: HelmValues;
  /** Seconds Helm waits for the release to be ready. */
  timeoutSeconds: number;
}

/** A Helm release named `name` (its Pulumi and Helm name). */
export function chartRelease(
  name: string,
  release: ChartRelease,
  opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    name,
    {
      name,
      chart: release.chart,
      version: release.version,
      ...(release.repo !== undefined ? { repositoryOpts: { repo: release.repo } } : {}),
      namespace: release.namespace,
      values: release.values,
      atomic: true,
      cleanupOnFail: true,
      maxHistory: 5,
      timeout: release.timeoutSeconds,
    },
    opts,
  );
}
