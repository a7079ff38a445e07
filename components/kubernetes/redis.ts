import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { imagePinProblem } from "../cloud/image-ref.ts";
import {
  appLabels,
  hardenedContainer,
  nonRootPod,
  type ResourceBudget,
  secretEnv,
  selectorLabels,
} from "./workload.ts";
import { ownedSecret } from "./owned-secret.ts";

export interface RedisArgs {
  /** The cluster's Kubernetes provider (Cluster.provider). */
  provider: k8s.Provider;
  /** Namespace to run in. */
  namespace: pulumi.Input<string>;
  /** Pinned Redis image, e.g. `redis:7.4.2-alpine`. */
  image: string;
  /**
   * `allkeys-lru` for a cache (LiteLLM), `noeviction` for a queue (n8n's Bull jobs must not
   * be dropped). Default `noeviction`.
   */
  evictionPolicy?: "allkeys-lru" | "noeviction";
  /** Memory Redis may use for data, MiB. Default 256. */
  maxMemoryMb?: number;
  /** Keep data on a block-storage volume (append-only file) of this many GiB. Default none (in memory only). */
  persistenceGi?: number;
  /** Storage class for the volume. Default `do-block-storage`. */
  storageClass?: string;
  /** Requests and limits. Default requests 100m/256Mi, limits 500m/512Mi (seed: 256Mi-512Mi). */
  resources?: ResourceBudget;
}

/** What is wrong with Redis's args (checked before anything is registered), or undefined. */
export function redisArgsProblem(args: RedisArgs): string | undefined {
  const maxMemoryMb = args.maxMemoryMb ?? 256;
  const pinProblem = imagePinProblem(args.image);
  if (pinProblem) return `image "${args.image}" ${pinProblem}`;
  if (!Number.isInteger(maxMemoryMb) || maxMemoryMb < 16) {
    return `maxMemoryMb must be a whole number of at least 16 (got ${maxMemoryMb})`;
  }
  if (args.persistenceGi !== undefined && (!Number.isInteger(args.persistenceGi) || args.persistenceGi < 1)) {
    return `persistenceGi must be a whole number of at least 1 (DigitalOcean's smallest volume; got ${args.persistenceGi})`;
  }
  return undefined;
}

/** The Redis container: password from its Secret, memory bound and eviction policy, AOF only with a volume. */
export function redisContainer(
  args: RedisArgs,
  passwordSecret: pulumi.Input<string>,
  resources: ResourceBudget,
) {
  return {
    name: "redis",
    image: args.image,
    args: [
      "--requirepass",
      "$(REDIS_PASSWORD)",
      "--maxmemory",
      `${args.maxMemoryMb ?? 256}mb`,
      "--maxmemory-policy",
      args.evictionPolicy ?? "noeviction",
      "--appendonly",
      args.persistenceGi !== undefined ? "yes" : "no",
      "--save",
      "",
      "--dir",
      "/data",
    ],
    env: [secretEnv("REDIS_PASSWORD", passwordSecret, REDIS_PASSWORD_KEY)],
    ports: [{ name: "redis", containerPort: 6379 }],
    resources,
    securityContext: hardenedContainer(),
    livenessProbe: { tcpSocket: { port: 6379 }, initialDelaySeconds: 15, periodSeconds: 20 },
    readinessProbe: { tcpSocket: { port: 6379 }, initialDelaySeconds: 5, periodSeconds: 10 },
    volumeMounts: [{ name: "data", mountPath: "/data" }],
  };
}

/** The key of the password in Redis's Secret. */
const REDIS_PASSWORD_KEY = "password";

/**
 * A single-instance, password-protected Redis: generated password in its own Secret,
 * Deployment (non-root, read-only root filesystem), ClusterIP Service, and optionally a
 * volume. Token `workbench:kubernetes:Redis`.
 */
export class Redis extends pulumi.ComponentResource {
  /** Cluster DNS name of the service. */
  public readonly host: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  /** Secret holding the password under {@link Redis.passwordKey}. */
  public readonly passwordSecretName: pulumi.Output<string>;
  public readonly passwordKey: string = REDIS_PASSWORD_KEY;
  /** The generated password: always a secret. */
  public readonly password: pulumi.Output<string>;

  constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:kubernetes:Redis", name, {}, opts);

    const problem = redisArgsProblem(args);
    if (problem) throw new pulumi.ResourceError(`${name}: ${problem}`, this);
    const maxMemoryMb = args.maxMemoryMb ?? 256;
    const child = { parent: this, provider: args.provider };
    const labels = appLabels(name, "redis");
    const resources = args.resources ?? {
      requests: { cpu: "100m", memory: "256Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    };

    const generated = new random.RandomPassword(
      `${name}-password`,
      { length: 40, special: false },
      { parent: this },
    );
    this.password = pulumi.secret(generated.result);

    const secret = ownedSecret(
      `${name}-auth`,
      { namespace: args.namespace, labels, data: { [this.passwordKey]: generated.result } },
      child,
    );

    let dataVolume: k8s.types.input.core.v1.Volume = {
      name: "data",
      emptyDir: { sizeLimit: `${maxMemoryMb * 2}Mi` },
    };
    if (args.persistenceGi !== undefined) {
      const claim = new k8s.core.v1.PersistentVolumeClaim(
        `${name}-data`,
        {
          metadata: { name: `${name}-data`, namespace: args.namespace, labels },
          spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: args.storageClass ?? "do-block-storage",
            resources: { requests: { storage: `${args.persistenceGi}Gi` } },
          },
        },
        child,
      );
      dataVolume = { name: "data", persistentVolumeClaim: { claimName: claim.metadata.name } };
    }

    new k8s.apps.v1.Deployment(
      name,
      {
        metadata: { name, namespace: args.namespace, labels },
        spec: {
          replicas: 1,
          // One writer for the volume: never two pods at once.
          strategy: { type: "Recreate" },
          selector: { matchLabels: selectorLabels(name) },
          template: {
            metadata: { labels },
            spec: {
              securityContext: nonRootPod(999),
              automountServiceAccountToken: false,
              containers: [redisContainer(args, secret.metadata.name, resources)],
              volumes: [dataVolume],
            },
          },
        },
      },
      child,
    );

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name, namespace: args.namespace, labels },
        spec: {
          type: "ClusterIP",
          selector: selectorLabels(name),
          ports: [{ name: "redis", port: 6379, targetPort: "redis" }],
        },
      },
      child,
    );

    this.host = pulumi.interpolate`${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`;
    this.port = pulumi.output(6379);
    this.passwordSecretName = secret.metadata.name;
    this.registerOutputs({
      host: this.host,
      port: this.port,
      passwordSecretName: this.passwordSecretName,
      password: this.password,
    });
  }
}
