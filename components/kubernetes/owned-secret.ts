/**
 * The Secrets a Kubernetes component owns (credentials its pods read), every value secret in
 * state and in the rendered object; and where a Secret lived before its component owned it.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export function ownedSecret(
  name: string,
  args: {
    namespace: pulumi.Input<string>;
    labels: Record<string, string>;
    data: Record<string, pulumi.Input<string>>;
  },
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  return new k8s.core.v1.Secret(
    name,
    {
      metadata: { name, namespace: args.namespace, labels: args.labels },
      type: "Opaque",
      stringData: pulumi.secret(args.data),
    },
    opts,
  );
}

/** Kubernetes names of the Secrets other objects read by name (workloads, pull Secrets). */
export const SECRET_NAMES = {
  supabase: "supabase",
  integrations: "integrations",
  registry: "registry",
} as const;

/** Labels of the Secrets built from stack config. */
const CONFIG_SECRET_LABELS = {
  "app.kubernetes.io/part-of": "ai-workbench",
  "app.kubernetes.io/managed-by": "pulumi",
};

/**
 * Where a Secret was created before its component owned it: stacks deployed earlier hold it
 * under another resource name and parent (the WorkbenchSecrets hub). The component registers
 * it under `resourceName` with an alias to `urn`, so `pulumi up` keeps the object in place: a
 * Secret with a fixed metadata.name cannot be created before its predecessor is deleted, so a
 * replacement would fail or leave the workloads without it.
 */
export interface SecretOrigin {
  /** The Pulumi resource name it was created under (kept: the state knows it by this name). */
  resourceName: string;
  /** Its URN there (what the alias resolves to). */
  urn: pulumi.Input<string>;
}

/** Type token of the hub that held every Secret of the workbench until each component owned its own. */
export const FORMER_SECRETS_HUB_TYPE = "workbench:kubernetes:WorkbenchSecrets";

/**
 * Where the former WorkbenchSecrets hub named `hubName` (a top-level component) created its
 * Secret `${hubName}-${key}`, e.g. key `llm`, `n8n`, `supabase`, `integrations-n8n`,
 * `registry-workbench`. (A child's URN carries its parent's type, not the parent's name: the
 * hub's name matters through the Secret's resource name.)
 */
export function formerHubSecret(hubName: string, key: string): SecretOrigin {
  const resourceName = `${hubName}-${key}`;
  const hub = pulumi.createUrn(hubName, FORMER_SECRETS_HUB_TYPE);
  return { resourceName, urn: pulumi.createUrn(resourceName, "kubernetes:core/v1:Secret", hub) };
}

/** Secret values by key; an undefined value is left out of the Secret. */
export type SecretData = Record<string, pulumi.Input<string> | undefined>;

/**
 * A Secret of credentials from stack config, named `objectName` in the cluster: only the
 * present values, all of them secret in state. Registered as `resourceName`, or, with an
 * `origin`, under the name and with an alias to the URN it had before.
 */
export function configSecret(
  resourceName: string,
  args: {
    objectName: string;
    namespace: pulumi.Input<string>;
    data: SecretData;
    /** Default `Opaque`. */
    type?: string;
    origin?: SecretOrigin;
  },
  opts: { parent: pulumi.Resource; provider: k8s.Provider },
): k8s.core.v1.Secret {
  const present = Object.fromEntries(
    Object.entries(args.data).filter(
      (entry): entry is [string, pulumi.Input<string>] => entry[1] !== undefined,
    ),
  );
  return new k8s.core.v1.Secret(
    args.origin?.resourceName ?? resourceName,
    {
      metadata: { name: args.objectName, namespace: args.namespace, labels: CONFIG_SECRET_LABELS },
      type: args.type ?? "Opaque",
      stringData: pulumi.secret(present),
    },
    { ...opts, ...(args.origin ? { aliases: [args.origin.urn] } : {}) },
  );
}
