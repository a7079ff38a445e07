import * as pulumi from "@pulumi/pulumi";
import type { PgConnection } from "../../lib/postgres/connection.ts";
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
