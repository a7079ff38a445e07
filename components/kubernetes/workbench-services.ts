import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { imagePinProblem } from "../cloud/image-ref.ts";
import { configSecret, SECRET_NAMES, type SecretData, type SecretOrigin } from "./owned-secret.ts";
import {
  appLabels,
  CREDENTIAL_NAME,
  hardenedContainer,
  isDnsLabel,
  nonRootPod,
  type ResourceBudget,
  secretEnv,
  selectorLabels,
  TRAEFIK_INGRESS_CLASS,
  traefikTlsAnnotations,
} from "./workload.ts";

export interface WorkbenchServiceSpec {
  /** Kubernetes name (DNS label), e.g. `frontend`. */
  name: string;
  /** Pinned image reference (from config). */
  image: string;
  /** Container port. */
  port: number;
  /** Autoscaling lower bound (the HPA owns the replica count). Default 2. */
  minReplicas?: number;
  /** Autoscaling upper bound. Default 6. */
  maxReplicas?: number;
  /** CPU utilisation the HPA keeps, percent of requests. Default 70. */
  targetCpuPercent?: number;
  /** Readiness path. Default `/health`. */
  readinessPath?: string;
  /** Liveness path. Default the readiness path. */
  livenessPath?: string;
  /** Public host served through Traefik with TLS; omitted: cluster-internal only. */
  host?: string;
  /** Plain env. Credential-like names are refused: use secretEnv. */
  env?: Record<string, pulumi.Input<string>>;
  /** Env vars read from Secret keys. */
  secretEnv?: Record<string, { secretName: pulumi.Input<string>; key: string }>;
  /** Requests and limits. Default 100m/256Mi requests, 1 CPU/1Gi limits. */
  resources?: ResourceBudget;
  /** UID to run as (non-root). Default 10001. */
  runAsUser?: number;
}

export interface WorkbenchServicesArgs {
  /** The cluster's Kubernetes provider (Cluster.provider). */
  provider: k8s.Provider;
  /** Namespace to run in (`ai-workbench`). */
  namespace: pulumi.Input<string>;
  /** The services: frontend, API, agent runtime. */
  services: WorkbenchServiceSpec[];
  /** Name of an existing image pull Secret for the private registry. Default none (or `registry`'s). */
  imagePullSecret?: pulumi.Input<string>;
  /**
   * The services' Supabase credentials: a Secret `supabase` (SUPABASE_SERVICE_ROLE_KEY and
   * DATABASE_URL, the services' login, WorkbenchDatabase.apiRole, never the admin) that the
   * specs read through `secretEnv`. Default none.
   */
  supabase?: {
    serviceRoleKey: pulumi.Input<string>;
    databaseUrl: pulumi.Input<string>;
    origin?: SecretOrigin;
  };
  /**
   * Integration credentials (ODOO_API_KEY, MATTERMOST_WEBHOOK_URL, LITELLM_API_KEY): a Secret
   * `integrations` in the namespace. Absent values are left out. Default none.
   */
  integrations?: { data: SecretData; origin?: SecretOrigin };
  /**
   * The private registry's pull credentials (`.dockerconfigjson`): a Secret `registry` the pods
   * pull with (instead of `imagePullSecret`). Default none.
   */
  registry?: { dockerConfigJson: pulumi.Input<string>; origin?: SecretOrigin };
  /** Ingress class. Default `traefik`. */
  ingressClass?: string;
}

const DEFAULT_RESOURCES: ResourceBudget = {
  requests: { cpu: "100m", memory: "256Mi" },
  limits: { cpu: "1", memory: "1Gi" },
};

/** A service's container: hardened, env and secret env, readiness and liveness probes. */
export function serviceContainer(spec: WorkbenchServiceSpec) {
  const readiness = spec.readinessPath ?? "/health";
  return {
    name: spec.name,
    image: spec.image,
    ports: [{ name: "http", containerPort: spec.port }],
    env: [
      ...Object.entries(spec.env ?? {}).map(([envName, value]) => ({ name: envName, value })),
      ...Object.entries(spec.secretEnv ?? {}).map(([envName, ref]) =>
        secretEnv(envName, ref.secretName, ref.key),
      ),
    ],
    resources: spec.resources ?? DEFAULT_RESOURCES,
    securityContext: hardenedContainer(),
    readinessProbe: { httpGet: { path: readiness, port: "http" }, initialDelaySeconds: 5, periodSeconds: 10 },
    livenessProbe: {
      httpGet: { path: spec.livenessPath ?? readiness, port: "http" },
      initialDelaySeconds: 15,
      periodSeconds: 20,
    },
    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
  };
}

