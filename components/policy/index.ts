/**
 * The AI Workbench policy pack (`pulumi preview --policy-pack components/policy`): the
 * seeds' security rules, all mandatory. The rules are pure functions in validations.ts,
 * which the unit tests call directly; constructing the pack starts the analyzer server,
 * so nothing but the Pulumi CLI imports this module.
 */
import { PolicyPack } from "@pulumi/policy";
import { WORKBENCH_POLICIES } from "./validations.ts";
import { RULES } from "./rules/index.ts";

new PolicyPack("ai-workbench", {
  description:
    "AI Workbench security rules: non-root, resource limits, secrets, TLS, firewalls, Spaces, autoscaling, pinned images.",
  enforcementLevel: "mandatory",
  policies: [...WORKBENCH_POLICIES, ...RULES],
});
