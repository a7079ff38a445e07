/**
 * The project's replacements for two of dbt's postgres macros (real dbt, real PostgreSQL):
 * - get_columns_in_relation (dbt/macros/get_columns_in_relation.sql) answers from
 *   pg_catalog what dbt's own query answers from information_schema.columns: the same
 *   rows for every relation the medallion builds, every kind of type, a temporary table
 *   (no schema), and not another session's temporary table;
 * - persist_docs (dbt/macros/persist_docs.sql) sets only the comments that changed, and
 *   a description changed in the project still reaches the relation on an incremental run.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDbt } from "../../lib/dbt/cli.ts";
import { loadSampleData } from "../../lib/sample-data/index.ts";
import { createMedallionDatabase, DBT_PROJECT, type MedallionDatabase } from "../helpers/medallion.ts";

const TODAY = "2026-01-31";
const VARS = { as_of_date: TODAY };

let db: MedallionDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createMedallionDatabase("columns");
  client = new pg.Client({ connectionString: db.server.url(db.name) });
  await client.connect();
  await loadSampleData(
    client,
    { seed: 11, transactions: 1_500, badShare: 0.05, today: TODAY },
    { source: "columns", batchPrefix: "columns", batchSize: 5_000 },
  );
  await db.dbt({ command: "build", vars: VARS, fullRefresh: true });
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

/** The macro's query for one relation, its Jinja conditions applied. */
function macroQuery(identifier: string, schema: string | null): string {
  const text = readFileSync(join(DBT_PROJECT, "macros/get_columns_in_relation.sql"), "utf8");
  const body =
    /\{% call statement\('get_columns_in_relation', fetch_result=True\) %\}([\s\S]*?)\{% endcall %\}/.exec(
      text,
    )?.[1];
  if (!body) throw new Error("no get_columns_in_relation statement in the macro file");
  return body
    .replace(/\{% if relation\.schema %\}([\s\S]*?)\{% endif %\}/, (_all, inner: string) =>
      schema ? inner : "",
    )
    .replaceAll("{{ relation.identifier }}", identifier)
    .replaceAll("{{ relation.schema }}", schema ?? "");
}

/** dbt's own query (dbt-postgres's postgres__get_columns_in_relation). */
function dbtQuery(identifier: string, schema: string | null): string {
  return `select column_name, data_type, character_maximum_length, numeric_precision, numeric_scale
            from information_schema.columns
           where table_name = '${identifier}' ${schema ? `and table_schema = '${schema}'` : ""}
           order by ordinal_position`;
}

async function rows(connection: pg.Client, sql: string): Promise<unknown[][]> {
  const result = await connection.query({ text: sql, rowMode: "array" });
  return result.rows.map((row: unknown[]) => row.map((value) => (value === null ? null : String(value))));
}

