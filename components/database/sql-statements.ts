/**
 * The `SqlStatements` dynamic resource: its args, its class and its provider, which the
 * provider process loads through components/shared/provider-registry.ts. Every statement
 * is idempotent, so a retried create or delete converges instead of failing. No side
 * effects on import.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { ADVISORY_LOCK_KEYS } from "../../lib/postgres/advisory-locks.ts";
import { sameDatabase, withClient, type PgConnection } from "../../lib/postgres/connection.ts";
import { projectProvider } from "../shared/project-provider.ts";

export interface SqlStatementsArgs {
  /** Database the statements run in (the password stays secret). */
  connection: pulumi.Input<PgConnection>;
  /** Idempotent statements run in one transaction on create and when they change (e.g. grants). */
  apply: pulumi.Input<pulumi.Input<string>[]>;
  /** Statements that undo `apply`, run on delete and before a changed `apply` (e.g. revokes). */
  undo: pulumi.Input<pulumi.Input<string>[]>;
}

/**
 * SQL with an undo, for what has no resource of its own: grants, default privileges,
 * role settings. Token `workbench:database:SqlStatements`.
 */
export class SqlStatements extends pulumi.dynamic.Resource {
  declare public readonly apply: pulumi.Output<string[]>;

  constructor(name: string, args: SqlStatementsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      projectProvider("workbench:database:SqlStatements"),
      name,
      { connection: args.connection, apply: args.apply, undo: args.undo },
      opts,
      "workbench:database",
      "SqlStatements",
    );
  }
}

// ---- provider: runs in the dynamic-provider process (registered in components/shared/provider-registry.ts) ----

export interface SqlStatementsInputs {
  connection: PgConnection;
  /** Run in one transaction on create and whenever they change. Must be idempotent. */
  apply: string[];
  /** Run in one transaction on delete (and before re-applying changed statements). */
  undo: string[];
}

/** Grant statements of concurrent resources take turns (lib/postgres/advisory-locks.ts). */
const GRANT_LOCK_KEY = ADVISORY_LOCK_KEYS.grants;

/** SQLSTATEs of "it is already gone": undefined object (role), schema, table, function. */
const ALREADY_GONE = new Set(["42704", "3F000", "42P01", "42883"]);

/**
 * Runs statements in one transaction. With `tolerateMissing` (undo on delete), a
 * statement about something already gone is skipped: deleting what does not exist
 * has succeeded.
 */
async function runInTransaction(
  connection: PgConnection,
  statements: readonly string[],
  tolerateMissing = false,
): Promise<void> {
  if (statements.length === 0) return;
  await withClient(connection, async (client) => {
    await client.query("begin");
    try {
      // Two transactions granting on the same schema race on its catalog row ("tuple
      // concurrently updated"); the engine runs independent resources in parallel.
      await client.query("select pg_advisory_xact_lock($1)", [GRANT_LOCK_KEY]);
      for (const statement of statements) {
        if (!tolerateMissing) {
          await client.query(statement);
          continue;
        }
        await client.query("savepoint undo_step");
        try {
          await client.query(statement);
          await client.query("release savepoint undo_step");
        } catch (error) {
          if (!ALREADY_GONE.has((error as { code?: string }).code ?? "")) throw error;
          await client.query("rollback to savepoint undo_step");
        }
      }
      await client.query("commit");
    } catch (error) {
      await client.query("rollback");
      throw error;
    }
  });
}

export const sqlStatementsProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id, olds: SqlStatementsInputs, news: SqlStatementsInputs) {
    const changes =
      JSON.stringify([olds.apply, olds.undo]) !== JSON.stringify([news.apply, news.undo]) ||
      !sameDatabase(olds.connection, news.connection);
    return { changes };
  },
  async create(inputs: SqlStatementsInputs) {
    await runInTransaction(inputs.connection, inputs.apply);
    return { id: checksumOfStatements(inputs.apply), outs: inputs };
  },
  async update(_id, olds: SqlStatementsInputs, news: SqlStatementsInputs) {
    // Undo what the old statements granted, then apply the new ones: a narrowed grant
    // list really narrows.
    await runInTransaction(olds.connection, olds.undo, true);
    await runInTransaction(news.connection, news.apply);
    return { outs: news };
  },
  async delete(_id, props: SqlStatementsInputs) {
    await runInTransaction(props.connection, props.undo, true);
  },
};

function checksumOfStatements(statements: readonly string[]): string {
  return createHash("sha256").update(statements.join(";\n")).digest("hex").slice(0, 16);
}
