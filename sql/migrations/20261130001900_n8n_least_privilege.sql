-- the n8n login holds exactly what its five workflows run (issue 19, items 1, 2 and 4).
--
-- 20261130000300 gave workbench_n8n what the workflows ran before issue 20 (every bronze
-- table and function, pipelines, inserting job runs); 20261130000900 then moved the
-- workflows onto functions it granted to service_role only. this migration replaces
-- workbench_n8n's grants with the list below, taken statement by statement from the
-- postgres nodes of n8n-workflows/*.json (tested both ways in sql/tests/07_automation_roles.sql,
-- and end to end by test/integration/n8n.test.ts, whose n8n logs in as a member of
-- workbench_n8n only):
--
--   real-time-transactions  bronze.sha256_hex, bronze.deliver_batch('scout_transactions', ...)
--   odoo-sync               select bronze.sync_cursors, bronze.deliveries (source, entity,
--                           batch_id); bronze.deliver_batch('expenses', ...),
--                           bronze.quarantine_sync_record, bronze.advance_sync_cursor
--   expense-approval        select silver.silver_expenses (dbt's default privileges,
--                           components/database/workbench-database.ts);
--                           ip_workbench.decide_expense, ip_workbench.release_expense_notification
--   quality-alerts          select ip_workbench.tables (the columns it reads);
--                           ip_workbench.take_notification_slot
--   pipeline-trigger        ip_workbench.user_exists (the executor's check that the caller
--                           exists); `set local role authenticated` (membership, no
--                           inheritance), then request_pipeline_run and run_pipeline_step as the
--                           caller; update ip_workbench.job_runs (status and outcome columns)
--                           of n8n's runs
--
-- the functions above are security invoker (deliver_batch and its helpers, decide_expense,
-- release_expense_notification): the role gets the table and column privileges they use,
-- and nothing else. two are security definer, so that n8n needs nothing in private or auth:
--   * ip_workbench.take_notification_slot keeps its log in private.notification_log;
--   * ip_workbench.user_exists answers whether one id is in auth.users (a yes or no per
--     guessed uuid; a grant on auth.users would list every user).
-- both are owned by the migration owner, which is a superuser or has bypassrls
-- (20261123000400), and executable only by workbench_n8n and service_role.
--
-- `set role authenticated`: the role is a member of authenticated, and noinherit
-- (20261130000300), so the login has none of authenticated's rights until it switches,
-- and after switching, the rls of whoever's claims it set. n8n sets the claims of the
-- token it verified; the membership is what lets it act as any user, which is the
-- pipeline-trigger's purpose (and the reason the token's user must exist, above).

-- n8n's own tables go in schema n8n (DB_POSTGRESDB_SCHEMA=n8n, created by 20261130000300).
-- n8n 2.40.7's database driver runs `create schema if not exists "n8n"` at every start, and
-- postgresql checks create on the database before it sees that the schema exists: without
-- this grant n8n never starts (it hangs after the refused statement). this is the one
-- privilege beyond the workflows' list: it lets the role create schemas of its own (and
-- objects in them), not touch any other. nothing else of its gives it ddl outside n8n.
do $$
begin
  execute pg_catalog.format('grant create on database %I to workbench_n8n', pg_catalog.current_database());
end
$$;

-- what 20261130000300 granted, taken back ------------------------------------------------------------
revoke all on all tables in schema bronze from workbench_n8n;
revoke all on all functions in schema bronze from workbench_n8n;
revoke all on ip_workbench.pipelines, ip_workbench.pipeline_steps, ip_workbench.tables,
  ip_workbench.job_runs, ip_workbench.expense_approvals from workbench_n8n;
drop policy if exists "workbench_n8n: select" on ip_workbench.pipelines;
drop policy if exists "workbench_n8n: select" on ip_workbench.pipeline_steps;
drop policy if exists "workbench_n8n: insert" on ip_workbench.job_runs;

-- bronze ---------------------------------------------------------------------------------------------
-- bronze.deliver (through deliver_batch): insert the delivery and its records, and read a
-- batch's records back to compare its content.
grant insert (source, batch_id, entity, record_count) on bronze.deliveries to workbench_n8n;
-- odoo-sync's first cursor: the newest write_date among the earlier deliveries' batch ids.
grant select (source, entity, batch_id) on bronze.deliveries to workbench_n8n;
grant insert (source, batch_id, record_seq, payload_raw), select (source, batch_id, record_seq, payload_raw)
  on bronze.scout_transactions_raw, bronze.expenses_raw to workbench_n8n;
-- the odoo sync's cursor and quarantine (insert ... on conflict do update; advance_sync_cursor
-- reads its whole row back).
grant select, insert (source, entity, cursor_at, cursor_id),
  update (cursor_at, cursor_id, updated_at)
  on bronze.sync_cursors to workbench_n8n;
-- select on the table: quarantine_sync_record returns (xmax = 0), a system column.
grant select, insert (source, entity, record_key, record_sha256, reason, record), update (last_seen_at, seen_count)
  on bronze.sync_quarantine to workbench_n8n;
drop policy if exists "workbench_n8n: all" on bronze.sync_cursors;
create policy "workbench_n8n: all" on bronze.sync_cursors
  for all to workbench_n8n using (true) with check (true);
drop policy if exists "workbench_n8n: all" on bronze.sync_quarantine;
create policy "workbench_n8n: all" on bronze.sync_quarantine
  for all to workbench_n8n using (true) with check (true);
grant execute on function
  bronze.sha256_hex(text),
  bronze.batch_sha256(text[]),
  bronze.deliver(text, text, text, text[]),
  bronze.deliver_batch(text, text, text, text[], text),
  bronze.advance_sync_cursor(text, text, timestamp, bigint),
  bronze.quarantine_sync_record(text, text, text, text, jsonb)
to workbench_n8n;

-- ip_workbench ---------------------------------------------------------------------------------------
-- quality-alerts: the catalog's scores (policy "workbench_n8n: select" of 20261130000300).
grant select (schema_name, table_name, layer, dq_score, dbt_unique_id, owner_name, is_deleted)
  on ip_workbench.tables to workbench_n8n;

-- pipeline-trigger: the caller inserts the run (as authenticated); n8n marks it running and
-- records its outcome, only on runs of stage n8n.
grant select (id, status, stage), update (status, started_at, completed_at, logs, rows_processed, error_message)
  on ip_workbench.job_runs to workbench_n8n;
drop policy if exists "workbench_n8n: select" on ip_workbench.job_runs;
create policy "workbench_n8n: select" on ip_workbench.job_runs
  for select to workbench_n8n using (stage = 'n8n');

-- expense-approval: decide_expense reads the whole row (select ... for update, returning *)
-- and writes the decision's columns; release_expense_notification clears notified_at. the
-- insert policy of 20261130000300 (decided_by is null) stays: n8n never decides in a
-- person's name.
grant select, insert (expense_id, status, amount, currency, amount_converted, threshold, threshold_currency, notified_at),
  update (status, amount, currency, amount_converted, threshold, threshold_currency, decided_at, decided_by,
    previous_status, previous_amount, notified_at)
  on ip_workbench.expense_approvals to workbench_n8n;
grant execute on function
  ip_workbench.decide_expense(text, numeric, text, numeric, numeric, text),
  ip_workbench.release_expense_notification(text, timestamptz)
to workbench_n8n;

-- the rate limit's log stays in private: the slot is taken as the function's owner.
alter function ip_workbench.take_notification_slot(text, text, interval, integer) security definer;
revoke execute on function ip_workbench.take_notification_slot(text, text, interval, integer) from public, anon, authenticated;
grant execute on function ip_workbench.take_notification_slot(text, text, interval, integer) to workbench_n8n, service_role;

-- does this user exist? the executor's check before it acts as a token's user.
create or replace function ip_workbench.user_exists(p_user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from auth.users as u where u.id = p_user_id);
$$;
comment on function ip_workbench.user_exists(uuid) is
  'whether auth.users has this id: the pipeline-trigger workflow''s check that a signed token''s user still exists (n8n reads nothing else in auth)';
revoke execute on function ip_workbench.user_exists(uuid) from public, anon, authenticated;
grant execute on function ip_workbench.user_exists(uuid) to workbench_n8n, service_role;
