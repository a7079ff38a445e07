-- least privilege for every automation (issue 19, items 1 and 2 at the sql level).
--
-- one nologin group role per automation holds exactly what that automation does; the
-- database layer (components/database/workbench-database.ts) creates one login per
-- environment with a generated password as a member of it. row level security is forced on
-- every ip_workbench table, so each group role also gets policies of its own, limited to the
-- rows and commands it needs (the app-role policies are `to authenticated` and do not apply
-- to these roles at all).
--
--   workbench_n8n              the n8n workflows (n8n-workflows/*.json): deliver into bronze
--                              (bronze.deliver), read silver expenses, record expense
--                              approvals, create and finish job runs, read pipelines and their
--                              steps and the catalog's tables; `set local role authenticated`
--                              (member of authenticated) for execute_sql. its own schema `n8n`
--                              holds n8n's internal tables (DB_POSTGRESDB_SCHEMA=n8n).
--   workbench_backup           pg_dump, read-only: usage and select on ip_workbench, bronze,
--                              silver, gold, platinum and workbench_migrations, and a
--                              select-all policy on every table with row level security (run
--                              pg_dump with --enable-row-security). nothing in auth or private.
--   workbench_catalog_writer   the catalog seeder (components/data/catalog/write.ts): the
--                              catalog tables, their tests, test runs and alerts, and job runs
--                              it records.
--   workbench_usage_recorder   litellm's usage callback (components/litellm/workbench_usage.py):
--                              insert llm_requests, read what its budget check reads, keep the
--                              litellm rows of cost_tracker.
--
-- roles are cluster-wide: created only when missing (another database may have created them).

do $$
declare
  v_role text;
begin
  foreach v_role in array array['workbench_n8n', 'workbench_backup', 'workbench_catalog_writer', 'workbench_usage_recorder'] loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = v_role) then
      begin
        execute pg_catalog.format('create role %I nologin noinherit', v_role);
      exception when duplicate_object then
        null;
      end;
    end if;
  end loop;
  if not pg_catalog.pg_has_role('workbench_n8n', 'authenticated', 'member') then
    grant authenticated to workbench_n8n;
  end if;
end
$$;

comment on role workbench_n8n is 'n8n workflows (group role; logins wb_<env>_n8n are members)';
comment on role workbench_backup is 'read-only pg_dump of the workbench schemas (group role)';
comment on role workbench_catalog_writer is 'catalog seeder (group role)';
comment on role workbench_usage_recorder is 'litellm usage recorder: llm_requests and its cost_tracker rows (group role)';

-- n8n ------------------------------------------------------------------------------------------------
create schema if not exists n8n;
comment on schema n8n is 'n8n''s internal tables (workflows, executions, credentials), owned by the n8n login';
revoke all on schema n8n from public;
grant usage, create on schema n8n to workbench_n8n;

grant usage on schema bronze to workbench_n8n;
grant select, insert on all tables in schema bronze to workbench_n8n;
grant execute on all functions in schema bronze to workbench_n8n;
grant usage on schema silver to workbench_n8n;
grant usage on schema ip_workbench to workbench_n8n;
grant select on ip_workbench.pipelines, ip_workbench.pipeline_steps, ip_workbench.tables to workbench_n8n;
grant select, insert, update on ip_workbench.job_runs, ip_workbench.expense_approvals to workbench_n8n;

-- backup -----------------------------------------------------------------------------------------------
do $$
declare
  v_schema text;
begin
  foreach v_schema in array array['ip_workbench', 'bronze', 'silver', 'gold', 'platinum', 'workbench_migrations'] loop
    if exists (select 1 from pg_catalog.pg_namespace where nspname = v_schema) then
      execute pg_catalog.format('grant usage on schema %I to workbench_backup', v_schema);
      execute pg_catalog.format('grant select on all tables in schema %I to workbench_backup', v_schema);
      execute pg_catalog.format('grant select on all sequences in schema %I to workbench_backup', v_schema);
      -- tables the migration role creates later; dbt's get theirs from the dbt grants.
      execute pg_catalog.format('alter default privileges in schema %I grant select on tables to workbench_backup', v_schema);
    end if;
  end loop;
end
$$;

-- catalog writer ----------------------------------------------------------------------------------------
grant usage on schema ip_workbench to workbench_catalog_writer;
grant select on ip_workbench.domains to workbench_catalog_writer;
grant select, insert, update, delete on
  ip_workbench.tables,
  ip_workbench.table_metadata,
  ip_workbench.lineage_edges,
  ip_workbench.tests,
  ip_workbench.test_runs,
  ip_workbench.alerts
to workbench_catalog_writer;
grant select, insert on ip_workbench.job_runs to workbench_catalog_writer;

-- usage recorder -----------------------------------------------------------------------------------------
grant usage on schema ip_workbench to workbench_usage_recorder;
grant insert on ip_workbench.llm_requests to workbench_usage_recorder;
-- `returning agent_run_id` and the budget check's sum.
grant select (agent_run_id, request_id, cost_usd) on ip_workbench.llm_requests to workbench_usage_recorder;
grant select (id, agent_id) on ip_workbench.agent_runs to workbench_usage_recorder;
grant select (id, budget_usd) on ip_workbench.agents to workbench_usage_recorder;
grant select, insert, update on ip_workbench.cost_tracker to workbench_usage_recorder;

-- policies ----------------------------------------------------------------------------------------------
-- (table, role, command, using, with check); using/with check null where the command has none.
do $$
declare
  p record;
  v_name text;
begin
  for p in
    select * from (values
      ('pipelines', 'workbench_n8n', 'select', 'true', null),
      ('pipeline_steps', 'workbench_n8n', 'select', 'true', null),
      ('tables', 'workbench_n8n', 'select', 'true', null),
      ('job_runs', 'workbench_n8n', 'select', 'true', null),
      ('job_runs', 'workbench_n8n', 'insert', null, $c$stage = 'n8n'$c$),
      ('job_runs', 'workbench_n8n', 'update', $c$stage = 'n8n'$c$, $c$stage = 'n8n'$c$),
      ('expense_approvals', 'workbench_n8n', 'select', 'true', null),
      ('expense_approvals', 'workbench_n8n', 'insert', null, 'decided_by is null'),
      ('expense_approvals', 'workbench_n8n', 'update', 'true', 'true'),
      ('domains', 'workbench_catalog_writer', 'select', 'true', null),
      ('tables', 'workbench_catalog_writer', 'all', 'true', 'true'),
      ('table_metadata', 'workbench_catalog_writer', 'all', 'true', 'true'),
      ('lineage_edges', 'workbench_catalog_writer', 'all', 'true', 'true'),
      ('tests', 'workbench_catalog_writer', 'all', 'true', 'true'),
      ('test_runs', 'workbench_catalog_writer', 'all', 'true', 'true'),
      ('alerts', 'workbench_catalog_writer', 'all', 'true', 'true'),
      ('job_runs', 'workbench_catalog_writer', 'select', 'true', null),
      ('job_runs', 'workbench_catalog_writer', 'insert', null, 'triggered_by is null'),
      ('llm_requests', 'workbench_usage_recorder', 'select', 'true', null),
      ('llm_requests', 'workbench_usage_recorder', 'insert', null, 'true'),
      ('agent_runs', 'workbench_usage_recorder', 'select', 'true', null),
      ('agents', 'workbench_usage_recorder', 'select', 'true', null),
      ('cost_tracker', 'workbench_usage_recorder', 'select', $c$service = 'llm' and details ->> 'source' = 'litellm'$c$, null),
      ('cost_tracker', 'workbench_usage_recorder', 'insert', null, $c$service = 'llm' and details ->> 'source' = 'litellm'$c$),
      ('cost_tracker', 'workbench_usage_recorder', 'update', $c$service = 'llm' and details ->> 'source' = 'litellm'$c$, $c$service = 'llm' and details ->> 'source' = 'litellm'$c$)
    ) as t(tbl, role, cmd, using_expr, check_expr)
  loop
    v_name := pg_catalog.format('%s: %s', p.role, p.cmd);
    execute pg_catalog.format('drop policy if exists %I on ip_workbench.%I', v_name, p.tbl);
    execute pg_catalog.format(
      'create policy %I on ip_workbench.%I for %s to %I%s%s',
      v_name, p.tbl, p.cmd, p.role,
      case when p.using_expr is not null then ' using (' || p.using_expr || ')' else '' end,
      case when p.check_expr is not null then ' with check (' || p.check_expr || ')' else '' end
    );
  end loop;

  -- the backup reads every row of every table with row level security.
  for p in
    select c.relname::text as tbl from pg_catalog.pg_class as c
    where c.relnamespace = 'ip_workbench'::regnamespace and c.relkind in ('r', 'p') and c.relrowsecurity
  loop
    execute pg_catalog.format('drop policy if exists %I on ip_workbench.%I', 'workbench_backup: select', p.tbl);
    execute pg_catalog.format('create policy %I on ip_workbench.%I for select to workbench_backup using (true)', 'workbench_backup: select', p.tbl);
  end loop;
end
$$;
