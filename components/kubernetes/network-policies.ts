import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { isDnsLabel } from "./workload.ts";

/** One NetworkPolicy: its name, namespace and spec (networking.k8s.io/v1). */
export interface PolicyPlan {
  name: string;
  namespace: string;
  spec: NetworkPolicySpec;
}

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/** Ports the platform reaches outside the cluster (the infrastructure README: 443, 5432, 6543). */
export const EGRESS_PORTS = [443, 5432, 6543] as const;

const inNamespace = (namespace: string) => ({
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
});
const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: "TCP", port }));

/** Which namespace may call which: `from` reaches every pod of `to` (ports: all of them). */
export interface NamespaceFlow {
  from: string;
  to: string;
  /** Destination ports; omitted: every port. */
  ports?: number[];
}

export interface NetworkPlanInput {
  /** Namespaces that get default-deny (every managed namespace). */
  namespaces: readonly string[];
  /** Traefik's namespace: open to the load balancer, reaches every namespace's backends. */
  ingressNamespace: string;
  /** Prometheus's namespace: scrapes every namespace. */
  monitoringNamespace: string;
  /** Namespaces whose pods reach the internet on {@link EGRESS_PORTS} (APIs, Supabase, Spaces). */
  internetEgress: readonly string[];
  /**
   * Extra internet ports per namespace, e.g. cert-manager's HTTP-01 self-check on 80
   * (it fetches the challenge from the load balancer before Let's Encrypt does).
   */
  extraEgressPorts?: Readonly<Record<string, readonly number[]>>;
  /** Namespaces whose pods serve webhooks the API server calls (cert-manager, the Prometheus operator). */
  apiServerWebhooks: readonly string[];
  /** Cross-namespace calls, e.g. ai-workbench → litellm on 4000. */
  flows: readonly NamespaceFlow[];
}

/**
 * The NetworkPolicies for the platform (pure, so tests read them): default-deny of ingress
 * and egress in every namespace, then DNS, traffic within a namespace, Traefik to its
 * backends, Prometheus scrapes, internet egress on 443/5432/6543 where needed, webhook
 * calls from the API server, and the listed cross-namespace flows.
 */
export function networkPolicyPlan(input: NetworkPlanInput): PolicyPlan[] {
  const plans: PolicyPlan[] = [];
  const known = new Set(input.namespaces);
  for (const namespace of [
    input.ingressNamespace,
    input.monitoringNamespace,
    ...input.internetEgress,
    ...input.apiServerWebhooks,
    ...input.flows.flatMap((flow) => [flow.from, flow.to]),
  ]) {
    if (!known.has(namespace))
      throw new Error(`network policy names namespace '${namespace}', which is not managed`);
  }

  for (const namespace of input.namespaces) {
    const add = (name: string, spec: NetworkPolicySpec) => plans.push({ name, namespace, spec });
    add("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    add("allow-dns", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [inNamespace("kube-system")],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    });
    add("allow-same-namespace", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [{ podSelector: {} }] }],
      egress: [{ to: [{ podSelector: {} }] }],
    });
    if (namespace !== input.monitoringNamespace) {
      add("allow-monitoring-scrape", {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [{ from: [inNamespace(input.monitoringNamespace)] }],
      });
    }
    if (namespace === input.ingressNamespace) {
      // The load balancer (PROXY protocol from the VPC) and the ACME solvers' callers.
      add("allow-load-balancer", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] });
      add("allow-to-backends", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ to: input.namespaces.map(inNamespace) }],
      });
    } else {
      add("allow-from-ingress", {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [{ from: [inNamespace(input.ingressNamespace)] }],
      });
    }
    if (namespace === input.monitoringNamespace) {
      add("allow-scrape-everything", {
        podSelector: {},
        policyTypes: ["Egress"],
        // Every pod, plus the nodes' node-exporter (9100) and kubelet (10250) on host addresses.
        egress: [
          { to: [{ namespaceSelector: {} }] },
          { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: tcp(9100, 10250) },
        ],
      });
    }
    if (
      input.internetEgress.includes(namespace) ||
      namespace === input.ingressNamespace ||
      namespace === input.monitoringNamespace
    ) {
      // The Kubernetes API (DOKS's control plane is outside the cluster, on 443) counts here too.
      add("allow-internet-egress", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ipBlock: { cidr: "0.0.0.0/0" } }],
            ports: tcp(...EGRESS_PORTS, ...(input.extraEgressPorts?.[namespace] ?? [])),
          },
        ],
      });
    }
    if (input.apiServerWebhooks.includes(namespace)) {
      add("allow-api-server-webhooks", {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [{ ports: tcp(443, 8443, 10250, 10260) }],
      });
    }
    const inbound = input.flows.filter((flow) => flow.to === namespace);
    if (inbound.length > 0) {
      add("allow-from-namespaces", {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: inbound.map((flow) => ({
          from: [inNamespace(flow.from)],
          ...(flow.ports ? { ports: tcp(...flow.ports) } : {}),
        })),
      });
    }
    const outbound = input.flows.filter((flow) => flow.from === namespace);
    if (outbound.length > 0) {
      add("allow-to-namespaces", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: outbound.map((flow) => ({
          to: [inNamespace(flow.to)],
          ...(flow.ports ? { ports: tcp(...flow.ports) } : {}),
        })),
      });
    }
  }
  return plans;
}

export interface NetworkPoliciesArgs extends NetworkPlanInput {
  /** The cluster's Kubernetes provider (Cluster.provider). */
  provider: k8s.Provider;
  /** Namespace name → the Output that carries its creation (Namespaces.nameOf). */
  namespaceOf: (namespace: string) => pulumi.Input<string>;
}

/**
 * The platform's NetworkPolicies (the infrastructure deliverables: optional; here a config switch, on by default):
 * see {@link networkPolicyPlan}. DOKS's CNI (Cilium) enforces them.
 * Token `workbench:kubernetes:NetworkPolicies`.
 */
export class NetworkPolicies extends pulumi.ComponentResource {
  public readonly plans: PolicyPlan[];

  constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:kubernetes:NetworkPolicies", name, {}, opts);

    const invalid = args.namespaces.filter((namespace) => !isDnsLabel(namespace));
    if (invalid.length > 0) {
      throw new pulumi.ResourceError(
        `${name}: namespaces must be DNS labels (got ${invalid.join(", ")})`,
        this,
      );
    }
    try {
      this.plans = networkPolicyPlan(args);
    } catch (error) {
      throw new pulumi.ResourceError(`${name}: ${(error as Error).message}`, this);
    }
    for (const plan of this.plans) {
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${plan.namespace}-${plan.name}`,
        {
          metadata: {
            name: plan.name,
            namespace: args.namespaceOf(plan.namespace),
            labels: { "app.kubernetes.io/part-of": "ai-workbench", "app.kubernetes.io/managed-by": "pulumi" },
          },
          spec: plan.spec,
        },
        { parent: this, provider: args.provider },
      );
    }
    this.registerOutputs({});
  }
}
