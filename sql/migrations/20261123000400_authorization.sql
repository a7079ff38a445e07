-- authorization: app roles, row level security, policies and grants for ip_workbench.
--
-- the app role (viewer, engineer, admin, service) of the caller comes from
-- ip_workbench.user_roles for auth.uid(), else from the jwt's app_metadata.role (set only by
-- the server, unlike user_metadata which the user can edit); never from user_metadata and
-- never from auth.users. the helpers are security definer in schema `private`, which
-- postgrest does not expose, and policies call them as `(select private.is_admin())` so
-- postgresql evaluates them once per statement (initplan) instead of once per row.
--
-- the permissions matrix of seed 004 section 6 as implemented, and every interpretation,
-- is in sql/MATRIX.md. in short:
--   * every policy is `to authenticated`; anon gets nothing on ip_workbench (no usage, no
--     table privileges); service_role has bypassrls and all privileges (the supabase
--     service key, trusted server-side code) and needs no policies.
--   * "service" in the matrix is the app role `service`: an authenticated automation
--     account (n8n, schedulers) held to the policies like any user.
--   * authenticated gets exactly the table privileges some policy can use; rls decides
--     the rows. a privilege no app role may ever use (update on the append-only logs,
--     truncate anywhere) is not granted at all.
--
-- row level security is enabled and forced on every table. forcing makes a table owner
-- without bypassrls obey the policies too; the owner that runs the migrations must be a
-- superuser or have bypassrls (supabase's `postgres` does), otherwise the definer helpers
-- below, which read ip_workbench.user_roles as that owner, would recurse into its policies.
--
-- identity pinning: ip_workbench.execute_sql runs caller-written sql, which could call
-- set_config('request.jwt.claims', ...) to pose as someone else mid-statement. it records
-- the caller's uid and app role in private.sql_sessions for its transaction before running
-- that sql; private.uid() and private.get_user_role() answer from that record while it
-- exists, so policies cannot be fooled from inside execute_sql. policies therefore use
-- private.uid() (= auth.uid() everywhere else) for ownership checks.

create schema if not exists private;

-- identity pin for execute_sql (written by private.begin_sql_session, see 000500) ---------------
create table if not exists private.sql_sessions (
  xact_id xid8 primary key,
  backend_pid int not null,
  token uuid not null,
  user_id uuid,
  app_role text,
  started_at timestamptz not null default clock_timestamp()
);
comment on table private.sql_sessions is 'caller identity pinned by ip_workbench.execute_sql for the length of its transaction';
alter table private.sql_sessions enable row level security;

-- helpers ----------------------------------------------------------------------------------------
-- the caller's user id: the one pinned by execute_sql for this transaction, else auth.uid().
create or replace function private.uid()
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  -- null unless this transaction wrote something (execute_sql's pin always does); keeps
  -- read-only transactions and hot standbys off the pin table.
  v_xid xid8 := pg_catalog.pg_current_xact_id_if_assigned();
  v_user_id uuid;
begin
  if v_xid is not null then
    select s.user_id into v_user_id
    from private.sql_sessions as s
    where s.xact_id = v_xid and s.backend_pid = pg_catalog.pg_backend_pid();
    if found then
      return v_user_id;
    end if;
  end if;
  return auth.uid();
end;
$$;

-- the caller's app role, or null when it has none.
create or replace function private.get_user_role()
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_xid xid8 := pg_catalog.pg_current_xact_id_if_assigned();
  v_role text;
begin
  if v_xid is not null then
    select s.app_role into v_role
    from private.sql_sessions as s
    where s.xact_id = v_xid and s.backend_pid = pg_catalog.pg_backend_pid();
    if found then
      return v_role;
    end if;
  end if;

  select ur.role into v_role
  from ip_workbench.user_roles as ur
  where ur.user_id = auth.uid();

  if not found then
    -- app_metadata is writable only with the service key; user_metadata is not consulted.
    v_role := auth.jwt() -> 'app_metadata' ->> 'role';
  end if;

  return case when v_role in ('viewer', 'engineer', 'admin', 'service') then v_role end;
end;
$$;

create or replace function private.is_admin()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(private.get_user_role() = 'admin', false);
$$;

create or replace function private.is_engineer_or_admin()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(private.get_user_role() in ('engineer', 'admin'), false);
$$;

create or replace function private.is_service()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(private.get_user_role() = 'service', false);
$$;

-- any app role: viewer, engineer, admin or service.
create or replace function private.is_viewer_or_above()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select private.get_user_role() is not null;
$$;

-- configuring the n8n integration (pipelines.n8n_webhook_url) is admin-only, although
-- engineers and service may otherwise edit pipelines. not security definer: it must see
-- the invoking role, for which row_security_active() tells whether policies apply
-- (false for superusers and service_role, which configure integrations freely).
create or replace function private.guard_pipeline_integration()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if pg_catalog.row_security_active('ip_workbench.pipelines'::pg_catalog.regclass)
     and not private.is_admin()
     and (
       (tg_op = 'INSERT' and new.n8n_webhook_url is not null)
       or (tg_op = 'UPDATE' and new.n8n_webhook_url is distinct from old.n8n_webhook_url)
     )
  then
    raise exception using
      errcode = '42501',
      message = 'only admins may configure integrations: pipelines.n8n_webhook_url cannot be set or changed by this role',
      hint = 'leave n8n_webhook_url out of the insert or update, or ask an admin to configure the n8n integration';
  end if;
  return new;
end;
$$;

create or replace trigger guard_pipeline_integration
before insert or update on ip_workbench.pipelines
for each row execute function private.guard_pipeline_integration();

-- role changes are audited: an admin cannot write activity_log rows for others, so the
-- trigger writes as the owner.
create or replace function private.audit_user_roles()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into ip_workbench.activity_log (actor, action, entity_type, entity_id, details)
  values (
    private.uid(),
    case tg_op
      when 'INSERT' then 'user_role.granted'
      when 'UPDATE' then 'user_role.changed'
      else 'user_role.revoked'
    end,
    'user',
    coalesce(new.user_id, old.user_id),
    pg_catalog.jsonb_build_object(
      'old_role', case when tg_op <> 'INSERT' then old.role end,
      'new_role', case when tg_op <> 'DELETE' then new.role end
    )
  );
  return null;
end;
$$;

create or replace trigger audit_user_roles
after insert or update or delete on ip_workbench.user_roles
for each row execute function private.audit_user_roles();

-- row level security on every table --------------------------------------------------------------
do $$
declare
  v_table regclass;
begin
  for v_table in
    select c.oid::regclass
    from pg_catalog.pg_class as c
    where c.relnamespace = 'ip_workbench'::regnamespace and c.relkind in ('r', 'p')
  loop
    execute format('alter table %s enable row level security', v_table);
    execute format('alter table %s force row level security', v_table);
  end loop;
end
$$;

-- policies ------------------------------------------------------------------------------------------
-- one policy per table and command (no overlapping permissive policies to reason about).

-- catalog: everyone with an app role reads; ingestion (admin, service) writes; engineers
-- curate descriptions, owners and tags (seed 004: "engineers can update table metadata").
drop policy if exists "app users can read domains" on ip_workbench.domains;
create policy "app users can read domains" on ip_workbench.domains
  for select to authenticated
  using ((select private.is_viewer_or_above()));

drop policy if exists "admins can create domains" on ip_workbench.domains;
create policy "admins can create domains" on ip_workbench.domains
  for insert to authenticated
  with check ((select private.is_admin()));

drop policy if exists "admins can update domains" on ip_workbench.domains;
create policy "admins can update domains" on ip_workbench.domains
  for update to authenticated
  using ((select private.is_admin()))
  with check ((select private.is_admin()));

drop policy if exists "admins can delete domains" on ip_workbench.domains;
create policy "admins can delete domains" on ip_workbench.domains
  for delete to authenticated
  using ((select private.is_admin()));

drop policy if exists "app users can read tables" on ip_workbench.tables;
create policy "app users can read tables" on ip_workbench.tables
  for select to authenticated
  using ((select private.is_viewer_or_above()));

drop policy if exists "admins and service can register tables" on ip_workbench.tables;
create policy "admins and service can register tables" on ip_workbench.tables
  for insert to authenticated
  with check ((select private.is_admin()) or (select private.is_service()));

drop policy if exists "engineers, admins and service can update tables" on ip_workbench.tables;
create policy "engineers, admins and service can update tables" on ip_workbench.tables
  for update to authenticated
  using ((select private.is_engineer_or_admin()) or (select private.is_service()))
  with check ((select private.is_engineer_or_admin()) or (select private.is_service()));

drop policy if exists "admins and service can delete tables" on ip_workbench.tables;
create policy "admins and service can delete tables" on ip_workbench.tables
  for delete to authenticated
  using ((select private.is_admin()) or (select private.is_service()));

drop policy if exists "app users can read columns" on ip_workbench.table_metadata;
create policy "app users can read columns" on ip_workbench.table_metadata
  for select to authenticated
  using ((select private.is_viewer_or_above()));

drop policy if exists "admins and service can register columns" on ip_workbench.table_metadata;
create policy "admins and service can register columns" on ip_workbench.table_metadata
  for insert to authenticated
  with check ((select private.is_admin()) or (select private.is_service()));

drop policy if exists "engineers, admins and service can update columns" on ip_workbench.table_metadata;
create policy "engineers, admins and service can update columns" on ip_workbench.table_metadata
  for update to authenticated
  using ((select private.is_engineer_or_admin()) or (select private.is_service()))
  with check ((select private.is_engineer_or_admin()) or (select private.is_service()));

drop policy if exists "admins and service can delete columns" on ip_workbench.table_metadata;
create policy "admins and service can delete columns" on ip_workbench.table_metadata
  for delete to authenticated
  using ((select private.is_admin()) or (select private.is_service()));

-- pipelines: everyone reads; engineers create and edit their own, admins and service any;
-- only admins delete.
drop policy if exists "app users can read pipelines" on ip_workbench.pipelines;
create policy "app users can read pipelines" on ip_workbench.pipelines
  for select to authenticated
  using ((select private.is_viewer_or_above()));

drop policy if exists "engineers create own pipelines, admins and service any" on ip_workbench.pipelines;
create policy "engineers create own pipelines, admins and service any" on ip_workbench.pipelines
  for insert to authenticated
  with check (
    (select private.is_admin())
    or (select private.is_service())
    or ((select private.is_engineer_or_admin()) and owner = (select private.uid()))
  );

drop policy if exists "engineers edit own pipelines, admins and service any" on ip_workbench.pipelines;
create policy "engineers edit own pipelines, admins and service any" on ip_workbench.pipelines
  for update to authenticated
  using (
    (select private.is_admin())
    or (select private.is_service())
    or ((select private.is_engineer_or_admin()) and owner = (select private.uid()))
  )
  with check (
    (select private.is_admin())
    or (select private.is_service())
    or ((select private.is_engineer_or_admin()) and owner = (select private.uid()))
  );

drop policy if exists "admins can delete pipelines" on ip_workbench.pipelines;
create policy "admins can delete pipelines" on ip_workbench.pipelines
  for delete to authenticated
  using ((select private.is_admin()));

-- steps and jobs belong to a pipeline: whoever may edit the pipeline manages them (jobs
-- without a pipeline are platform jobs: admins and service only).
drop policy if exists "app users can read pipeline steps" on ip_workbench.pipeline_steps;
create policy "app users can read pipeline steps" on ip_workbench.pipeline_steps
  for select to authenticated
  using ((select private.is_viewer_or_above()));

drop policy if exists "pipeline editors can add steps" on ip_workbench.pipeline_steps;
create policy "pipeline editors can add steps" on ip_workbench.pipeline_steps
  for insert to authenticated
  with check (
    (select private.is_admin())
    or (select private.is_service())
    or (
      (select private.is_engineer_or_admin())
      and exists (
        select 1 from ip_workbench.pipelines as p
        where p.id = pipeline_steps.pipeline_id and p.owner = (select private.uid())
      )
    )
  );

drop policy if exists "pipeline editors can update steps" on ip_workbench.pipeline_steps;
create policy "pipeline editors can update steps" on ip_workbench.pipeline_steps
  for update to authenticated
  using (
    (select private.is_admin())
    or (select private.is_service())
    or (
      (select private.is_engineer_or_admin())
      and exists (
        select 1 from ip_workbench.pipelines as p
        where p.id = pipeline_steps.pipeline_id and p.owner = (select private.uid())
      )
    )
  )
  with check (
    (select private.is_admin())
    or (select private.is_service())
    or (
      (select private.is_engineer_or_admin())
      and exists (
        select 1 from ip_workbench.pipelines as p
        where p.id = pipeline_steps.pipeline_id and p.owner = (select private.uid())
      )
    )
  );

drop policy if exists "pipeline editors can delete steps" on ip_workbench.pipeline_steps;
create policy "pipeline editors can delete steps" on ip_workbench.pipeline_steps
  for delete to authenticated
  using (
    (select private.is_admin())
    or (select private.is_service())
    or (
      (select private.is_engineer_or_admin())
      and exists (
        select 1 from ip_workbench.pipelines as p
        where p.id = pipeline_steps.pipeline_id and p.owner = (select private.uid())
      )
    )
  );

drop policy if exists "app users can read jobs" on ip_workbench.jobs;
create policy "app users can read jobs" on ip_workbench.jobs
  for select to authenticated
  using ((select private.is_viewer_or_above()));

drop policy if exists "pipeline editors can schedule jobs" on ip_workbench.jobs;
create policy "pipeline editors can schedule jobs" on ip_workbench.jobs
  for insert to authenticated
  with check (
    (select private.is_admin())
    or (select private.is_service())
    or (
      (select private.is_engineer_or_admin())
      and exists (
        select 1 from ip_workbench.pipelines as p
        where p.id = jobs.pipeline_id and p.owner = (select private.uid())
      )
    )
  );

drop policy if exists "pipeline editors can update jobs" on ip_workbench.jobs;
create policy "pipeline editors can update jobs" on ip_workbench.jobs
  for update to authenticated
  using (
    (select private.is_admin())
    or (select private.is_service())
    or (
      (select private.is_engineer_or_admin())
      and exists (
        select 1 from ip_workbench.pipelines as p
        where p.id = jobs.pipeline_id and p.owner = (select private.uid())
      )
    )
  )
  with check (
    (select private.is_admin())
    or (select private.is_service())
    or (
      (select private.is_engineer_or_admin())
      and exists (
        select 1 from ip_workbench.pipelines as p
        where p.id = jobs.pipeline_id and p.owner = (select private.uid())
      )
    )
  );

drop policy if exists "pipeline editors can delete jobs" on ip_workbench.jobs;
create policy "pipeline editors can delete jobs" on ip_workbench.jobs
  for delete to authenticated
  using (
    (select private.is_admin())
    or (select private.is_service())
    or (
      (select private.is_engineer_or_admin())
      and exists (
        select 1 from ip_workbench.pipelines as p
        where p.id = jobs.pipeline_id and p.owner = (select private.uid())
      )
    )
  );

-- job runs: everyone reads the logs; a retry is a new run, started by engineers as
-- themselves, by admins and service for anyone; the executor (admins, service) updates runs.
drop policy if exists "app users can read job runs" on ip_workbench.job_runs;
create policy "app users can read job runs" on ip_workbench.job_runs
  for select to authenticated
  using ((select private.is_viewer_or_above()));

drop policy if exists "engineers, admins and service can start runs" on ip_workbench.job_runs;
create policy "engineers, admins and service can start runs" on ip_workbench.job_runs
  for insert to authenticated
  with check (
    (select private.is_admin())
    or (select private.is_service())
    or ((select private.is_engineer_or_admin()) and triggered_by = (select private.uid()))
  );

drop policy if exists "admins and service can update runs" on ip_workbench.job_runs;
create policy "admins and service can update runs" on ip_workbench.job_runs
  for update to authenticated
  using ((select private.is_admin()) or (select private.is_service()))
  with check ((select private.is_admin()) or (select private.is_service()));

drop policy if exists "admins can delete runs" on ip_workbench.job_runs;
create policy "admins can delete runs" on ip_workbench.job_runs
  for delete to authenticated
  using ((select private.is_admin()));

-- data quality: everyone reads tests and results; ingestion (admins, service) writes them.
drop policy if exists "app users can read tests" on ip_workbench.tests;
create policy "app users can read tests" on ip_workbench.tests
  for select to authenticated
  using ((select private.is_viewer_or_above()));

drop policy if exists "admins and service can register tests" on ip_workbench.tests;
create policy "admins and service can register tests" on ip_workbench.tests
  for insert to authenticated
  with check ((select private.is_admin()) or (select private.is_service()));

drop policy if exists "admins and service can update tests" on ip_workbench.tests;
create policy "admins and service can update tests" on ip_workbench.tests
  for update to authenticated
  using ((select private.is_admin()) or (select private.is_service()))
  with check ((select private.is_admin()) or (select private.is_service()));

drop policy if exists "admins and service can delete tests" on ip_workbench.tests;
create policy "admins and service can delete tests" on ip_workbench.tests
  for delete to authenticated
  using ((select private.is_admin()) or (select private.is_service()));

drop policy if exists "app users can read test runs" on ip_workbench.test_runs;
create policy "app users can read test runs" on ip_workbench.test_runs
  for select to authenticated
  using ((select private.is_viewer_or_above()));

drop policy if exists "admins and service can record test runs" on ip_workbench.test_runs;
create policy "admins and service can record test runs" on ip_workbench.test_runs
  for insert to authenticated
  with check ((select private.is_admin()) or (select private.is_service()));

drop policy if exists "admins and service can update test runs" on ip_workbench.test_runs;
create policy "admins and service can update test runs" on ip_workbench.test_runs
  for update to authenticated
  using ((select private.is_admin()) or (select private.is_service()))
  with check ((select private.is_admin()) or (select private.is_service()));

drop policy if exists "admins and service can delete test runs" on ip_workbench.test_runs;
create policy "admins and service can delete test runs" on ip_workbench.test_runs
  for delete to authenticated
  using ((select private.is_admin()) or (select private.is_service()));

-- alerts: readable wherever data quality is; configured (created, changed, resolved,
-- removed) by admins only.
drop policy if exists "app users can read alerts" on ip_workbench.alerts;
create policy "app users can read alerts" on ip_workbench.alerts
  for select to authenticated
  using ((select private.is_viewer_or_above()));

drop policy if exists "admins can create alerts" on ip_workbench.alerts;
create policy "admins can create alerts" on ip_workbench.alerts
  for insert to authenticated
  with check ((select private.is_admin()));

drop policy if exists "admins can update alerts" on ip_workbench.alerts;
create policy "admins can update alerts" on ip_workbench.alerts
  for update to authenticated
  using ((select private.is_admin()))
  with check ((select private.is_admin()));

drop policy if exists "admins can delete alerts" on ip_workbench.alerts;
create policy "admins can delete alerts" on ip_workbench.alerts
  for delete to authenticated
  using ((select private.is_admin()));

-- lineage: everyone reads; engineers and admins edit (not service: the matrix says so, and
-- lineage ingestion runs with service_role).
drop policy if exists "app users can read lineage" on ip_workbench.lineage_edges;
create policy "app users can read lineage" on ip_workbench.lineage_edges
  for select to authenticated
  using ((select private.is_viewer_or_above()));

drop policy if exists "engineers and admins can add lineage" on ip_workbench.lineage_edges;
create policy "engineers and admins can add lineage" on ip_workbench.lineage_edges
  for insert to authenticated
  with check ((select private.is_engineer_or_admin()));

drop policy if exists "engineers and admins can update lineage" on ip_workbench.lineage_edges;
create policy "engineers and admins can update lineage" on ip_workbench.lineage_edges
  for update to authenticated
  using ((select private.is_engineer_or_admin()))
  with check ((select private.is_engineer_or_admin()));

drop policy if exists "engineers and admins can delete lineage" on ip_workbench.lineage_edges;
create policy "engineers and admins can delete lineage" on ip_workbench.lineage_edges
  for delete to authenticated
  using ((select private.is_engineer_or_admin()));

-- ai assist: engineers, admins and service use it (the matrix denies viewers genie, agents
-- and agent runs). engineers create and deploy their own agents, admins and service any;
-- only admins delete agents.
drop policy if exists "ai users can read agents" on ip_workbench.agents;
create policy "ai users can read agents" on ip_workbench.agents
  for select to authenticated
  using ((select private.is_engineer_or_admin()) or (select private.is_service()));

drop policy if exists "ai users can create own agents, admins any" on ip_workbench.agents;
create policy "ai users can create own agents, admins any" on ip_workbench.agents
  for insert to authenticated
  with check (
    (select private.is_admin())
    or (
      ((select private.is_engineer_or_admin()) or (select private.is_service()))
      and created_by = (select private.uid())
    )
  );

drop policy if exists "engineers deploy own agents, admins and service any" on ip_workbench.agents;
create policy "engineers deploy own agents, admins and service any" on ip_workbench.agents
  for update to authenticated
  using (
    (select private.is_admin())
    or (select private.is_service())
    or ((select private.is_engineer_or_admin()) and created_by = (select private.uid()))
  )
  with check (
    (select private.is_admin())
    or (select private.is_service())
    or ((select private.is_engineer_or_admin()) and created_by = (select private.uid()))
  );

drop policy if exists "admins can delete agents" on ip_workbench.agents;
create policy "admins can delete agents" on ip_workbench.agents
  for delete to authenticated
  using ((select private.is_admin()));

drop policy if exists "ai users can read agent bindings" on ip_workbench.agent_bindings;
create policy "ai users can read agent bindings" on ip_workbench.agent_bindings
  for select to authenticated
  using ((select private.is_engineer_or_admin()) or (select private.is_service()));

drop policy if exists "ai users can bind agents as themselves, admins any" on ip_workbench.agent_bindings;
create policy "ai users can bind agents as themselves, admins any" on ip_workbench.agent_bindings
  for insert to authenticated
  with check (
    (select private.is_admin())
    or (
      ((select private.is_engineer_or_admin()) or (select private.is_service()))
      and created_by = (select private.uid())
    )
  );

drop policy if exists "engineers edit own bindings, admins and service any" on ip_workbench.agent_bindings;
create policy "engineers edit own bindings, admins and service any" on ip_workbench.agent_bindings
  for update to authenticated
  using (
    (select private.is_admin())
    or (select private.is_service())
    or ((select private.is_engineer_or_admin()) and created_by = (select private.uid()))
  )
  with check (
    (select private.is_admin())
    or (select private.is_service())
    or ((select private.is_engineer_or_admin()) and created_by = (select private.uid()))
  );

drop policy if exists "engineers remove own bindings, admins and service any" on ip_workbench.agent_bindings;
create policy "engineers remove own bindings, admins and service any" on ip_workbench.agent_bindings
  for delete to authenticated
  using (
    (select private.is_admin())
    or (select private.is_service())
    or ((select private.is_engineer_or_admin()) and created_by = (select private.uid()))
  );

drop policy if exists "ai users can read agent runs" on ip_workbench.agent_runs;
create policy "ai users can read agent runs" on ip_workbench.agent_runs
  for select to authenticated
  using ((select private.is_engineer_or_admin()) or (select private.is_service()));

drop policy if exists "engineers run agents as themselves, admins and service any" on ip_workbench.agent_runs;
create policy "engineers run agents as themselves, admins and service any" on ip_workbench.agent_runs
  for insert to authenticated
  with check (
    (select private.is_admin())
    or (select private.is_service())
    or ((select private.is_engineer_or_admin()) and triggered_by = (select private.uid()))
  );

drop policy if exists "engineers update own agent runs, admins and service any" on ip_workbench.agent_runs;
create policy "engineers update own agent runs, admins and service any" on ip_workbench.agent_runs
  for update to authenticated
  using (
    (select private.is_admin())
    or (select private.is_service())
    or ((select private.is_engineer_or_admin()) and triggered_by = (select private.uid()))
  )
  with check (
    (select private.is_admin())
    or (select private.is_service())
    or ((select private.is_engineer_or_admin()) and triggered_by = (select private.uid()))
  );

drop policy if exists "admins can delete agent runs" on ip_workbench.agent_runs;
create policy "admins can delete agent runs" on ip_workbench.agent_runs
  for delete to authenticated
  using ((select private.is_admin()));

-- llm requests are the traces langfuse shows, with their costs: admins read them ("access
-- langfuse", "view cost tracking"); ai users record their own, service anyone's. append-only.
drop policy if exists "admins can read llm requests" on ip_workbench.llm_requests;
create policy "admins can read llm requests" on ip_workbench.llm_requests
  for select to authenticated
  using ((select private.is_admin()));

drop policy if exists "ai users record own llm requests, admins and service any" on ip_workbench.llm_requests;
create policy "ai users record own llm requests, admins and service any" on ip_workbench.llm_requests
  for insert to authenticated
  with check (
    (select private.is_admin())
    or (select private.is_service())
    or ((select private.is_engineer_or_admin()) and user_id = (select private.uid()))
  );

-- prompts are agent configuration: like agents.
drop policy if exists "ai users can read prompts" on ip_workbench.prompts;
create policy "ai users can read prompts" on ip_workbench.prompts
  for select to authenticated
  using ((select private.is_engineer_or_admin()) or (select private.is_service()));

drop policy if exists "ai users can create own prompts, admins any" on ip_workbench.prompts;
create policy "ai users can create own prompts, admins any" on ip_workbench.prompts
  for insert to authenticated
  with check (
    (select private.is_admin())
    or (
      ((select private.is_engineer_or_admin()) or (select private.is_service()))
      and owner = (select private.uid())
    )
  );

drop policy if exists "engineers edit own prompts, admins and service any" on ip_workbench.prompts;
create policy "engineers edit own prompts, admins and service any" on ip_workbench.prompts
  for update to authenticated
  using (
    (select private.is_admin())
    or (select private.is_service())
    or ((select private.is_engineer_or_admin()) and owner = (select private.uid()))
  )
  with check (
    (select private.is_admin())
    or (select private.is_service())
    or ((select private.is_engineer_or_admin()) and owner = (select private.uid()))
  );

drop policy if exists "admins can delete prompts" on ip_workbench.prompts;
create policy "admins can delete prompts" on ip_workbench.prompts
  for delete to authenticated
  using ((select private.is_admin()));

-- sql snippets are private to their owner; viewers, engineers and admins save them, service
-- (an automation account) cannot. admins may read and delete anyone's.
drop policy if exists "owners can read own snippets, admins all" on ip_workbench.sql_snippets;
create policy "owners can read own snippets, admins all" on ip_workbench.sql_snippets
  for select to authenticated
  using (
    (select private.is_admin())
    or (
      (select private.get_user_role()) in ('viewer', 'engineer', 'admin')
      and owner = (select private.uid())
    )
  );

drop policy if exists "users can save own snippets" on ip_workbench.sql_snippets;
create policy "users can save own snippets" on ip_workbench.sql_snippets
  for insert to authenticated
  with check (
    (select private.get_user_role()) in ('viewer', 'engineer', 'admin')
    and owner = (select private.uid())
  );

drop policy if exists "users can update own snippets" on ip_workbench.sql_snippets;
create policy "users can update own snippets" on ip_workbench.sql_snippets
  for update to authenticated
  using (
    (select private.get_user_role()) in ('viewer', 'engineer', 'admin')
    and owner = (select private.uid())
  )
  with check (
    (select private.get_user_role()) in ('viewer', 'engineer', 'admin')
    and owner = (select private.uid())
  );

drop policy if exists "owners can delete own snippets, admins all" on ip_workbench.sql_snippets;
create policy "owners can delete own snippets, admins all" on ip_workbench.sql_snippets
  for delete to authenticated
  using (
    (select private.is_admin())
    or (
      (select private.get_user_role()) in ('viewer', 'engineer', 'admin')
      and owner = (select private.uid())
    )
  );

-- query history: written only by private.log_query (security definer); each user reads
-- their own, admins all.
drop policy if exists "users can read own query history, admins all" on ip_workbench.query_history;
create policy "users can read own query history, admins all" on ip_workbench.query_history
  for select to authenticated
  using (
    (select private.is_admin())
    or ((select private.is_viewer_or_above()) and user_id = (select private.uid()))
  );

-- cost tracking: admins only; service may record costs it cannot read.
drop policy if exists "admins can read costs" on ip_workbench.cost_tracker;
create policy "admins can read costs" on ip_workbench.cost_tracker
  for select to authenticated
  using ((select private.is_admin()));

drop policy if exists "admins and service can record costs" on ip_workbench.cost_tracker;
create policy "admins and service can record costs" on ip_workbench.cost_tracker
  for insert to authenticated
  with check ((select private.is_admin()) or (select private.is_service()));

drop policy if exists "admins can correct costs" on ip_workbench.cost_tracker;
create policy "admins can correct costs" on ip_workbench.cost_tracker
  for update to authenticated
  using ((select private.is_admin()))
  with check ((select private.is_admin()));

drop policy if exists "admins can delete costs" on ip_workbench.cost_tracker;
create policy "admins can delete costs" on ip_workbench.cost_tracker
  for delete to authenticated
  using ((select private.is_admin()));

-- audit log: admins and service read it; service records anyone's actions, admins their
-- own; nobody edits or deletes it (no update/delete privilege is granted).
drop policy if exists "admins and service can read the audit log" on ip_workbench.activity_log;
create policy "admins and service can read the audit log" on ip_workbench.activity_log
  for select to authenticated
  using ((select private.is_admin()) or (select private.is_service()));

drop policy if exists "service and admins can append to the audit log" on ip_workbench.activity_log;
create policy "service and admins can append to the audit log" on ip_workbench.activity_log
  for insert to authenticated
  with check (
    (select private.is_service())
    or ((select private.is_admin()) and actor = (select private.uid()))
  );

-- user roles: admins manage them; everyone may read their own row.
drop policy if exists "users can read own role, admins all" on ip_workbench.user_roles;
create policy "users can read own role, admins all" on ip_workbench.user_roles
  for select to authenticated
  using (user_id = (select private.uid()) or (select private.is_admin()));

drop policy if exists "admins can grant roles" on ip_workbench.user_roles;
create policy "admins can grant roles" on ip_workbench.user_roles
  for insert to authenticated
  with check ((select private.is_admin()));

drop policy if exists "admins can change roles" on ip_workbench.user_roles;
create policy "admins can change roles" on ip_workbench.user_roles
  for update to authenticated
  using ((select private.is_admin()))
  with check ((select private.is_admin()));

drop policy if exists "admins can revoke roles" on ip_workbench.user_roles;
create policy "admins can revoke roles" on ip_workbench.user_roles
  for delete to authenticated
  using ((select private.is_admin()));

-- grants -------------------------------------------------------------------------------------------
-- reset to exactly what is listed here on every run (re-runs stay idempotent and drop any
-- privilege granted by hand in between).
revoke all on schema ip_workbench from public, anon;
revoke all on all tables in schema ip_workbench from public, anon, authenticated;
grant usage on schema ip_workbench to authenticated, service_role;

grant select, insert, update, delete on
  ip_workbench.domains,
  ip_workbench.tables,
  ip_workbench.table_metadata,
  ip_workbench.pipelines,
  ip_workbench.pipeline_steps,
  ip_workbench.jobs,
  ip_workbench.job_runs,
  ip_workbench.tests,
  ip_workbench.test_runs,
  ip_workbench.alerts,
  ip_workbench.lineage_edges,
  ip_workbench.agents,
  ip_workbench.agent_bindings,
  ip_workbench.agent_runs,
  ip_workbench.prompts,
  ip_workbench.sql_snippets,
  ip_workbench.cost_tracker,
  ip_workbench.user_roles
to authenticated;
-- append-only logs.
grant select, insert on ip_workbench.llm_requests, ip_workbench.activity_log to authenticated;
-- written only through private.log_query.
grant select on ip_workbench.query_history to authenticated;
grant select on ip_workbench.kpi_summary, ip_workbench.dq_scorecards to authenticated;

grant all on all tables in schema ip_workbench to service_role;

-- functions are executable by public by default: take that back in both schemas, then grant
-- the helpers to the roles whose policies call them.
revoke all on schema private from public, anon;
grant usage on schema private to authenticated, service_role;
revoke all on all tables in schema private from public, anon, authenticated, service_role;
revoke execute on all functions in schema private from public, anon;
revoke execute on all functions in schema ip_workbench from public, anon;
grant execute on function
  private.uid(),
  private.get_user_role(),
  private.is_admin(),
  private.is_engineer_or_admin(),
  private.is_service(),
  private.is_viewer_or_above()
to authenticated, service_role;

-- the same for objects created later by the role running the migrations.
alter default privileges in schema ip_workbench revoke execute on functions from public;
alter default privileges in schema private revoke execute on functions from public;

-- warn (do not fail: the local superuser and supabase's postgres both qualify) when the
-- owner would be subject to the forced policies; see the header.
do $$
begin
  if not exists (
    select 1 from pg_catalog.pg_roles
    where rolname = current_user and (rolsuper or rolbypassrls)
  ) then
    raise warning 'role % owns the ip_workbench tables but has neither superuser nor bypassrls: forced row level security applies to it and the authorization helpers may recurse', current_user;
  end if;
end
$$;