/**
 * The workbench's own services (seed: the Next.js front end, the agent runtime, Guardian;
 * plus the API): a hardened Deployment with readiness and liveness probes, a Service, a
 * PodDisruptionBudget and a HorizontalPodAutoscaler each, and one TLS Ingress for those
 * with a public host. Token `workbench:kubernetes:WorkbenchServices`.
 */
export class WorkbenchServices extends pulumi.ComponentResource {
  /** In-cluster URL per service name. */
  public readonly internalUrls: pulumi.Output<Record<string, string>>;
  /** Public URL per service with a host. */
  public readonly publicUrls: pulumi.Output<Record<string, string>>;

  /** The pull Secret the pods use (`registry`'s, else `imagePullSecret`), if any. */
  public readonly imagePullSecret: pulumi.Input<string> | undefined;

  private readonly child: { parent: pulumi.Resource; provider: k8s.Provider };

  constructor(name: string, args: WorkbenchServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:kubernetes:WorkbenchServices", name, {}, opts);

    this.validate(name, args.services);
    this.child = { parent: this, provider: args.provider };
    const secrets = this.secrets(name, args);
    this.imagePullSecret = secrets.registry?.metadata.name ?? args.imagePullSecret;
    const internal: Record<string, pulumi.Output<string>> = {};
    const publicUrls: Record<string, string> = {};
    const ingressRules: k8s.types.input.networking.v1.IngressRule[] = [];

    for (const spec of args.services) {
      // The specs name the Secrets (`supabase`): the pods start once they exist.
      const service = this.service(name, spec, args.namespace, secrets.all);
      internal[spec.name] =
        pulumi.interpolate`http://${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`;
      if (spec.host) {
        publicUrls[spec.name] = `https://${spec.host}`;
        ingressRules.push({
          host: spec.host,
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: service.metadata.name, port: { name: "http" } } },
              },
            ],
          },
        });
      }
    }

    const hosts = args.services.flatMap((spec) => (spec.host ? [spec.host] : []));
    if (hosts.length > 0) {
      new k8s.networking.v1.Ingress(
        `${name}-ingress`,
        {
          metadata: {
            name,
            namespace: args.namespace,
            labels: appLabels(name, "ingress"),
            annotations: traefikTlsAnnotations(),
          },
          spec: {
            ingressClassName: args.ingressClass ?? TRAEFIK_INGRESS_CLASS,
            tls: [{ hosts }],
            rules: ingressRules,
          },
        },
        this.child,
      );
    }

    this.internalUrls = pulumi.all(internal);
    this.publicUrls = pulumi.output(publicUrls);
    this.registerOutputs({ internalUrls: this.internalUrls, publicUrls: this.publicUrls });
  }

  /** The Secrets this component owns: Supabase's, the integrations', the registry pull Secret. */
  private secrets(name: string, args: WorkbenchServicesArgs) {
    const secret = (
      key: string,
      objectName: string,
      data: SecretData,
      origin?: SecretOrigin,
      type?: string,
    ) =>
      configSecret(
        `${name}-${key}`,
        {
          objectName,
          namespace: args.namespace,
          data,
          ...(origin ? { origin } : {}),
          ...(type ? { type } : {}),
        },
        this.child,
      );
    const supabase = args.supabase
      ? secret(
          "supabase",
          SECRET_NAMES.supabase,
          {
            SUPABASE_SERVICE_ROLE_KEY: args.supabase.serviceRoleKey,
            DATABASE_URL: args.supabase.databaseUrl,
          },
          args.supabase.origin,
        )
      : undefined;
    const integrations = args.integrations
      ? secret("integrations", SECRET_NAMES.integrations, args.integrations.data, args.integrations.origin)
      : undefined;
    const registry = args.registry
      ? secret(
          "registry",
          SECRET_NAMES.registry,
          { ".dockerconfigjson": args.registry.dockerConfigJson },
          args.registry.origin,
          "kubernetes.io/dockerconfigjson",
        )
      : undefined;
    const all = [supabase, integrations, registry].filter((found) => found !== undefined);
    return { supabase, integrations, registry, all };
  }

  /** One service: its Deployment, PodDisruptionBudget, HorizontalPodAutoscaler and Service. */
  private service(
    name: string,
    spec: WorkbenchServiceSpec,
    namespace: pulumi.Input<string>,
    secrets: pulumi.Resource[],
  ): k8s.core.v1.Service {
    const labels = appLabels(spec.name, "workbench");
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-${spec.name}`,
      {
        metadata: { name: spec.name, namespace, labels },
        spec: {
          // No replicas: the HPA below owns the count (a value here would reset it on every up).
          selector: { matchLabels: selectorLabels(spec.name) },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: { labels },
            spec: {
              securityContext: nonRootPod(spec.runAsUser ?? 10001),
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: "kubernetes.io/hostname",
                  whenUnsatisfiable: "ScheduleAnyway",
                  labelSelector: { matchLabels: selectorLabels(spec.name) },
                },
              ],
              automountServiceAccountToken: false,
              ...(this.imagePullSecret ? { imagePullSecrets: [{ name: this.imagePullSecret }] } : {}),
              containers: [serviceContainer(spec)],
              volumes: [{ name: "tmp", emptyDir: { sizeLimit: "512Mi" } }],
            },
          },
        },
      },
      { ...this.child, ...(secrets.length > 0 ? { dependsOn: secrets } : {}) },
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-${spec.name}-pdb`,
      {
        metadata: { name: spec.name, namespace, labels },
        spec: { minAvailable: 1, selector: { matchLabels: selectorLabels(spec.name) } },
      },
      this.child,
    );
    new k8s.autoscaling.v2.HorizontalPodAutoscaler(
      `${name}-${spec.name}-hpa`,
      {
        metadata: { name: spec.name, namespace, labels },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
          minReplicas: spec.minReplicas ?? 2,
          maxReplicas: spec.maxReplicas ?? 6,
          metrics: [
            {
              type: "Resource",
              resource: {
                name: "cpu",
                target: { type: "Utilization", averageUtilization: spec.targetCpuPercent ?? 70 },
              },
            },
          ],
        },
      },
      this.child,
    );
    return new k8s.core.v1.Service(
      `${name}-${spec.name}-service`,
      {
        metadata: { name: spec.name, namespace, labels },
        spec: {
          type: "ClusterIP",
          selector: selectorLabels(spec.name),
          ports: [{ name: "http", port: 80, targetPort: "http" }],
        },
      },
      this.child,
    );
  }

  private validate(name: string, services: WorkbenchServiceSpec[]): void {
    if (services.length === 0) throw new pulumi.ResourceError(`${name}: services is empty`, this);
    const seen = new Set<string>();
    const hosts = new Set<string>();
    for (const spec of services) {
      if (!isDnsLabel(spec.name)) {
        throw new pulumi.ResourceError(
          `${name}: service name '${spec.name}' must be a DNS label (a-z, 0-9, -)`,
          this,
        );
      }
      if (seen.has(spec.name))
        throw new pulumi.ResourceError(`${name}: service '${spec.name}' is listed twice`, this);
      seen.add(spec.name);
      if (spec.host) {
        if (hosts.has(spec.host))
          throw new pulumi.ResourceError(`${name}: host ${spec.host} is used by two services`, this);
        hosts.add(spec.host);
      }
      const min = spec.minReplicas ?? 2;
      const max = spec.maxReplicas ?? 6;
      if (!Number.isInteger(min) || min < 2) {
        throw new pulumi.ResourceError(
          `${name}: service '${spec.name}' minReplicas must be at least 2 (its PodDisruptionBudget keeps 1 up) (got ${min})`,
          this,
        );
      }
      if (max < min) {
        throw new pulumi.ResourceError(
          `${name}: service '${spec.name}' maxReplicas (${max}) must not be below minReplicas (${min})`,
          this,
        );
      }
      const pinProblem = imagePinProblem(spec.image);
      if (pinProblem)
        throw new pulumi.ResourceError(
          `${name}: service '${spec.name}' image "${spec.image}" ${pinProblem}`,
          this,
        );
      if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) {
        throw new pulumi.ResourceError(
          `${name}: service '${spec.name}' port ${spec.port} is not a TCP port`,
          this,
        );
      }
      for (const envName of Object.keys(spec.env ?? {})) {
        if (CREDENTIAL_NAME.test(envName)) {
          throw new pulumi.ResourceError(
            `${name}: service '${spec.name}' env ${envName} looks like a credential: pass it in secretEnv`,
            this,
          );
        }
        if (spec.secretEnv && envName in spec.secretEnv) {
          throw new pulumi.ResourceError(
            `${name}: service '${spec.name}' sets ${envName} in both env and secretEnv`,
            this,
          );
        }
      }
    }
  }
}
