/**
 * The policy pack's rules: each with a resource that passes and one that fails, with the
 * exact message. The pack itself (components/policy/index.ts) starts the analyzer server
 * when constructed, so the tests use the rules and the policy objects it is built from.
 */
import { describe, expect, it } from "vitest";
import {
  asValidation,
  credentialPaths,
  credentialsOnlyInSecrets,
  ingressTls,
  noDatabasePortsToInternet,
  nonRootContainers,
  noPlaintextSecretsInEnv,
  pinnedImages,
  privateSpaces,
  requestsAndLimits,
  type ResourceUnderTest,
  saneAutoscaling,
  violations,
  WORKBENCH_POLICIES,
} from "../../../components/policy/validations.ts";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const container = (overrides: Record<string, unknown> = {}) => ({
  name: "api",
  image: "registry.digitalocean.com/ai-workbench/workbench-api:0.1.0",
  resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true },
  env: [{ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "supabase", key: "DATABASE_URL" } } }],
  ...overrides,
});
const deployment = (
  containerOverrides: Record<string, unknown> = {},
  podOverrides: Record<string, unknown> = {},
): ResourceUnderTest => ({
  type: DEPLOYMENT,
  name: "workbench-api",
  props: {
    metadata: { name: "api", namespace: "ai-workbench" },
    spec: {
      template: {
        spec: {
          securityContext: { runAsUser: 10001 },
          containers: [container(containerOverrides)],
          ...podOverrides,
        },
      },
    },
  },
});
const cronJob = (containerOverrides: Record<string, unknown>): ResourceUnderTest => ({
  type: "kubernetes:batch/v1:CronJob",
  name: "dbt-ingest",
  props: {
    metadata: { name: "dbt-ingest" },
    spec: {
      jobTemplate: {
        spec: { template: { spec: { containers: [container({ name: "dbt", ...containerOverrides })] } } },
      },
    },
  },
});

describe("the policy pack", () => {
  it("has the nine rules, all mandatory, each reporting through the framework's callback", () => {
    expect(WORKBENCH_POLICIES.map((policy) => [policy.name, policy.enforcementLevel])).toEqual([
      ["containers-run-as-non-root", "mandatory"],
      ["containers-have-requests-and-limits", "mandatory"],
      ["no-plaintext-secrets-in-env", "mandatory"],
      ["ingress-requires-tls", "mandatory"],
      ["no-database-ports-open-to-internet", "mandatory"],
      ["spaces-buckets-private", "mandatory"],
      ["credentials-only-in-secrets", "mandatory"],
      ["sane-autoscaling-bounds", "mandatory"],
      ["pinned-image-tags", "mandatory"],
    ]);
    const reported: string[] = [];
    const policy = WORKBENCH_POLICIES[0];
    const validate = policy?.validateResource as (args: unknown, report: (message: string) => void) => void;
    validate(deployment({ securityContext: {} }, { securityContext: {} }), (message) =>
      reported.push(message),
    );
    expect(reported).toEqual([
      'Container "api" in Deployment "api" may run as root: set securityContext.runAsNonRoot: true on the pod or the container.',
    ]);
    const none: string[] = [];
    asValidation(nonRootContainers)(deployment(), (message) => none.push(message));
    expect(none).toEqual([]);
  });

  it("finds nothing wrong with a compliant deployment", () => {
    expect(violations(deployment())).toEqual([]);
  });
});

describe("containers-run-as-non-root", () => {
  it("passes runAsNonRoot on the container or the pod", () => {
    expect(nonRootContainers(deployment())).toEqual([]);
    expect(
      nonRootContainers(deployment({ securityContext: {} }, { securityContext: { runAsNonRoot: true } })),
    ).toEqual([]);
  });

  it("fails a container that may run as root, or does", () => {
    expect(nonRootContainers(deployment({ securityContext: {} }, { securityContext: {} }))).toEqual([
      'Container "api" in Deployment "api" may run as root: set securityContext.runAsNonRoot: true on the pod or the container.',
    ]);
    expect(nonRootContainers(deployment({ securityContext: { runAsUser: 0, runAsNonRoot: true } }))).toEqual([
      'Container "api" in Deployment "api" runs as root (runAsUser 0): run it as a non-root UID.',
    ]);
    expect(nonRootContainers(cronJob({ securityContext: { runAsNonRoot: false } }))).toEqual([
      'Container "dbt" in CronJob "dbt-ingest" may run as root: set securityContext.runAsNonRoot: true on the pod or the container.',
    ]);
  });
});

