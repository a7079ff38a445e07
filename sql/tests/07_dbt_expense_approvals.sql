-- the dbt runner's group role (20261130002100): reads the decision columns of every expense
-- approval (its own policy; rls is forced on the table) and nothing else. the logins
-- wb_<env>_dbt are members of it (dbtRunnerGrants). superuser mode: the fixture is written
-- here, then `set local role workbench_dbt`.
begin;
create extension if not exists pgtap;

select plan(11);

insert into auth.users (id, email) values ('a7100000-0000-4000-8000-000000000001', 'approver@dbt.test');
insert into ip_workbench.expense_approvals (expense_id, status, amount, threshold, decided_by) values
  ('exp-dbt-1', 'rejected', 7000, 5000, 'a7100000-0000-4000-8000-000000000001'),
  ('exp-dbt-2', 'auto_approved', 10, 5000, null);

select is(
  (select rolcanlogin::text || rolinherit || rolsuper || rolbypassrls || rolcreaterole || rolcreatedb from pg_roles where rolname = 'workbench_dbt'),
  'falsefalsefalsefalsefalsefalse',
  'workbench_dbt: nologin, noinherit, no superuser, bypassrls, createrole or createdb'
);

set local role workbench_dbt;
select results_eq(
  $$select expense_id, status, decided_at is not null, updated_at is not null from ip_workbench.expense_approvals order by expense_id$$,
  $$values ('exp-dbt-1', 'rejected', true, true), ('exp-dbt-2', 'auto_approved', true, true)$$,
  'dbt: reads every decision, whoever made it (its own select policy under forced rls)'
);
select throws_ok($$select decided_by from ip_workbench.expense_approvals$$, '42501', null, 'dbt: cannot read who decided');
select throws_ok($$select notified_at from ip_workbench.expense_approvals$$, '42501', null, 'dbt: reads only the decision columns');
select throws_ok($$insert into ip_workbench.expense_approvals (expense_id, status, amount, threshold) values ('exp-dbt-3', 'approved', 1, 5000)$$, '42501', null, 'dbt: cannot record a decision');
select throws_ok($$update ip_workbench.expense_approvals set status = 'approved' where expense_id = 'exp-dbt-1'$$, '42501', null, 'dbt: cannot change a decision');
select throws_ok($$delete from ip_workbench.expense_approvals$$, '42501', null, 'dbt: cannot delete a decision');
select throws_ok($$select 1 from ip_workbench.user_roles$$, '42501', null, 'dbt: reads no other ip_workbench table');
select throws_ok($$select 1 from auth.users$$, '42501', null, 'dbt: nothing in auth');
select throws_ok($$create table ip_workbench.dbt_was_here (i int)$$, '42501', null, 'dbt: no ddl in ip_workbench');
select ok(not has_schema_privilege('private', 'usage'), 'dbt: nothing in private');

select * from finish();
rollback;
