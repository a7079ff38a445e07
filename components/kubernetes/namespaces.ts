import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { isDnsLabel } from "./workload.ts";

/** The workbench's namespaces (the infrastructure deliverables). */
export const WORKBENCH_NAMESPACES = [
  "ai-workbench",
  "n8n",
  "litellm",
  "qdrant",
  "neo4j",
  "langfuse",
  "traefik",
  "monitoring",
  "cert-manager",
] as const;
export type WorkbenchNamespace = (typeof WORKBENCH_NAMESPACES)[number];

export interface NamespacesArgs {
  /** The cluster's Kubernetes provider (Cluster.provider). */
  provider: k8s.Provider;
  /** Namespace names (DNS labels, no duplicates). Default {@link WORKBENCH_NAMESPACES}. */
  names?: readonly string[];
  /**
   * Pod Security Standard enforced in every namespace. Default `baseline` (the charts' pods
   * meet it), with `restricted` audited and warned about.
   */
  enforce?: "privileged" | "baseline" | "restricted";
  /**
   * Per-namespace exceptions to `enforce`, e.g. `{ monitoring: "privileged" }` for
   * node-exporter (host network, PID and paths). Default none.
   */
  enforceIn?: Readonly<Record<string, "privileged" | "baseline" | "restricted">>;
}

/**
 * The workbench's namespaces with Pod Security labels. Other components take a namespace
 * name from {@link Namespaces.nameOf}, which carries the dependency on its creation.
 * Token `workbench:kubernetes:Namespaces`.
 */
export class Namespaces extends pulumi.ComponentResource {
  public readonly names: pulumi.Output<string[]>;
  private readonly created = new Map<string, k8s.core.v1.Namespace>();

  constructor(name: string, args: NamespacesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:kubernetes:Namespaces", name, {}, opts);

    const names = args.names ?? WORKBENCH_NAMESPACES;
    const enforce = args.enforce ?? "baseline";
    const invalid = names.filter((namespace) => !isDnsLabel(namespace));
    if (invalid.length > 0) {
      throw new pulumi.ResourceError(
        `${name}: namespace names must be DNS labels (got ${invalid.join(", ")})`,
        this,
      );
    }
    const unknown = Object.keys(args.enforceIn ?? {}).filter((namespace) => !names.includes(namespace));
    if (unknown.length > 0) {
      throw new pulumi.ResourceError(
        `${name}: enforceIn names ${unknown.join(", ")}, which is not managed here`,
        this,
      );
    }
    const duplicates = names.filter((namespace, index) => names.indexOf(namespace) !== index);
    if (duplicates.length > 0) {
      throw new pulumi.ResourceError(`${name}: namespace ${duplicates.join(", ")} is listed twice`, this);
    }

    for (const namespace of names) {
      this.created.set(
        namespace,
        new k8s.core.v1.Namespace(
          `${name}-${namespace}`,
          {
            metadata: {
              name: namespace,
              labels: {
                "app.kubernetes.io/part-of": "ai-workbench",
                "app.kubernetes.io/managed-by": "pulumi",
                "pod-security.kubernetes.io/enforce": args.enforceIn?.[namespace] ?? enforce,
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
              },
            },
          },
          { parent: this, provider: args.provider },
        ),
      );
    }

    this.names = pulumi.all([...this.created.values()].map((namespace) => namespace.metadata.name));
    this.registerOutputs({ names: this.names });
  }

  /** The namespace's name as an Output that depends on the namespace existing. */
  nameOf(namespace: string): pulumi.Output<string> {
    const created = this.created.get(namespace);
    if (!created)
      throw new Error(
        `namespace '${namespace}' is not managed here (have: ${[...this.created.keys()].join(", ")})`,
      );
    return created.metadata.name;
  }
}
