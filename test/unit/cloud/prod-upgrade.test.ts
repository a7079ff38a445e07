/**
 * Upgrading a prod stack deployed from commit 21b10b6, when every workbench Secret lived in
 * one WorkbenchSecrets hub: each Secret now belongs to the component that reads it, under
 * the same resource name, with an alias resolving to its old URN, so `pulumi up` moves it
 * in state. A wrong alias would mean create-before-delete of a Secret with a fixed
 * metadata.name: an outage. The aliases are read from the RegisterResourceRequest the SDK
 * sends (installMocks wraps the mock monitor) and resolved the way the engine resolves them.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks } from "../../helpers/pulumi-mocks.ts";
import { cloudDataSources, prodConfig } from "./prod-config.ts";
import { BEFORE, HUB_URN, secretShape, successors } from "./upgrade-fixture.ts";

const mocks = await installMocks({ stack: "prod", calls: cloudDataSources });
const { cloudPlatform } = await import("../../../stacks/cloud/index.ts");

const SECRET = "kubernetes:core/v1:Secret";
const hubSecret = (name: string) =>
  `urn:pulumi:prod::ai-workbench::workbench:kubernetes:WorkbenchSecrets$${SECRET}::${name}`;

describe(`upgrading the full prod stack from ${BEFORE.commit.slice(0, 7)} (workbench:deployWorkloads true)`, () => {
  beforeAll(async () => {
    cloudPlatform(prodConfig({ overrides: { "workbench:deployWorkloads": true } }));
    await mocks.settle();
  });

  it("takes over every resource it had, by URN or by one alias; only the empty hub goes", () => {
    const { taken, gone } = successors(BEFORE.full, mocks);
    expect(gone).toEqual([HUB_URN]);
    for (const [urn, successor] of taken) {
      // Same type and name: the resource moves in state, nothing is replaced.
      expect(successor.type, urn).toBe(urn.split("::").at(-2)?.split("$").at(-1));
      expect(successor.name, urn).toBe(urn.split("::").at(-1));
    }
    // Nothing new on top: every resource registered now was there before (by URN or alias).
    const before = new Set(BEFORE.full.urns);
    expect(
      mocks.resources
        .filter(
          (resource) => !before.has(resource.urn) && !resource.aliases.some((alias) => before.has(alias)),
        )
        .map((resource) => resource.urn),
    ).toEqual([]);
  });

  it("moves each hub Secret under the component that reads it, with an alias to its old URN", () => {
    const { taken } = successors(BEFORE.full, mocks);
    const moved = Object.fromEntries(
      [...taken]
        .filter(([urn, successor]) => urn !== successor.urn)
        .map(([urn, successor]) => [urn, successor]),
    );
    const owner = (urn: string) => mocks.byUrn(moved[urn]?.parent ?? "")?.type;
    expect(Object.keys(moved).sort()).toEqual(
      [
        "workbench-prod-secrets-integrations-n8n",
        "workbench-prod-secrets-integrations-workbench",
        "workbench-prod-secrets-llm",
        "workbench-prod-secrets-n8n",
        "workbench-prod-secrets-registry-workbench",
        "workbench-prod-secrets-supabase",
      ].map(hubSecret),
    );
    expect(owner(hubSecret("workbench-prod-secrets-llm"))).toBe("workbench:kubernetes:LiteLlm");
    expect(owner(hubSecret("workbench-prod-secrets-n8n"))).toBe("workbench:kubernetes:N8n");
    expect(owner(hubSecret("workbench-prod-secrets-integrations-n8n"))).toBe("workbench:kubernetes:N8n");
    for (const key of ["supabase", "integrations-workbench", "registry-workbench"]) {
      expect(owner(hubSecret(`workbench-prod-secrets-${key}`))).toBe(
        "workbench:kubernetes:WorkbenchServices",
      );
    }
    for (const [urn, successor] of Object.entries(moved)) {
      expect(successor.aliases, urn).toEqual([urn]);
      expect(successor.type).toBe(SECRET);
    }
  });

  it("keeps every Secret's object name, namespace, type and data keys", () => {
    const { taken } = successors(BEFORE.full, mocks);
    const secrets = Object.entries(BEFORE.full.secrets);
    expect(secrets).toHaveLength(12);
    for (const [urn, shape] of secrets) {
      const successor = taken.get(urn);
      expect(successor, urn).toBeDefined();
      if (successor) expect(secretShape(successor), urn).toEqual(shape);
    }
  });
});
