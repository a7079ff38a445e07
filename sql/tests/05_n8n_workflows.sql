-- 20261123000700_n8n_workflows.sql: ip_workbench.expense_approvals (row level security as
-- documented in the migration: every app role reads, admin and service write, admin
-- deletes, anon nothing) and private.raise_on_sql_error.
--
-- fixture users: a0..e1 viewer, a0..e2 engineer, a0..e3 admin, a0..e4 service.
begin;
create extension if not exists pgtap;

select plan(20);

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
  ('a0000000-0000-4000-8000-0000000000e4', 'service-e@example.test');
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
    'workbench_n8n: insert',
    'workbench_n8n: select',
    'workbench_n8n: update'
  ],
  'one policy per command, plus the backup''s and n8n''s own (20261130000300)'
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

select * from finish();
rollback;
