/**
 * The workbench's security rules as pure functions over a resource's type, name and
 * inputs: each returns the violation messages (empty when the resource complies). The
 * policy pack (index.ts) reports them; tests call them directly.
 *
 * They see what Pulumi sends the analyzer: the resources this program registers. Objects a
 * Helm chart renders are checked through the release's values where that is possible.
 */
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { imagePinProblem } from "../cloud/image-ref.ts";
import { DATABASE_PORTS, INTERNET, databasePortsIn } from "../cloud/ports.ts";
import { CREDENTIAL_NAME } from "../kubernetes/workload.ts";

/** What a check looks at. */
export interface ResourceUnderTest {
  type: string;
  name: string;
  /** The resource's inputs, secrets unwrapped (as the analyzer passes them). */
  props: Record<string, unknown>;
  /** Resource options the analyzer passes (only additionalSecretOutputs is read). */
  opts?: { additionalSecretOutputs?: string[] };
}

/** Outputs that are credentials: they must be declared secret on their resource. */
export const CREDENTIAL_OUTPUTS: Record<string, string> = {
  "digitalocean:index/kubernetesCluster:KubernetesCluster": "kubeConfigs",
  "digitalocean:index/spacesKey:SpacesKey": "secretKey",
  "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials":
    "dockerCredentials",
  "random:index/randomPassword:RandomPassword": "result",
};

export type Check = (resource: ResourceUnderTest) => string[];

/** Limits for the autoscaling rule. */
export const AUTOSCALING_LIMITS = { minReplicas: 2, maxReplicas: 20, maxNodes: 20 } as const;

// ---- reading resource inputs -----------------------------------------------------------

type Json = Record<string, unknown>;
const obj = (value: unknown): Json =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);
const path = (value: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>((current, key) => obj(current)[key], value);

const POD_SPEC: Record<string, (props: Json) => unknown> = {
  "kubernetes:apps/v1:Deployment": (props) => path(props, "spec", "template", "spec"),
  "kubernetes:apps/v1:StatefulSet": (props) => path(props, "spec", "template", "spec"),
  "kubernetes:apps/v1:DaemonSet": (props) => path(props, "spec", "template", "spec"),
  "kubernetes:apps/v1:ReplicaSet": (props) => path(props, "spec", "template", "spec"),
  "kubernetes:batch/v1:Job": (props) => path(props, "spec", "template", "spec"),
  "kubernetes:batch/v1:CronJob": (props) => path(props, "spec", "jobTemplate", "spec", "template", "spec"),
  "kubernetes:core/v1:Pod": (props) => path(props, "spec"),
};

/** `Deployment "litellm"`: the kind and the Kubernetes name (else the Pulumi name). */
function describeObject(resource: ResourceUnderTest): string {
  const kind = resource.type.slice(resource.type.lastIndexOf(":") + 1);
  return `${kind} "${str(path(resource.props, "metadata", "name")) ?? resource.name}"`;
}

interface ContainerInPod {
  container: Json;
  pod: Json;
  label: string;
}

function containersOf(resource: ResourceUnderTest): ContainerInPod[] {
  const select = POD_SPEC[resource.type];
  if (!select) return [];
  const pod = obj(select(resource.props));
  const owner = describeObject(resource);
  return [
    ...list(pod["initContainers"]).map((container) => ({
      container: obj(container),
      pod,
      label: `Init container "${str(obj(container)["name"])}" in ${owner}`,
    })),
    ...list(pod["containers"]).map((container) => ({
      container: obj(container),
      pod,
      label: `Container "${str(obj(container)["name"])}" in ${owner}`,
    })),
  ];
}

/** Strings that are credentials by their shape, whatever the key. */
const CREDENTIAL_VALUE = [
  /\bsk-ant-[A-Za-z0-9_-]{10,}/, // Anthropic
  /\bsk-(proj-)?[A-Za-z0-9_-]{20,}/, // OpenAI, LiteLLM
  /\bAIza[0-9A-Za-z_-]{30,}/, // Google
  /\bdop_v1_[a-f0-9]{20,}/, // DigitalOcean
  /\bgh[pousr]_[A-Za-z0-9]{20,}/, // GitHub
  /\bxox[abpr]-[A-Za-z0-9-]{10,}/, // Slack
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@/]+@/, // URL with user:password
  /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/, // JWT (e.g. Supabase keys)
];

export function looksLikeCredential(value: string): boolean {
  return CREDENTIAL_VALUE.some((pattern) => pattern.test(value));
}

