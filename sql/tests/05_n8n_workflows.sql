-- 20261123000700_n8n_workflows.sql: ip_workbench.expense_approvals (row level security as
-- documented in the migration: every app role reads, admin and service write, admin
-- deletes, anon nothing) and private.raise_on_sql_error.
-- 20261130000900_n8n_hardening.sql: bronze.deliver_batch, the sync cursor and quarantine,
-- ip_workbench.request_pipeline_run per role, decide_expense, take_notification_slot.
--
-- fixture users: a0..e1 viewer, a0..e2 engineer, a0..e3 admin, a0..e4 service.
begin;
create extension if not exists pgtap;

select plan(46);

-- execute_sql needs an armed statement_timeout of at most 30 s.
set local statement_timeout = '30s';

create function pg_temp.affected(p_sql text) returns bigint
language plpgsql
as $$
declare
  v_count bigint;
begin
  execute p_sql;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-0000000000e1', 'viewer-e@example.test'),
  ('a0000000-0000-4000-8000-0000000000e2', 'engineer-e@example.test'),
  ('a0000000-0000-4000-8000-0000000000e3', 'admin-e@example.test'),
  ('a0000000-0000-4000-8000-0000000000e4', 'service-e@example.test'),
  ('a0000000-0000-4000-8000-0000000000e5', 'norole-e@example.test');
insert into ip_workbench.user_roles (user_id, role) values
  ('a0000000-0000-4000-8000-0000000000e1', 'viewer'),
  ('a0000000-0000-4000-8000-0000000000e2', 'engineer'),
  ('a0000000-0000-4000-8000-0000000000e3', 'admin'),
  ('a0000000-0000-4000-8000-0000000000e4', 'service');
insert into ip_workbench.expense_approvals (expense_id, status, amount, currency, threshold)
values ('EX-T-1', 'pending_approval', 7250, 'USD', 5000);

-- shape -------------------------------------------------------------------------------------------
select has_pk('ip_workbench', 'expense_approvals', 'expense_approvals has a primary key (expense_id)');
select ok(
  (select relrowsecurity and relforcerowsecurity from pg_class where oid = 'ip_workbench.expense_approvals'::regclass),
  'row level security is enabled and forced on expense_approvals'
);
select is(
  (select array_agg(policyname::text order by policyname) from pg_policies where schemaname = 'ip_workbench' and tablename = 'expense_approvals'),
  array[
    'admins and service can change expense approvals',
    'admins and service can record expense approvals',
    'admins can delete expense approvals',
    'app users can read expense approvals',
    'workbench_backup: select',
    'workbench_dbt: select'
  ],
  'one policy per command, plus the backup''s (20261130000300) and dbt''s read (20261130002100); n8n writes only through decide_expense (20261130002500)'
);
select ok(
  exists (select 1 from pg_index where indrelid = 'ip_workbench.expense_approvals'::regclass
    and indkey[0] = (select attnum from pg_attribute where attrelid = 'ip_workbench.expense_approvals'::regclass and attname = 'decided_by')),
  'the decided_by foreign key is indexed'
);
select throws_ok(
  $$insert into ip_workbench.expense_approvals (expense_id, status, amount, threshold) values ('EX-T-9', 'maybe', 1, 5000)$$,
  '23514', null, 'status is one of the four decisions'
);

-- viewer: reads, writes nothing -------------------------------------------------------------------
set local role authenticated;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-0000000000e1", "role": "authenticated"}';
select isnt_empty('select * from ip_workbench.expense_approvals', 'a viewer reads approvals');
select throws_ok(
  $$insert into ip_workbench.expense_approvals (expense_id, status, amount, threshold) values ('EX-T-2', 'auto_approved', 10, 5000)$$,
  '42501', null, 'a viewer cannot record a decision'
);

-- engineer: reads, cannot decide ------------------------------------------------------------------
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-0000000000e2", "role": "authenticated"}';
select isnt_empty('select * from ip_workbench.expense_approvals', 'an engineer reads approvals');
select is(pg_temp.affected($$update ip_workbench.expense_approvals set status = 'approved' where expense_id = 'EX-T-1'$$), 0::bigint,
  'an engineer cannot approve');

-- service (n8n): records and changes decisions, does not delete ----------------------------------
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-0000000000e4", "role": "authenticated"}';
select lives_ok(
  $$insert into ip_workbench.expense_approvals (expense_id, status, amount, threshold) values ('EX-T-3', 'auto_approved', 10, 5000)$$,
  'the service account records a decision'
);
select is(pg_temp.affected($$update ip_workbench.expense_approvals set notified_at = now() where expense_id = 'EX-T-1'$$), 1::bigint,
  'the service account marks a pending expense notified');
