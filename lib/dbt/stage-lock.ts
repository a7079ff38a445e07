/**
 * One run per medallion stage at a time, per database, and no `job_runs` row left
 * `running` by a run that died.
 *
 * A run holds a session-level PostgreSQL advisory lock for its stage while dbt builds.
 * The server releases it the moment the session ends, however the run ends (SIGKILL of
 * the process, a database restart), so:
 *
 * - a second run of the same stage finds the lock taken and is refused, naming the run
 *   that holds it;
 * - a run that takes the lock knows no other run of its stage is alive, so any
 *   `running` row of that stage belongs to a run that died: it is closed as failed,
 *   with the reason, before the new run starts.
 */
import pg from "pg";
import { DBT_STAGE_LOCK_NAMESPACE } from "../postgres/advisory-locks.ts";
import { clientConfig, type PgConnection } from "../postgres/connection.ts";
import type { Layer } from "./cli.ts";

/** Two-key advisory lock id: the namespace (lib/postgres/advisory-locks.ts) and the stage. */
const NAMESPACE = DBT_STAGE_LOCK_NAMESPACE;

export const INTERRUPTED_MESSAGE =
  "interrupted: the run ended before it finished (its process was stopped or the database restarted); " +
  "closed by the next run of the stage";

export class StageBusyError extends Error {
  constructor(
    public readonly layer: Layer,
    holder: string,
  ) {
    super(
      `another run of the ${layer} stage is in progress (${holder}): wait for it to finish, then re-run. ` +
        "Nothing was changed by this run.",
    );
    this.name = "StageBusyError";
  }
}

export interface StageLock {
  /** The session holding the lock (kept open for the whole run). */
  client: pg.Client;
  /** Rows closed as interrupted when the lock was taken. */
  closedRuns: number;
  release(): Promise<void>;
}

async function holderOf(client: pg.Client, layer: Layer): Promise<string> {
  const holder = await client.query<{ pid: number; application_name: string; started: string | null }>(
    `select a.pid, a.application_name, to_char(a.backend_start at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"') as started
       from pg_locks l
       join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted
        and l.classid = hashtext($1)::oid and l.objid = hashtext($2)::oid
        and l.database = (select oid from pg_database where datname = current_database())`,
    [NAMESPACE, layer],
  );
  const row = holder.rows[0];
  return row
    ? `server process ${row.pid} of ${row.application_name || "a client"}, connected ${row.started}`
    : "a concurrent session";
}

/**
 * Takes the stage's lock or throws StageBusyError. With `recordsJobRuns`, closes the
 * stage's orphaned `running` job_runs rows (needs the ip_workbench schema).
 */
export async function acquireStageLock(
  connection: PgConnection,
  layer: Layer,
  options: { closeOrphanedRuns?: boolean } = {},
): Promise<StageLock> {
  const client = new pg.Client({
    ...clientConfig(connection),
    application_name: `ai-workbench dbt ${layer}`,
  });
  await client.connect();
  // A lost session must not crash the process: the run's own queries report it.
  client.on("error", () => undefined);
  try {
    const taken = await client.query<{ ok: boolean }>(
      "select pg_try_advisory_lock(hashtext($1), hashtext($2)) as ok",
      [NAMESPACE, layer],
    );
    if (!taken.rows[0]?.ok) throw new StageBusyError(layer, await holderOf(client, layer));
    let closedRuns = 0;
    if (options.closeOrphanedRuns) {
      const closed = await client.query(
        `update ip_workbench.job_runs
            set status = 'failed', completed_at = greatest(now(), started_at), error_message = $2
          where status = 'running' and stage = $1`,
        [layer, INTERRUPTED_MESSAGE],
      );
      closedRuns = closed.rowCount ?? 0;
    }
    return {
      client,
      closedRuns,
      async release() {
        await client
          .query("select pg_advisory_unlock(hashtext($1), hashtext($2))", [NAMESPACE, layer])
          .catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

/** Closes every stage's orphaned `running` rows whose stage lock nobody holds (e.g. before `npm run local`). */
export async function closeOrphanedRuns(client: pg.Client): Promise<number> {
  const closed = await client.query(
    `update ip_workbench.job_runs as r
        set status = 'failed', completed_at = greatest(now(), r.started_at), error_message = $2
      where r.status = 'running'
        and r.stage is not null
        and not exists (
          select 1 from pg_locks l
           where l.locktype = 'advisory' and l.granted
             and l.classid = hashtext($1)::oid and l.objid = hashtext(r.stage)::oid
             and l.database = (select oid from pg_database where datname = current_database())
        )`,
    [NAMESPACE, INTERRUPTED_MESSAGE],
  );
  return closed.rowCount ?? 0;
}