function looksLikeKubeconfig(value: string): boolean {
  return (
    /client-key-data:|client-certificate-data:/.test(value) ||
    (/kind:\s*Config\b/.test(value) && /\busers:/.test(value))
  );
}

/** A literal (non-reference) value a credential-named variable must not carry. */
const isLiteral = (value: string) => value !== "" && !value.startsWith("os.environ/");

// ---- 1. non-root -----------------------------------------------------------------------

export const nonRootContainers: Check = (resource) =>
  containersOf(resource).flatMap(({ container, pod, label }) => {
    const containerContext = obj(container["securityContext"]);
    const podContext = obj(pod["securityContext"]);
    const user = num(containerContext["runAsUser"]) ?? num(podContext["runAsUser"]);
    if (user === 0) return [`${label} runs as root (runAsUser 0): run it as a non-root UID.`];
    const nonRoot = containerContext["runAsNonRoot"] ?? podContext["runAsNonRoot"];
    if (nonRoot !== true) {
      return [
        `${label} may run as root: set securityContext.runAsNonRoot: true on the pod or the container.`,
      ];
    }
    if (containerContext["privileged"] === true)
      return [`${label} is privileged: remove securityContext.privileged.`];
    return [];
  });

// ---- 2. requests and limits ------------------------------------------------------------

export const requestsAndLimits: Check = (resource) =>
  containersOf(resource).flatMap(({ container, label }) => {
    const resources = obj(container["resources"]);
    const missing = (["requests", "limits"] as const).flatMap((kind) =>
      (["cpu", "memory"] as const)
        .filter((unit) => path(resources, kind, unit) === undefined)
        .map((unit) => `resources.${kind}.${unit}`),
    );
    return missing.length === 0
      ? []
      : [`${label} has no ${missing.join(", ")}: set CPU and memory requests and limits.`];
  });

// ---- 3. no plaintext secrets in env ----------------------------------------------------

const APP_COMPONENTS = ["services", "workers", "jobs", "staticSites", "functions"] as const;

export const noPlaintextSecretsInEnv: Check = (resource) => {
  if (resource.type === "digitalocean:index/app:App") {
    const spec = obj(resource.props["spec"]);
    const app = str(spec["name"]) ?? resource.name;
    const envs: [string, Json][] = [
      ...list(spec["envs"]).map((env): [string, Json] => [`App "${app}"`, obj(env)]),
      ...APP_COMPONENTS.flatMap((kind) =>
        list(spec[kind]).flatMap((component) =>
          list(obj(component)["envs"]).map((env): [string, Json] => [
            `App "${app}" component "${str(obj(component)["name"])}"`,
            obj(env),
          ]),
        ),
      ),
    ];
    return envs.flatMap(([owner, env]) => {
      const key = str(env["key"]) ?? "";
      const value = str(env["value"]) ?? "";
      const credential = CREDENTIAL_NAME.test(key) || looksLikeCredential(value);
      return credential && env["type"] !== "SECRET"
        ? [`${owner} sets ${key} as a plaintext env: give it type SECRET.`]
        : [];
    });
  }
  return containersOf(resource).flatMap(({ container, label }) =>
    list(container["env"]).flatMap((entry) => {
      const env = obj(entry);
      const name = str(env["name"]) ?? "";
      const value = str(env["value"]);
      if (value === undefined || !isLiteral(value)) return [];
      return CREDENTIAL_NAME.test(name) || looksLikeCredential(value)
        ? [`${label} sets ${name} as a plaintext value: read it from a Secret (valueFrom.secretKeyRef).`]
        : [];
    }),
  );
};

// ---- 4. TLS on every ingress -----------------------------------------------------------

function tlsCovers(tlsHosts: string[], host: string): boolean {
  return tlsHosts.some((tlsHost) =>
    tlsHost.startsWith("*.")
      ? host.endsWith(tlsHost.slice(1)) && !host.slice(0, -tlsHost.length + 1).includes(".")
      : tlsHost === host,
  );
}

