-- dbt reads the expense-approval decisions (issue 19, item 3: approvals reach gold).
--
-- gold.finance_expenses carries each expense's approval status and decision time from
-- ip_workbench.expense_approvals (written by the expense-approval n8n workflow through
-- ip_workbench.decide_expense, and by admins). dbt reads the table through the security-
-- invoker view silver.silver_expense_approvals, as the dbt login wb_<env>_dbt. that login is
-- created per environment by the database layer (components/database/workbench-database.ts),
-- so, as for the other automations (20261130000300_automation_roles.sql), the privilege
-- lives on a nologin group role and the login is made a member of it (dbtRunnerGrants).
--
--   workbench_dbt   select on the decision columns of ip_workbench.expense_approvals (not
--                   decided_by: who decided is not finance data) and a select policy for
--                   itself only: row level security is forced on the table and its app-role
--                   policies are `to authenticated`. nothing else in ip_workbench, no writes.
--
-- roles are cluster-wide: created only when missing (another database may have created it).

do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'workbench_dbt') then
    begin
      create role workbench_dbt nologin noinherit;
    exception when duplicate_object then
      null;
    end;
  end if;
end
$$;

comment on role workbench_dbt is 'dbt runner: reads expense approval decisions (group role; logins wb_<env>_dbt are members)';

grant usage on schema ip_workbench to workbench_dbt;
grant select (expense_id, status, amount, currency, amount_converted, threshold, threshold_currency, decided_at, updated_at)
  on ip_workbench.expense_approvals to workbench_dbt;

drop policy if exists "workbench_dbt: select" on ip_workbench.expense_approvals;
create policy "workbench_dbt: select" on ip_workbench.expense_approvals
  for select to workbench_dbt
  using (true);
