-- seed 004 section 6, the permissions matrix: every feature (24) for viewer, engineer,
-- admin, service and anonymous. the mapping of features to tables and operations is in
-- sql/MATRIX.md. each cell's assertions share one description,
--   'matrix: <feature> / <identity> / <allowed|denied>',
-- which the test driver counts. allowed = the operation succeeds (lives_ok / rows seen /
-- rows changed); denied = 42501, or no rows seen or changed.
--
-- identities: the app users below exist in auth.users with a row in user_roles (inserted as
-- the superuser); each block does `set local role authenticated` + `set local
-- request.jwt.claims`. anonymous = role anon with an anon claim.
--
-- fixture ids (literal because psql variables do not reach inside quoted test sql):
--   users     a0..01 viewer, a0..02 engineer, a0..03 engineer2, a0..04 admin, a0..05 service,
--             a0..06 newbie (no role), a0..07 jwt-only engineer, a0..08 user_metadata "admin"
--   tables    b0..01 gold.finance_expenses, b0..02 silver.expenses
--   pipelines c0..01 engineer's, c0..02 engineer2's, c0..03 to be deleted by the admin
--   jobs d0..01, job run d1..01, test e0..01, alert e1..01, lineage edge f0..01
--   agents    90..01 engineer's, 90..02 engineer2's, 90..03 to be deleted; agent run 91..01
begin;
create extension if not exists pgtap;

select plan(198);

-- execute_sql needs an armed statement_timeout of at most 30 s.
set local statement_timeout = '30s';

-- rows changed by a dml statement (0 when rls hides every row).
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

-- fixtures: sql/tests/fixtures/02_permissions_matrix.sql (loaded and committed by a superuser first).

-- viewer -----------------------------------------------------------------------------------------
set local role authenticated;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000001", "role": "authenticated"}';
set local request.jwt.claim.sub = 'a0000000-0000-4000-8000-000000000001';

