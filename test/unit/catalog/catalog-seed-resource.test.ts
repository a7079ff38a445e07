/** The CatalogSeed dynamic resource (mocks) and its provider's check and diff. */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { PgConnection } from "../../../lib/postgres/connection.ts";
import { catalogSeedProvider, type CatalogSeedOutputs } from "../../../components/data/catalog-seed.ts";
import { installMocks, isSecretInput, type MockRecorder } from "../../helpers/pulumi-mocks.ts";

const connection: PgConnection = {
  host: "127.0.0.1",
  port: 54322,
  database: "postgres",
  user: "postgres",
  password: "s3cret",
  sslMode: "disable",
};
const TYPE = "pulumi-nodejs:dynamic/workbench:data:CatalogSeed";

let mocks: MockRecorder;
beforeAll(async () => {
  mocks = await installMocks();
  const { CatalogSeed } = await import("../../../components/data/catalog-seed.ts");
  new CatalogSeed("catalog", {
    connection: pulumi.secret(connection),
    artifactDirs: ["dbt/target/local/bronze", "dbt/target/local/docs"],
    trigger: "inv-1,inv-2",
    alertWebhookUrl: "http://n8n.local/webhook/quality-alerts",
  });
  new CatalogSeed("weighted", {
    connection,
    artifactDirs: ["/abs/target"],
    trigger: "t",
    weights: { completeness: 2 },
  });
  await mocks.settle();
});

describe("CatalogSeed", () => {
  it("registers with token workbench:data:CatalogSeed and the project provider shim", () => {
    const seed = mocks.one(TYPE, "catalog");
    expect(seed.custom).toBe(true);
    expect(seed.inputs).toMatchObject({
      connection,
      artifactDirs: ["dbt/target/local/bronze", "dbt/target/local/docs"],
      trigger: "inv-1,inv-2",
      weights: {},
      alertWebhookUrl: "http://n8n.local/webhook/quality-alerts",
    });
    const provider = String(seed.inputs["__provider"]);
    // The state names the provider (components/shared/provider-registry.ts), never a module path.
    expect(provider).toContain('"workbench:data:CatalogSeed"');
    expect(provider).toContain("#workbench-providers");
    expect(provider).not.toContain("catalog-seed.ts");
  });

  it("keeps the connection secret and marks the connection and webhook outputs secret", () => {
    const seed = mocks.one(TYPE, "catalog");
    expect(isSecretInput(seed.rawInputs["connection"])).toBe(true);
    expect(seed.additionalSecretOutputs).toEqual(expect.arrayContaining(["connection", "alertWebhookUrl"]));
  });

  it("passes weights through and defaults the webhook to none", () => {
    expect(mocks.one(TYPE, "weighted").inputs).toMatchObject({
      weights: { completeness: 2 },
      alertWebhookUrl: "",
    });
  });
});

describe("catalogSeedProvider", () => {
  const inputs = { connection, artifactDirs: ["a"], trigger: "t1", weights: {}, alertWebhookUrl: "" };
  const olds = { ...inputs } as CatalogSeedOutputs;

  it("check rejects bad weights and an empty dir list with actionable messages", async () => {
    const result = await catalogSeedProvider.check?.(
      {},
      { ...inputs, artifactDirs: [], weights: { validity: -2 } },
    );
    expect(result?.failures).toEqual([
      { property: "weights", reason: "the weight of validity must be a number >= 0, got -2" },
      { property: "artifactDirs", reason: "give at least one dbt artifacts dir" },
    ]);
  });

  it("re-seeds only when the trigger or another input changes", async () => {
    expect((await catalogSeedProvider.diff?.("id", olds, inputs))?.changes).toBe(false);
    expect(await catalogSeedProvider.diff?.("id", olds, { ...inputs, trigger: "t2" })).toMatchObject({
      changes: true,
      replaces: [],
    });
    expect(
      (await catalogSeedProvider.diff?.("id", olds, { ...inputs, weights: { uniqueness: 2 } }))?.changes,
    ).toBe(true);
    // A password rotation alone is no reason to re-seed.
    expect(
      (
        await catalogSeedProvider.diff?.("id", olds, {
          ...inputs,
          connection: { ...connection, password: "new" },
        })
      )?.changes,
    ).toBe(false);
  });

  it("replaces the resource for another database", async () => {
    expect(
      await catalogSeedProvider.diff?.("id", olds, {
        ...inputs,
        connection: { ...connection, database: "other" },
      }),
    ).toMatchObject({ changes: true, replaces: ["connection"] });
  });
});
