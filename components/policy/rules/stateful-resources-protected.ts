/**
 * Stateful cloud resources (the DOKS cluster, the container registry, the Spaces bucket)
 * are protected: deleting one takes an explicit `pulumi state unprotect` first.
 */
import * as digitalocean from "@pulumi/digitalocean";
import {
  type ReportViolation,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
  validateResourceOfType,
} from "@pulumi/policy";

const requireProtect =
  (what: string) =>
  (_resource: unknown, args: ResourceValidationArgs, reportViolation: ReportViolation): void => {
    if (args.opts.protect) return;
    reportViolation(
      `${what} "${args.name}" is not protected: set protect: true (deleting it must be an explicit operator step).`,
    );
  };

export const statefulResourcesProtected: ResourceValidationPolicy = {
  name: "stateful-resources-protected",
  description: "The DOKS cluster, the container registry and Spaces buckets are protected from deletion.",
  enforcementLevel: "mandatory",
  validateResource: [
    validateResourceOfType(digitalocean.KubernetesCluster, requireProtect("Kubernetes cluster")),
    validateResourceOfType(digitalocean.ContainerRegistry, requireProtect("Container registry")),
    validateResourceOfType(digitalocean.SpacesBucket, requireProtect("Spaces bucket")),
  ],
};
