/**
 * Streams generated rows into the bronze landing tables with COPY, one transaction per
 * batch, in constant memory: rows are pulled from the (lazy) generator only as fast as
 * PostgreSQL takes them (Readable.from + pipeline give the backpressure), in ~64 KiB
 * chunks.
 *
 * Idempotent re-delivery: a batch is identified by (source, batch_id, entity) in
 * bronze.deliveries, whose row is inserted in the same transaction as the batch's rows.
 * A batch whose delivery row already exists was loaded before (batches commit whole):
 * its rows are generated (to keep the sequence) but not sent, and it counts as skipped.
 * A concurrent loader of the same batch waits on the primary key, then skips.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { GenDataError } from "./calendar.ts";

export const LANDING_TABLES = {
  products: "bronze.scout_products_raw",
  transactions: "bronze.scout_transactions_raw",
  expenses: "bronze.expenses_raw",
} as const;
export type Entity = keyof typeof LANDING_TABLES;

/** The entity names bronze.deliveries records. */
export const DELIVERY_ENTITIES: Record<Entity, string> = {
  products: "scout_products",
  transactions: "scout_transactions",
  expenses: "expenses",
};

const CHUNK_CHARS = 64 * 1024;

/** `<prefix>-<entity>-<batch number, 6 digits>` */
export function batchId(prefix: string, entity: string, batchNumber: number): string {
  return `${prefix}-${entity}-${String(batchNumber).padStart(6, "0")}`;
}

/** Escapes a value for COPY's text format (backslash, newline, carriage return, tab). */
export function copyEscape(value: string): string {
  if (!/[\\\n\r\t]/.test(value)) return value;
  return value.replace(/[\\\n\r\t]/g, (c) =>
    c === "\\" ? "\\\\" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\t",
  );
}

export interface LoadProgress {
  entity: Entity;
  /** Rows generated so far (loaded or skipped). */
  rows: number;
  batchesLoaded: number;
  batchesSkipped: number;
}

export interface EntityLoad {
  entity: Entity;
  table: string;
  rows: number;
  rowsInserted: number;
  batchesLoaded: number;
  batchesSkipped: number;
}

export interface LoadOptions {
  source: string;
  batchPrefix: string;
  batchSize: number;
  onProgress?: (progress: LoadProgress) => void;
}

/** Fails with a clear message unless all three landing tables exist. */
export async function assertLandingTables(client: pg.ClientBase): Promise<void> {
  const tables = [...Object.values(LANDING_TABLES), "bronze.deliveries"];
  const { rows } = await client.query<{ name: string; found: string | null }>(
    "select name, to_regclass(name)::text as found from unnest($1::text[]) as name",
    [tables],
  );
  const missing = rows.filter((r) => r.found === null).map((r) => r.name);
  if (missing.length > 0) {
    throw new GenDataError(
      `missing landing table(s) ${missing.join(", ")}: apply the migrations first (npm run db:migrate)`,
    );
  }
}

/**
 * A raw NUL byte cannot be stored in PostgreSQL text, so a record holding one cannot
 * land (unlike every other bad record, which lands and is quarantined): the batch is
 * refused whole, naming the record.
 */
export function nulByteError(batch: string, recordSeq: number): GenDataError {
  return new GenDataError(
    `batch '${batch}' record ${recordSeq} contains a raw NUL byte (U+0000), which PostgreSQL text cannot hold: ` +
      "nothing of the batch was loaded. Remove the byte, or escape it inside a JSON string as \\u0000 " +
      "(the record then lands and is quarantined as MALFORMED_JSON), and deliver the batch again.",
  );
}

export async function loadEntity(
  client: pg.ClientBase,
  entity: Entity,
  rows: Iterable<{ payloadRaw: string }>,
  options: LoadOptions,
): Promise<EntityLoad> {
  const { source, batchPrefix, batchSize, onProgress } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batch size must be >= 1, got ${batchSize}`);
  const table = LANDING_TABLES[entity];
  const result: EntityLoad = { entity, table, rows: 0, rowsInserted: 0, batchesLoaded: 0, batchesSkipped: 0 };
  const report = () =>
    onProgress?.({
      entity,
      rows: result.rows,
      batchesLoaded: result.batchesLoaded,
      batchesSkipped: result.batchesSkipped,
    });

  const iterator = rows[Symbol.iterator]();
  let pending = iterator.next();
  try {
    for (let batchNumber = 0; !pending.done; batchNumber++) {
      const id = batchId(batchPrefix, entity, batchNumber);
      await client.query("begin");
      try {
        const delivery = await client.query(
          `insert into bronze.deliveries (source, batch_id, entity, record_count) values ($1, $2, $3, 0)
           on conflict on constraint deliveries_pkey do nothing`,
          [source, id, DELIVERY_ENTITIES[entity]],
        );
        if ((delivery.rowCount ?? 0) === 0) {
          for (let seq = 0; seq < batchSize && !pending.done; seq++) {
            pending = iterator.next();
            result.rows++;
          }
          await client.query("commit");
          result.batchesSkipped++;
          report();
          continue;
        }

        const linePrefix = `${copyEscape(source)}\t${copyEscape(id)}\t`;
        function* chunks(): Generator<string, void, undefined> {
          let buffer = "";
          for (let seq = 0; seq < batchSize && !pending.done; seq++) {
            if (pending.value.payloadRaw.includes("\u0000")) throw nulByteError(id, seq);
            buffer += `${linePrefix}${seq}\t${copyEscape(pending.value.payloadRaw)}\n`;
            pending = iterator.next();
            result.rows++;
            if (buffer.length >= CHUNK_CHARS) {
              yield buffer;
              buffer = "";
              report();
            }
          }
          if (buffer.length > 0) yield buffer;
        }
        const copy = client.query(
          copyFrom(`copy ${table} (source, batch_id, record_seq, payload_raw) from stdin`),
        );
        await pipeline(Readable.from(chunks(), { objectMode: false }), copy);
        await client.query(
          "update bronze.deliveries set record_count = $4 where source = $1 and batch_id = $2 and entity = $3",
          [source, id, DELIVERY_ENTITIES[entity], copy.rowCount],
        );
        await client.query("commit");
        result.rowsInserted += copy.rowCount;
        result.batchesLoaded++;
        report();
      } catch (error) {
        await client.query("rollback").catch(() => undefined);
        throw error;
      }
    }
  } finally {
    iterator.return?.();
  }
  return result;
}
