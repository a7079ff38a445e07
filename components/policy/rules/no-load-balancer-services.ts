/**
 * No Service of type LoadBalancer except Traefik's: every DigitalOcean load balancer costs
 * money and is a public entry point; everything else is served through an Ingress.
 */
import * as k8s from "@pulumi/kubernetes";
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";

/** The one Service allowed a load balancer: `<namespace>/<name>`. */
export const LOAD_BALANCER_ALLOWED = ["traefik/traefik"];

export const noLoadBalancerServices: ResourceValidationPolicy = {
  name: "no-load-balancer-services",
  description: "No Service of type LoadBalancer except Traefik's: expose workloads through an Ingress.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(k8s.core.v1.Service, (service, _args, reportViolation) => {
    if (service.spec?.type !== "LoadBalancer") return;
    const name = String(service.metadata?.name ?? "");
    const namespace = String(service.metadata?.namespace ?? "default");
    if (LOAD_BALANCER_ALLOWED.includes(`${namespace}/${name}`)) return;
    reportViolation(
      `Service "${name}" in namespace "${namespace}" is of type LoadBalancer: only Traefik's Service gets a load balancer; use ClusterIP and an Ingress.`,
    );
  }),
};