describe("get_columns_in_relation from pg_catalog", () => {
  it("answers what information_schema.columns answers, for every relation and kind of type", async () => {
    await client.query(`
      create schema coltypes;
      create domain coltypes.short_code as varchar(10);
      create domain coltypes.codes as text[];
      create type coltypes.mood as enum ('ok', 'bad');
      create table coltypes.every_type (
        id bigint, small smallint, n numeric(12, 2), n_free numeric, r real, d double precision,
        v varchar(20), v_free varchar, c char(5), t text, b boolean, bits bit(4), vbits varbit(9),
        ts timestamp(3), tstz timestamptz, day date, span interval, ints int[], texts text[],
        code coltypes.short_code, code_list coltypes.codes, feeling coltypes.mood, doc jsonb, uid uuid,
        "Mixed Case" text
      );
      alter table coltypes.every_type drop column small;
      create view coltypes.every_type_view as select id, n, v, code from coltypes.every_type;
    `);
    const relations = await client.query<{ schema: string; name: string }>(
      `select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ('bronze', 'silver', 'gold', 'platinum', 'coltypes') and c.relkind in ('r', 'v', 'p')
        order by 1, 2`,
    );
    expect(relations.rows.length).toBeGreaterThan(25);
    for (const { schema, name } of relations.rows) {
      const expected = await rows(client, dbtQuery(name, schema));
      expect(expected.length, `${schema}.${name}`).toBeGreaterThan(0);
      expect(await rows(client, macroQuery(name, schema)), `${schema}.${name}`).toEqual(expected);
    }

    // A temporary table (dbt looks it up without a schema), beside another session's
    // temporary table of the same name, which neither query sees.
    const other = new pg.Client({ connectionString: db.server.url(db.name) });
    await other.connect();
    try {
      await other.query("create temporary table model__dbt_tmp (other_session int)");
      await client.query(
        "create temporary table model__dbt_tmp (id bigint, label varchar(7), amount numeric(9, 3))",
      );
      const expected = await rows(client, dbtQuery("model__dbt_tmp", null));
      expect(expected.map((row) => row[0])).toEqual(["id", "label", "amount"]);
      expect(await rows(client, macroQuery("model__dbt_tmp", null))).toEqual(expected);
    } finally {
      await other.end();
    }
  });
});

describe("persist_docs sets only what changed", () => {
  async function comments(schema: string, table: string): Promise<Map<string, string | null>> {
    const result = await client.query<{ name: string; comment: string | null }>(
      `select a.attname::text as name, col_description(c.oid, a.attnum) as comment
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
         join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = $1 and c.relname = $2
       union all
       select '', obj_description(c.oid, 'pg_class') from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relname = $2`,
      [schema, table],
    );
    return new Map(result.rows.map((row) => [row.name, row.comment]));
  }

  it("a build leaves every documented comment in place; a description changed since reaches the table on an incremental run", async () => {
    const manifest = JSON.parse(readFileSync(join(db.targetPath, "manifest.json"), "utf8")) as {
      nodes: Record<
        string,
        {
          resource_type: string;
          schema: string;
          alias: string;
          description: string;
          columns: Record<string, { description: string }>;
        }
      >;
    };
    const models = Object.values(manifest.nodes).filter((node) => node.resource_type === "model");
    expect(models.length).toBeGreaterThan(20);
    for (const model of models) {
      const found = await comments(model.schema, model.alias);
      if (model.description) expect(found.get(""), `${model.alias}`).toBe(model.description);
      for (const [column, { description }] of Object.entries(model.columns)) {
        expect(found.get(column) ?? "", `${model.alias}.${column}`).toBe(description);
      }
    }

    // An incremental run of a project whose description of one column changed: that
    // column's comment changes, the others stay.
    const project = mkdtempSync(join(tmpdir(), "aiwb-dbt-docs-"));
    try {
      cpSync(DBT_PROJECT, project, {
        recursive: true,
        filter: (path) => !/\/(target|logs)(\/|$)/.test(path),
      });
      const yml = join(project, "models/gold/_gold__models.yml");
      const text = readFileSync(yml, "utf8");
      const before = await comments("gold", "monthly_summary");
      const monthComment = before.get("month");
      expect(monthComment).toBeTruthy();
      const [head, tail] = text.split("- name: gold_monthly_summary\n");
      expect(tail).toBeDefined();
      writeFileSync(
        yml,
        `${head}- name: gold_monthly_summary\n${(tail as string).replace(
          `description: ${monthComment as string}`,
          "description: The month, described anew.",
        )}`,
      );
      const run = await runDbt({
        command: "run",
        projectDir: project,
        connection: db.connection,
        select: ["gold_monthly_summary"],
        vars: VARS,
        targetPath: join(project, "target"),
      });
      expect(run.models.success).toBe(1);
      const after = await comments("gold", "monthly_summary");
      expect(after.get("month")).toBe("The month, described anew.");
      expect(after.get("")).toBe(before.get(""));
      expect(after.get("category")).toBe(before.get("category"));
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