export const ingressTls: Check = (resource) => {
  if (resource.type === "kubernetes:networking.k8s.io/v1:Ingress") {
    const spec = obj(resource.props["spec"]);
    const hosts = list(spec["rules"]).flatMap((rule) =>
      str(obj(rule)["host"]) ? [str(obj(rule)["host"]) as string] : [],
    );
    const tls = list(spec["tls"]);
    const label = describeObject(resource);
    if (tls.length === 0) {
      return [
        `${label} has no TLS: add spec.tls covering ${hosts.length > 0 ? hosts.join(", ") : "its hosts"}.`,
      ];
    }
    const tlsHosts = tls.flatMap((entry) =>
      list(obj(entry)["hosts"]).flatMap((host) => (str(host) ? [host as string] : [])),
    );
    if (hosts.length === 0) return [`${label} has no host: name the hosts its TLS certificate covers.`];
    return hosts
      .filter((host) => !tlsCovers(tlsHosts, host))
      .map((host) => `${label} serves ${host} without TLS: add it to spec.tls hosts.`);
  }
  if (resource.type === "kubernetes:helm.sh/v3:Release") {
    const ingress = obj(obj(resource.props["values"])["ingress"]);
    if (ingress["enabled"] === true && list(ingress["tls"]).length === 0) {
      return [
        `Helm release "${str(resource.props["name"]) ?? resource.name}" enables an ingress without TLS: set ingress.tls.`,
      ];
    }
  }
  return [];
};

// ---- 5. no database port open to the internet ------------------------------------------

export const noDatabasePortsToInternet: Check = (resource) => {
  if (resource.type !== "digitalocean:index/firewall:Firewall") return [];
  const firewall = str(resource.props["name"]) ?? resource.name;
  return list(resource.props["inboundRules"]).flatMap((entry) => {
    const rule = obj(entry);
    if (!["tcp", "udp"].includes(str(rule["protocol"]) ?? "")) return [];
    const open = list(rule["sourceAddresses"]).filter((source): source is string =>
      INTERNET.includes(source as string),
    );
    if (open.length === 0) return [];
    return databasePortsIn(str(rule["portRange"])).map(
      (port) =>
        `Firewall "${firewall}" opens port ${port} (${DATABASE_PORTS.get(port)}) to ${open.join(", ")}: allow only the VPC or known addresses.`,
    );
  });
};

// ---- 6. private Spaces -----------------------------------------------------------------

export const privateSpaces: Check = (resource) => {
  const acl = str(resource.props["acl"]);
  if (
    resource.type === "digitalocean:index/spacesBucket:SpacesBucket" &&
    acl !== undefined &&
    acl !== "private"
  ) {
    return [
      `Spaces bucket "${str(resource.props["name"]) ?? resource.name}" has acl "${acl}": Spaces buckets must be private.`,
    ];
  }
  if (
    resource.type === "digitalocean:index/spacesBucketObject:SpacesBucketObject" &&
    acl !== undefined &&
    acl !== "private"
  ) {
    return [
      `Spaces object "${str(resource.props["key"]) ?? resource.name}" has acl "${acl}": objects must be private.`,
    ];
  }
  return [];
};

// ---- 7. credentials only in Secrets ----------------------------------------------------

/** Where, in a values tree, a credential appears as a literal (dotted paths). */
export function credentialPaths(value: unknown, prefix = ""): string[] {
  if (typeof value === "string")
    return looksLikeCredential(value) || looksLikeKubeconfig(value) ? [prefix || "(root)"] : [];
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => {
      const entry = obj(item);
      // {name, value} env entries: the name says whether the value is a credential.
      const name = str(entry["name"]);
      const literal = str(entry["value"]);
      if (name && literal !== undefined && isLiteral(literal) && CREDENTIAL_NAME.test(name))
        return [`${prefix}[${index}] (${name})`];
      return credentialPaths(item, `${prefix}[${index}]`);
    });
  }
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([key, inner]) => {
      const at = prefix ? `${prefix}.${key}` : key;
      // Env-var-shaped keys (UPPER_SNAKE) holding literals, e.g. secretRefs.env.N8N_ENCRYPTION_KEY.
      if (
        typeof inner === "string" &&
        /^[A-Z][A-Z0-9_]*$/.test(key) &&
        CREDENTIAL_NAME.test(key) &&
        isLiteral(inner)
      )
        return [at];
      return credentialPaths(inner, at);
    });
  }
  return [];
}

