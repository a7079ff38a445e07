/**
 * Runs a policy the way the policy server does (components of @pulumi/policy's
 * server.js): per validation function, with `isType` comparing the class's Pulumi type,
 * `opts.protect` from the resource options, and not-applicable answers swallowed.
 */
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";

class NotApplicable extends Error {}

export interface PolicyInput {
  type: string;
  name: string;
  props: Record<string, unknown>;
  protect?: boolean;
}

/** The violation messages `policy` reports for one resource. */
export function runPolicy(policy: ResourceValidationPolicy, resource: PolicyInput): string[] {
  const messages: string[] = [];
  const validations = Array.isArray(policy.validateResource)
    ? policy.validateResource
    : policy.validateResource
      ? [policy.validateResource]
      : [];
  const isType = (resourceClass: unknown) =>
    (resourceClass as { __pulumiType?: string }).__pulumiType === resource.type;
  const args = {
    type: resource.type,
    name: resource.name,
    props: resource.props,
    urn: `urn:pulumi:test::ai-workbench::${resource.type}::${resource.name}`,
    opts: {
      protect: resource.protect ?? false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
    },
    stackTags: new Map<string, string>(),
    isType,
    asType: (resourceClass: unknown) => (isType(resourceClass) ? resource.props : undefined),
    getConfig: () => ({}),
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  } as unknown as ResourceValidationArgs;
  for (const validation of validations) {
    try {
      void validation(args, (message) => messages.push(message));
    } catch (error) {
      if (!(error instanceof NotApplicable)) throw error;
    }
  }
  return messages;
}
