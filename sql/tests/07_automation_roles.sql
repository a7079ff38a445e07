-- the automation group roles (20261130000300): what each can do, and a sample of what it
-- cannot (other schemas and tables, ddl, auth.*, secrets, other rows). the logins the database
-- layer creates (wb_<env>_n8n, _backup, _catalog, _usage) are members of these roles and get
-- exactly their privileges. superuser mode: the fixtures are written here and each block does
-- `set local role <group role>`.
begin;
create extension if not exists pgtap;

select plan(45);

-- rows exist where rls would hide them
insert into auth.users (id, email) values ('a7000000-0000-4000-8000-000000000001', 'someone@roles.test');
insert into ip_workbench.user_roles (user_id, role) values ('a7000000-0000-4000-8000-000000000001', 'admin');
insert into ip_workbench.tables (id, schema_name, table_name, layer, resource_type) values
  ('b7000000-0000-4000-8000-000000000001', 'gold', 'roles_test', 'gold', 'model');
insert into ip_workbench.pipelines (id, name, owner) values
  ('c7000000-0000-4000-8000-000000000001', 'roles pipeline', 'a7000000-0000-4000-8000-000000000001');
insert into ip_workbench.cost_tracker (service, cost_usd, details) values
  ('llm', 5, '{"source": "litellm"}'), ('compute', 9, '{}');
insert into ip_workbench.sql_snippets (name, sql, owner) values ('private', 'select 1', 'a7000000-0000-4000-8000-000000000001');

-- the roles ------------------------------------------------------------------------------------------
select is(
  (select string_agg(rolname || ':' || rolcanlogin || rolinherit || rolsuper || rolbypassrls || rolcreaterole || rolcreatedb, ',' order by rolname)
   from pg_roles where rolname like 'workbench\_%'),
  'workbench_backup:falsefalsefalsefalsefalsefalse,workbench_catalog_writer:falsefalsefalsefalsefalsefalse,workbench_dbt:falsefalsefalsefalsefalsefalse,workbench_n8n:falsefalsefalsefalsefalsefalse,workbench_usage_recorder:falsefalsefalsefalsefalsefalse',
  'the automation group roles: nologin, noinherit, no superuser, bypassrls, createrole or createdb'
);
select is(
  (select string_agg(g.rolname, ',' order by g.rolname) from pg_auth_members as m
   join pg_roles as g on g.oid = m.roleid join pg_roles as r on r.oid = m.member
   where r.rolname like 'workbench\_%'),
  'authenticated',
  'only workbench_n8n is a member of anything: authenticated (for execute_sql as the caller), without inheriting'
);
select ok(
  not exists (
    select 1 from pg_roles as r, unnest(array['auth']) as s
    where r.rolname like 'workbench\_%' and has_schema_privilege(r.oid, s, 'usage')
  ),
  'no automation role has usage on auth'
);
select ok(
  not exists (
    select 1 from pg_roles as r
    where r.rolname like 'workbench\_%'
      and (has_schema_privilege(r.oid, 'private', 'usage') or has_schema_privilege(r.oid, 'ip_workbench', 'create')
           or has_schema_privilege(r.oid, 'public', 'create') or has_database_privilege(r.oid, current_database(), 'create'))
  ),
  'no automation role uses private, or creates in ip_workbench, public or the database'
);
select ok(
  not exists (
    select 1 from pg_roles as r, pg_class as c
    where r.rolname like 'workbench\_%' and c.relnamespace = 'ip_workbench'::regnamespace and c.relkind = 'r'
      and has_table_privilege(r.oid, c.oid, 'truncate, references, trigger')
  ),
  'no automation role may truncate (which skips rls), reference or trigger an ip_workbench table'
);
select ok(
  not exists (
    select 1 from pg_roles as r
    where r.rolname like 'workbench\_%'
      and (has_table_privilege(r.oid, 'ip_workbench.user_roles', 'insert, update, delete')
           or has_table_privilege(r.oid, 'ip_workbench.sql_snippets', 'insert, update, delete')
           or has_table_privilege(r.oid, 'ip_workbench.query_history', 'insert, update, delete')
           or has_function_privilege(r.oid, 'ip_workbench.execute_sql(text, int)', 'execute'))
  ),
  'no automation role changes roles, snippets or history, or runs execute_sql itself (n8n must set role authenticated, where rls needs claims)'
);

