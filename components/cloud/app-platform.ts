import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { imagePinProblem, parseImageReference } from "./image-ref.ts";

export interface AppPlatformServiceArgs {
  /** DigitalOcean region slug of the stack, e.g. `sgp1` (App Platform uses its prefix, `sgp`). */
  region: string;
  /** App name on DigitalOcean: 2-32 lowercase letters, digits and dashes. */
  appName: string;
  /** Pinned image reference: DOCR (`registry.digitalocean.com/<registry>/<repo>:<tag>`), GHCR or Docker Hub. */
  image: string;
  /** VPC to attach the app to (egress to private resources). Default none. */
  vpcId?: pulumi.Input<string>;
  /** Port the container listens on. Default 8080. */
  httpPort?: number;
  /** HTTP path answering 200 when the service is ready and alive. Default `/health`. */
  healthCheckPath?: string;
  /** Instances; at least 1. Default 2 (seed: 2 instances each). */
  instanceCount?: number;
  /** Instance size slug. Default `apps-s-1vcpu-1gb` (the former professional-xs). */
  instanceSize?: string;
  /** Plain environment (type GENERAL). Credential-like names are refused: use secretEnv. */
  env?: Record<string, pulumi.Input<string>>;
  /** Credentials, stored by App Platform encrypted (type SECRET); values are Pulumi secrets. */
  secretEnv?: Record<string, pulumi.Input<string>>;
}

const CREDENTIAL =
  /(PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|ACCESS_KEY|DATABASE_URL|WEBHOOK_URL|CREDENTIALS)/i;

/** The App Platform image spec for a reference. */
export function appImageSpec(reference: string): digitalocean.types.input.AppSpecServiceImage {
  const parsed = parseImageReference(reference);
  if (!parsed) throw new Error(`'${reference}' is not an image reference`);
  const version = parsed.digest ? { digest: parsed.digest } : { tag: parsed.tag as string };
  const [owner, ...rest] = parsed.repository.split("/");
  switch (parsed.registry) {
    case "registry.digitalocean.com":
      // DOCR: the account's registry; the repository is the path below the registry name.
      if (rest.length === 0) throw new Error(`'${reference}' names no repository below the registry`);
      return { registryType: "DOCR", repository: rest.join("/"), ...version };
    case "ghcr.io":
      return { registryType: "GHCR", registry: owner as string, repository: rest.join("/"), ...version };
    case undefined:
    case "docker.io":
      return rest.length === 0
        ? { registryType: "DOCKER_HUB", registry: "library", repository: owner as string, ...version }
        : { registryType: "DOCKER_HUB", registry: owner as string, repository: rest.join("/"), ...version };
    default:
      throw new Error(`'${reference}': App Platform pulls only from DOCR, GHCR or Docker Hub`);
  }
}

/**
 * One App Platform app with one service from an image: health checks, instances, and its
 * credentials as SECRET-type envs. Token `workbench:cloud:AppPlatformService`.
 */
export class AppPlatformService extends pulumi.ComponentResource {
  public readonly appId: pulumi.Output<string>;
  /** Public URL App Platform assigns. */
  public readonly liveUrl: pulumi.Output<string>;

  constructor(name: string, args: AppPlatformServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:cloud:AppPlatformService", name, {}, opts);

    const instanceCount = args.instanceCount ?? 2;
    const env = args.env ?? {};
    const secretEnv = args.secretEnv ?? {};
    if (!/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(args.appName)) {
      throw new pulumi.ResourceError(
        `${name}: appName '${args.appName}' must be 2-32 lowercase letters, digits and dashes, starting with a letter`,
        this,
      );
    }
    const pinProblem = imagePinProblem(args.image);
    if (pinProblem) throw new pulumi.ResourceError(`${name}: image "${args.image}" ${pinProblem}`, this);
    if (!Number.isInteger(instanceCount) || instanceCount < 1) {
      throw new pulumi.ResourceError(
        `${name}: instanceCount must be a whole number of at least 1 (got ${instanceCount})`,
        this,
      );
    }
    for (const key of Object.keys(env)) {
      if (key in secretEnv)
        throw new pulumi.ResourceError(`${name}: env ${key} is set both in env and secretEnv`, this);
      if (CREDENTIAL.test(key)) {
        throw new pulumi.ResourceError(
          `${name}: env ${key} looks like a credential: pass it in secretEnv (type SECRET)`,
          this,
        );
      }
    }
    let image: digitalocean.types.input.AppSpecServiceImage;
    try {
      image = appImageSpec(args.image);
    } catch (error) {
      throw new pulumi.ResourceError(`${name}: ${(error as Error).message}`, this);
    }

    const healthPath = args.healthCheckPath ?? "/health";
    const port = args.httpPort ?? 8080;
    const envs: digitalocean.types.input.AppSpecServiceEnv[] = [
      ...Object.entries(env).map(([key, value]) => ({ key, value, type: "GENERAL", scope: "RUN_TIME" })),
      ...Object.entries(secretEnv).map(([key, value]) => ({
        key,
        value: pulumi.secret(value),
        type: "SECRET",
        scope: "RUN_TIME",
      })),
    ];

    const app = new digitalocean.App(
      name,
      {
        spec: {
          name: args.appName,
          region: args.region.replace(/[0-9]+$/, ""),
          ...(args.vpcId ? { vpcs: [{ id: args.vpcId }] } : {}),
          alerts: [{ rule: "DEPLOYMENT_FAILED" }, { rule: "DOMAIN_FAILED" }],
          services: [
            {
              name: args.appName,
              image,
              httpPort: port,
              instanceCount,
              instanceSizeSlug: args.instanceSize ?? "apps-s-1vcpu-1gb",
              healthCheck: {
                httpPath: healthPath,
                port,
                initialDelaySeconds: 10,
                periodSeconds: 10,
                timeoutSeconds: 5,
                successThreshold: 1,
                failureThreshold: 3,
              },
              livenessHealthCheck: {
                httpPath: healthPath,
                port,
                initialDelaySeconds: 30,
                periodSeconds: 15,
                timeoutSeconds: 5,
                successThreshold: 1,
                failureThreshold: 5,
              },
              envs,
            },
          ],
        },
      },
      { parent: this },
    );

    this.appId = app.id;
    this.liveUrl = app.liveUrl;
    this.registerOutputs({ appId: this.appId, liveUrl: this.liveUrl });
  }
}