select is(pg_temp.affected($$delete from ip_workbench.expense_approvals where expense_id = 'EX-T-3'$$), 0::bigint,
  'the service account cannot delete a decision');

-- admin: decides and deletes ---------------------------------------------------------------------
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-0000000000e3", "role": "authenticated"}';
select is(
  pg_temp.affected($$update ip_workbench.expense_approvals set status = 'approved', decided_by = 'a0000000-0000-4000-8000-0000000000e3' where expense_id = 'EX-T-1'$$),
  1::bigint, 'an admin approves a pending expense'
);
select is(pg_temp.affected($$delete from ip_workbench.expense_approvals where expense_id = 'EX-T-3'$$), 1::bigint,
  'an admin deletes a decision');

-- raise_on_sql_error, as the pipeline steps call it (authenticated) ------------------------------
select is(private.raise_on_sql_error('{"rows": [], "error": null}'::jsonb), '{"rows": [], "error": null}'::jsonb,
  'raise_on_sql_error passes a result without an error through');
select throws_ok(
  $$select private.raise_on_sql_error('{"error": {"code": "22012", "message": "division by zero", "detail": null, "hint": null}}'::jsonb)$$,
  '22012', 'division by zero', 'raise_on_sql_error raises the reported error with its code'
);
select throws_ok(
  $$select private.raise_on_sql_error(ip_workbench.execute_sql('select 1 / 0'))$$,
  '22012', 'division by zero', 'an execute_sql failure becomes an error that rolls the step back'
);
reset role;

-- anon: nothing -----------------------------------------------------------------------------------
set local role anon;
set local request.jwt.claims = '{"role": "anon"}';
select throws_ok('select * from ip_workbench.expense_approvals', '42501', null, 'anon cannot read approvals');
select throws_ok(
  $$select private.raise_on_sql_error('{}'::jsonb)$$,
  '42501', null, 'anon cannot call raise_on_sql_error'
);
reset role;

select is(
  (select updated_at >= decided_at from ip_workbench.expense_approvals where expense_id = 'EX-T-1'),
  true,
  'updated_at is maintained on change'
);

-- bronze.deliver_batch: a batch id stands for one content ------------------------------------
select is(bronze.deliver_batch('scout_transactions', 'tap', 'b-1', array['{"a":1}', '{"a":2}']) ->> 'status', 'new',
  'deliver_batch lands a new batch');
select is(bronze.deliver_batch('scout_transactions', 'tap', 'b-1', array['{"a":1}', '{"a":2}']),
  '{"batch_id": "b-1", "inserted": 0, "status": "duplicate", "stored_records": 2}'::jsonb,
  'the same records under the same batch id are a duplicate');
select is(bronze.deliver_batch('scout_transactions', 'tap', 'b-1', array['{"a":1}', '{"a":3}']),
  '{"batch_id": "b-1", "inserted": 0, "status": "conflict", "stored_records": 2}'::jsonb,
  'other records under the same batch id are a conflict, not a duplicate');
select is((select count(*)::int from bronze.scout_transactions_raw where source = 'tap'), 2,
  'a conflicting batch stores nothing');
select is(bronze.deliver_batch('expenses', 'tap', 'o-1', array['{"v":2}'], 'new_delivery') ->> 'status', 'new',
  'a sync delivers a version');
select is(bronze.deliver_batch('expenses', 'tap', 'o-1', array['{"v":3}'], 'new_delivery') - 'batch_id',
  '{"inserted": 1, "status": "redelivered", "conflicts_with": "o-1", "stored_records": 1}'::jsonb,
  'a sync keeps a changed version as a new delivery, and says so');

-- the sync cursor only moves forward; quarantine keeps one row per version ----------------------
select is(bronze.advance_sync_cursor('tap', 'expenses', '2026-01-01 10:00:00', 9), '{"at": "2026-01-01 10:00:00", "id": 9}'::jsonb,
  'the first cursor is stored');
select is(bronze.advance_sync_cursor('tap', 'expenses', '2026-01-01 09:00:00', 99), '{"at": "2026-01-01 10:00:00", "id": 9}'::jsonb,
  'an earlier write_date does not move the cursor back');
select is(bronze.advance_sync_cursor('tap', 'expenses', '2026-01-01 10:00:00', 12), '{"at": "2026-01-01 10:00:00", "id": 12}'::jsonb,
  'the id breaks the tie within one write_date');
