/**
 * The `SampleData` dynamic resource: its args, its class and its provider (loaded in the
 * provider process through components/shared/provider-registry.ts), which generates the
 * deterministic Scout data set and loads it into bronze. Batches already present are
 * skipped, so a retried create adds nothing twice. No side effects on import.
 */
import * as pulumi from "@pulumi/pulumi";
import { withClient, type PgConnection } from "../../lib/postgres/connection.ts";
import { BAD_KINDS, loadSampleData, type Summary } from "../../lib/sample-data/index.ts";
import { guarded } from "../../lib/orphan-guard.ts";
import { projectProvider } from "../shared/project-provider.ts";

export interface SampleDataArgs {
  /** Admin connection to the workbench database (secret). */
  connection: pulumi.Input<PgConnection>;
  /** Scout transactions to generate (expenses: one per 50, products: ~220). */
  transactions: number;
  /** Share of deliberately bad rows, 0..0.5. */
  badShare: number;
  /** Generator seed. */
  seed: number;
}

/**
 * The deterministic Scout sample data set, loaded into the bronze landing tables.
 * Changing its size, share or seed delivers the new set beside the old one (bronze is
 * append-only).
 * Token `workbench:data:SampleData`.
 */
export class SampleData extends pulumi.dynamic.Resource {
  declare public readonly dataVersion: pulumi.Output<string>;
  declare public readonly delivered: pulumi.Output<{
    transactions: number;
    expenses: number;
    products: number;
  }>;
  declare public readonly transactionKinds: pulumi.Output<Record<string, number>>;
  declare public readonly expenseKinds: pulumi.Output<Record<string, number>>;

  constructor(name: string, args: SampleDataArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      projectProvider("workbench:data:SampleData"),
      name,
      {
        connection: args.connection,
        transactions: args.transactions,
        badShare: args.badShare,
        seed: args.seed,
        today: new Date().toISOString().slice(0, 10),
        dataVersion: undefined,
        delivered: undefined,
        transactionKinds: undefined,
        expenseKinds: undefined,
      },
      // `today` only places the future-dated bad rows; a new day is not new data.
      pulumi.mergeOptions(opts, { ignoreChanges: ["today"] }),
      "workbench:data",
      "SampleData",
    );
  }
}

// ---- provider: runs in the dynamic-provider process (registered in components/shared/provider-registry.ts) ----

export interface SampleDataInputs {
  connection: PgConnection;
  transactions: number;
  badShare: number;
  seed: number;
  /** "today" for the future-dated bad rows; fixed at first creation. */
  today: string;
}

export interface SampleDataOutputs extends SampleDataInputs {
  /** Opaque: changes when different data was loaded (the first dbt stage re-runs on it). */
  dataVersion: string;
  /** Rows delivered per landing table. */
  delivered: { transactions: number; expenses: number; products: number };
  /** Expected outcome per transaction row kind (the generator's ground truth). */
  transactionKinds: Record<string, number>;
  expenseKinds: Record<string, number>;
}

function kinds(counts: Summary["transactions"]): Record<string, number> {
  return Object.fromEntries([["good", counts.good], ...BAD_KINDS.map((kind) => [kind, counts.bad[kind]])]);
}

async function load(inputs: SampleDataInputs): Promise<SampleDataOutputs> {
  const { summary } = await withClient(inputs.connection, (client) =>
    loadSampleData(
      client,
      {
        seed: inputs.seed,
        transactions: inputs.transactions,
        badShare: inputs.badShare,
        today: inputs.today,
      },
      {
        source: "sample-data",
        batchPrefix: `sample-${inputs.seed}-${inputs.transactions}`,
        batchSize: 10_000,
      },
    ),
  );
  return {
    ...inputs,
    dataVersion: `seed=${inputs.seed};transactions=${inputs.transactions};bad=${inputs.badShare}`,
    delivered: {
      transactions: summary.transactions.total,
      expenses: summary.expenses.total,
      products: summary.products.total,
    },
    transactionKinds: kinds(summary.transactions),
    expenseKinds: kinds(summary.expenses),
  };
}

/** A different data set (or database): delivered as a new resource, beside the old one. */
function dataChanged(olds: SampleDataInputs, news: SampleDataInputs): boolean {
  return (
    olds.transactions !== news.transactions ||
    olds.badShare !== news.badShare ||
    olds.seed !== news.seed ||
    olds.connection.database !== news.connection.database
  );
}

export const sampleDataProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id, olds: SampleDataOutputs, news: SampleDataInputs) {
    // Bronze is append-only: a different data set is delivered beside the earlier one
    // (as new batches), never instead of it, so silver's incremental models stay exact.
    if (dataChanged(olds, news))
      return { changes: true, replaces: ["transactions"], deleteBeforeReplace: false };
    // Another login (or its password) for the same data: updated in place, loading nothing,
    // so the state keeps no credential the stack no longer uses (a state from before the
    // delivery login held the admin's here).
    const { connection: before } = olds;
    const { connection: after } = news;
    const changes =
      before.host !== after.host ||
      before.port !== after.port ||
      before.user !== after.user ||
      before.password !== after.password ||
      before.sslMode !== after.sslMode;
    return { changes, replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs: SampleDataInputs) {
    // Exits if `npm run local` dies meanwhile: the open batch rolls back with the connection.
    const outs = await guarded(() => load(inputs));
    return { id: outs.dataVersion, outs };
  },
  async update(_id, olds: SampleDataOutputs, news: SampleDataInputs) {
    // Only the connection changed (see diff): the data set is the one already delivered.
    return { outs: { ...olds, connection: news.connection } };
  },
  // No delete: delivered rows stay in bronze (append-only); destroying the stack drops
  // the bronze schema with the database layer.
};
