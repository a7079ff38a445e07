/**
 * The migration runner: applies `sql/migrations/YYYYMMDDHHMMSS_<name>.sql` files (the
 * Supabase CLI's naming) in lexical order, each in one transaction together with its
 * record in `workbench_migrations.schema_migrations`, under an advisory lock so two
 * runners never apply the same file twice. A file whose checksum changed after it was
 * applied is refused: write a new migration instead.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type pg from "pg";
import { withClient, type PgConnection } from "./connection.ts";
import { ADVISORY_LOCK_KEYS } from "./advisory-locks.ts";

export const MIGRATION_FILE = /^(\d{14})_([a-z0-9_]+)\.sql$/;
/** The advisory lock all runners of this project take (lib/postgres/advisory-locks.ts). */
export const MIGRATION_LOCK_KEY = ADVISORY_LOCK_KEYS.migrations;

export interface Migration {
  /** The 14-digit timestamp prefix. */
  version: string;
  name: string;
  /** sha256 of the file's bytes, hex. */
  checksum: string;
  sql: string;
}

export interface MigrationRecord {
  version: string;
  name: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

export class MigrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MigrationError";
  }
}

export function checksumOf(sql: string): string {
  return createHash("sha256").update(sql, "utf8").digest("hex");
}

/** Parses one migration file; rejects names and contents the runner cannot honour. */
export function parseMigration(fileName: string, sql: string): Migration {
  const match = MIGRATION_FILE.exec(fileName);
  if (!match) {
    throw new MigrationError(
      `${fileName}: migration files must be named YYYYMMDDHHMMSS_<lowercase_name>.sql`,
    );
  }
  // The runner owns the transaction; a file that commits would break the atomicity of
  // the file and its record.
  const transactionControl = /^\s*(begin|commit|rollback|start\s+transaction)\s*;/im.exec(sql);
  if (transactionControl) {
    throw new MigrationError(
      `${fileName}: contains '${transactionControl[1]}' - each file already runs in one transaction; remove it`,
    );
  }
  return { version: match[1] as string, name: match[2] as string, checksum: checksumOf(sql), sql };
}

/** Reads every migration in `directory`, sorted by version; duplicate versions are an error. */
export function loadMigrations(directory: string): Migration[] {
  const files = readdirSync(directory)
    .filter((file) => file.endsWith(".sql"))
    .sort();
  const migrations = files.map((file) => parseMigration(file, readFileSync(join(directory, file), "utf8")));
  const seen = new Map<string, string>();
  for (const migration of migrations) {
    const other = seen.get(migration.version);
    if (other) {
      throw new MigrationError(
        `two migrations share version ${migration.version}: ${other} and ${migration.name}`,
      );
    }
    seen.set(migration.version, migration.name);
  }
  return migrations;
}

/**
 * Decides what to do with each migration given what the database already recorded.
 * Pure, so the refusal rules are unit-testable.
 */
export function planMigrations(
  migrations: readonly Migration[],
  recorded: readonly MigrationRecord[],
): { pending: Migration[]; alreadyApplied: string[] } {
  const byVersion = new Map(recorded.map((record) => [record.version, record]));
  const pending: Migration[] = [];
  const alreadyApplied: string[] = [];
  for (const migration of migrations) {
    const record = byVersion.get(migration.version);
    if (!record) {
      pending.push(migration);
    } else if (record.checksum !== migration.checksum) {
      throw new MigrationError(
        `migration ${migration.version}_${migration.name}.sql was edited after it was applied ` +
          `(recorded checksum ${record.checksum.slice(0, 12)}, file now ${migration.checksum.slice(0, 12)}); ` +
          `applied migrations are immutable: revert the edit and put the change in a new migration`,
      );
    } else {
      alreadyApplied.push(migration.version);
    }
  }
  return { pending, alreadyApplied };
}

const BOOKKEEPING = `
  create schema if not exists workbench_migrations;
  create table if not exists workbench_migrations.schema_migrations (
    version text primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
  );`;

async function recordedMigrations(client: pg.Client): Promise<MigrationRecord[]> {
  const result = await client.query<MigrationRecord>(
    "select version, name, checksum from workbench_migrations.schema_migrations order by version",
  );
  return result.rows;
}

/** Applies pending migrations; returns which were applied now and which already were. */
export async function applyMigrations(
  connection: PgConnection,
  migrations: readonly Migration[],
  log: (line: string) => void = () => undefined,
): Promise<MigrationResult> {
  return withClient(connection, async (client) => {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await client.query(BOOKKEEPING);
      // Planned after taking the lock: a concurrent runner's work is visible now.
      const { pending, alreadyApplied } = planMigrations(migrations, await recordedMigrations(client));
      const applied: string[] = [];
      for (const migration of pending) {
        const started = Date.now();
        await client.query("begin");
        try {
          await client.query(migration.sql);
          await client.query(
            "insert into workbench_migrations.schema_migrations (version, name, checksum) values ($1, $2, $3)",
            [migration.version, migration.name, migration.checksum],
          );
          await client.query("commit");
        } catch (error) {
          await client.query("rollback");
          const reason = error instanceof Error ? error.message : String(error);
          throw new MigrationError(`migration ${migration.version}_${migration.name}.sql failed: ${reason}`, {
            cause: error,
          });
        }
        applied.push(migration.version);
        log(`applied ${migration.version}_${migration.name} (${Date.now() - started} ms)`);
      }
      return { applied, alreadyApplied };
    } finally {
      await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  });
}

/** Versions recorded as applied, oldest first (empty when the runner never ran). */
export async function appliedVersions(connection: PgConnection): Promise<string[]> {
  return withClient(connection, async (client) => {
    const exists = await client.query("select to_regclass('workbench_migrations.schema_migrations') as t");
    if (!exists.rows[0]?.t) return [];
    return (await recordedMigrations(client)).map((record) => record.version);
  });
}