select ok(bronze.quarantine_sync_record('tap', 'expenses', 'account.move/1', 'bad write_date', '{"id": 1}'),
  'a new quarantined version is reported new');
select ok(not bronze.quarantine_sync_record('tap', 'expenses', 'account.move/1', 'bad write_date', '{"id": 1}'),
  'the same version again is counted, not duplicated');

-- request_pipeline_run, as each identity ----------------------------------------------------------
insert into ip_workbench.pipelines (id, name, owner) values
  ('c0000000-0000-4000-8000-0000000000e1', 'admin owned', 'a0000000-0000-4000-8000-0000000000e3');
insert into ip_workbench.pipeline_steps (pipeline_id, position, name, step_type, config) values
  ('c0000000-0000-4000-8000-0000000000e1', 0, 'promote', 'sql', '{"sql": "update ip_workbench.user_roles set role = \u0027admin\u0027 where user_id = auth.uid()"}');
set local role authenticated;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-0000000000e1", "role": "authenticated"}';
select is(ip_workbench.request_pipeline_run('c0000000-0000-4000-8000-0000000000e1') ->> 'http_status', '403',
  'a viewer may not start a run');
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-0000000000e5", "role": "authenticated"}';
select is(ip_workbench.request_pipeline_run('c0000000-0000-4000-8000-0000000000e1') ->> 'error',
  'user a0000000-0000-4000-8000-0000000000e5 has no app role', 'a user without a role may not start a run');
set local request.jwt.claims = '{"role": "authenticated"}';
select is(ip_workbench.request_pipeline_run('c0000000-0000-4000-8000-0000000000e1') ->> 'http_status', '401',
  'claims without a user are refused');
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-0000000000e2", "role": "authenticated"}';
select is(
  (select concat_ws(' ', r ->> 'http_status', r ->> 'triggered_by', r -> 'steps' -> 0 ->> 'name') from (select ip_workbench.request_pipeline_run('c0000000-0000-4000-8000-0000000000e1') as r) as x),
  '202 a0000000-0000-4000-8000-0000000000e2 promote',
  'an engineer starts a run of an admin''s pipeline, as themselves');
select is(ip_workbench.request_pipeline_run('c0000000-0000-4000-8000-0000000000ff') ->> 'http_status', '404',
  'an unknown pipeline is 404');
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-0000000000e4", "role": "authenticated"}';
select is(ip_workbench.request_pipeline_run('c0000000-0000-4000-8000-0000000000e1') ->> 'http_status', '202',
  'the service account starts a run');
select is(
  (select count(*)::int from ip_workbench.job_runs where pipeline_id = 'c0000000-0000-4000-8000-0000000000e1'),
  2, 'only the two allowed calls created runs');
reset role;

-- decide_expense ---------------------------------------------------------------------------------
select is(ip_workbench.decide_expense('EX-T-7', 7000, 'USD', 7000, 5000, 'USD') ->> 'notify', 'true',
  'the first pending decision hands out the notification');
select is(ip_workbench.decide_expense('EX-T-7', 7000, 'USD', 7000, 5000, 'USD') ->> 'notify', 'false',
  'the same amount again does not notify again');
update ip_workbench.expense_approvals set status = 'approved' where expense_id = 'EX-T-7';
select is(
  (select concat_ws(' ', r ->> 'status', r ->> 'reopened', r ->> 'notify') from (select ip_workbench.decide_expense('EX-T-7', 10, 'USD', 10, 5000, 'USD') as r) as x),
  'pending_approval true true',
  'a changed amount re-opens an approved expense; it never becomes auto-approved');
select throws_ok($$select ip_workbench.decide_expense('EX-T-8', -1, 'USD', -1, 5000, 'USD')$$, '22023', null,
  'a negative amount is refused');

-- take_notification_slot -------------------------------------------------------------------------
select is(ip_workbench.take_notification_slot('tap', 'a', interval '1 hour', 2) ->> 'allowed', 'true', 'a first post is allowed');
select is(ip_workbench.take_notification_slot('tap', 'a', interval '1 hour', 2) ->> 'allowed', 'false', 'the same topic within the hour is not');
select is(ip_workbench.take_notification_slot('tap', 'b', interval '1 hour', 2) ->> 'allowed', 'true', 'another topic is');
select is(ip_workbench.take_notification_slot('tap', 'c', interval '1 hour', 2) ->> 'allowed', 'false', 'but not past the channel''s hourly cap');

select * from finish();
rollback;