describe("containers-have-requests-and-limits", () => {
  it("passes CPU and memory requests and limits", () => {
    expect(requestsAndLimits(deployment())).toEqual([]);
  });

  it("fails a container missing any of them", () => {
    expect(requestsAndLimits(deployment({ resources: { requests: { cpu: "100m" } } }))).toEqual([
      'Container "api" in Deployment "api" has no resources.requests.memory, resources.limits.cpu, resources.limits.memory: set CPU and memory requests and limits.',
    ]);
    expect(
      requestsAndLimits(deployment({}, { initContainers: [{ name: "migrate", image: "x:1" }] })),
    ).toEqual([
      'Init container "migrate" in Deployment "api" has no resources.requests.cpu, resources.requests.memory, resources.limits.cpu, resources.limits.memory: set CPU and memory requests and limits.',
    ]);
  });
});

describe("no-plaintext-secrets-in-env", () => {
  it("passes credentials from secretKeyRef and plain settings as values", () => {
    expect(
      noPlaintextSecretsInEnv(
        deployment({ env: [{ name: "LOG_LEVEL", value: "info" }, ...container().env] }),
      ),
    ).toEqual([]);
  });

  it("fails a credential-named variable with a literal, or a literal that is a key", () => {
    expect(
      noPlaintextSecretsInEnv(deployment({ env: [{ name: "OPENAI_API_KEY", value: "not-a-real-key" }] })),
    ).toEqual([
      'Container "api" in Deployment "api" sets OPENAI_API_KEY as a plaintext value: read it from a Secret (valueFrom.secretKeyRef).',
    ]);
    expect(
      noPlaintextSecretsInEnv(
        deployment({ env: [{ name: "UPSTREAM", value: "postgresql://app:hunter2@db:5432/app" }] }),
      ),
    ).toEqual([
      'Container "api" in Deployment "api" sets UPSTREAM as a plaintext value: read it from a Secret (valueFrom.secretKeyRef).',
    ]);
  });

  const app = (env: Record<string, unknown>): ResourceUnderTest => ({
    type: "digitalocean:index/app:App",
    name: "ocr",
    props: { spec: { name: "ocr-backend", services: [{ name: "ocr-backend", envs: [env] }] } },
  });

  it("passes App Platform credentials of type SECRET", () => {
    expect(
      noPlaintextSecretsInEnv(app({ key: "DATABASE_URL", value: "postgresql://u:p@h/db", type: "SECRET" })),
    ).toEqual([]);
    expect(
      noPlaintextSecretsInEnv(
        app({ key: "SUPABASE_URL", value: "https://abcd.supabase.co", type: "GENERAL" }),
      ),
    ).toEqual([]);
  });

  it("fails App Platform credentials of type GENERAL", () => {
    expect(
      noPlaintextSecretsInEnv(app({ key: "DATABASE_URL", value: "postgresql://u:p@h/db", type: "GENERAL" })),
    ).toEqual([
      'App "ocr-backend" component "ocr-backend" sets DATABASE_URL as a plaintext env: give it type SECRET.',
    ]);
  });
});

