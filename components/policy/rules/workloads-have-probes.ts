/** Every Deployment's containers declare readiness and liveness probes (seed: health checks). */
import * as k8s from "@pulumi/kubernetes";
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";

export const workloadsHaveProbes: ResourceValidationPolicy = {
  name: "workloads-have-probes",
  description: "Every Deployment container has a readiness and a liveness probe.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(k8s.apps.v1.Deployment, (deployment, _args, reportViolation) => {
    const name = String(deployment.metadata?.name ?? "");
    for (const container of deployment.spec?.template?.spec?.containers ?? []) {
      const missing = [
        ...(container.readinessProbe ? [] : ["readinessProbe"]),
        ...(container.livenessProbe ? [] : ["livenessProbe"]),
      ];
      if (missing.length > 0) {
        reportViolation(
          `Container "${container.name}" in Deployment "${name}" has no ${missing.join(" or ")}: add HTTP, TCP or exec probes.`,
        );
      }
    }
  }),
};
