import * as digitalocean from "@pulumi/digitalocean";
import { beforeAll, describe, expect, it } from "vitest";
import {
  installMocks,
  isSecretAt,
  isSecretOutput,
  promiseOf,
  providerUrn,
} from "../../helpers/pulumi-mocks.ts";

const mocks = await installMocks();
const { Registry } = await import("../../../components/cloud/registry.ts");
const { SpacesBucket } = await import("../../../components/cloud/spaces-bucket.ts");
const { AppPlatformService, appImageSpec } = await import("../../../components/cloud/app-platform.ts");
const { backupLifecycleRules } = await import("../../../components/kubernetes/backups.ts");

let provider: digitalocean.Provider;
let providerRef: string;
beforeAll(async () => {
  provider = new digitalocean.Provider("do", {});
  providerRef = await promiseOf(provider.urn);
});

describe("Registry", () => {
  it("creates the registry at the configured tier with read-only pull credentials (secret)", async () => {
    const registry = new Registry(
      "wb-registry",
      { registryName: "ai-workbench", tier: "basic", region: "sgp1" },
      { providers: [provider] },
    );
    await mocks.settle();
    const urn = await promiseOf(registry.urn);
    const docr = mocks.one("digitalocean:index/containerRegistry:ContainerRegistry");
    expect(docr.inputs).toEqual({ name: "ai-workbench", subscriptionTierSlug: "basic", region: "sgp1" });
    const pull = mocks.one(
      "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials",
    );
    expect(pull.inputs).toEqual({ registryName: "ai-workbench", write: false });
    for (const child of [docr, pull]) {
      expect(child.parent).toBe(urn);
      expect(providerUrn(child.provider)).toBe(providerRef);
    }
    expect(await isSecretOutput(registry.dockerConfigJson)).toBe(true);
    expect(await promiseOf(registry.endpoint)).toBe("registry.digitalocean.com/ai-workbench");
  });

  it("refuses a name that is not a DNS label", () => {
    expect(() => new Registry("bad", { registryName: "AI_Workbench" })).toThrow(
      "bad: registryName 'AI_Workbench' must be a lowercase DNS label (a-z, 0-9, -)",
    );
  });
});

describe("SpacesBucket", () => {
  it("is private and versioned, expires backups per tier, and has a key limited to it (secret)", async () => {
    const bucket = new SpacesBucket(
      "wb-data",
      { region: "sgp1", lifecycleRules: backupLifecycleRules(), accessKeyPermission: "readwrite" },
      { providers: [provider] },
    );
    await mocks.settle();
    const urn = await promiseOf(bucket.urn);
    const space = mocks.one("digitalocean:index/spacesBucket:SpacesBucket");
    expect(space.inputs).toEqual({
      region: "sgp1",
      acl: "private",
      versioning: { enabled: true },
      lifecycleRules: [
        { id: "postgres-hourly", prefix: "postgres/hourly/", enabled: true, expiration: { days: 1 } },
        { id: "postgres-daily", prefix: "postgres/daily/", enabled: true, expiration: { days: 30 } },
        { id: "postgres-weekly", prefix: "postgres/weekly/", enabled: true, expiration: { days: 90 } },
        {
          id: "housekeeping",
          enabled: true,
          abortIncompleteMultipartUploadDays: 1,
          noncurrentVersionExpiration: { days: 30 },
        },
      ],
    });
    const key = mocks.one("digitalocean:index/spacesKey:SpacesKey");
    expect(key.inputs).toEqual({
      name: "wb-data-key",
      grants: [{ bucket: "wb-data", permission: "readwrite" }],
    });
    for (const child of [space, key]) {
      expect(child.parent).toBe(urn);
      expect(providerUrn(child.provider)).toBe(providerRef);
    }
    expect(await isSecretOutput(bucket.secretAccessKey)).toBe(true);
    expect(await promiseOf(bucket.accessKeyId)).toBe("DO00MOCKACCESSKEY");
    expect(await promiseOf(bucket.endpoint)).toBe("sgp1.digitaloceanspaces.com");
  });

  it("refuses bad lifecycle rules", () => {
    expect(
      () =>
        new SpacesBucket("b1", {
          region: "sgp1",
          lifecycleRules: [{ id: "x", prefix: "x/", expireDays: 0 }],
        }),
    ).toThrow("b1: lifecycle rule 'x' expireDays must be a whole number of at least 1 (got 0)");
    expect(
      () =>
        new SpacesBucket("b2", {
          region: "sgp1",
          lifecycleRules: [
            { id: "x", prefix: "a/", expireDays: 1 },
            { id: "x", prefix: "b/", expireDays: 2 },
          ],
        }),
    ).toThrow("b2: lifecycle rule id 'x' is used twice");
  });
});