describe("ingress-requires-tls", () => {
  const ingress = (tls: unknown): ResourceUnderTest => ({
    type: "kubernetes:networking.k8s.io/v1:Ingress",
    name: "workbench-ingress",
    props: {
      metadata: { name: "workbench" },
      spec: {
        rules: [{ host: "workbench.example.com" }, { host: "api.workbench.example.com" }],
        ...(tls ? { tls } : {}),
      },
    },
  });

  it("passes an ingress whose TLS covers every host (wildcards included)", () => {
    expect(ingressTls(ingress([{ hosts: ["workbench.example.com", "api.workbench.example.com"] }]))).toEqual(
      [],
    );
    expect(ingressTls(ingress([{ hosts: ["workbench.example.com", "*.workbench.example.com"] }]))).toEqual(
      [],
    );
  });

  it("fails an ingress without TLS, or with a host left out", () => {
    expect(ingressTls(ingress(undefined))).toEqual([
      'Ingress "workbench" has no TLS: add spec.tls covering workbench.example.com, api.workbench.example.com.',
    ]);
    expect(ingressTls(ingress([{ hosts: ["workbench.example.com"] }]))).toEqual([
      'Ingress "workbench" serves api.workbench.example.com without TLS: add it to spec.tls hosts.',
    ]);
  });

  it("checks a Helm release's ingress values", () => {
    const release = (values: unknown): ResourceUnderTest => ({
      type: "kubernetes:helm.sh/v3:Release",
      name: "n8n",
      props: { name: "n8n", values },
    });
    expect(
      ingressTls(release({ ingress: { enabled: true, tls: [{ hosts: ["n8n.example.com"] }] } })),
    ).toEqual([]);
    expect(ingressTls(release({ ingress: { enabled: true, tls: [] } }))).toEqual([
      'Helm release "n8n" enables an ingress without TLS: set ingress.tls.',
    ]);
  });
});

describe("no-database-ports-open-to-internet", () => {
  const firewall = (rules: unknown[]): ResourceUnderTest => ({
    type: "digitalocean:index/firewall:Firewall",
    name: "wb-firewall",
    props: { name: "wb-firewall", inboundRules: rules },
  });

  it("passes web ports from the internet and database ports from the VPC", () => {
    expect(
      noDatabasePortsToInternet(
        firewall([
          { protocol: "tcp", portRange: "443", sourceAddresses: ["0.0.0.0/0", "::/0"] },
          { protocol: "tcp", portRange: "5432", sourceAddresses: ["10.10.0.0/16"] },
        ]),
      ),
    ).toEqual([]);
  });

  it("fails a database port, or a range holding one, open to 0.0.0.0/0 or ::/0", () => {
    expect(
      noDatabasePortsToInternet(
        firewall([{ protocol: "tcp", portRange: "5432", sourceAddresses: ["0.0.0.0/0"] }]),
      ),
    ).toEqual([
      'Firewall "wb-firewall" opens port 5432 (PostgreSQL) to 0.0.0.0/0: allow only the VPC or known addresses.',
    ]);
    expect(
      noDatabasePortsToInternet(
        firewall([{ protocol: "tcp", portRange: "6300-6400", sourceAddresses: ["::/0"] }]),
      ),
    ).toEqual([
      'Firewall "wb-firewall" opens port 6333 (Qdrant) to ::/0: allow only the VPC or known addresses.',
      'Firewall "wb-firewall" opens port 6334 (Qdrant gRPC) to ::/0: allow only the VPC or known addresses.',
      'Firewall "wb-firewall" opens port 6379 (Redis) to ::/0: allow only the VPC or known addresses.',
    ]);
  });
});

describe("spaces-buckets-private", () => {
  const bucket = (acl: string): ResourceUnderTest => ({
    type: "digitalocean:index/spacesBucket:SpacesBucket",
    name: "data",
    props: { name: "wb-data", acl },
  });

  it("passes a private bucket", () => {
    expect(privateSpaces(bucket("private"))).toEqual([]);
  });

  it("fails a public bucket", () => {
    expect(privateSpaces(bucket("public-read"))).toEqual([
      'Spaces bucket "wb-data" has acl "public-read": Spaces buckets must be private.',
    ]);
  });
});

