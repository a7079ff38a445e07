/** Read-only figures about the medallion, for summaries and tests. */
import type pg from "pg";

export interface QuarantineCount {
  entity: "transactions" | "expenses" | "products";
  reason: string;
  rows: number;
}

/** Quarantined rows per entity and primary reason (empty before silver was built). */
export async function quarantineByReason(client: pg.Client): Promise<QuarantineCount[]> {
  const sources = [
    ["transactions", "silver.silver_transaction_classifications"],
    ["expenses", "silver.silver_expense_classifications"],
    ["products", "silver.silver_product_classifications"],
  ] as const;
  const counts: QuarantineCount[] = [];
  for (const [entity, table] of sources) {
    const exists = await client.query("select to_regclass($1) as t", [table]);
    if (!exists.rows[0]?.t) continue;
    const result = await client.query<{ reason: string; rows: number }>(
      `select primary_reason as reason, count(*)::int as rows from ${table}
        where status = 'quarantined' group by 1 order by 1`,
    );
    counts.push(...result.rows.map((row) => ({ entity, ...row })));
  }
  return counts;
}

export interface LayerRows {
  layer: string;
  relation: string;
  rows: number;
}

/** Exact row counts of every table and view in the medallion schemas. */
export async function rowsPerRelation(client: pg.Client): Promise<LayerRows[]> {
  const relations = await client.query<{ layer: string; relation: string }>(
    `select table_schema as layer, table_name as relation
       from information_schema.tables
      where table_schema in ('bronze', 'silver', 'gold', 'platinum')
      order by array_position(array['bronze', 'silver', 'gold', 'platinum'], table_schema::text), table_name`,
  );
  const rows: LayerRows[] = [];
  for (const { layer, relation } of relations.rows) {
    const count = await client.query<{ n: number }>(
      `select count(*)::int as n from "${layer}"."${relation}"`,
    );
    rows.push({ layer, relation, rows: count.rows[0]?.n ?? 0 });
  }
  return rows;
}