-- n8n -------------------------------------------------------------------------------------------------
set local role workbench_n8n;
select lives_ok($$select bronze.deliver('expenses', 'odoo', 'roles-test-batch', array['{"id": "x"}'])$$, 'n8n: delivers into bronze');
select ok(has_schema_privilege('silver', 'usage'), 'n8n: may use silver (dbt grants select on its tables)');
select lives_ok($$insert into ip_workbench.expense_approvals (expense_id, status, amount, threshold) values ('exp-roles', 'pending_approval', 6000, 5000)$$, 'n8n: records an approval decision');
select lives_ok($$update ip_workbench.expense_approvals set notified_at = now() where expense_id = 'exp-roles'$$, 'n8n: marks it notified');
select throws_ok($$insert into ip_workbench.expense_approvals (expense_id, status, amount, threshold, decided_by) values ('exp-roles-2', 'approved', 1, 5000, 'a7000000-0000-4000-8000-000000000001')$$, '42501', null, 'n8n: cannot record a human decision in someone''s name');
select isnt_empty($$select 1 from ip_workbench.pipelines where id = 'c7000000-0000-4000-8000-000000000001'$$, 'n8n: reads pipelines');
select lives_ok($$insert into ip_workbench.job_runs (pipeline_id, status, stage) values ('c7000000-0000-4000-8000-000000000001', 'pending', 'n8n')$$, 'n8n: creates a job run');
select is((select count(*)::int from ip_workbench.job_runs where stage = 'n8n'), 1, 'n8n: reads its job run');
select throws_ok($$insert into ip_workbench.job_runs (status, stage) values ('completed', 'dbt')$$, '42501', null, 'n8n: cannot record runs of other stages');
select throws_ok($$select * from ip_workbench.cost_tracker$$, '42501', null, 'n8n: no costs');
select throws_ok($$select * from ip_workbench.llm_requests$$, '42501', null, 'n8n: no llm traces');
select throws_ok($$select email from auth.users$$, '42501', null, 'n8n: nothing in auth');
select throws_ok($$create table ip_workbench.n8n_oops (i int)$$, '42501', null, 'n8n: no ddl in ip_workbench');
select lives_ok($$create table n8n.workflow_entity_test (i int)$$, 'n8n: creates its internal tables in schema n8n');
select throws_ok($$delete from bronze.expenses_raw$$, '42501', null, 'n8n: cannot delete landed records');
reset role;

-- backup ------------------------------------------------------------------------------------------------
set local role workbench_backup;
set local row_security = on;  -- pg_dump --enable-row-security
select is((select count(*)::int from ip_workbench.user_roles), (select count(*)::int from ip_workbench.user_roles), 'backup: reads every row of an rls table');
select isnt_empty($$select 1 from ip_workbench.sql_snippets where name = 'private'$$, 'backup: reads rows no app role policy shows it');
select isnt_empty($$select 1 from ip_workbench.cost_tracker where service = 'compute'$$, 'backup: reads costs');
select lives_ok($$select count(*) from bronze.expenses_raw$$, 'backup: reads bronze');
select lives_ok($$select count(*) from workbench_migrations.schema_migrations$$, 'backup: reads the migration ledger');
select throws_ok($$insert into ip_workbench.domains (name) values ('backup')$$, '42501', null, 'backup: cannot write');
select throws_ok($$update ip_workbench.cost_tracker set cost_usd = 0$$, '42501', null, 'backup: cannot update');
select throws_ok($$select * from private.sql_sessions$$, '42501', null, 'backup: nothing in private');
select throws_ok($$select email from auth.users$$, '42501', null, 'backup: nothing in auth');
select throws_ok($$create table public.backup_oops (i int)$$, '42501', null, 'backup: no ddl');
reset role;

-- catalog writer --------------------------------------------------------------------------------------------
set local role workbench_catalog_writer;
select lives_ok($$insert into ip_workbench.tables (schema_name, table_name, layer, resource_type, dbt_unique_id) values ('gold', 'cat_new', 'gold', 'model', 'model.x.cat_new')$$, 'catalog: registers a table');
select is((select count(*)::int from ip_workbench.tables where table_name = 'roles_test'), 1, 'catalog: reads the catalog');
select lives_ok($$update ip_workbench.tables set description = 'seeded' where table_name = 'roles_test'$$, 'catalog: updates it');
select lives_ok($$insert into ip_workbench.job_runs (status, stage, invocation_id, completed_at) values ('completed', 'dbt', 'inv-roles', now())$$, 'catalog: records a finished dbt run');
select throws_ok($$insert into ip_workbench.job_runs (status, stage, triggered_by) values ('completed', 'dbt', 'a7000000-0000-4000-8000-000000000001')$$, '42501', null, 'catalog: cannot record a run in someone''s name');
select throws_ok($$select * from ip_workbench.cost_tracker$$, '42501', null, 'catalog: no costs');
select throws_ok($$update ip_workbench.pipelines set name = 'x'$$, '42501', null, 'catalog: no pipelines');
select throws_ok($$select email from auth.users$$, '42501', null, 'catalog: nothing in auth');
reset role;

-- usage recorder ---------------------------------------------------------------------------------------------
set local role workbench_usage_recorder;
select lives_ok($$insert into ip_workbench.llm_requests (request_id, model, cost_usd, prompt_tokens) values ('req-roles', 'claude-sonnet-4.5', 0.25, 10) on conflict (request_id) do nothing returning agent_run_id$$, 'usage: records an llm request with its cost');
select lives_ok($$insert into ip_workbench.cost_tracker (service, cost_usd, details) values ('llm', 0.25, '{"source": "litellm"}')$$, 'usage: records a litellm cost');
select is((select count(*)::int from ip_workbench.cost_tracker), 2, 'usage: sees only the litellm cost rows');
select throws_ok($$insert into ip_workbench.cost_tracker (service, cost_usd) values ('compute', 100)$$, '42501', null, 'usage: cannot record other costs');
select throws_ok($$select model, prompt_tokens from ip_workbench.llm_requests$$, '42501', null, 'usage: cannot read the traces beyond its budget check');
select throws_ok($$select email from auth.users$$, '42501', null, 'usage: nothing in auth');
reset role;

select * from finish();
rollback;