describe("credentials-only-in-secrets", () => {
  const configMap = (data: Record<string, string>): ResourceUnderTest => ({
    type: "kubernetes:core/v1:ConfigMap",
    name: "litellm-config",
    props: { metadata: { name: "litellm-config" }, data },
  });

  it("passes configuration that references credentials", () => {
    expect(
      credentialsOnlyInSecrets(
        configMap({
          "config.yaml": "model_list:\n  - litellm_params:\n      api_key: os.environ/OPENAI_API_KEY\n",
        }),
      ),
    ).toEqual([]);
  });

  it("fails keys, credential-named entries and kubeconfigs in a ConfigMap", () => {
    expect(
      credentialsOnlyInSecrets(
        configMap({ "config.yaml": "api_key: sk-proj-abcdefghijklmnopqrstuvwxyz012345" }),
      ),
    ).toEqual([
      'ConfigMap "litellm-config" key config.yaml contains a credential: reference it (os.environ/NAME, secretKeyRef) instead.',
    ]);
    expect(credentialsOnlyInSecrets(configMap({ OPENAI_API_KEY: "abc" }))).toEqual([
      'ConfigMap "litellm-config" holds OPENAI_API_KEY: keep credentials in a Secret.',
    ]);
    expect(
      credentialsOnlyInSecrets(configMap({ admin: "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n" })),
    ).toEqual(['ConfigMap "litellm-config" key admin holds a kubeconfig: keep it in a Secret.']);
  });

  it("requires the Kubernetes provider to get an explicit kubeconfig", () => {
    const provider = (props: Record<string, unknown>): ResourceUnderTest => ({
      type: "pulumi:providers:kubernetes",
      name: "wb-k8s",
      props,
    });
    expect(credentialsOnlyInSecrets(provider({ kubeconfig: "apiVersion: v1\nkind: Config\n" }))).toEqual([]);
    expect(credentialsOnlyInSecrets(provider({}))).toEqual([
      `Kubernetes provider "wb-k8s" has no kubeconfig: build it from the cluster's kubeconfig output, never the ambient ~/.kube/config.`,
    ]);
  });

  it("requires credential outputs (kubeconfig, keys, passwords) to be declared secret", () => {
    const doks = (additionalSecretOutputs: string[]): ResourceUnderTest => ({
      type: "digitalocean:index/kubernetesCluster:KubernetesCluster",
      name: "wb",
      props: { name: "wb" },
      opts: { additionalSecretOutputs },
    });
    expect(credentialsOnlyInSecrets(doks(["kubeConfigs"]))).toEqual([]);
    expect(credentialsOnlyInSecrets(doks([]))).toEqual([
      'KubernetesCluster "wb" must keep kubeConfigs secret: list it in additionalSecretOutputs.',
    ]);
    const reported: string[] = [];
    const policy = WORKBENCH_POLICIES.find((candidate) => candidate.name === "credentials-only-in-secrets");
    const validate = policy?.validateResource as (args: unknown, report: (message: string) => void) => void;
    validate(
      {
        type: "random:index/randomPassword:RandomPassword",
        name: "key",
        props: {},
        opts: { additionalSecretOutputs: ["result"] },
      },
      (message) => reported.push(message),
    );
    expect(reported).toEqual([]);
  });

  it("fails literal credentials in Helm values, not references to Secrets", () => {
    const release = (values: unknown): ResourceUnderTest => ({
      type: "kubernetes:helm.sh/v3:Release",
      name: "n8n",
      props: { name: "n8n", values },
    });
    expect(
      credentialsOnlyInSecrets(
        release({
          secretRefs: { existingSecret: "n8n-core" },
          database: { passwordSecret: { name: "n8n-core", key: "DB_POSTGRESDB_PASSWORD" } },
        }),
      ),
    ).toEqual([]);
    expect(
      credentialsOnlyInSecrets(release({ secretRefs: { env: { N8N_ENCRYPTION_KEY: "change-me" } } })),
    ).toEqual([
      'Helm release "n8n" has a credential in values at secretRefs.env.N8N_ENCRYPTION_KEY: put it in a Secret and reference the Secret.',
    ]);
    expect(
      credentialPaths({
        config: {
          extraEnv: [
            { name: "N8N_METRICS", value: "true" },
            { name: "API_TOKEN", value: "t" },
          ],
        },
      }),
    ).toEqual(["config.extraEnv[1] (API_TOKEN)"]);
  });
});

