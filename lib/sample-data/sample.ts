/**
 * Generates and loads a whole sample data set (products, transactions, expenses) in one
 * call: what the CLI and the local stack's SampleData resource both run.
 */
import type pg from "pg";
import { resolveGeneration, type GenerationOptions } from "./generation.ts";
import {
  assertLandingTables,
  loadEntity,
  type Entity,
  type EntityLoad,
  type LoadProgress,
} from "./loader.ts";
import { expenseRows } from "./expenses.ts";
import { productRows } from "./products.ts";
import { addProductRow, addRow, counted, newSummary, type Summary } from "./summary.ts";
import { transactionRows } from "./transactions.ts";

export interface SampleLoadOptions {
  source: string;
  batchPrefix: string;
  batchSize: number;
  /** Called with each entity before it starts, with the rows it will generate. */
  onEntity?: (entity: Entity, expected: number) => void;
  onProgress?: (progress: LoadProgress) => void;
  onLoaded?: (load: EntityLoad) => void;
}

/** The row streams of one generation, in load order (products first), each counted into `summary`. */
export function sampleStreams(options: GenerationOptions) {
  const generation = resolveGeneration(options);
  const summary: Summary = newSummary(generation);
  const streams: { entity: Entity; expected: number; rows: Iterable<{ payloadRaw: string }> }[] = [
    {
      entity: "products",
      expected:
        generation.reference.products.length +
        generation.reference.products.filter((p) => p.redelivery).length,
      rows: counted(productRows(options, generation), (kind) => addProductRow(summary.products, kind)),
    },
    {
      entity: "transactions",
      expected: generation.transactions,
      rows: counted(transactionRows(options, generation), (kind) => addRow(summary.transactions, kind)),
    },
    {
      entity: "expenses",
      expected: generation.expenses,
      rows: counted(expenseRows(options, generation), (kind) => addRow(summary.expenses, kind)),
    },
  ];
  return { generation, summary, streams };
}

/** Loads a generation into the landing tables (batches already present are skipped). */
export async function loadSampleData(
  client: pg.ClientBase,
  options: GenerationOptions,
  load: SampleLoadOptions,
): Promise<{ summary: Summary; loads: EntityLoad[] }> {
  await assertLandingTables(client);
  const { summary, streams } = sampleStreams(options);
  const loads: EntityLoad[] = [];
  for (const stream of streams) {
    load.onEntity?.(stream.entity, stream.expected);
    const result = await loadEntity(client, stream.entity, stream.rows, {
      source: load.source,
      batchPrefix: load.batchPrefix,
      batchSize: load.batchSize,
      onProgress: load.onProgress,
    });
    load.onLoaded?.(result);
    loads.push(result);
  }
  return { summary, loads };
}