describe("AppPlatformService", () => {
  it("runs 2 instances from the DOCR image with health checks, in the VPC, credentials as SECRET envs", async () => {
    const app = new AppPlatformService(
      "wb-ocr",
      {
        region: "sgp1",
        appName: "workbench-prod-ocr-backend",
        image: "registry.digitalocean.com/ai-workbench/ocr-backend:1.4.2",
        vpcId: "vpc-123",
        env: { SUPABASE_URL: "https://abcd.supabase.co" },
        secretEnv: {
          SUPABASE_SERVICE_ROLE_KEY: "service-role-key",
          DATABASE_URL: "postgresql://u:p@h:6543/db",
        },
      },
      { providers: [provider] },
    );
    await mocks.settle();
    const recorded = mocks.one("digitalocean:index/app:App");
    expect(recorded.parent).toBe(await promiseOf(app.urn));
    expect(providerUrn(recorded.provider)).toBe(providerRef);
    const spec = recorded.inputs["spec"];
    expect(spec).toMatchObject({
      name: "workbench-prod-ocr-backend",
      region: "sgp",
      vpcs: [{ id: "vpc-123" }],
    });
    const [service] = spec.services;
    expect(service).toMatchObject({
      name: "workbench-prod-ocr-backend",
      image: { registryType: "DOCR", repository: "ocr-backend", tag: "1.4.2" },
      httpPort: 8080,
      instanceCount: 2,
      instanceSizeSlug: "apps-s-1vcpu-1gb",
      healthCheck: { httpPath: "/health", port: 8080 },
      livenessHealthCheck: { httpPath: "/health", port: 8080 },
    });
    expect(service.envs).toEqual([
      { key: "SUPABASE_URL", value: "https://abcd.supabase.co", type: "GENERAL", scope: "RUN_TIME" },
      { key: "SUPABASE_SERVICE_ROLE_KEY", value: "service-role-key", type: "SECRET", scope: "RUN_TIME" },
      { key: "DATABASE_URL", value: "postgresql://u:p@h:6543/db", type: "SECRET", scope: "RUN_TIME" },
    ]);
    expect(isSecretAt(recorded.rawInputs, "spec", "services", 0, "envs", 1, "value")).toBe(true);
    expect(isSecretAt(recorded.rawInputs, "spec", "services", 0, "envs", 2, "value")).toBe(true);
    expect(await promiseOf(app.liveUrl)).toBe("https://wb-ocr.ondigitalocean.app");
  });

  it("maps image references to App Platform image specs", () => {
    expect(appImageSpec("ghcr.io/acme/tools/ocr:2.0.1")).toEqual({
      registryType: "GHCR",
      registry: "acme",
      repository: "tools/ocr",
      tag: "2.0.1",
    });
    expect(appImageSpec("redis:7.4.2")).toEqual({
      registryType: "DOCKER_HUB",
      registry: "library",
      repository: "redis",
      tag: "7.4.2",
    });
    expect(appImageSpec("amazon/aws-cli:2.27.0")).toEqual({
      registryType: "DOCKER_HUB",
      registry: "amazon",
      repository: "aws-cli",
      tag: "2.27.0",
    });
    const digest = `sha256:${"a".repeat(64)}`;
    expect(appImageSpec(`registry.digitalocean.com/r/api@${digest}`)).toEqual({
      registryType: "DOCR",
      repository: "api",
      digest,
    });
    expect(() => appImageSpec("quay.io/acme/api:1.0.0")).toThrow(
      "'quay.io/acme/api:1.0.0': App Platform pulls only from DOCR, GHCR or Docker Hub",
    );
  });

  it.each([
    [
      { image: "registry.digitalocean.com/r/api:latest" },
      'a1: image "registry.digitalocean.com/r/api:latest" uses the floating tag "latest": pin a version or a digest',
    ],
    [
      { env: { OPENAI_API_KEY: "x" } },
      "a1: env OPENAI_API_KEY looks like a credential: pass it in secretEnv (type SECRET)",
    ],
    [
      { appName: "Workbench" },
      "a1: appName 'Workbench' must be 2-32 lowercase letters, digits and dashes, starting with a letter",
    ],
    [{ instanceCount: 0 }, "a1: instanceCount must be a whole number of at least 1 (got 0)"],
  ])("refuses %j", (overrides, message) => {
    const args = {
      region: "sgp1",
      appName: "expense-api",
      image: "registry.digitalocean.com/r/api:1.0.0",
      ...overrides,
    };
    expect(() => new AppPlatformService("a1", args)).toThrow(message);
  });
});