describe("sane-autoscaling-bounds", () => {
  const hpa = (minReplicas: number | undefined, maxReplicas: number): ResourceUnderTest => ({
    type: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    name: "api",
    props: {
      metadata: { name: "api" },
      spec: { ...(minReplicas === undefined ? {} : { minReplicas }), maxReplicas },
    },
  });
  const doks = (pool: Record<string, unknown>): ResourceUnderTest => ({
    type: "digitalocean:index/kubernetesCluster:KubernetesCluster",
    name: "wb",
    props: { name: "wb", nodePool: { name: "wb-pool", ...pool } },
  });

  it("passes 2-5 replicas and a 3-6 node pool", () => {
    expect(saneAutoscaling(hpa(2, 5))).toEqual([]);
    expect(saneAutoscaling(doks({ autoScale: true, minNodes: 3, maxNodes: 6 }))).toEqual([]);
  });

  it("fails inverted, unbounded or non-redundant bounds", () => {
    expect(saneAutoscaling(hpa(undefined, 5))).toEqual([
      'HorizontalPodAutoscaler "api" has minReplicas 1: keep at least 2 for availability.',
    ]);
    expect(saneAutoscaling(hpa(4, 3))).toEqual([
      'HorizontalPodAutoscaler "api" has maxReplicas 3 below minReplicas 4.',
    ]);
    expect(saneAutoscaling(hpa(2, 50))).toEqual([
      'HorizontalPodAutoscaler "api" has maxReplicas 50: at most 20.',
    ]);
    expect(saneAutoscaling(doks({ autoScale: true, minNodes: 3, maxNodes: 40 }))).toEqual([
      'Node pool "wb-pool" of cluster "wb" autoscales to 40 nodes: at most 20.',
    ]);
    expect(saneAutoscaling(doks({ autoScale: false, nodeCount: 3 }))).toEqual([
      'Node pool "wb-pool" of cluster "wb" does not autoscale: set autoScale with minNodes and maxNodes.',
    ]);
  });

  it("checks autoscaling in Helm values", () => {
    const release = (values: unknown): ResourceUnderTest => ({
      type: "kubernetes:helm.sh/v3:Release",
      name: "traefik",
      props: { name: "traefik", values },
    });
    expect(
      saneAutoscaling(release({ autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 5 } })),
    ).toEqual([]);
    expect(
      saneAutoscaling(release({ hpa: { worker: { enabled: true, minReplicas: 1, maxReplicas: 30 } } })),
    ).toEqual([
      'Helm release "traefik" hpa.worker has minReplicas 1: keep at least 2 for availability.',
      'Helm release "traefik" hpa.worker has maxReplicas 30: at most 20.',
    ]);
  });
});

describe("pinned-image-tags", () => {
  it("passes version tags and digests", () => {
    expect(pinnedImages(deployment({ image: "redis:7.4.2-alpine" }))).toEqual([]);
    expect(pinnedImages(deployment({ image: `ghcr.io/acme/api@sha256:${"b".repeat(64)}` }))).toEqual([]);
  });

  it("fails latest and untagged images", () => {
    expect(pinnedImages(deployment({ image: "redis:latest" }))).toEqual([
      'Container "api" in Deployment "api" image "redis:latest" uses the floating tag "latest": pin a version or a digest.',
    ]);
    expect(pinnedImages(deployment({ image: "redis" }))).toEqual([
      'Container "api" in Deployment "api" image "redis" has no tag: pin a version (e.g. :1.2.3) or a digest.',
    ]);
  });

  it("checks App Platform images and Helm image tags", () => {
    const app = (image: Record<string, unknown>): ResourceUnderTest => ({
      type: "digitalocean:index/app:App",
      name: "ocr",
      props: { spec: { name: "ocr-backend", services: [{ name: "ocr-backend", image }] } },
    });
    expect(pinnedImages(app({ registryType: "DOCR", repository: "ocr-backend", tag: "1.0.0" }))).toEqual([]);
    expect(pinnedImages(app({ registryType: "DOCR", repository: "ocr-backend" }))).toEqual([
      'App "ocr-backend" component "ocr-backend" image has no tag or digest: pin a version.',
    ]);
    const release: ResourceUnderTest = {
      type: "kubernetes:helm.sh/v3:Release",
      name: "n8n",
      props: { name: "n8n", values: { image: { tag: "stable" } } },
    };
    expect(pinnedImages(release)).toEqual(['Helm release "n8n" sets image.tag "stable": pin a version.']);
  });
});
