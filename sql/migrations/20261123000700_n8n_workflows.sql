-- what the n8n workflows (n8n-workflows/) need from the database beyond the bronze landing
-- tables and job_runs:
--
--   * ip_workbench.expense_approvals: the expense-approval workflow's decision per expense.
--     expenses live in the medallion (bronze.expenses_raw -> silver.silver_expenses ->
--     gold.finance_expenses, whose approval_status is the static threshold rule); the
--     decision of record (who or what decided, when, on which amount) is workbench state,
--     so it lives here. the workflow writes 'auto_approved' below the threshold and
--     'pending_approval' at or above it; 'approved' / 'rejected' are the human decisions
--     that follow a pending one, and the workflow never overwrites them.
--   * private.raise_on_sql_error(result): the pipeline-trigger workflow runs each sql step
--     of a pipeline through ip_workbench.execute_sql as the pipeline's owner, all steps in
--     one transaction. execute_sql reports an error of the sql in its result instead of
--     raising; this turns that report back into an error so the step's transaction (and
--     with it every earlier step of the run) rolls back and no later step runs.
--
-- policies (sql/MATRIX.md has no expense feature; these follow its per-table conventions):
-- every app role reads approvals (finance data is readable by signed-in users in gold);
-- admins and the service account (n8n) record decisions; only admins delete. anon gets
-- nothing. service_role bypasses rls as everywhere.

create table if not exists ip_workbench.expense_approvals (
  expense_id text primary key check (length(expense_id) between 1 and 200),
  status text not null check (status in ('auto_approved', 'pending_approval', 'approved', 'rejected')),
  amount numeric(14, 2) not null check (amount >= 0),
  currency text,
  threshold numeric(14, 2) not null check (threshold > 0),
  decided_at timestamptz not null default now(),
  -- null for the workflow's automatic decisions; the admin's id for a human one.
  decided_by uuid references auth.users (id) on delete set null,
  notified_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table ip_workbench.expense_approvals is 'approval decision per expense (expense-approval n8n workflow: auto below the threshold, pending at or above it; approved/rejected by an admin)';
comment on column ip_workbench.expense_approvals.notified_at is 'when the approvers were notified (mattermost) of a pending expense';
create index if not exists expense_approvals_decided_by_idx on ip_workbench.expense_approvals (decided_by);
create index if not exists expense_approvals_pending_idx on ip_workbench.expense_approvals (decided_at desc)
  where status = 'pending_approval';

create or replace trigger set_updated_at before update on ip_workbench.expense_approvals
  for each row execute function private.set_updated_at();

alter table ip_workbench.expense_approvals enable row level security;
alter table ip_workbench.expense_approvals force row level security;

drop policy if exists "app users can read expense approvals" on ip_workbench.expense_approvals;
create policy "app users can read expense approvals" on ip_workbench.expense_approvals
  for select to authenticated
  using ((select private.is_viewer_or_above()));

drop policy if exists "admins and service can record expense approvals" on ip_workbench.expense_approvals;
create policy "admins and service can record expense approvals" on ip_workbench.expense_approvals
  for insert to authenticated
  with check ((select private.is_admin()) or (select private.is_service()));

drop policy if exists "admins and service can change expense approvals" on ip_workbench.expense_approvals;
create policy "admins and service can change expense approvals" on ip_workbench.expense_approvals
  for update to authenticated
  using ((select private.is_admin()) or (select private.is_service()))
  with check ((select private.is_admin()) or (select private.is_service()));

drop policy if exists "admins can delete expense approvals" on ip_workbench.expense_approvals;
create policy "admins can delete expense approvals" on ip_workbench.expense_approvals
  for delete to authenticated
  using ((select private.is_admin()));

revoke all on ip_workbench.expense_approvals from public, anon;
grant select, insert, update, delete on ip_workbench.expense_approvals to authenticated;
grant all on ip_workbench.expense_approvals to service_role;

-- not security definer: it only inspects its argument, and the pipeline steps call it as
-- `authenticated` (the owner's identity), for which it must simply be executable.
create or replace function private.raise_on_sql_error(result jsonb)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_error jsonb := result -> 'error';
begin
  if v_error is not null and pg_catalog.jsonb_typeof(v_error) = 'object' then
    raise exception using
      errcode = coalesce(nullif(v_error ->> 'code', ''), 'P0001'),
      message = coalesce(v_error ->> 'message', 'the sql failed'),
      -- the detail repeats the code and message: n8n's postgres node keeps only the detail
      -- in an error item (and drops it when it equals the message).
      detail = concat_ws(
        ': ',
        'sqlstate ' || coalesce(nullif(v_error ->> 'code', ''), 'P0001'),
        coalesce(v_error ->> 'message', 'the sql failed'),
        nullif(v_error ->> 'detail', '')
      ),
      hint = coalesce(v_error ->> 'hint', '');
  end if;
  return result;
end;
$$;
comment on function private.raise_on_sql_error(jsonb) is 'raises the error an ip_workbench.execute_sql result reports (pipeline-trigger workflow), else returns the result';

revoke execute on function private.raise_on_sql_error(jsonb) from public, anon;
grant execute on function private.raise_on_sql_error(jsonb) to authenticated, service_role;
