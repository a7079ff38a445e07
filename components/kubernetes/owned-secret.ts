/**
 * The Opaque Secret a Kubernetes component owns (credentials its pods read): named like
 * its Pulumi resource, every value secret in state and in the rendered object.
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
