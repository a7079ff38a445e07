/**
 * Every PostgreSQL advisory lock this project takes, in one place, so no two purposes
 * share a key by accident (test/unit/advisory-locks.test.ts holds them distinct).
 *
 * Single-key locks (`pg_advisory_lock(bigint)`) use the keys below. The dbt stage lock
 * uses the two-key form (`pg_try_advisory_lock(int, int)` over `hashtext` of a namespace
 * and the stage); PostgreSQL keeps one-key and two-key locks apart, so it cannot meet
 * these keys.
 */
export const ADVISORY_LOCK_KEYS = {
  /** The migration runner (lib/postgres/migrations.ts): one runner per database at a time. */
  migrations: 7_240_115_001,
  /** Grant/revoke statements of concurrent SqlStatements/LoginRole resources take turns. */
  grants: 7_240_115_002,
  /**
   * Two catalog seeders of one database take turns. Until issue 18 this was 7_240_115_002,
   * the grants' key: a seed and a grant waited for each other for no reason.
   */
  catalog: 7_240_115_003,
} as const;

export type AdvisoryLock = keyof typeof ADVISORY_LOCK_KEYS;

/** Namespace of the dbt stage lock (two-key form: hashtext(namespace), hashtext(stage)). */
export const DBT_STAGE_LOCK_NAMESPACE = "ai-workbench:dbt-stage";
