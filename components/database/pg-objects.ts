/**
 * Implementations of the SQL-backed dynamic resources (schemas, login roles).
 *
 * Loaded at run time by the provider shims (components/shared/project-provider.ts) in
 * the engine's dynamic-provider process; tests import them directly. Every statement is
 * idempotent so a retried create or delete converges instead of failing.
 */
import { createHash, randomBytes } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import {
  quoteIdent,
  quoteLiteral,
  sameDatabase,
  sameServer,
  withClient,
  type PgConnection,
} from "../../lib/postgres/connection.ts";
import { ADVISORY_LOCK_KEYS } from "../../lib/postgres/advisory-locks.ts";

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Rejects names that would need quoting: they are a typo far more often than a wish. */
export function checkIdentifier(kind: string, name: unknown): string[] {
  if (typeof name !== "string" || !IDENTIFIER.test(name)) {
    return [
      `${kind} name ${JSON.stringify(name)} must be a lowercase identifier (a-z, 0-9, _; at most 63 characters)`,
    ];
  }
  return [];
}

function failures(messages: string[]): pulumi.dynamic.CheckFailure[] {
  return messages.map((reason) => ({ property: "name", reason }));
}

/** A password with 192 bits of entropy using only URL- and shell-safe characters. */
export function generatePassword(): string {
  return randomBytes(24).toString("base64url");
}

// --- login role ---------------------------------------------------------------------

export interface LoginRoleInputs {
  connection: PgConnection;
  name: string;
  /** Maximum concurrent connections; -1 for no limit. */
  connectionLimit: number;
  /** Roles this role is granted membership in. */
  memberOf: string[];
  /**
   * Whether it uses its groups' privileges directly. False: only after `set role` (the shape
   * of Supabase's `authenticator`, which switches to anon/authenticated/service_role per
   * request). Absent = true (states written before this input).
   */
  inherit?: boolean;
}

export interface LoginRoleOutputs extends LoginRoleInputs {
  password: string;
}

async function applyRole(inputs: LoginRoleInputs, password: string, create: boolean): Promise<void> {
  await withClient(inputs.connection, async (client) => {
    const role = quoteIdent(inputs.name);
    const inherit = inputs.inherit === false ? "noinherit" : "inherit";
    const options = `login ${inherit} password ${quoteLiteral(password)} connection limit ${inputs.connectionLimit}`;
    await client.query("begin");
    try {
      if (create) {
        // Roles are cluster-wide: an existing one belongs to someone else (another stack
        // with the same environment name, or a person). Taking it over would change its
        // password under them, so refuse.
        const exists = await client.query("select 1 from pg_roles where rolname = $1", [inputs.name]);
        if (exists.rowCount) {
          throw new Error(
            `role ${inputs.name} already exists on ${inputs.connection.host}:${inputs.connection.port}: ` +
              `another stack may use the same workbench:environment. Choose another environment name, ` +
              `or drop the role if it is left over (drop owned by ${inputs.name}; drop role ${inputs.name};)`,
          );
        }
        await client.query(`create role ${role} with ${options}`);
      } else {
        await client.query(`alter role ${role} with ${options}`);
      }
      const current = await client.query<{ rolname: string }>(
        `select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid
           join pg_roles r on r.oid = m.member where r.rolname = $1`,
        [inputs.name],
      );
      const have = new Set(current.rows.map((row) => row.rolname));
      for (const group of inputs.memberOf) {
        if (!have.has(group)) await client.query(`grant ${quoteIdent(group)} to ${role}`);
      }
      for (const group of have) {
        if (!inputs.memberOf.includes(group)) await client.query(`revoke ${quoteIdent(group)} from ${role}`);
      }
      await client.query("commit");
    } catch (error) {
      await client.query("rollback");
      throw error;
    }
  });
}

export const loginRoleProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news: LoginRoleInputs) {
    const problems = [
      ...checkIdentifier("role", news.name),
      ...(news.memberOf ?? []).flatMap((group) => checkIdentifier("group role", group)),
    ];
    return { inputs: { ...news, memberOf: news.memberOf ?? [] }, failures: failures(problems) };
  },
  async diff(_id, olds: LoginRoleOutputs, news: LoginRoleInputs) {
    const replaces = olds.name !== news.name || !sameServer(olds.connection, news.connection) ? ["name"] : [];
    const changes =
      replaces.length > 0 ||
      olds.connectionLimit !== news.connectionLimit ||
      (olds.inherit ?? true) !== (news.inherit ?? true) ||
      JSON.stringify([...olds.memberOf].sort()) !== JSON.stringify([...news.memberOf].sort());
    return { changes, replaces, deleteBeforeReplace: true };
  },
  async create(inputs: LoginRoleInputs) {
    const password = generatePassword();
    await applyRole(inputs, password, true);
    return { id: inputs.name, outs: { ...inputs, password } };
  },
  async update(_id, olds: LoginRoleOutputs, news: LoginRoleInputs) {
    await applyRole(news, olds.password, false);
    return { outs: { ...news, password: olds.password } };
  },
  async delete(_id, props: LoginRoleOutputs) {
    await withClient(props.connection, async (client) => {
      const exists = await client.query("select 1 from pg_roles where rolname = $1", [props.name]);
      if (!exists.rowCount) return;
      const role = quoteIdent(props.name);
      // A role that owns objects or holds grants cannot be dropped; hand its objects to
      // the connecting (admin) user first, in this database.
      await client.query(`reassign owned by ${role} to current_user`);
      await client.query(`drop owned by ${role}`);
      await client.query(`drop role ${role}`);
    });
  },
};

// --- SQL statements with an undo ----------------------------------------------------

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
