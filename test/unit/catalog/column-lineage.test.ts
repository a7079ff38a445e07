/** Column lineage: filtering to depends_on (pure), and sqlglot on the fixtures' compiled SQL. */
import { dirname, join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { loadArtifacts } from "../../../lib/catalog/artifacts.ts";
import {
  filterColumnEdges,
  findPython,
  LINEAGE_SCRIPT,
  startColumnLineage,
  traceColumnLineage,
  type RawColumnEdge,
  type UpstreamRelation,
} from "../../../lib/catalog/column-lineage.ts";
import { buildCatalog, lineageRequest, planColumnLineage } from "../../../lib/catalog/plan.ts";
import { REPO_ROOT } from "../../../lib/paths.ts";

const edge = (
  target: string,
  schema: string | null,
  table: string,
  column: string,
  database: string | null = "wh",
): RawColumnEdge => ({
  target,
  database,
  schema,
  table,
  column,
  expression: null,
});

describe("filterColumnEdges", () => {
  const parents: UpstreamRelation[] = [
    {
      uniqueId: "model.p.orders",
      database: "wh",
      schema: "silver",
      name: "orders",
      columns: ["order_id", "Amount"],
    },
    { uniqueId: "seed.p.codes", database: null, schema: "silver", name: "codes" },
  ];

  it("keeps only edges from the model's depends_on parents", () => {
    const kept = filterColumnEdges(
      [
        edge("total", "silver", "orders", "amount"),
        edge("code", "silver", "codes", "code"),
        // read through a hard-coded name, not a ref: not lineage dbt knows
        edge("total", "bronze", "orders_raw", "amount"),
        // same name in another database
        edge("total", "silver", "orders", "amount", "other_wh"),
      ],
      parents,
    );
    expect(kept).toEqual([
      { sourceUniqueId: "model.p.orders", sourceColumn: "Amount", targetColumn: "total", expression: null },
      { sourceUniqueId: "seed.p.codes", sourceColumn: "code", targetColumn: "code", expression: null },
    ]);
  });

  it("matches names case-insensitively, spells them as the catalog does, and drops unknown columns and duplicates", () => {
    const kept = filterColumnEdges(
      [
        edge("TOTAL", "SILVER", "ORDERS", "AMOUNT"),
        edge("total", "silver", "orders", "amount"),
        edge("total", "silver", "orders", "not_a_column"),
        edge("ghost", "silver", "orders", "amount"),
      ],
      parents,
      ["Total"],
    );
    expect(kept).toEqual([
      { sourceUniqueId: "model.p.orders", sourceColumn: "Amount", targetColumn: "Total", expression: null },
    ]);
  });
});

describe("traceColumnLineage (sqlglot in the project venv)", () => {
  it("traces projected columns through CTEs and an ephemeral model to the physical tables", async () => {
    const artifacts = loadArtifacts([join(REPO_ROOT, "test/fixtures/dbt-artifacts/v12")]);
    const request = lineageRequest(artifacts);
    const run = await traceColumnLineage(request.models, request.schema);
    expect(run.sqlglotVersion).toMatch(/^\d+\.\d+/);
    expect(run.models.every((m) => m.error === null)).toBe(true);

    const plan = buildCatalog(artifacts, { columnLineage: run.models });
    // COUNTRY is countries.name: the join key (code) filters rows but is not where the value comes from.
    const edges = plan.columnEdges.map(
      (e) => `${e.sourceUniqueId}.${e.sourceColumn} -> ${e.targetUniqueId}.${e.targetColumn}`,
    );
    expect(edges.sort()).toEqual([
      "model.shop.stg_orders.amount -> model.shop.orders_by_month.TOTAL_AMOUNT",
      "seed.shop.country_codes.name -> model.shop.orders_by_month.COUNTRY",
      "source.shop.raw.orders.amount_cents -> model.shop.stg_orders.amount",
      "source.shop.raw.orders.country -> model.shop.stg_orders.country",
      "source.shop.raw.orders.id -> model.shop.stg_orders.order_id",
      "source.shop.raw.orders.status -> model.shop.stg_orders.status",
    ]);
    const amount = plan.columnEdges.find((e) => e.targetColumn === "amount");
    expect(amount?.transformationSql).toMatch(/amount_cents \/ 100\.0 AS amount/i);
    expect(plan.columnLineageTargets.sort()).toEqual(["model.shop.orders_by_month", "model.shop.stg_orders"]);
  });

  it("started ahead of its request (as the seeder does), answers the same, and the lineage planned apart equals the one-step plan", async () => {
    const artifacts = loadArtifacts([join(REPO_ROOT, "test/fixtures/dbt-artifacts/v12")]);
    const request = lineageRequest(artifacts);
    const early = startColumnLineage();
    // The process is already importing sqlglot; the request follows later.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const run = await early.trace(request.models, request.schema, { dialect: request.dialect });
    const reference = await traceColumnLineage(request.models, request.schema, { dialect: request.dialect });
    const answers = (models: typeof run.models) => models.map(({ seconds: _, ...rest }) => rest);
    expect(answers(run.models)).toEqual(answers(reference.models));
    expect(run.processCpuSeconds).toBeGreaterThanOrEqual(run.cpuSeconds);
    await expect(early.trace(request.models, request.schema)).rejects.toThrow(/already used or stopped/);

    const inputs = new Map(
      request.models.map((m) => [m.id, { sqlSource: m.sqlSource, checksum: m.checksum }]),
    );
    const oneStep = buildCatalog(artifacts, {
      columnLineage: run.models,
      lineageInputs: inputs,
      parser: "p",
    });
    const base = buildCatalog(artifacts);
    expect(base.columnEdges).toEqual([]);
    const apart = planColumnLineage(base, { columnLineage: run.models, lineageInputs: inputs, parser: "p" });
    expect(apart.columnEdges).toEqual(oneStep.columnEdges);
    expect(apart.columnEdges.length).toBeGreaterThan(0);
    expect(apart.columnLineageTargets).toEqual(oneStep.columnLineageTargets);
    expect(apart.coverage).toEqual(oneStep.coverage);
    expect([...base.warnings, ...apart.warnings]).toEqual(oneStep.warnings);
    expect(() => planColumnLineage({ ...base }, {})).toThrow(/not built by buildCatalog/);
  });

  it("reports a model that does not parse and goes on with the others", async () => {
    const run = await traceColumnLineage(
      [
        { id: "model.p.broken", sql: "select from where (" },
        { id: "model.p.ok", sql: 'select a as b from "wh"."s"."t"' },
      ],
      { wh: { s: { t: { a: "int" } } } },
    );
    expect(run.models.find((m) => m.id === "model.p.broken")?.error).toMatch(/Error/);
    expect(run.models.find((m) => m.id === "model.p.ok")).toMatchObject({
      error: null,
      edges: [{ target: "b", database: "wh", schema: "s", table: "t", column: "a", expression: null }],
    });
  });

  it("traces without the schema when the SQL names a column the schema does not know", async () => {
    const run = await traceColumnLineage(
      [{ id: "model.p.m", sql: 'select t.a, t.added_later as b from "wh"."s"."t" as t' }],
      { wh: { s: { t: { a: "int" } } } },
    );
    expect(run.models[0]).toMatchObject({ error: null });
    expect(run.models[0]?.edges.map((e) => `${e.column} -> ${e.target}`)).toEqual([
      "a -> a",
      "added_later -> b",
    ]);
  });

  it("keeps an unexpected exception type (a sqlglot AssertionError) with its model, in a pool of 2 workers", async () => {
    const models = Array.from({ length: 40 }, (_, i) => ({
      id: `model.p.m${i}`,
      sql: `select p.id as id_${i}, p.price * 2 as double_price from analytics.rms.products as p`,
    }));
    // Snowflake: `select * … except select * … order by 1` over tables nobody knows the
    // columns of makes sqlglot 30 raise an AssertionError (not a SqlglotError).
    models.splice(17, 0, {
      id: "model.p.orders_diff",
      sql: "select * from raw.erp.orders except select * from raw.erp.orders_archive order by 1",
    });
    const run = await traceColumnLineage(
      models,
      { ANALYTICS: { RMS: { PRODUCTS: { ID: "NUMBER", PRICE: "NUMBER" } } } },
      { dialect: "snowflake", workers: 2 },
    );
    expect(run.workers).toBe(2);
    expect(run.models.map((m) => m.id)).toEqual(models.map((m) => m.id));
    expect(run.models.filter((m) => m.error).map((m) => [m.id, m.error?.split(":")[0]])).toEqual([
      ["model.p.orders_diff", "AssertionError"],
    ]);
    expect(run.models.filter((m) => m.edges.length === 2)).toHaveLength(40);
  });

  it("a worker that dies costs only the model it died on its lineage: the others are retried", async () => {
    // The real pool and retry code of column_lineage.py; only trace() is wrapped so that one
    // model kills its worker process the way a crash in sqlglot's compiled code would.
    const script = `
import json, os, sys
sys.path.insert(0, ${JSON.stringify(dirname(LINEAGE_SCRIPT))})
import column_lineage as cl
from sqlglot.dialects.dialect import Dialect
from sqlglot.schema import MappingSchema
d = Dialect.get_or_raise("postgres")
cl.STATE.update(dialect=d, schema=MappingSchema({"db": {"s": {"t": {"a": "int", "b": "int"}}}}, dialect=d, normalize=False), empty=MappingSchema(dialect=d))
real = cl.trace
def trace(model):
    if model["id"] == "m17":
        os._exit(9)
    return real(model)
cl.trace = trace
models = [{"id": f"m{i}", "sql": 'select a as x, b + 1 as y from "db"."s"."t"'} for i in range(120)]
texts, cpu = cl.run_pool(models, 2)
print("[" + ",".join(texts) + "]")
`;
    const result = await execa(findPython(), ["-c", script]);
    const answers = JSON.parse(result.stdout) as { id: string; error: string | null; edges: unknown[] }[];
    expect(answers.map((a) => a.id)).toEqual(Array.from({ length: 120 }, (_, i) => `m${i}`));
    expect(answers.filter((a) => a.error).map((a) => [a.id, a.error])).toEqual([
      ["m17", "the parser process died on this model (out of memory or a crash in sqlglot)"],
    ]);
    expect(answers.filter((a) => a.id !== "m17").every((a) => a.edges.length === 2)).toBe(true);
  });

  it("fails clearly when the Python cannot run", async () => {
    await expect(
      traceColumnLineage([{ id: "m", sql: "select 1" }], {}, { pythonPath: "/nonexistent/python" }),
    ).rejects.toThrow(/column lineage \(\/nonexistent\/python .*column_lineage\.py\) failed/);
  });
});
