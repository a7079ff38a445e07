/** Read-only views of the seeded catalog, for the main job's summary and its picture. */
import type pg from "pg";
import type { LineageEdge, LineageNode } from "./lineage-svg.ts";

export interface CatalogFigures {
  tablesByLayer: Record<string, number>;
  columns: number;
  tableEdges: number;
  columnEdges: number;
  /** Latest run of each test. */
  tests: { pass: number; warn: number; fail: number; error: number };
  /** Average dq_score of the live tables per layer (null: no scored table). */
  dqByLayer: Record<string, number | null>;
  openAlerts: number;
  /** Live models with column lineage / live models with a coverage row (ip_workbench.lineage_coverage). */
  columnLineage: { models: number; withLineage: number };
}

export async function catalogFigures(client: pg.Client): Promise<CatalogFigures> {
  const tables = await client.query<{ layer: string; n: number; dq: string | null }>(
    `select coalesce(layer, 'other') as layer, count(*)::int as n, round(avg(dq_score), 2)::text as dq
       from ip_workbench.tables where not is_deleted group by 1 order by 1`,
  );
  const counts = await client.query<{
    columns: number;
    table_edges: number;
    column_edges: number;
    open_alerts: number;
    covered_models: number;
    traced_models: number;
  }>(
    `select (select count(*)::int from ip_workbench.table_metadata m
               join ip_workbench.tables t on t.id = m.table_id where not t.is_deleted) as columns,
            (select count(*)::int from ip_workbench.lineage_edges where edge_type = 'table') as table_edges,
            (select count(*)::int from ip_workbench.lineage_edges where edge_type = 'column') as column_edges,
            (select count(*)::int from ip_workbench.alerts where resolved_at is null) as open_alerts,
            (select count(*)::int from ip_workbench.lineage_coverage c
               join ip_workbench.tables t on t.id = c.table_id where not t.is_deleted) as covered_models,
            (select count(*)::int from ip_workbench.lineage_coverage c
               join ip_workbench.tables t on t.id = c.table_id where not t.is_deleted and c.status = 'traced') as traced_models`,
  );
  const tests = await client.query<{ status: string; n: number }>(
    `select status, count(*)::int as n from (
       select distinct on (r.test_id) r.status
         from ip_workbench.test_runs r join ip_workbench.tests t on t.id = r.test_id
        where not t.is_deleted
        order by r.test_id, r.executed_at desc) latest
      group by status`,
  );
  const testCount = (status: string) => tests.rows.find((row) => row.status === status)?.n ?? 0;
  const row = counts.rows[0];
  return {
    tablesByLayer: Object.fromEntries(tables.rows.map((r) => [r.layer, r.n])),
    columns: row?.columns ?? 0,
    tableEdges: row?.table_edges ?? 0,
    columnEdges: row?.column_edges ?? 0,
    tests: {
      pass: testCount("pass"),
      warn: testCount("warn"),
      fail: testCount("fail"),
      error: testCount("error"),
    },
    dqByLayer: Object.fromEntries(tables.rows.map((r) => [r.layer, r.dq === null ? null : Number(r.dq)])),
    openAlerts: row?.open_alerts ?? 0,
    columnLineage: { models: row?.covered_models ?? 0, withLineage: row?.traced_models ?? 0 },
  };
}

/** Table-level lineage of the live catalog, as nodes (by layer) and edges. */
export async function lineageGraph(
  client: pg.Client,
): Promise<{ nodes: LineageNode[]; edges: LineageEdge[] }> {
  const tables = await client.query<{
    id: string;
    name: string;
    layer: string | null;
    resource_type: string;
  }>(
    // schema.table, with the database in front where two live relations share schema and name.
    `select id::text,
            case when count(*) over (partition by schema_name, table_name) > 1
                 then coalesce(database_name || '.', '') else '' end || schema_name || '.' || table_name as name,
            layer, resource_type
       from ip_workbench.tables where not is_deleted`,
  );
  const edges = await client.query<{ source: string; target: string }>(
    `select source_table_id::text as source, target_table_id::text as target
       from ip_workbench.lineage_edges where edge_type = 'table'`,
  );
  const names = new Map(tables.rows.map((table) => [table.id, table.name]));
  return {
    nodes: tables.rows.map((table) => ({
      id: table.name,
      layer: table.resource_type === "source" ? "landing" : (table.layer ?? "other"),
    })),
    edges: edges.rows
      .map((edge) => ({ from: names.get(edge.source) ?? "", to: names.get(edge.target) ?? "" }))
      .filter((edge) => edge.from && edge.to),
  };
}