export const credentialsOnlyInSecrets: Check = (resource) => {
  const credentialOutput = CREDENTIAL_OUTPUTS[resource.type];
  if (credentialOutput !== undefined && resource.opts !== undefined) {
    const declared = resource.opts.additionalSecretOutputs ?? [];
    if (!declared.includes(credentialOutput)) {
      return [
        `${describeObject(resource)} must keep ${credentialOutput} secret: list it in additionalSecretOutputs.`,
      ];
    }
    return [];
  }
  switch (resource.type) {
    case "kubernetes:core/v1:ConfigMap": {
      const label = describeObject(resource);
      return Object.entries({ ...obj(resource.props["data"]), ...obj(resource.props["binaryData"]) }).flatMap(
        ([key, raw]) => {
          const value = str(raw) ?? "";
          if (looksLikeKubeconfig(value))
            return [`${label} key ${key} holds a kubeconfig: keep it in a Secret.`];
          if (CREDENTIAL_NAME.test(key) && isLiteral(value))
            return [`${label} holds ${key}: keep credentials in a Secret.`];
          if (looksLikeCredential(value)) {
            return [
              `${label} key ${key} contains a credential: reference it (os.environ/NAME, secretKeyRef) instead.`,
            ];
          }
          return [];
        },
      );
    }
    case "pulumi:providers:kubernetes": {
      const kubeconfig = str(resource.props["kubeconfig"]);
      if (!kubeconfig) {
        return [
          `Kubernetes provider "${resource.name}" has no kubeconfig: build it from the cluster's kubeconfig output, never the ambient ~/.kube/config.`,
        ];
      }
      return [];
    }
    case "kubernetes:helm.sh/v3:Release": {
      const release = str(resource.props["name"]) ?? resource.name;
      return credentialPaths(resource.props["values"]).map(
        (at) =>
          `Helm release "${release}" has a credential in values at ${at}: put it in a Secret and reference the Secret.`,
      );
    }
    default:
      return [];
  }
};

// ---- 8. sane autoscaling bounds --------------------------------------------------------

function boundsProblems(
  label: string,
  min: number | undefined,
  max: number | undefined,
  floor: number,
  ceiling: number,
): string[] {
  const problems: string[] = [];
  if (min === undefined || max === undefined)
    return [`${label} has no minReplicas/maxReplicas: set both bounds.`];
  if (min < floor) problems.push(`${label} has minReplicas ${min}: keep at least ${floor} for availability.`);
  if (max < min) problems.push(`${label} has maxReplicas ${max} below minReplicas ${min}.`);
  if (max > ceiling) problems.push(`${label} has maxReplicas ${max}: at most ${ceiling}.`);
  return problems;
}

export const saneAutoscaling: Check = (resource) => {
  const { minReplicas: floor, maxReplicas: ceiling, maxNodes } = AUTOSCALING_LIMITS;
  if (
    resource.type.startsWith("kubernetes:autoscaling/") &&
    resource.type.endsWith(":HorizontalPodAutoscaler")
  ) {
    const spec = obj(resource.props["spec"]);
    return boundsProblems(
      describeObject(resource),
      num(spec["minReplicas"]) ?? 1,
      num(spec["maxReplicas"]),
      floor,
      ceiling,
    );
  }
  if (resource.type === "digitalocean:index/kubernetesCluster:KubernetesCluster") {
    const pool = obj(resource.props["nodePool"]);
    const label = `Node pool "${str(pool["name"])}" of cluster "${str(resource.props["name"]) ?? resource.name}"`;
    if (pool["autoScale"] !== true)
      return [`${label} does not autoscale: set autoScale with minNodes and maxNodes.`];
    const min = num(pool["minNodes"]);
    const max = num(pool["maxNodes"]);
    if (min === undefined || max === undefined)
      return [`${label} has no minNodes/maxNodes: set both bounds.`];
    const problems: string[] = [];
    if (min < 1) problems.push(`${label} has minNodes ${min}: at least 1.`);
    if (max < min) problems.push(`${label} has maxNodes ${max} below minNodes ${min}.`);
    if (max > maxNodes) problems.push(`${label} autoscales to ${max} nodes: at most ${maxNodes}.`);
    return problems;
  }
  if (resource.type === "kubernetes:helm.sh/v3:Release") {
    const release = str(resource.props["name"]) ?? resource.name;
    const values = obj(resource.props["values"]);
    const candidates: [string, Json][] = [
      ["autoscaling", obj(values["autoscaling"])],
      ...Object.entries(obj(values["hpa"])).map(([key, value]): [string, Json] => [`hpa.${key}`, obj(value)]),
    ];
    return candidates
      .filter(([, bounds]) => bounds["enabled"] === true)
      .flatMap(([at, bounds]) =>
        boundsProblems(
          `Helm release "${release}" ${at}`,
          num(bounds["minReplicas"]),
          num(bounds["maxReplicas"]),
          floor,
          ceiling,
        ),
      );
  }
  return [];
};

// ---- 9. pinned image tags --------------------------------------------------------------

