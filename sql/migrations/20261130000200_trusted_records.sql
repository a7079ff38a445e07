-- records others rely on are written by trusted code or constrained to the caller (issue 12,
-- classes 3 and 6). each guard applies where row level security applies to the writer
-- (row_security_active) and the writer acts as authenticated: superusers, service_role, the
-- definer triggers and the automation logins (trusted, server-side code with policies of their
-- own, 20261130000300) are not held to them, as they are not held to the app-role policies.
--
--   * llm_requests.cost_usd: the cost others sum (an admin's 30-day cost) is recorded by
--     the usage recorder (app role service, litellm's callback) or an admin; an engineer's
--     own request row must leave it at 0.
--   * job_runs: a retry by anyone but the executor (admin, service) is a new *pending* run
--     with no outcome: completed_at, logs, rows_processed and error_message stay empty. the
--     executor records the outcome by update (admins and service only, as before).
--   * activity_log: every app role appends entries about itself only (actor = caller);
--     entries about others come from the definer triggers (role changes).
--   * pipelines: the owner of a new pipeline is its creator unless an admin creates it, and
--     only an admin hands a pipeline to someone else. a pipeline's steps are run by
--     automation (n8n pipeline-trigger); whoever runs them, no role can set up a pipeline
--     that an admin appears to own (class 3: `service` created an admin-owned pipeline whose
--     step made it admin).

-- llm request costs --------------------------------------------------------------------------------
create or replace function private.guard_llm_request_cost()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- only api callers (authenticated) are held to it: the automation logins have their own
  -- policies (20261130000300), and cannot call the private helpers below.
  if not pg_catalog.pg_has_role(current_user, 'authenticated', 'usage') then
    return new;
  end if;
  if pg_catalog.row_security_active('ip_workbench.llm_requests'::pg_catalog.regclass)
     and not (private.is_admin() or private.is_service())
     and new.cost_usd is distinct from 0
  then
    raise exception using
      errcode = '42501',
      message = pg_catalog.format(
        'llm_requests.cost_usd is recorded by the usage recorder (app role service) or an admin; this role must leave it out (got %s)',
        new.cost_usd
      ),
      hint = 'insert the request without cost_usd; litellm''s usage callback records the cost';
  end if;
  return new;
end;
$$;

create or replace trigger guard_llm_request_cost
before insert on ip_workbench.llm_requests
for each row execute function private.guard_llm_request_cost();

-- job runs -----------------------------------------------------------------------------------------
create or replace function private.guard_job_run_retry()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- only api callers (authenticated) are held to it: the automation logins have their own
  -- policies (20261130000300), and cannot call the private helpers below.
  if not pg_catalog.pg_has_role(current_user, 'authenticated', 'usage') then
    return new;
  end if;
  if pg_catalog.row_security_active('ip_workbench.job_runs'::pg_catalog.regclass)
     and not (private.is_admin() or private.is_service())
     and (
       new.status <> 'pending'
       or new.completed_at is not null
       or new.logs is not null
       or new.rows_processed is not null
       or new.error_message is not null
     )
  then
    raise exception using
      errcode = '42501',
      message = pg_catalog.format(
        'a retry is a new pending run: job_runs.status must be ''pending'' (got ''%s'') and completed_at, logs, rows_processed and error_message empty; the executor (admin or service) records the outcome',
        new.status
      );
  end if;
  return new;
end;
$$;

create or replace trigger guard_job_run_retry
before insert on ip_workbench.job_runs
for each row execute function private.guard_job_run_retry();

-- audit log ----------------------------------------------------------------------------------------
drop policy if exists "service and admins can append to the audit log" on ip_workbench.activity_log;
drop policy if exists "service and admins append to the audit log as themselves" on ip_workbench.activity_log;
create policy "service and admins append to the audit log as themselves" on ip_workbench.activity_log
  for insert to authenticated
  with check (
    ((select private.is_service()) or (select private.is_admin()))
    and actor = (select private.uid())
  );

-- pipeline owners ----------------------------------------------------------------------------------
create or replace function private.guard_pipeline_owner()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- only api callers (authenticated) are held to it: the automation logins have their own
  -- policies (20261130000300), and cannot call the private helpers below.
  if not pg_catalog.pg_has_role(current_user, 'authenticated', 'usage') then
    return new;
  end if;
  if pg_catalog.row_security_active('ip_workbench.pipelines'::pg_catalog.regclass)
     and not private.is_admin()
     and (
       (tg_op = 'INSERT' and new.owner is distinct from private.uid())
       or (tg_op = 'UPDATE' and new.owner is distinct from old.owner and new.owner is distinct from private.uid())
     )
  then
    raise exception using
      errcode = '42501',
      message = 'only admins may create a pipeline for someone else or hand a pipeline to someone else: pipelines.owner must be the caller',
      hint = 'leave owner out (it defaults to the caller) or ask an admin';
  end if;
  return new;
end;
$$;

create or replace trigger guard_pipeline_owner
before insert or update on ip_workbench.pipelines
for each row execute function private.guard_pipeline_owner();

revoke execute on function
  private.guard_llm_request_cost(),
  private.guard_job_run_retry(),
  private.guard_pipeline_owner()
from public, anon;
grant execute on function
  private.guard_llm_request_cost(),
  private.guard_job_run_retry(),
  private.guard_pipeline_owner()
to authenticated, service_role;
