/** Reading dbt artifacts: manifest v5–v12 (this project's fixtures v10–v12), tolerance, and exact errors for malformed files. */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ArtifactError,
  loadArtifacts,
  manifestVersion,
  parseCatalog,
  parseManifest,
  parseRunResults,
} from "../../../lib/catalog/artifacts.ts";
import { REPO_ROOT } from "../../../lib/paths.ts";

const FIXTURES = join(REPO_ROOT, "test/fixtures/dbt-artifacts");
const fixture = (...parts: string[]) => join(FIXTURES, ...parts);
const read = (...parts: string[]) => readFileSync(fixture(...parts), "utf8");

const scratch: string[] = [];
function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "aiwb-artifacts-unit-"));
  scratch.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe("manifest versions", () => {
  it.each([
    ["v10", 10, "1.6.9"],
    ["v11", 11, "1.7.11"],
    ["v12", 12, "1.9.4"],
  ])("parses a %s manifest (dbt %s)", (dir, version, dbtVersion) => {
    const manifest = parseManifest(`${dir}/manifest.json`, read(dir, "manifest.json"));
    expect(manifestVersion(manifest.metadata.dbt_schema_version)).toBe(version);
    expect(manifest.metadata.dbt_version).toBe(dbtVersion);
    const types = Object.values(manifest.nodes).map((node) => node.resource_type);
    expect(types.filter((t) => t === "model")).toHaveLength(3);
    expect(types.filter((t) => t === "seed")).toHaveLength(1);
    expect(types.filter((t) => t === "snapshot")).toHaveLength(1);
    expect(types.filter((t) => t === "test")).toHaveLength(7);
    expect(Object.keys(manifest.sources ?? {})).toEqual(["source.shop.raw.orders"]);
    expect(Object.keys(manifest.exposures ?? {})).toEqual(["exposure.shop.orders_dashboard"]);
    // Unknown fields (checksum, unrendered_config, granularity, …) are dropped, not rejected.
    const stg = manifest.nodes["model.shop.stg_orders"] as Record<string, unknown>;
    expect(stg["checksum"]).toBeUndefined();
    expect(stg["compiled_code"]).toContain('"warehouse"."bronze"."orders"');
  });

  it("refuses a manifest schema it does not know, naming the version and what to do", () => {
    const text = read("v12", "manifest.json").replace("manifest/v12.json", "manifest/v3.json");
    expect(() => parseManifest("target/manifest.json", text)).toThrow(
      "target/manifest.json: metadata.dbt_schema_version: unsupported manifest schema: v3 is written by dbt 1.0 or older",
    );
  });

  it("tolerates missing optional fields", () => {
    const minimal = JSON.stringify({
      metadata: { dbt_schema_version: "https://schemas.getdbt.com/dbt/manifest/v11.json" },
      nodes: {
        "model.p.m": { unique_id: "model.p.m", resource_type: "model", name: "m", schema: "gold" },
      },
    });
    const manifest = parseManifest("manifest.json", minimal);
    expect(manifest.nodes["model.p.m"]?.columns).toBeUndefined();
    expect(manifest.sources).toBeUndefined();
  });
});

describe("malformed artifacts", () => {
  it("names the file, the path inside it and the problem", () => {
    const file = fixture("malformed-manifest", "manifest.json");
    expect(() => parseManifest(file, read("malformed-manifest", "manifest.json"))).toThrow(
      new ArtifactError(file, "nodes.model.shop.stg_orders.columns: expected object, got string"),
    );
    expect(() => parseManifest("manifest.json", read("malformed-manifest", "manifest.json"))).toThrow(
      "manifest.json: nodes.model.shop.stg_orders.columns: expected object, got string",
    );
  });

  it("rejects a file that is not JSON with the parser's reason", () => {
    expect(() => parseCatalog("catalog.json", read("malformed-catalog", "catalog.json"))).toThrow(
      /^catalog\.json: not valid JSON \(.+\)$/,
    );
  });

  it("reports a missing required field and a wrong array element", () => {
    const results = JSON.stringify({
      metadata: {},
      results: [{ status: "pass" }, { unique_id: 7, status: "pass" }],
    });
    expect(() => parseRunResults("run_results.json", results)).toThrow(
      "run_results.json: results[0].unique_id: required string is missing; results[1].unique_id: expected string, got number",
    );
  });

  it("rejects JSON that is not an object", () => {
    expect(() => parseManifest("manifest.json", "[]")).toThrow(
      "manifest.json: expected a JSON object, got array",
    );
  });

  it("loadArtifacts rejects a malformed file among good ones, naming it", () => {
    expect(() => loadArtifacts([fixture("v12"), fixture("malformed-catalog")])).toThrow(
      new RegExp(
        `^${fixture("malformed-catalog", "catalog.json").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: not valid JSON`,
      ),
    );
  });
});

describe("loadArtifacts", () => {
  it("takes the newest manifest, every build-like run_results, and ignores docs generate's", () => {
    const docs = scratchDir();
    cpSync(fixture("v12", "manifest.json"), join(docs, "manifest.json"));
    cpSync(fixture("v12", "catalog.json"), join(docs, "catalog.json"));
    const docsResults = JSON.parse(read("v12", "run_results.json")) as { args: { which: string } };
    docsResults.args.which = "generate";
    writeFileSync(join(docs, "run_results.json"), JSON.stringify(docsResults));

    const artifacts = loadArtifacts([fixture("v11"), docs]);
    expect(artifacts.manifestFile).toBe(join(docs, "manifest.json"));
    expect(artifacts.catalogFile).toBe(join(docs, "catalog.json"));
    expect(artifacts.runResults.map((r) => r.file)).toEqual([fixture("v11", "run_results.json")]);
    expect(artifacts.ignored).toEqual([
      {
        file: join(docs, "run_results.json"),
        reason: "written by 'dbt docs generate', which builds and tests nothing",
      },
    ]);
    expect(artifacts.compiledCode.get("model.shop.orders_by_month")?.sql).toContain(
      "__dbt__cte__int_order_amounts",
    );
  });

  it("resolves relative dirs against the base dir and says which dir is missing", () => {
    expect(loadArtifacts(["v10"], FIXTURES).manifestFile).toBe(fixture("v10", "manifest.json"));
    expect(() => loadArtifacts(["nope"], FIXTURES)).toThrow(
      `artifact dir ${fixture("nope")} does not exist (run dbt first, or fix the path)`,
    );
    expect(() => loadArtifacts([fixture("malformed-catalog")])).toThrow(/not valid JSON/);
    const empty = scratchDir();
    expect(() => loadArtifacts([empty])).toThrow(
      `no manifest.json in ${empty}: pass the target dir of a dbt build or docs generate`,
    );
  });
});
