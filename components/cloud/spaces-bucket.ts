import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

/** Objects under `prefix` expire `expireDays` after they were written. */
export interface LifecycleRule {
  /** Rule id, unique within the bucket. */
  id: string;
  /** Key prefix the rule applies to, e.g. `postgres/hourly/`. */
  prefix: string;
  /** Days until current versions expire; a whole number of at least 1. */
  expireDays: number;
}

export interface SpacesBucketArgs {
  /** Region slug, e.g. `sgp1`. */
  region: string;
  /** Bucket name (globally unique). Default: Pulumi auto-naming from the component's name. */
  bucketName?: string;
  /** Keep every version of every object. Default true. */
  versioning?: boolean;
  /** Per-prefix expiry rules (e.g. the backup retention tiers). Default none. */
  lifecycleRules?: LifecycleRule[];
  /** With versioning: days until overwritten or deleted versions are removed. Default 30. */
  noncurrentVersionExpireDays?: number;
  /**
   * Create a Spaces access key limited to this bucket with this permission. Default none.
   * Its secret is a secret output.
   */
  accessKeyPermission?: "read" | "readwrite" | "fullaccess";
  /** Protect the bucket (the backups in it) from deletion. Default true. */
  protect?: boolean;
}

/**
 * A private Spaces bucket with versioning and lifecycle rules, and optionally an access key
 * scoped to it. Never public: the ACL is fixed to `private`. Token `workbench:cloud:SpacesBucket`.
 */
export class SpacesBucket extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  /** S3 endpoint host, e.g. `sgp1.digitaloceanspaces.com`. */
  public readonly endpoint: pulumi.Output<string>;
  public readonly region: pulumi.Output<string>;
  /** Access key id of the scoped key (undefined without accessKeyPermission). */
  public readonly accessKeyId: pulumi.Output<string | undefined>;
  /** Secret of the scoped key: always a secret. */
  public readonly secretAccessKey: pulumi.Output<string | undefined>;

  constructor(name: string, args: SpacesBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:cloud:SpacesBucket", name, {}, opts);

    const versioning = args.versioning ?? true;
    const rules = args.lifecycleRules ?? [];
    const noncurrentDays = args.noncurrentVersionExpireDays ?? 30;
    const ids = new Set<string>();
    for (const rule of rules) {
      if (!Number.isInteger(rule.expireDays) || rule.expireDays < 1) {
        throw new pulumi.ResourceError(
          `${name}: lifecycle rule '${rule.id}' expireDays must be a whole number of at least 1 (got ${rule.expireDays})`,
          this,
        );
      }
      if (ids.has(rule.id))
        throw new pulumi.ResourceError(`${name}: lifecycle rule id '${rule.id}' is used twice`, this);
      ids.add(rule.id);
    }
    if (!Number.isInteger(noncurrentDays) || noncurrentDays < 1) {
      throw new pulumi.ResourceError(
        `${name}: noncurrentVersionExpireDays must be a whole number of at least 1 (got ${noncurrentDays})`,
        this,
      );
    }

    const lifecycleRules: digitalocean.types.input.SpacesBucketLifecycleRule[] = [
      ...rules.map((rule) => ({
        id: rule.id,
        prefix: rule.prefix,
        enabled: true,
        expiration: { days: rule.expireDays },
      })),
      {
        id: "housekeeping",
        enabled: true,
        abortIncompleteMultipartUploadDays: 1,
        ...(versioning ? { noncurrentVersionExpiration: { days: noncurrentDays } } : {}),
      },
    ];

    const bucket = new digitalocean.SpacesBucket(
      name,
      {
        ...(args.bucketName ? { name: args.bucketName } : {}),
        region: args.region,
        acl: "private",
        versioning: { enabled: versioning },
        lifecycleRules,
      },
      { parent: this, protect: args.protect ?? true },
    );

    if (args.accessKeyPermission) {
      const key = new digitalocean.SpacesKey(
        `${name}-key`,
        { name: `${name}-key`, grants: [{ bucket: bucket.name, permission: args.accessKeyPermission }] },
        { parent: this },
      );
      this.accessKeyId = key.accessKey;
      this.secretAccessKey = pulumi.secret(key.secretKey);
    } else {
      this.accessKeyId = pulumi.output(undefined);
      this.secretAccessKey = pulumi.output(undefined);
    }

    this.bucketName = bucket.name;
    this.endpoint = pulumi.output(`${args.region}.digitaloceanspaces.com`);
    this.region = pulumi.output(args.region);
    this.registerOutputs({
      bucketName: this.bucketName,
      endpoint: this.endpoint,
      region: this.region,
      accessKeyId: this.accessKeyId,
      secretAccessKey: this.secretAccessKey,
    });
  }
}
