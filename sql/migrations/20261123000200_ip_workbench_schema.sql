-- the workbench metadata schema: catalog, pipelines, data quality, lineage, ai assist,
-- sql editor, cost tracking and audit (seed 001's 18 tables with seed 004 section 5's
-- columns), plus user_roles, alerts, prompts and the kpi_summary / dq_scorecards views.
--
-- conventions: uuid keys `default gen_random_uuid()`, `timestamptz` times, check
-- constraints for enumerated text, an index on every foreign-key column and on every column
-- a policy filters on (owner / created_by / user_id / triggered_by / actor). ownership
-- columns default to `auth.uid()` so clients need not send them; the policies in
-- 20261123000400_authorization.sql check them. row level security, grants and policies
-- live in that file; this one only shapes the data.
--
-- idempotent: `if not exists` everywhere, `create or replace` for views, functions and
-- triggers. a column added later belongs in a new migration (`alter table ... add column
-- if not exists`), never in an edit of this file.

create schema if not exists ip_workbench;
comment on schema ip_workbench is 'ai workbench metadata: catalog, pipelines, data quality, lineage, ai assist, sql editor, costs, audit';

-- helpers the api must not expose (postgrest serves ip_workbench, never private).
create schema if not exists private;
comment on schema private is 'security definer helpers and trigger functions; not exposed through the api';

-- updated_at maintenance ---------------------------------------------------------------------
create or replace function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end;
$$;

-- catalog ---------------------------------------------------------------------------------------
create table if not exists ip_workbench.domains (
  id uuid primary key default gen_random_uuid(),
  name text not null unique,
  description text,
  created_at timestamptz not null default now()
);
comment on table ip_workbench.domains is 'business domains (finance, scout_retail, ...) that group tables and pipelines';

create table if not exists ip_workbench.tables (
  id uuid primary key default gen_random_uuid(),
  domain_id uuid references ip_workbench.domains (id) on delete set null,
  schema_name text not null,
  table_name text not null,
  dbt_unique_id text unique,
  resource_type text not null default 'table'
    check (resource_type in ('model', 'seed', 'source', 'snapshot', 'table')),
  layer text check (layer in ('bronze', 'silver', 'gold', 'platinum')),
  description text,
  owner uuid references auth.users (id) on delete set null,
  owner_name text,
  tags text[] not null default '{}',
  meta jsonb not null default '{}',
  row_count bigint check (row_count >= 0),
  size_bytes bigint check (size_bytes >= 0),
  last_updated timestamptz,
  dq_score numeric(5, 2) check (dq_score between 0 and 100),
  slo_freshness_hours int check (slo_freshness_hours > 0),
  slo_completeness_pct numeric(5, 2) check (slo_completeness_pct between 0 and 100),
  is_deleted boolean not null default false,
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (schema_name, table_name)
);
comment on table ip_workbench.tables is 'catalog of warehouse relations, filled from dbt artifacts; rows are soft-deleted (is_deleted) when they leave the project';
comment on column ip_workbench.tables.dbt_unique_id is 'dbt unique_id (model.project.name, source.project.src.name, ...); null for tables dbt does not know';
comment on column ip_workbench.tables.owner_name is 'owner as written in dbt meta (a name or team), kept when it maps to no auth user';
create index if not exists tables_domain_id_idx on ip_workbench.tables (domain_id);
create index if not exists tables_owner_idx on ip_workbench.tables (owner);
create index if not exists tables_layer_idx on ip_workbench.tables (layer);

create table if not exists ip_workbench.table_metadata (
  id uuid primary key default gen_random_uuid(),
  table_id uuid not null references ip_workbench.tables (id) on delete cascade,
  column_name text not null,
  ordinal_position int check (ordinal_position > 0),
  data_type text not null,
  is_nullable boolean not null default true,
  is_primary_key boolean not null default false,
  description text,
  tags text[] not null default '{}',
  -- leads with table_id, so it is also the foreign-key index.
  unique (table_id, column_name)
);
comment on table ip_workbench.table_metadata is 'column-level catalog: one row per column of a catalogued table';