select isnt_empty('select * from ip_workbench.tables', 'matrix: View Catalog / viewer / allowed');
select isnt_empty('select * from ip_workbench.table_metadata', 'matrix: View Catalog / viewer / allowed');
select isnt_empty('select * from ip_workbench.domains', 'matrix: View Catalog / viewer / allowed');
select is(ip_workbench.execute_sql('select count(*)::int as n from ip_workbench.tables') #>> '{rows,0,n}', '2', 'matrix: Run SQL Queries / viewer / allowed');
select lives_ok($$insert into ip_workbench.sql_snippets (name, sql) values ('viewer snippet', 'select 1')$$, 'matrix: Save SQL Snippets / viewer / allowed');
select is(pg_temp.affected($$update ip_workbench.sql_snippets set sql = 'select 11' where name = 'viewer snippet'$$), 1::bigint, 'matrix: Save SQL Snippets / viewer / allowed');
select isnt_empty('select * from ip_workbench.pipelines', 'matrix: View Pipelines / viewer / allowed');
select throws_ok($$insert into ip_workbench.pipelines (name) values ('viewer pipeline')$$, '42501', null, 'matrix: Create Pipelines / viewer / denied');
select is(pg_temp.affected($$update ip_workbench.pipelines set description = 'x' where id = 'c0000000-0000-4000-8000-000000000001'$$), 0::bigint, 'matrix: Edit Pipelines / viewer / denied');
select is(pg_temp.affected($$delete from ip_workbench.pipelines where id = 'c0000000-0000-4000-8000-000000000003'$$), 0::bigint, 'matrix: Delete Pipelines / viewer / denied');
select is(pg_temp.affected($$update ip_workbench.pipelines set schedule = '0 * * * *' where id = 'c0000000-0000-4000-8000-000000000001'$$), 0::bigint, 'matrix: Schedule Pipelines / viewer / denied');
select throws_ok($$insert into ip_workbench.jobs (pipeline_id, name, job_type, schedule) values ('c0000000-0000-4000-8000-000000000001', 'hourly', 'n8n', '0 * * * *')$$, '42501', null, 'matrix: Schedule Pipelines / viewer / denied');
select isnt_empty('select logs from ip_workbench.job_runs where logs is not null', 'matrix: View Job Logs / viewer / allowed');
select throws_ok($$insert into ip_workbench.job_runs (pipeline_id, job_id, status) values ('c0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001', 'pending')$$, '42501', null, 'matrix: Retry Failed Jobs / viewer / denied');
select isnt_empty('select * from ip_workbench.tests', 'matrix: View Data Quality / viewer / allowed');
select isnt_empty('select * from ip_workbench.test_runs', 'matrix: View Data Quality / viewer / allowed');
select isnt_empty('select * from ip_workbench.alerts', 'matrix: View Data Quality / viewer / allowed');
select isnt_empty('select * from ip_workbench.dq_scorecards', 'matrix: View Data Quality / viewer / allowed');
select throws_ok($$insert into ip_workbench.alerts (alert_type, message) values ('freshness', 'stale')$$, '42501', null, 'matrix: Configure DQ Alerts / viewer / denied');
select is(pg_temp.affected($$update ip_workbench.alerts set resolved_at = now() where id = 'e1000000-0000-4000-8000-000000000001'$$), 0::bigint, 'matrix: Configure DQ Alerts / viewer / denied');
select isnt_empty('select * from ip_workbench.lineage_edges', 'matrix: View Lineage / viewer / allowed');
select throws_ok($$insert into ip_workbench.lineage_edges (source_table_id, target_table_id) values ('b0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000002')$$, '42501', null, 'matrix: Edit Lineage / viewer / denied');
select is(pg_temp.affected($$update ip_workbench.lineage_edges set transformation_sql = 'select 1' where id = 'f0000000-0000-4000-8000-000000000001'$$), 0::bigint, 'matrix: Edit Lineage / viewer / denied');
select throws_ok($$insert into ip_workbench.agent_runs (agent_id, input_prompt) values ('90000000-0000-4000-8000-000000000001', 'top vendors?')$$, '42501', null, 'matrix: Use AI Assist (Genie) / viewer / denied');
select throws_ok($$insert into ip_workbench.llm_requests (model, prompt_tokens, completion_tokens, cost_usd, latency_ms) values ('claude-sonnet-4.5', 1, 1, 0, 1)$$, '42501', null, 'matrix: Use AI Assist (Genie) / viewer / denied');
select throws_ok($$insert into ip_workbench.agents (name, model) values ('viewer agent', 'claude-sonnet-4.5')$$, '42501', null, 'matrix: Create Agents / viewer / denied');
select is(pg_temp.affected($$update ip_workbench.agents set status = 'deployed' where id = '90000000-0000-4000-8000-000000000001'$$), 0::bigint, 'matrix: Deploy Agents / viewer / denied');
select throws_ok($$insert into ip_workbench.agent_bindings (agent_id, target_type, target_id) values ('90000000-0000-4000-8000-000000000001', 'pipeline', 'c0000000-0000-4000-8000-000000000001')$$, '42501', null, 'matrix: Deploy Agents / viewer / denied');
select is(pg_temp.affected($$delete from ip_workbench.agents where id = '90000000-0000-4000-8000-000000000003'$$), 0::bigint, 'matrix: Delete Agents / viewer / denied');
select is_empty('select * from ip_workbench.agent_runs', 'matrix: View Agent Runs / viewer / denied');
select is_empty('select * from ip_workbench.llm_requests', 'matrix: Access Langfuse / viewer / denied');
select throws_ok($$insert into ip_workbench.user_roles (user_id, role) values ('a0000000-0000-4000-8000-000000000006', 'viewer')$$, '42501', null, 'matrix: Manage Users / viewer / denied');
select is(pg_temp.affected($$update ip_workbench.user_roles set role = 'admin' where user_id = 'a0000000-0000-4000-8000-000000000001'$$), 0::bigint, 'matrix: Manage Users / viewer / denied');
select is_empty('select * from ip_workbench.cost_tracker', 'matrix: View Cost Tracking / viewer / denied');
select is(pg_temp.affected($$update ip_workbench.pipelines set n8n_webhook_url = 'https://n8n.example.test/webhook/v' where id = 'c0000000-0000-4000-8000-000000000001'$$), 0::bigint, 'matrix: Configure Integrations / viewer / denied');
select is_empty('select * from ip_workbench.activity_log', 'matrix: View Audit Logs / viewer / denied');

-- beyond the matrix, still as the viewer
select results_eq('select name from ip_workbench.sql_snippets', $$values ('viewer snippet')$$, 'a viewer sees only their own snippets');
select is_empty('select * from ip_workbench.query_history where user_id <> auth.uid()', 'a viewer sees no one else''s query history');
select results_eq('select role from ip_workbench.user_roles', $$values ('viewer')$$, 'a user reads their own role and no other');
select results_eq(
  'select tables_count::int, llm_cost_usd_30d from ip_workbench.kpi_summary',
  $$values (2, 0::numeric)$$,
  'kpi_summary is one row under the viewer''s rls (llm costs are admin-only, so 0)'
);

-- engineer ---------------------------------------------------------------------------------------
reset role;
set local role authenticated;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000002", "role": "authenticated"}';
set local request.jwt.claim.sub = 'a0000000-0000-4000-8000-000000000002';

select isnt_empty('select * from ip_workbench.tables', 'matrix: View Catalog / engineer / allowed');
select isnt_empty('select * from ip_workbench.table_metadata', 'matrix: View Catalog / engineer / allowed');
select isnt_empty('select * from ip_workbench.domains', 'matrix: View Catalog / engineer / allowed');
select is(ip_workbench.execute_sql('select count(*)::int as n from ip_workbench.tables') #>> '{rows,0,n}', '2', 'matrix: Run SQL Queries / engineer / allowed');
select lives_ok($$insert into ip_workbench.sql_snippets (name, sql) values ('engineer snippet', 'select 1')$$, 'matrix: Save SQL Snippets / engineer / allowed');
select isnt_empty('select * from ip_workbench.pipelines', 'matrix: View Pipelines / engineer / allowed');
select lives_ok($$insert into ip_workbench.pipelines (id, name) values ('c0000000-0000-4000-8000-000000000011', 'engineer new pipeline')$$, 'matrix: Create Pipelines / engineer / allowed');
select lives_ok($$insert into ip_workbench.pipeline_steps (pipeline_id, position, name, step_type) values ('c0000000-0000-4000-8000-000000000011', 0, 'extract', 'source')$$, 'matrix: Create Pipelines / engineer / allowed');
select is(pg_temp.affected($$update ip_workbench.pipelines set description = 'x' where id = 'c0000000-0000-4000-8000-000000000001'$$), 1::bigint, 'matrix: Edit Pipelines / engineer / allowed');
select is(pg_temp.affected($$delete from ip_workbench.pipelines where id = 'c0000000-0000-4000-8000-000000000003'$$), 0::bigint, 'matrix: Delete Pipelines / engineer / denied');
select is(pg_temp.affected($$update ip_workbench.pipelines set schedule = '0 * * * *' where id = 'c0000000-0000-4000-8000-000000000001'$$), 1::bigint, 'matrix: Schedule Pipelines / engineer / allowed');
select lives_ok($$insert into ip_workbench.jobs (pipeline_id, name, job_type, schedule) values ('c0000000-0000-4000-8000-000000000001', 'hourly', 'n8n', '0 * * * *')$$, 'matrix: Schedule Pipelines / engineer / allowed');
select isnt_empty('select logs from ip_workbench.job_runs where logs is not null', 'matrix: View Job Logs / engineer / allowed');
select lives_ok($$insert into ip_workbench.job_runs (pipeline_id, job_id, status) values ('c0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001', 'pending')$$, 'matrix: Retry Failed Jobs / engineer / allowed');
select isnt_empty('select * from ip_workbench.tests', 'matrix: View Data Quality / engineer / allowed');
select isnt_empty('select * from ip_workbench.test_runs', 'matrix: View Data Quality / engineer / allowed');
select isnt_empty('select * from ip_workbench.alerts', 'matrix: View Data Quality / engineer / allowed');
select isnt_empty('select * from ip_workbench.dq_scorecards', 'matrix: View Data Quality / engineer / allowed');
select throws_ok($$insert into ip_workbench.alerts (alert_type, message) values ('freshness', 'stale')$$, '42501', null, 'matrix: Configure DQ Alerts / engineer / denied');
select is(pg_temp.affected($$update ip_workbench.alerts set resolved_at = now() where id = 'e1000000-0000-4000-8000-000000000001'$$), 0::bigint, 'matrix: Configure DQ Alerts / engineer / denied');
select isnt_empty('select * from ip_workbench.lineage_edges', 'matrix: View Lineage / engineer / allowed');
select lives_ok($$insert into ip_workbench.lineage_edges (source_table_id, target_table_id) values ('b0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000002')$$, 'matrix: Edit Lineage / engineer / allowed');
select is(pg_temp.affected($$update ip_workbench.lineage_edges set transformation_sql = 'select 1' where id = 'f0000000-0000-4000-8000-000000000001'$$), 1::bigint, 'matrix: Edit Lineage / engineer / allowed');
select lives_ok($$insert into ip_workbench.agent_runs (agent_id, input_prompt) values ('90000000-0000-4000-8000-000000000001', 'top vendors?')$$, 'matrix: Use AI Assist (Genie) / engineer / allowed');
select lives_ok($$insert into ip_workbench.llm_requests (model, prompt_tokens, completion_tokens, latency_ms) values ('claude-sonnet-4.5', 45, 32, 800)$$, 'matrix: Use AI Assist (Genie) / engineer / allowed');
select throws_ok($$insert into ip_workbench.llm_requests (model, cost_usd) values ('claude-sonnet-4.5', 100000)$$, '42501', null, 'an engineer cannot set the cost of an llm request (the usage recorder does)');
select throws_ok($$insert into ip_workbench.job_runs (pipeline_id, status, completed_at, logs) values ('c0000000-0000-4000-8000-000000000002', 'completed', now(), 'fake')$$, '42501', null, 'an engineer''s retry is a pending run without an outcome');
select lives_ok($$insert into ip_workbench.agents (name, model) values ('engineer new agent', 'claude-sonnet-4.5')$$, 'matrix: Create Agents / engineer / allowed');
select is(pg_temp.affected($$update ip_workbench.agents set status = 'deployed', deployed_at = now() where id = '90000000-0000-4000-8000-000000000001'$$), 1::bigint, 'matrix: Deploy Agents / engineer / allowed');
select lives_ok($$insert into ip_workbench.agent_bindings (agent_id, target_type, target_id) values ('90000000-0000-4000-8000-000000000001', 'pipeline', 'c0000000-0000-4000-8000-000000000001')$$, 'matrix: Deploy Agents / engineer / allowed');
select is(pg_temp.affected($$delete from ip_workbench.agents where id = '90000000-0000-4000-8000-000000000003'$$), 0::bigint, 'matrix: Delete Agents / engineer / denied');
select isnt_empty('select * from ip_workbench.agent_runs', 'matrix: View Agent Runs / engineer / allowed');
select is_empty('select * from ip_workbench.llm_requests', 'matrix: Access Langfuse / engineer / denied');
select throws_ok($$insert into ip_workbench.user_roles (user_id, role) values ('a0000000-0000-4000-8000-000000000006', 'viewer')$$, '42501', null, 'matrix: Manage Users / engineer / denied');
select is(pg_temp.affected($$update ip_workbench.user_roles set role = 'admin' where user_id = 'a0000000-0000-4000-8000-000000000002'$$), 0::bigint, 'matrix: Manage Users / engineer / denied');
select is_empty('select * from ip_workbench.cost_tracker', 'matrix: View Cost Tracking / engineer / denied');
select throws_ok($$update ip_workbench.pipelines set n8n_webhook_url = 'https://n8n.example.test/webhook/e' where id = 'c0000000-0000-4000-8000-000000000001'$$, '42501', null, 'matrix: Configure Integrations / engineer / denied');
select is_empty('select * from ip_workbench.activity_log', 'matrix: View Audit Logs / engineer / denied');

-- ownership, beyond the matrix
select is(pg_temp.affected($$update ip_workbench.pipelines set description = 'x' where id = 'c0000000-0000-4000-8000-000000000002'$$), 0::bigint, 'an engineer cannot edit another engineer''s pipeline');
select throws_ok($$insert into ip_workbench.pipelines (name, owner) values ('planted pipeline', 'a0000000-0000-4000-8000-000000000003')$$, '42501', null, 'an engineer cannot create a pipeline owned by someone else');
select throws_ok($$update ip_workbench.pipelines set owner = 'a0000000-0000-4000-8000-000000000003' where id = 'c0000000-0000-4000-8000-000000000001'$$, '42501', null, 'an engineer cannot give a pipeline away');
select throws_ok($$insert into ip_workbench.pipeline_steps (pipeline_id, position, name, step_type) values ('c0000000-0000-4000-8000-000000000002', 1, 'load', 'sink')$$, '42501', null, 'an engineer cannot add steps to another engineer''s pipeline');
select throws_ok($$insert into ip_workbench.job_runs (pipeline_id, status, triggered_by) values ('c0000000-0000-4000-8000-000000000001', 'pending', 'a0000000-0000-4000-8000-000000000003')$$, '42501', null, 'an engineer starts runs only as themselves');
select is(pg_temp.affected($$update ip_workbench.agents set status = 'deployed' where id = '90000000-0000-4000-8000-000000000002'$$), 0::bigint, 'an engineer cannot deploy another engineer''s agent');
select results_eq('select name from ip_workbench.sql_snippets order by name', $$values ('engineer snippet')$$, 'an engineer does not see other users'' snippets');

-- service ----------------------------------------------------------------------------------------
reset role;
set local role authenticated;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000005", "role": "authenticated"}';
set local request.jwt.claim.sub = 'a0000000-0000-4000-8000-000000000005';

select isnt_empty('select * from ip_workbench.tables', 'matrix: View Catalog / service / allowed');
select isnt_empty('select * from ip_workbench.table_metadata', 'matrix: View Catalog / service / allowed');
select isnt_empty('select * from ip_workbench.domains', 'matrix: View Catalog / service / allowed');
select is(ip_workbench.execute_sql('select count(*)::int as n from ip_workbench.tables') #>> '{rows,0,n}', '2', 'matrix: Run SQL Queries / service / allowed');
select throws_ok($$insert into ip_workbench.sql_snippets (name, sql) values ('service snippet', 'select 1')$$, '42501', null, 'matrix: Save SQL Snippets / service / denied');
select isnt_empty('select * from ip_workbench.pipelines', 'matrix: View Pipelines / service / allowed');
select lives_ok($$insert into ip_workbench.pipelines (id, name) values ('c0000000-0000-4000-8000-000000000012', 'service new pipeline')$$, 'matrix: Create Pipelines / service / allowed');
select throws_ok($$insert into ip_workbench.pipelines (name, owner) values ('planted', 'a0000000-0000-4000-8000-000000000004')$$, '42501', null, 'service cannot create a pipeline owned by an admin (automation would run it as the admin)');
select throws_ok($$insert into ip_workbench.activity_log (actor, action) values ('a0000000-0000-4000-8000-000000000004', 'forged')$$, '42501', null, 'service writes audit entries only as itself');
select lives_ok($$insert into ip_workbench.pipeline_steps (pipeline_id, position, name, step_type) values ('c0000000-0000-4000-8000-000000000012', 0, 'extract', 'source')$$, 'matrix: Create Pipelines / service / allowed');
select is(pg_temp.affected($$update ip_workbench.pipelines set description = 'synced' where id = 'c0000000-0000-4000-8000-000000000001'$$), 1::bigint, 'matrix: Edit Pipelines / service / allowed');
select is(pg_temp.affected($$delete from ip_workbench.pipelines where id = 'c0000000-0000-4000-8000-000000000003'$$), 0::bigint, 'matrix: Delete Pipelines / service / denied');
select is(pg_temp.affected($$update ip_workbench.pipelines set schedule = '*/5 * * * *' where id = 'c0000000-0000-4000-8000-000000000002'$$), 1::bigint, 'matrix: Schedule Pipelines / service / allowed');
select lives_ok($$insert into ip_workbench.jobs (pipeline_id, name, job_type, schedule) values ('c0000000-0000-4000-8000-000000000002', 'every 5 minutes', 'n8n', '*/5 * * * *')$$, 'matrix: Schedule Pipelines / service / allowed');
select isnt_empty('select logs from ip_workbench.job_runs where logs is not null', 'matrix: View Job Logs / service / allowed');
select lives_ok($$insert into ip_workbench.job_runs (pipeline_id, job_id, status) values ('c0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001', 'pending')$$, 'matrix: Retry Failed Jobs / service / allowed');
select isnt_empty('select * from ip_workbench.tests', 'matrix: View Data Quality / service / allowed');
select isnt_empty('select * from ip_workbench.test_runs', 'matrix: View Data Quality / service / allowed');
select isnt_empty('select * from ip_workbench.alerts', 'matrix: View Data Quality / service / allowed');
select isnt_empty('select * from ip_workbench.dq_scorecards', 'matrix: View Data Quality / service / allowed');
select throws_ok($$insert into ip_workbench.alerts (alert_type, message) values ('freshness', 'stale')$$, '42501', null, 'matrix: Configure DQ Alerts / service / denied');
select is(pg_temp.affected($$update ip_workbench.alerts set resolved_at = now() where id = 'e1000000-0000-4000-8000-000000000001'$$), 0::bigint, 'matrix: Configure DQ Alerts / service / denied');
select isnt_empty('select * from ip_workbench.lineage_edges', 'matrix: View Lineage / service / allowed');
select throws_ok($$insert into ip_workbench.lineage_edges (source_table_id, target_table_id, edge_type, source_column, target_column) values ('b0000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-000000000001', 'column', 'amt', 'amount')$$, '42501', null, 'matrix: Edit Lineage / service / denied');
select is(pg_temp.affected($$update ip_workbench.lineage_edges set transformation_sql = 'select 2' where id = 'f0000000-0000-4000-8000-000000000001'$$), 0::bigint, 'matrix: Edit Lineage / service / denied');
select lives_ok($$insert into ip_workbench.agent_runs (agent_id, input_prompt) values ('90000000-0000-4000-8000-000000000001', 'daily summary')$$, 'matrix: Use AI Assist (Genie) / service / allowed');
select lives_ok($$insert into ip_workbench.llm_requests (model, prompt_tokens, completion_tokens, cost_usd, latency_ms, user_id) values ('claude-sonnet-4.5', 10, 10, 0.0005, 400, 'a0000000-0000-4000-8000-000000000002')$$, 'matrix: Use AI Assist (Genie) / service / allowed');
select lives_ok($$insert into ip_workbench.agents (name, model) values ('service new agent', 'claude-sonnet-4.5')$$, 'matrix: Create Agents / service / allowed');
select is(pg_temp.affected($$update ip_workbench.agents set status = 'deployed', deployed_at = now() where id = '90000000-0000-4000-8000-000000000002'$$), 1::bigint, 'matrix: Deploy Agents / service / allowed');
select lives_ok($$insert into ip_workbench.agent_bindings (agent_id, target_type, target_id) values ('90000000-0000-4000-8000-000000000002', 'pipeline', 'c0000000-0000-4000-8000-000000000002')$$, 'matrix: Deploy Agents / service / allowed');
select is(pg_temp.affected($$delete from ip_workbench.agents where id = '90000000-0000-4000-8000-000000000003'$$), 0::bigint, 'matrix: Delete Agents / service / denied');
select isnt_empty('select * from ip_workbench.agent_runs', 'matrix: View Agent Runs / service / allowed');
select is_empty('select * from ip_workbench.llm_requests', 'matrix: Access Langfuse / service / denied');
select throws_ok($$insert into ip_workbench.user_roles (user_id, role) values ('a0000000-0000-4000-8000-000000000006', 'viewer')$$, '42501', null, 'matrix: Manage Users / service / denied');
select is(pg_temp.affected($$update ip_workbench.user_roles set role = 'admin' where user_id = 'a0000000-0000-4000-8000-000000000005'$$), 0::bigint, 'matrix: Manage Users / service / denied');
select is_empty('select * from ip_workbench.cost_tracker', 'matrix: View Cost Tracking / service / denied');
select throws_ok($$update ip_workbench.pipelines set n8n_webhook_url = 'https://n8n.example.test/webhook/s' where id = 'c0000000-0000-4000-8000-000000000001'$$, '42501', null, 'matrix: Configure Integrations / service / denied');
select isnt_empty('select * from ip_workbench.activity_log', 'matrix: View Audit Logs / service / allowed');

-- anonymous --------------------------------------------------------------------------------------
reset role;
set local role anon;
set local request.jwt.claims = '{"role": "anon"}';
set local request.jwt.claim.sub = '';

select throws_ok('select * from ip_workbench.tables', '42501', null, 'matrix: View Catalog / anonymous / denied');
select throws_ok('select * from ip_workbench.domains', '42501', null, 'matrix: View Catalog / anonymous / denied');
select throws_ok($$select ip_workbench.execute_sql('select 1')$$, '42501', null, 'matrix: Run SQL Queries / anonymous / denied');
select throws_ok($$insert into ip_workbench.sql_snippets (name, sql) values ('anon snippet', 'select 1')$$, '42501', null, 'matrix: Save SQL Snippets / anonymous / denied');
select throws_ok('select * from ip_workbench.pipelines', '42501', null, 'matrix: View Pipelines / anonymous / denied');
select throws_ok($$insert into ip_workbench.pipelines (name) values ('anon pipeline')$$, '42501', null, 'matrix: Create Pipelines / anonymous / denied');
select throws_ok($$update ip_workbench.pipelines set description = 'x'$$, '42501', null, 'matrix: Edit Pipelines / anonymous / denied');
select throws_ok('delete from ip_workbench.pipelines', '42501', null, 'matrix: Delete Pipelines / anonymous / denied');
select throws_ok($$update ip_workbench.pipelines set schedule = '0 * * * *'$$, '42501', null, 'matrix: Schedule Pipelines / anonymous / denied');
select throws_ok('select logs from ip_workbench.job_runs', '42501', null, 'matrix: View Job Logs / anonymous / denied');
select throws_ok($$insert into ip_workbench.job_runs (status) values ('pending')$$, '42501', null, 'matrix: Retry Failed Jobs / anonymous / denied');
select throws_ok('select * from ip_workbench.test_runs', '42501', null, 'matrix: View Data Quality / anonymous / denied');
select throws_ok('select * from ip_workbench.dq_scorecards', '42501', null, 'matrix: View Data Quality / anonymous / denied');
select throws_ok($$insert into ip_workbench.alerts (alert_type, message) values ('freshness', 'stale')$$, '42501', null, 'matrix: Configure DQ Alerts / anonymous / denied');
select throws_ok('select * from ip_workbench.lineage_edges', '42501', null, 'matrix: View Lineage / anonymous / denied');
select throws_ok($$update ip_workbench.lineage_edges set transformation_sql = 'x'$$, '42501', null, 'matrix: Edit Lineage / anonymous / denied');
select throws_ok($$insert into ip_workbench.agent_runs (input_prompt) values ('hi')$$, '42501', null, 'matrix: Use AI Assist (Genie) / anonymous / denied');
select throws_ok($$insert into ip_workbench.agents (name, model) values ('anon agent', 'x')$$, '42501', null, 'matrix: Create Agents / anonymous / denied');
select throws_ok($$update ip_workbench.agents set status = 'deployed'$$, '42501', null, 'matrix: Deploy Agents / anonymous / denied');
select throws_ok('delete from ip_workbench.agents', '42501', null, 'matrix: Delete Agents / anonymous / denied');
select throws_ok('select * from ip_workbench.agent_runs', '42501', null, 'matrix: View Agent Runs / anonymous / denied');
select throws_ok('select * from ip_workbench.llm_requests', '42501', null, 'matrix: Access Langfuse / anonymous / denied');
select throws_ok($$insert into ip_workbench.user_roles (user_id, role) values ('a0000000-0000-4000-8000-000000000006', 'admin')$$, '42501', null, 'matrix: Manage Users / anonymous / denied');
select throws_ok('select * from ip_workbench.cost_tracker', '42501', null, 'matrix: View Cost Tracking / anonymous / denied');
select throws_ok($$update ip_workbench.pipelines set n8n_webhook_url = 'https://n8n.example.test/webhook/a'$$, '42501', null, 'matrix: Configure Integrations / anonymous / denied');
select throws_ok('select * from ip_workbench.activity_log', '42501', null, 'matrix: View Audit Logs / anonymous / denied');

-- admin (last: it deletes fixtures) ----------------------------------------------------------------
reset role;
set local role authenticated;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000004", "role": "authenticated"}';
set local request.jwt.claim.sub = 'a0000000-0000-4000-8000-000000000004';

select isnt_empty('select * from ip_workbench.tables', 'matrix: View Catalog / admin / allowed');
select isnt_empty('select * from ip_workbench.table_metadata', 'matrix: View Catalog / admin / allowed');
select isnt_empty('select * from ip_workbench.domains', 'matrix: View Catalog / admin / allowed');
select is(ip_workbench.execute_sql('select count(*)::int as n from ip_workbench.tables') #>> '{rows,0,n}', '2', 'matrix: Run SQL Queries / admin / allowed');
select lives_ok($$insert into ip_workbench.sql_snippets (name, sql) values ('admin snippet', 'select 1')$$, 'matrix: Save SQL Snippets / admin / allowed');
select isnt_empty('select * from ip_workbench.pipelines', 'matrix: View Pipelines / admin / allowed');
select lives_ok($$insert into ip_workbench.pipelines (id, name, owner) values ('c0000000-0000-4000-8000-000000000013', 'admin pipeline for engineer2', 'a0000000-0000-4000-8000-000000000003')$$, 'matrix: Create Pipelines / admin / allowed');
select lives_ok($$insert into ip_workbench.pipeline_steps (pipeline_id, position, name, step_type) values ('c0000000-0000-4000-8000-000000000013', 0, 'extract', 'source')$$, 'matrix: Create Pipelines / admin / allowed');
select is(pg_temp.affected($$update ip_workbench.pipelines set description = 'reviewed' where id = 'c0000000-0000-4000-8000-000000000002'$$), 1::bigint, 'matrix: Edit Pipelines / admin / allowed');
select is(pg_temp.affected($$delete from ip_workbench.pipelines where id = 'c0000000-0000-4000-8000-000000000003'$$), 1::bigint, 'matrix: Delete Pipelines / admin / allowed');
select is(pg_temp.affected($$update ip_workbench.pipelines set schedule = '0 2 * * *' where id = 'c0000000-0000-4000-8000-000000000002'$$), 1::bigint, 'matrix: Schedule Pipelines / admin / allowed');
select lives_ok($$insert into ip_workbench.jobs (pipeline_id, name, job_type, schedule) values ('c0000000-0000-4000-8000-000000000002', 'nightly 2am', 'n8n', '0 2 * * *')$$, 'matrix: Schedule Pipelines / admin / allowed');
select isnt_empty('select logs from ip_workbench.job_runs where logs is not null', 'matrix: View Job Logs / admin / allowed');
select lives_ok($$insert into ip_workbench.job_runs (pipeline_id, job_id, status) values ('c0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001', 'pending')$$, 'matrix: Retry Failed Jobs / admin / allowed');
select isnt_empty('select * from ip_workbench.tests', 'matrix: View Data Quality / admin / allowed');
select isnt_empty('select * from ip_workbench.test_runs', 'matrix: View Data Quality / admin / allowed');
select isnt_empty('select * from ip_workbench.alerts', 'matrix: View Data Quality / admin / allowed');
select isnt_empty('select * from ip_workbench.dq_scorecards', 'matrix: View Data Quality / admin / allowed');
select lives_ok($$insert into ip_workbench.alerts (table_id, alert_type, severity, message) values ('b0000000-0000-4000-8000-000000000001', 'freshness', 'critical', 'finance_expenses older than its 24 h slo')$$, 'matrix: Configure DQ Alerts / admin / allowed');
select is(pg_temp.affected($$update ip_workbench.alerts set resolved_at = now() where id = 'e1000000-0000-4000-8000-000000000001'$$), 1::bigint, 'matrix: Configure DQ Alerts / admin / allowed');
select isnt_empty('select * from ip_workbench.lineage_edges', 'matrix: View Lineage / admin / allowed');
select lives_ok($$insert into ip_workbench.lineage_edges (source_table_id, target_table_id, edge_type, source_column, target_column) values ('b0000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-000000000001', 'column', 'amt', 'amount')$$, 'matrix: Edit Lineage / admin / allowed');
select is(pg_temp.affected($$update ip_workbench.lineage_edges set transformation_sql = 'select amt as amount' where id = 'f0000000-0000-4000-8000-000000000001'$$), 1::bigint, 'matrix: Edit Lineage / admin / allowed');
select lives_ok($$insert into ip_workbench.agent_runs (agent_id, input_prompt) values ('90000000-0000-4000-8000-000000000002', 'cost outliers?')$$, 'matrix: Use AI Assist (Genie) / admin / allowed');
select lives_ok($$insert into ip_workbench.llm_requests (model, prompt_tokens, completion_tokens, cost_usd, latency_ms) values ('claude-sonnet-4.5', 50, 40, 0.002, 900)$$, 'matrix: Use AI Assist (Genie) / admin / allowed');
select lives_ok($$insert into ip_workbench.agents (name, model) values ('admin new agent', 'claude-sonnet-4.5')$$, 'matrix: Create Agents / admin / allowed');
select is(pg_temp.affected($$update ip_workbench.agents set status = 'deployed', deployed_at = now() where id = '90000000-0000-4000-8000-000000000002'$$), 1::bigint, 'matrix: Deploy Agents / admin / allowed');
select lives_ok($$insert into ip_workbench.agent_bindings (agent_id, target_type) values ('90000000-0000-4000-8000-000000000002', 'chat')$$, 'matrix: Deploy Agents / admin / allowed');
select is(pg_temp.affected($$delete from ip_workbench.agents where id = '90000000-0000-4000-8000-000000000003'$$), 1::bigint, 'matrix: Delete Agents / admin / allowed');
select isnt_empty('select * from ip_workbench.agent_runs', 'matrix: View Agent Runs / admin / allowed');
select isnt_empty('select * from ip_workbench.llm_requests', 'matrix: Access Langfuse / admin / allowed');
select lives_ok($$insert into ip_workbench.user_roles (user_id, role) values ('a0000000-0000-4000-8000-000000000006', 'viewer')$$, 'matrix: Manage Users / admin / allowed');
select is(pg_temp.affected($$update ip_workbench.user_roles set role = 'engineer' where user_id = 'a0000000-0000-4000-8000-000000000006'$$), 1::bigint, 'matrix: Manage Users / admin / allowed');
select isnt_empty('select * from ip_workbench.cost_tracker', 'matrix: View Cost Tracking / admin / allowed');
select is(pg_temp.affected($$update ip_workbench.pipelines set n8n_webhook_url = 'https://n8n.example.test/webhook/p1' where id = 'c0000000-0000-4000-8000-000000000001'$$), 1::bigint, 'matrix: Configure Integrations / admin / allowed');
select isnt_empty('select * from ip_workbench.activity_log', 'matrix: View Audit Logs / admin / allowed');

-- beyond the matrix, as the admin
select results_eq(
  $$select action, details ->> 'new_role' from ip_workbench.activity_log where entity_id = 'a0000000-0000-4000-8000-000000000006' order by action$$,
  $$values ('user_role.changed', 'engineer'), ('user_role.granted', 'viewer')$$,
  'role grants and changes are written to the audit log'
);
select ok(
  (select llm_cost_usd_30d > 0 from ip_workbench.kpi_summary),
  'kpi_summary shows llm costs to an admin'
);
select is(
  (select count(*)::int from ip_workbench.sql_snippets),
  4,
  'an admin reads every snippet'
);
select throws_ok(
  $$insert into ip_workbench.activity_log (actor, action) values ('a0000000-0000-4000-8000-000000000002', 'forged')$$,
  '42501', null,
  'an admin cannot write audit entries in someone else''s name'
);

-- where the role comes from ------------------------------------------------------------------------
reset role;
set local role authenticated;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000007", "role": "authenticated", "app_metadata": {"role": "engineer"}}';
set local request.jwt.claim.sub = 'a0000000-0000-4000-8000-000000000007';
select is(private.get_user_role(), 'engineer', 'without a user_roles row the role comes from app_metadata.role');
select lives_ok($$insert into ip_workbench.pipelines (name) values ('jwt engineer pipeline')$$, 'an app_metadata engineer can create pipelines');

set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000008", "role": "authenticated", "user_metadata": {"role": "admin"}}';
set local request.jwt.claim.sub = 'a0000000-0000-4000-8000-000000000008';
select is(private.get_user_role(), null, 'user_metadata.role is ignored');
select is_empty('select * from ip_workbench.tables', 'a user without an app role sees nothing');
select is(
  ip_workbench.execute_sql('select 1') #>> '{error,code}',
  '42501',
  'a user without an app role cannot run sql (refused in the result, and logged)'
);

set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000001", "role": "authenticated", "app_metadata": {"role": "admin"}}';
set local request.jwt.claim.sub = 'a0000000-0000-4000-8000-000000000001';
select is(private.get_user_role(), 'viewer', 'the user_roles row wins over app_metadata');

set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000009", "role": "authenticated", "app_metadata": {"role": "superuser"}}';
set local request.jwt.claim.sub = 'a0000000-0000-4000-8000-000000000009';
select is(private.get_user_role(), null, 'an unknown app_metadata role is no role');

-- service_role (the supabase service key) bypasses rls -------------------------------------------
reset role;
set local role service_role;
set local request.jwt.claims = '{"role": "service_role"}';
set local request.jwt.claim.sub = '';
select isnt_empty('select * from ip_workbench.cost_tracker', 'service_role reads past rls');
select is(
  ip_workbench.execute_sql($$insert into ip_workbench.cost_tracker (service, cost_usd) values ('compute', 3)$$) #>> '{affected_rows}',
  '1',
  'service_role may write through execute_sql'
);

reset role;
select * from finish();
rollback;