export const pinnedImages: Check = (resource) => {
  if (resource.type === "digitalocean:index/app:App") {
    const spec = obj(resource.props["spec"]);
    const app = str(spec["name"]) ?? resource.name;
    return APP_COMPONENTS.flatMap((kind) =>
      list(spec[kind]).flatMap((component) => {
        const image = obj(obj(component)["image"]);
        if (Object.keys(image).length === 0) return [];
        const tag = str(image["tag"]);
        const label = `App "${app}" component "${str(obj(component)["name"])}"`;
        if (str(image["digest"])) return [];
        if (!tag) return [`${label} image has no tag or digest: pin a version.`];
        return imagePinProblem(`${str(image["repository"])}:${tag}`)
          ? [`${label} image uses the floating tag "${tag}": pin a version.`]
          : [];
      }),
    );
  }
  if (resource.type === "kubernetes:helm.sh/v3:Release") {
    const tag = str(path(resource.props["values"], "image", "tag"));
    if (tag !== undefined && imagePinProblem(`image:${tag}`)) {
      return [
        `Helm release "${str(resource.props["name"]) ?? resource.name}" sets image.tag "${tag}": pin a version.`,
      ];
    }
    return [];
  }
  return containersOf(resource).flatMap(({ container, label }) => {
    const image = str(container["image"]) ?? "";
    const problem = imagePinProblem(image);
    return problem ? [`${label} image "${image}" ${problem}.`] : [];
  });
};

// ---- the policies ----------------------------------------------------------------------

const CHECKS: { name: string; description: string; check: Check }[] = [
  {
    name: "containers-run-as-non-root",
    description: "Every container runs as a non-root user.",
    check: nonRootContainers,
  },
  {
    name: "containers-have-requests-and-limits",
    description: "Every container sets CPU and memory requests and limits.",
    check: requestsAndLimits,
  },
  {
    name: "no-plaintext-secrets-in-env",
    description:
      "Credentials reach containers and apps only from Secrets (Kubernetes secretKeyRef, App Platform SECRET envs).",
    check: noPlaintextSecretsInEnv,
  },
  {
    name: "ingress-requires-tls",
    description: "Every ingress terminates TLS for all its hosts.",
    check: ingressTls,
  },
  {
    name: "no-database-ports-open-to-internet",
    description:
      "No firewall opens a database port (5432, 6543, 3306, 6379, 27017, 6333, ...) to 0.0.0.0/0 or ::/0.",
    check: noDatabasePortsToInternet,
  },
  {
    name: "spaces-buckets-private",
    description: "Spaces buckets and objects are private.",
    check: privateSpaces,
  },
  {
    name: "credentials-only-in-secrets",
    description:
      "Kubeconfigs and keys live only in Secrets: never in ConfigMaps or Helm values; credential outputs (kubeconfig, keys, passwords) are secret; the Kubernetes provider gets an explicit kubeconfig.",
    check: credentialsOnlyInSecrets,
  },
  {
    name: "sane-autoscaling-bounds",
    description: `Autoscalers keep ${AUTOSCALING_LIMITS.minReplicas}-${AUTOSCALING_LIMITS.maxReplicas} replicas and node pools 1-${AUTOSCALING_LIMITS.maxNodes} nodes.`,
    check: saneAutoscaling,
  },
  {
    name: "pinned-image-tags",
    description: "Every image is pinned to a version tag or digest (no latest, no untagged).",
    check: pinnedImages,
  },
];

/** Runs a check for the policy framework. */
export function asValidation(check: Check) {
  return (
    args: Pick<ResourceValidationArgs, "type" | "name" | "props"> & {
      opts?: { additionalSecretOutputs?: string[] };
    },
    reportViolation: ReportViolation,
  ): void => {
    const opts = { additionalSecretOutputs: args.opts?.additionalSecretOutputs ?? [] };
    for (const message of check({ type: args.type, name: args.name, props: args.props, opts }))
      reportViolation(message);
  };
}

/** The pack's policies, all mandatory. */
export const WORKBENCH_POLICIES: ResourceValidationPolicy[] = CHECKS.map(({ name, description, check }) => ({
  name,
  description,
  enforcementLevel: "mandatory",
  validateResource: asValidation(check),
}));

/** Every violation of every policy for one resource, as `<policy>: <message>`. */
export function violations(resource: ResourceUnderTest): string[] {
  return CHECKS.flatMap(({ name, check }) => check(resource).map((message) => `${name}: ${message}`));
}
