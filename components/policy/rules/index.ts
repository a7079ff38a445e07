/**
 * Policy rules kept one per file (pulumi/compliance-policies style), each typed with
 * validateResourceOfType. The pack registers them after the rules in ../validations.ts.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { cronJobsBounded } from "./cronjobs-bounded.ts";
import { noLoadBalancerServices } from "./no-load-balancer-services.ts";
import { statefulResourcesProtected } from "./stateful-resources-protected.ts";
import { workloadsHaveProbes } from "./workloads-have-probes.ts";

export const RULES: ResourceValidationPolicy[] = [
  noLoadBalancerServices,
  workloadsHaveProbes,
  statefulResourcesProtected,
  cronJobsBounded,
];