-- pipelines -------------------------------------------------------------------------------------
create table if not exists ip_workbench.pipelines (
  id uuid primary key default gen_random_uuid(),
  name text not null unique,
  description text,
  definition jsonb not null default '{"nodes": [], "edges": []}',
  schedule text,
  owner uuid default auth.uid() references auth.users (id) on delete set null,
  domain text,
  enabled boolean not null default true,
  n8n_webhook_url text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table ip_workbench.pipelines is 'visual pipelines (react flow nodes/edges in definition), triggered through n8n';
comment on column ip_workbench.pipelines.schedule is 'cron expression; null = manual only';
comment on column ip_workbench.pipelines.n8n_webhook_url is 'the n8n integration endpoint; only admins may set it (integration configuration)';
create index if not exists pipelines_owner_idx on ip_workbench.pipelines (owner);

create table if not exists ip_workbench.pipeline_steps (
  id uuid primary key default gen_random_uuid(),
  pipeline_id uuid not null references ip_workbench.pipelines (id) on delete cascade,
  position int not null check (position >= 0),
  name text not null,
  step_type text not null,
  config jsonb not null default '{}',
  -- leads with pipeline_id, so it is also the foreign-key index.
  unique (pipeline_id, position)
);
comment on table ip_workbench.pipeline_steps is 'ordered steps of a pipeline (extract, transform, dbt run, test, ...)';

create table if not exists ip_workbench.jobs (
  id uuid primary key default gen_random_uuid(),
  pipeline_id uuid references ip_workbench.pipelines (id) on delete cascade,
  name text not null,
  job_type text not null,
  config jsonb not null default '{}',
  schedule text,
  enabled boolean not null default true,
  created_at timestamptz not null default now()
);
comment on table ip_workbench.jobs is 'schedulable units of work; a job without a pipeline is a platform job (dbt build, backups, ...)';
create index if not exists jobs_pipeline_id_idx on ip_workbench.jobs (pipeline_id);

create table if not exists ip_workbench.job_runs (
  id uuid primary key default gen_random_uuid(),
  -- runs outlive their pipeline or job: history stays, the reference becomes null.
  pipeline_id uuid references ip_workbench.pipelines (id) on delete set null,
  job_id uuid references ip_workbench.jobs (id) on delete set null,
  status text not null default 'pending' check (status in ('pending', 'running', 'completed', 'failed')),
  triggered_by uuid default auth.uid(),
  stage text,
  invocation_id text,
  started_at timestamptz default now(),
  completed_at timestamptz,
  logs text,
  rows_processed bigint check (rows_processed >= 0),
  error_message text,
  check (completed_at is null or started_at is null or completed_at >= started_at)
);
comment on table ip_workbench.job_runs is 'executions of pipelines and jobs; a retry is a new pending run';
comment on column ip_workbench.job_runs.triggered_by is 'user who started or retried the run (null for schedules)';
comment on column ip_workbench.job_runs.invocation_id is 'dbt invocation_id when the run executed dbt';
create index if not exists job_runs_pipeline_id_idx on ip_workbench.job_runs (pipeline_id);
create index if not exists job_runs_job_id_idx on ip_workbench.job_runs (job_id);
create index if not exists job_runs_triggered_by_idx on ip_workbench.job_runs (triggered_by);
create index if not exists job_runs_started_at_idx on ip_workbench.job_runs (started_at desc);
create index if not exists job_runs_invocation_id_idx on ip_workbench.job_runs (invocation_id);

-- data quality ---------------------------------------------------------------------------------
create table if not exists ip_workbench.tests (
  id uuid primary key default gen_random_uuid(),
  dbt_unique_id text unique,
  table_id uuid references ip_workbench.tables (id) on delete cascade,
  column_name text,
  test_name text not null,
  test_type text not null
    check (test_type in ('completeness', 'uniqueness', 'consistency', 'validity', 'timeliness', 'accuracy', 'other')),
  severity text not null default 'error' check (severity in ('error', 'warn')),
  config jsonb not null default '{}',
  is_deleted boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table ip_workbench.tests is 'data quality test definitions (dbt tests); seed 004 dq_test_results definition columns';
create index if not exists tests_table_id_idx on ip_workbench.tests (table_id);

create table if not exists ip_workbench.test_runs (
  id uuid primary key default gen_random_uuid(),
  test_id uuid not null references ip_workbench.tests (id) on delete cascade,
  job_run_id uuid references ip_workbench.job_runs (id) on delete set null,
  invocation_id text not null,
  status text not null check (status in ('pass', 'fail', 'warn', 'error', 'skipped')),
  passed boolean generated always as (status = 'pass') stored,
  failures bigint check (failures >= 0),
  message text,
  details jsonb,
  executed_at timestamptz not null default now(),
  unique (invocation_id, test_id)
);
comment on table ip_workbench.test_runs is 'data quality test results per dbt invocation; seed 004 dq_test_results result columns';
create index if not exists test_runs_test_id_executed_at_idx on ip_workbench.test_runs (test_id, executed_at desc);
create index if not exists test_runs_job_run_id_idx on ip_workbench.test_runs (job_run_id);

create table if not exists ip_workbench.alerts (
  id uuid primary key default gen_random_uuid(),
  table_id uuid references ip_workbench.tables (id) on delete cascade,
  alert_type text not null,
  severity text not null default 'warning' check (severity in ('info', 'warning', 'critical')),
  message text not null,
  details jsonb not null default '{}',
  created_at timestamptz not null default now(),
  resolved_at timestamptz,
  created_by uuid default auth.uid()
);
comment on table ip_workbench.alerts is 'data quality alerts and their configuration (failed jobs, low dq scores, slo breaches, cost overruns)';
create index if not exists alerts_table_id_idx on ip_workbench.alerts (table_id);
create index if not exists alerts_open_idx on ip_workbench.alerts (created_at desc) where resolved_at is null;

-- lineage ---------------------------------------------------------------------------------------
create table if not exists ip_workbench.lineage_edges (
  id uuid primary key default gen_random_uuid(),
  source_table_id uuid not null references ip_workbench.tables (id) on delete cascade,
  target_table_id uuid not null references ip_workbench.tables (id) on delete cascade,
  edge_type text not null default 'table' check (edge_type in ('table', 'column')),
  source_column text,
  target_column text,
  transformation_sql text,
  created_at timestamptz not null default now(),
  -- a table edge names no columns; a column edge names both.
  check (
    (edge_type = 'table' and source_column is null and target_column is null)
    or (edge_type = 'column' and source_column is not null and target_column is not null)
  ),
  -- one table edge per pair (nulls not distinct), one column edge per column pair; leads
  -- with source_table_id, so it is also that foreign key's index.
  unique nulls not distinct (source_table_id, target_table_id, source_column, target_column)
);
comment on table ip_workbench.lineage_edges is 'table- and column-level lineage (seed 004 "lineage")';
create index if not exists lineage_edges_target_table_id_idx on ip_workbench.lineage_edges (target_table_id);

-- ai assist -------------------------------------------------------------------------------------
create table if not exists ip_workbench.agents (
  id uuid primary key default gen_random_uuid(),
  name text not null unique,
  description text,
  tools jsonb not null default '[]' check (jsonb_typeof(tools) = 'array'),
  model text not null,
  system_prompt text,
  temperature numeric default 0.7 check (temperature between 0 and 2),
  max_tokens int default 4000 check (max_tokens > 0),
  budget_usd numeric default 1.0 check (budget_usd >= 0),
  -- deployment state; not in seed 004, needed to express "deploy agents" in the database.
  status text not null default 'draft' check (status in ('draft', 'deployed', 'disabled')),
  deployed_at timestamptz,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table ip_workbench.agents is 'agent registry: model, tools, prompt and budget per agent';
create index if not exists agents_created_by_idx on ip_workbench.agents (created_by);

create table if not exists ip_workbench.agent_bindings (
  id uuid primary key default gen_random_uuid(),
  agent_id uuid not null references ip_workbench.agents (id) on delete cascade,
  target_type text not null,
  target_id uuid,
  config jsonb not null default '{}',
  created_by uuid default auth.uid(),
  created_at timestamptz not null default now()
);
comment on table ip_workbench.agent_bindings is 'where a deployed agent is attached (a pipeline, a table, a schedule, a chat surface, ...)';
create index if not exists agent_bindings_agent_id_idx on ip_workbench.agent_bindings (agent_id);
create index if not exists agent_bindings_created_by_idx on ip_workbench.agent_bindings (created_by);

create table if not exists ip_workbench.agent_runs (
  id uuid primary key default gen_random_uuid(),
  -- runs outlive a deleted agent (costs and traces stay auditable).
  agent_id uuid references ip_workbench.agents (id) on delete set null,
  status text not null default 'pending' check (status in ('pending', 'running', 'completed', 'failed')),
  input_prompt text not null,
  output text,
  tokens_used int check (tokens_used >= 0),
  cost_usd numeric check (cost_usd >= 0),
  model text,
  trace_url text,
  triggered_by uuid default auth.uid(),
  started_at timestamptz default now(),
  completed_at timestamptz,
  error_message text
);
comment on table ip_workbench.agent_runs is 'agent and genie (nl2sql) executions';
create index if not exists agent_runs_agent_id_idx on ip_workbench.agent_runs (agent_id);
create index if not exists agent_runs_triggered_by_idx on ip_workbench.agent_runs (triggered_by);
create index if not exists agent_runs_started_at_idx on ip_workbench.agent_runs (started_at desc);

create table if not exists ip_workbench.llm_requests (
  id uuid primary key default gen_random_uuid(),
  agent_run_id uuid references ip_workbench.agent_runs (id) on delete set null,
  request_id text unique,
  user_id uuid default auth.uid(),
  model text not null,
  status text not null default 'success' check (status in ('success', 'error')),
  prompt_tokens int not null default 0 check (prompt_tokens >= 0),
  completion_tokens int not null default 0 check (completion_tokens >= 0),
  cost_usd numeric not null default 0 check (cost_usd >= 0),
  latency_ms int not null default 0 check (latency_ms >= 0),
  created_at timestamptz not null default now()
);
comment on table ip_workbench.llm_requests is 'one row per llm call through litellm (tokens, cost, latency); the data langfuse traces';
comment on column ip_workbench.llm_requests.request_id is 'litellm / provider request id, for idempotent ingestion';
create index if not exists llm_requests_agent_run_id_idx on ip_workbench.llm_requests (agent_run_id);
create index if not exists llm_requests_user_id_idx on ip_workbench.llm_requests (user_id);
create index if not exists llm_requests_created_at_idx on ip_workbench.llm_requests (created_at desc);

create table if not exists ip_workbench.prompts (
  id uuid primary key default gen_random_uuid(),
  name text not null unique,
  template text not null,
  owner uuid default auth.uid(),
  version int not null default 1 check (version > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table ip_workbench.prompts is 'reusable prompt templates for agents and genie';
create index if not exists prompts_owner_idx on ip_workbench.prompts (owner);

-- sql editor ------------------------------------------------------------------------------------
create table if not exists ip_workbench.sql_snippets (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  description text,
  sql text not null,
  owner uuid not null default auth.uid() references auth.users (id) on delete cascade,
  tags text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table ip_workbench.sql_snippets is 'saved sql editor snippets, private to their owner';
create index if not exists sql_snippets_owner_idx on ip_workbench.sql_snippets (owner);

create table if not exists ip_workbench.query_history (
  id uuid primary key default gen_random_uuid(),
  user_id uuid references auth.users (id) on delete cascade,
  sql text not null,
  rows_returned int check (rows_returned >= 0),
  execution_time_ms int check (execution_time_ms >= 0),
  status text not null default 'success' check (status in ('success', 'error')),
  error_message text,
  role text,
  executed_at timestamptz not null default now()
);
comment on table ip_workbench.query_history is 'every ip_workbench.execute_sql call, written only by private.log_query';
comment on column ip_workbench.query_history.role is 'the caller''s app role (viewer, engineer, admin, service), or its database role when it has none (service_role)';
create index if not exists query_history_user_id_executed_at_idx on ip_workbench.query_history (user_id, executed_at desc);

-- cost tracking and audit ------------------------------------------------------------------------
create table if not exists ip_workbench.cost_tracker (
  id uuid primary key default gen_random_uuid(),
  service text not null check (service in ('llm', 'pipeline', 'storage', 'compute')),
  resource_id uuid,
  cost_usd numeric not null check (cost_usd >= 0),
  period date,
  details jsonb not null default '{}',
  recorded_at timestamptz not null default now()
);
comment on table ip_workbench.cost_tracker is 'cost records per service; resource_id points at the costing entity (agent run, pipeline, ...)';
comment on column ip_workbench.cost_tracker.period is 'billing day or month the cost belongs to, when it is not the recording day';
create index if not exists cost_tracker_recorded_at_idx on ip_workbench.cost_tracker (recorded_at desc);

create table if not exists ip_workbench.activity_log (
  id uuid primary key default gen_random_uuid(),
  actor uuid default auth.uid(),
  action text not null,
  entity_type text,
  entity_id uuid,
  details jsonb not null default '{}',
  created_at timestamptz not null default now()
);
comment on table ip_workbench.activity_log is 'append-only audit log';
create index if not exists activity_log_actor_idx on ip_workbench.activity_log (actor);
create index if not exists activity_log_created_at_idx on ip_workbench.activity_log (created_at desc);
create index if not exists activity_log_entity_idx on ip_workbench.activity_log (entity_type, entity_id);

-- roles -----------------------------------------------------------------------------------------
create table if not exists ip_workbench.user_roles (
  user_id uuid primary key references auth.users (id) on delete cascade,
  role text not null check (role in ('viewer', 'engineer', 'admin', 'service')),
  granted_at timestamptz not null default now(),
  granted_by uuid default auth.uid()
);
comment on table ip_workbench.user_roles is 'app role per user; the source of truth for authorization (see private.get_user_role)';

-- updated_at triggers ------------------------------------------------------------------------
do $$
declare
  v_table text;
begin
  foreach v_table in array array['tables', 'pipelines', 'tests', 'agents', 'prompts', 'sql_snippets'] loop
    execute format(
      'create or replace trigger set_updated_at before update on ip_workbench.%I
         for each row execute function private.set_updated_at()',
      v_table
    );
  end loop;
end
$$;

-- views -----------------------------------------------------------------------------------------
-- security_invoker: the caller's row level security applies to the underlying tables, so
-- each role sees the figures of the rows it may read (a viewer's llm cost is 0: llm
-- requests are admin-only).
create or replace view ip_workbench.kpi_summary
with (security_invoker = true)
as
select
  (select count(*) from ip_workbench.tables as t where not t.is_deleted) as tables_count,
  (select count(*) from ip_workbench.pipelines) as pipelines_count,
  (select count(*) from ip_workbench.agents) as agents_count,
  (
    select count(*)
    from ip_workbench.job_runs as jr
    where jr.status = 'failed' and jr.started_at >= now() - interval '24 hours'
  ) as failed_job_runs_24h,
  (
    select round(avg(t.dq_score), 2)
    from ip_workbench.tables as t
    where not t.is_deleted
  ) as avg_dq_score,
  (select count(*) from ip_workbench.alerts as a where a.resolved_at is null) as open_alerts,
  (
    select coalesce(sum(lr.cost_usd), 0)
    from ip_workbench.llm_requests as lr
    where lr.created_at >= now() - interval '30 days'
  ) as llm_cost_usd_30d,
  now() as computed_at;
comment on view ip_workbench.kpi_summary is 'home page headline figures, one row, filtered by the caller''s row level security';

-- per table and per layer scores from each test's latest run. dq_score = share of passing
-- tests among those that ran (skipped excluded); warn counts as not passing.
create or replace view ip_workbench.dq_scorecards
with (security_invoker = true)
as
with

latest_runs as (
  select distinct on (tr.test_id)
    tr.test_id,
    tr.status,
    tr.executed_at
  from ip_workbench.test_runs as tr
  order by tr.test_id, tr.executed_at desc, tr.id
),

table_results as (
  select
    t.id as table_id,
    t.layer,
    t.schema_name,
    t.table_name,
    lr.status,
    lr.executed_at
  from ip_workbench.tables as t
  inner join ip_workbench.tests as te on te.table_id = t.id and not te.is_deleted
  inner join latest_runs as lr on lr.test_id = te.id
  where not t.is_deleted
),

final as (
  select
    case when grouping(tr.table_id) = 1 then 'layer' else 'table' end as scope,
    tr.layer,
    tr.table_id,
    tr.schema_name,
    tr.table_name,
    count(*) as tests_total,
    count(*) filter (where tr.status = 'pass') as pass_count,
    count(*) filter (where tr.status = 'warn') as warn_count,
    count(*) filter (where tr.status in ('fail', 'error')) as fail_count,
    count(*) filter (where tr.status = 'skipped') as skipped_count,
    round(
      100.0 * count(*) filter (where tr.status = 'pass')
      / nullif(count(*) filter (where tr.status <> 'skipped'), 0),
      2
    ) as dq_score,
    max(tr.executed_at) as last_executed_at
  from table_results as tr
  group by grouping sets ((tr.layer), (tr.layer, tr.table_id, tr.schema_name, tr.table_name))
)

select * from final;
comment on view ip_workbench.dq_scorecards is 'data quality scorecards per layer (scope = layer) and per table (scope = table) from the latest run of each test';
