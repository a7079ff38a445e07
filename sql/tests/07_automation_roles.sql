-- the automation group roles (20261130000300): what each can do, and a sample of what it
-- cannot (other schemas and tables, ddl, auth.*, secrets, other rows). the logins the database
-- layer creates (wb_<env>_n8n, _backup, _catalog, _usage) are members of these roles and get
-- exactly their privileges. superuser mode: the fixtures are written here and each block does
-- `set local role <group role>`.
begin;
create extension if not exists pgtap;

select plan(111);

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
insert into private.llm_callers (id, name, kind, daily_budget_usd) values ('d7000000-0000-4000-8000-000000000001', 'roles-service', 'service', 1);
insert into private.llm_caller_keys (caller_id, key_hash) values ('d7000000-0000-4000-8000-000000000001', sha256('wbk_roles'::bytea));

-- the roles ------------------------------------------------------------------------------------------
select is(
  (select string_agg(rolname || ':' || rolcanlogin || rolinherit || rolsuper || rolbypassrls || rolcreaterole || rolcreatedb, ',' order by rolname)
   from pg_roles where rolname like 'workbench\_%'),
  'workbench_backup:falsefalsefalsefalsefalsefalse,workbench_catalog_writer:falsefalsefalsefalsefalsefalse,workbench_dbt:falsefalsefalsefalsefalsefalse,workbench_delivery:falsefalsefalsefalsefalsefalse,workbench_n8n:falsefalsefalsefalsefalsefalse,workbench_usage_recorder:falsefalsefalsefalsefalsefalse',
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
           or has_schema_privilege(r.oid, 'public', 'create')
           or (has_database_privilege(r.oid, current_database(), 'create') and r.rolname <> 'workbench_n8n'))
  ),
  'no automation role uses private, or creates in ip_workbench, public or (but n8n) the database'
);
-- n8n's create on the database (20261130001900: n8n runs create schema if not exists "n8n" at
-- every start) is a database acl, which a copy made from a template does not carry; that n8n
-- starts with it is test/integration/n8n.test.ts's business.
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
-- as a login that is a member of workbench_n8n only, the way the database layer creates
-- wb_<env>_n8n (set session authorization: set role is then checked against this login,
-- not the superuser). every statement the postgres nodes of n8n-workflows/*.json run, then
-- a sample of what the login cannot do (20261130001900).
create table silver.expenses (expense_id text primary key, amount numeric(14, 2), currency text);
insert into silver.expenses values ('exp-roles-silver', 120.5, 'USD');
grant select on silver.expenses to workbench_n8n;  -- dbt's default privileges (dbtGrants)
create table gold.roles_n8n_gold (i int);
grant select on gold.roles_n8n_gold to authenticated;
insert into ip_workbench.pipeline_steps (pipeline_id, position, name, step_type, config) values
  ('c7000000-0000-4000-8000-000000000001', 0, 'one', 'sql', '{"sql": "select 1 as one"}');
insert into ip_workbench.job_runs (id, status, stage) values ('d7000000-0000-4000-8000-000000000001', 'completed', 'dbt');
insert into ip_workbench.expense_approvals (expense_id, status, amount, currency, threshold, decided_at, notified_at)
  values ('exp-roles-approved', 'approved', 9000, 'USD', 5000, now(), now());
create role aiwb_roles_test_n8n_login login;
grant workbench_n8n to aiwb_roles_test_n8n_login;
set local session authorization aiwb_roles_test_n8n_login;

-- real-time-transactions
select is(
  (select bronze.deliver_batch('scout_transactions', 'pos', coalesce(nullif('', ''), 'sha256:' || bronze.sha256_hex('[1]')),
     array(select p.payload from json_array_elements_text('["{\"id\": 1}"]'::json) with ordinality as p (payload, n) order by p.n),
     'refuse') ->> 'status'),
  'new', 'n8n: real-time-transactions lands a batch (deliver_batch, sha256_hex)');
select is(
  (select bronze.deliver_batch('scout_transactions', 'pos', 'sha256:' || bronze.sha256_hex('[1]'), array['{"id": 2}'], 'refuse') ->> 'status'),
  'conflict', 'n8n: reads a batch back to compare it (a conflict, nothing stored)');
-- odoo-sync
select lives_ok($$
  select coalesce(to_char(c.cursor_at, 'YYYY-MM-DD HH24:MI:SS'), legacy.since, '') as since, coalesce(c.cursor_id, 0)::bigint as since_id
  from (select 1) as one
  left join bronze.sync_cursors as c on c.source = 'odoo' and c.entity = 'expenses'
  left join lateral (
    select max(split_part(d.batch_id, '@', 2)) as since from bronze.deliveries as d
    where d.source = 'odoo' and d.entity = 'expenses' and split_part(d.batch_id, '@', 2) ~ '^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$'
  ) as legacy on c.source is null
$$, 'n8n: odoo-sync reads its cursor and the earlier deliveries');
select is(
  (select bronze.deliver_batch('expenses', 'odoo', 'odoo:account.move/7@2026-11-20 08:00:00', array['{"id": 7}'], 'new_delivery') ->> 'status'),
  'new', 'n8n: odoo-sync lands an invoice version');
select is(
  (select bronze.deliver_batch('expenses', 'odoo', 'odoo:account.move/7@2026-11-20 08:00:00', array['{"id": 7, "x": 1}'], 'new_delivery') ->> 'status'),
  'redelivered', 'n8n: odoo-sync keeps other content under the same version id as a new delivery');
select is(bronze.quarantine_sync_record('odoo', 'expenses', '8', 'write_date is not a timestamp', '{"id": 8}'), true, 'n8n: odoo-sync quarantines a record');
select is(bronze.quarantine_sync_record('odoo', 'expenses', '8', 'write_date is not a timestamp', '{"id": 8}'), false, 'n8n: and counts it when seen again');
select is(bronze.advance_sync_cursor('odoo', 'expenses', '2026-11-20 08:00:00', 7), '{"at": "2026-11-20 08:00:00", "id": 7}'::jsonb, 'n8n: odoo-sync moves its cursor');
-- expense-approval
select is((select e.amount::text from silver.expenses as e where e.expense_id = 'exp-roles-silver'), '120.50', 'n8n: expense-approval reads silver expenses');
-- (the notified_at the workflow gives back comes from decide_expense's answer: n8n reads
-- nothing of ip_workbench.expense_approvals, 20261130002500)
create temporary table n8n_roles_decision (decision jsonb) on commit drop;
insert into n8n_roles_decision select ip_workbench.decide_expense('exp-roles', 6000, 'USD', 6000, 5000, 'USD');
select is(
  (select d.decision ->> 'status' || ',' || (d.decision ->> 'notify') from n8n_roles_decision as d),
  'pending_approval,true', 'n8n: expense-approval records a decision (decide_expense) and is the one to notify');
select is(
  (select coalesce(ip_workbench.release_expense_notification('exp-roles', (d.decision ->> 'notified_at')::timestamptz), false) from n8n_roles_decision as d),
  true, 'n8n: gives a failed notification back (release_expense_notification)');
select is(
  (select ip_workbench.decide_expense('exp-roles-approved', 9000, 'USD', 9000, 1000000, 'USD') ->> 'status'),
  'approved', 'n8n: an approver''s decision stands for its amount, whatever threshold is passed (decide_expense runs as its owner)');
select is(
  (select ip_workbench.decide_expense('exp-roles-approved', 90, 'USD', 90, 5000, 'USD') ->> 'status'),
  'pending_approval', 'n8n: a changed amount re-opens review, never auto-approves');
select throws_ok($$select ip_workbench.decide_expense('exp-roles-null', null, 'USD', null, 5000, 'USD')$$, '22023', null, 'n8n: a null amount is refused');
select throws_ok($$select ip_workbench.decide_expense('exp-roles-neg', -40, 'USD', -40, 5000, 'USD')$$, '22023', null, 'n8n: a negative amount is refused');
-- quality-alerts
select is(
  (select count(*)::int from ip_workbench.tables as t where not t.is_deleted and t.table_name = 'roles_test'
     and t.schema_name || '.' || t.layer || coalesce(t.dq_score, 0)::text || coalesce(t.dbt_unique_id, '') || coalesce(t.owner_name, '') is not null),
  1, 'n8n: quality-alerts reads the catalog''s scores');
select is(
  (select ip_workbench.take_notification_slot('mattermost', 'gold.roles_test', make_interval(mins => 60), 12) ->> 'allowed'),
  'true', 'n8n: quality-alerts takes a post slot (its log stays in private)');
-- pipeline-trigger
select is(
  array[ip_workbench.user_exists('a7000000-0000-4000-8000-000000000001'), ip_workbench.user_exists('a7000000-0000-4000-8000-0000000000ff')],
  array[true, false], 'n8n: pipeline-trigger checks that the token''s user exists (user_exists)');
set local request.jwt.claims = '{"sub": "a7000000-0000-4000-8000-000000000001", "role": "authenticated"}';
select lives_ok($$set local role authenticated$$, 'n8n: becomes authenticated, to act as the caller');
select is(current_user::text, 'authenticated', 'n8n: acting as the caller');
select is(
  (select ip_workbench.request_pipeline_run('c7000000-0000-4000-8000-000000000001') ->> 'http_status'),
  '202', 'n8n: starts a run as the caller (request_pipeline_run under the caller''s rls)');
set local statement_timeout = '5s';
select is((select private.run_pipeline_step('select 1 as one') ->> 'row_count'), '1', 'n8n: runs a step as the caller (run_pipeline_step)');
set local statement_timeout = 0;
reset role;
set local request.jwt.claims = '';
select is(current_user::text, 'aiwb_roles_test_n8n_login', 'n8n: back as itself');
select lives_ok($$
  update ip_workbench.job_runs set status = 'running', started_at = now()
  where id = (select j.id from ip_workbench.job_runs as j where j.stage = 'n8n') returning id::text as job_run_id
$$, 'n8n: marks the run running');
select is((select status from ip_workbench.job_runs where stage = 'n8n'), 'running', 'n8n: the run is running');
select lives_ok($$
  update ip_workbench.job_runs set status = 'completed', completed_at = now(), logs = '[]', rows_processed = 1::bigint, error_message = nullif('', '')
  where id = (select j.id from ip_workbench.job_runs as j where j.stage = 'n8n') returning id::text as job_run_id, status
$$, 'n8n: records the run''s outcome');
select is((select status from ip_workbench.job_runs where stage = 'n8n'), 'completed', 'n8n: the run is completed');
-- n8n's own tables
select lives_ok($$create table n8n.workflow_entity_test (i int)$$, 'n8n: creates its internal tables in schema n8n');

-- what it cannot do
select throws_ok($$select * from ip_workbench.user_roles$$, '42501', null, 'n8n: cannot read user_roles');
select throws_ok($$select * from ip_workbench.cost_tracker$$, '42501', null, 'n8n: no costs');
select throws_ok($$select * from ip_workbench.llm_requests$$, '42501', null, 'n8n: no llm traces');
select throws_ok($$select * from ip_workbench.domains$$, '42501', null, 'n8n: none of authenticated''s rights without switching (noinherit)');
select throws_ok($$select * from ip_workbench.pipelines$$, '42501', null, 'n8n: reads pipelines only as the caller');
select throws_ok($$insert into ip_workbench.job_runs (pipeline_id, status, stage) values ('c7000000-0000-4000-8000-000000000001', 'pending', 'n8n')$$, '42501', null, 'n8n: a run is inserted as the caller, not by n8n');
select lives_ok($$update ip_workbench.job_runs set status = 'failed' where id = 'd7000000-0000-4000-8000-000000000001'$$, 'n8n: an update of a run of another stage...');
select throws_ok($$insert into ip_workbench.expense_approvals (expense_id, status, amount, threshold, decided_by) values ('exp-roles-2', 'approved', 1, 5000, 'a7000000-0000-4000-8000-000000000001')$$, '42501', null, 'n8n: cannot record a human decision in someone''s name');
select throws_ok($$update ip_workbench.expense_approvals set status = 'approved' where expense_id = 'exp-roles'$$, '42501', null, 'n8n: cannot set a decision''s status directly (only decide_expense)');
select throws_ok($$update ip_workbench.expense_approvals set notified_at = null$$, '42501', null, 'n8n: cannot release a notification directly');
select throws_ok($$insert into ip_workbench.expense_approvals (expense_id, status, amount, threshold) values ('exp-roles-3', 'auto_approved', 1, 5000)$$, '42501', null, 'n8n: cannot insert a decision directly');
select throws_ok($$select status from ip_workbench.expense_approvals$$, '42501', null, 'n8n: does not read expense approvals (the workflow does not)');
select throws_ok($$select email from auth.users$$, '42501', null, 'n8n: cannot read auth.users (only user_exists)');
select throws_ok($$select * from private.notification_log$$, '42501', null, 'n8n: nothing in private');
select throws_ok($$select ip_workbench.execute_sql('select 1', 10)$$, '42501', null, 'n8n: runs execute_sql only as the caller');
select throws_ok($$create table ip_workbench.n8n_oops (i int)$$, '42501', null, 'n8n: no ddl in ip_workbench');
select throws_ok($$create table public.n8n_oops (i int)$$, '42501', null, 'n8n: no ddl in public');
select throws_ok($$create table bronze.n8n_oops (i int)$$, '42501', null, 'n8n: no ddl in bronze');
select throws_ok($$insert into gold.roles_n8n_gold values (1)$$, '42501', null, 'n8n: cannot write gold');
select throws_ok($$insert into silver.expenses (expense_id, amount) values ('forged', 1)$$, '42501', null, 'n8n: cannot write silver');
select throws_ok($$delete from bronze.expenses_raw$$, '42501', null, 'n8n: cannot delete landed records');
select throws_ok($$insert into bronze.scout_products_raw (source, batch_id, record_seq, payload_raw) values ('x', 'x', 0, '{}')$$, '42501', null, 'n8n: lands only what its workflows deliver');
select throws_ok($$set role service_role$$, '42501', null, 'n8n: cannot become service_role');
select throws_ok($$set role postgres$$, '42501', null, 'n8n: cannot become the admin');
reset session authorization;
select is((select status from ip_workbench.job_runs where id = 'd7000000-0000-4000-8000-000000000001'), 'completed', 'n8n: ...changes nothing (rls: only runs of stage n8n)');
select is(
  (select string_agg(expense_id || ':' || status || ':' || amount::text || ':' || coalesce(previous_status, '-'), ',' order by expense_id)
   from ip_workbench.expense_approvals where expense_id like 'exp-roles%'),
  'exp-roles:pending_approval:6000.00:-,exp-roles-approved:pending_approval:90.00:approved',
  'n8n: the decisions are the ones decide_expense recorded, nothing the direct writes tried');
select is(
  (select string_agg(p.proname || ':' || p.prosecdef || ':' || array_to_string(p.proconfig, ';') || ':' || (p.proowner = c.relowner), ',' order by p.proname)
   from pg_proc as p, pg_class as c
   where p.oid in ('ip_workbench.decide_expense(text, numeric, text, numeric, numeric, text)'::regprocedure,
                   'ip_workbench.release_expense_notification(text, timestamptz)'::regprocedure)
     and c.oid = 'ip_workbench.expense_approvals'::regclass),
  'decide_expense:true:search_path="":true,release_expense_notification:true:search_path="":true',
  'n8n: decide_expense and release_expense_notification are security definer, search_path empty, owned by the table''s owner');
select is(
  -- the grants themselves (who holds them through membership, e.g. the n8n login or the
  -- runner owner that inherits service_role, follows from these).
  (select string_agg(a.grantee::regrole::text, ',' order by a.grantee::regrole::text)
   from pg_proc as p, aclexplode(p.proacl) as a
   where p.oid = 'ip_workbench.decide_expense(text, numeric, text, numeric, numeric, text)'::regprocedure and a.privilege_type = 'EXECUTE' and a.grantee <> p.proowner),
  'service_role,workbench_n8n', 'n8n: only workbench_n8n and service_role may decide an expense (not anon or authenticated)');
select is(
  -- the grants themselves (who holds them through membership, e.g. the n8n login or the
  -- runner owner that inherits service_role, follows from these).
  (select string_agg(a.grantee::regrole::text, ',' order by a.grantee::regrole::text)
   from pg_proc as p, aclexplode(p.proacl) as a
   where p.oid = 'ip_workbench.release_expense_notification(text, timestamptz)'::regprocedure and a.privilege_type = 'EXECUTE' and a.grantee <> p.proowner),
  'service_role,workbench_n8n', 'n8n: only workbench_n8n and service_role may release a notification');
select ok(
  not exists (select 1 from pg_policies where tablename = 'expense_approvals' and 'workbench_n8n' = any(roles))
  and not has_table_privilege('workbench_n8n', 'ip_workbench.expense_approvals', 'select, insert, update, delete')
  and not has_any_column_privilege('workbench_n8n', 'ip_workbench.expense_approvals', 'select, insert, update'),
  'n8n: no policy, table or column privilege on expense_approvals');
select is(
  (select string_agg(g.rolname, ',' order by g.rolname) from pg_roles as g
   where pg_has_role('aiwb_roles_test_n8n_login', g.oid, 'member') and g.rolname <> 'aiwb_roles_test_n8n_login'),
  'authenticated,workbench_n8n', 'n8n: the login can become workbench_n8n and authenticated, nothing else');
select is(
  (select string_agg(g.rolname, ',' order by g.rolname) from pg_roles as g
   where pg_has_role('aiwb_roles_test_n8n_login', g.oid, 'usage') and g.rolname <> 'aiwb_roles_test_n8n_login'),
  'workbench_n8n', 'n8n: and holds the rights of workbench_n8n only');

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
-- the gateway's statements (python/litellm/workbench_auth.py, workbench_usage.py), through
-- the llm_gateway functions of 20261130002900.
select is((select name || ':' || kind from llm_gateway.caller_of_key(sha256('wbk_roles'::bytea))), 'roles-service:service', 'usage: finds the caller of a key by its sha256');
select is((select count(*)::int from llm_gateway.caller_of_key(sha256('wbk_other'::bytea))), 0, 'usage: an unknown key has no caller');
select is((select refused_by from llm_gateway.reserve('call-roles', 'd7000000-0000-4000-8000-000000000001', null, 0.5, 60)), null, 'usage: reserves a call''s worst-case cost');
select is((select refused_by from llm_gateway.reserve('call-roles-2', 'd7000000-0000-4000-8000-000000000001', null, 0.75, 60)), 'caller_daily', 'usage: a reservation past the caller''s daily budget is refused');
select lives_ok($$select llm_gateway.settle('call-roles')$$, 'usage: settles a reservation');
select is((select count(*)::int from llm_gateway.record_request('req-roles-gw', null, null, 'd7000000-0000-4000-8000-000000000001', 'claude-sonnet-4.5', 'success', 10, 5, 0.01, 20, now())), 1, 'usage: records a call''s row');
select is((select count(*)::int from llm_gateway.record_request('req-roles-gw', null, null, 'd7000000-0000-4000-8000-000000000001', 'claude-sonnet-4.5', 'success', 10, 5, 0.01, 20, now())), 0, 'usage: a call recorded before is not recorded again');
select lives_ok($$select llm_gateway.mark_failed('req-roles-gw', null, null, 'd7000000-0000-4000-8000-000000000001', 'claude-sonnet-4.5')$$, 'usage: marks a truncated stream''s row as failed');
select lives_ok($$select pg_advisory_xact_lock(hashtextextended('workbench:llm-cost:-:2026-11-30', 0))$$, 'usage: takes the cost roll-up''s advisory lock');
select throws_ok($$select key_hash from private.llm_caller_keys$$, '42501', null, 'usage: cannot read the caller keys');
select throws_ok($$select name from private.llm_callers$$, '42501', null, 'usage: cannot read the callers');
select throws_ok($$select private.llm_issue_key('roles-intruder', 'service')$$, '42501', null, 'usage: cannot issue keys');
select throws_ok($$select * from private.llm_reserve('call-roles-3', 'd7000000-0000-4000-8000-000000000001', null, 0, 60)$$, '42501', null, 'usage: reaches the reservations only through llm_gateway');
select throws_ok($$update ip_workbench.llm_requests set cost_usd = 0$$, '42501', null, 'usage: cannot rewrite recorded costs');
select throws_ok($$select * from ip_workbench.user_roles$$, '42501', null, 'usage: cannot read user_roles');
select throws_ok($$create function llm_gateway.x() returns int language sql as 'select 1'$$, '42501', null, 'usage: no ddl in llm_gateway');
reset role;
select is(
  (select string_agg(call_id || '=' || amount_usd, ',') from private.llm_budget_reservations where caller_id = 'd7000000-0000-4000-8000-000000000001'),
  null,
  'usage: the settled reservation is gone and the refused one never held'
);
select is(
  (select status || ':' || cost_usd || ':' || caller_id from ip_workbench.llm_requests where request_id = 'req-roles-gw'),
  'error:0.01:d7000000-0000-4000-8000-000000000001',
  'usage: the recorded row, marked failed, keeps its cost and caller'
);
select is(
  (select string_agg(p.proname, ',' order by p.proname) from pg_proc as p
   where p.pronamespace = 'llm_gateway'::regnamespace
     and (not p.prosecdef or not coalesce(p.proconfig, '{}') @> array['search_path=""']
          or has_function_privilege('anon', p.oid, 'execute') or has_function_privilege('authenticated', p.oid, 'execute')
          or has_function_privilege('service_role', p.oid, 'execute')
          or not has_function_privilege('workbench_usage_recorder', p.oid, 'execute'))),
  null,
  'llm_gateway: every function is security definer with an empty search_path, executable by the usage recorder only'
);
select ok(
  not has_schema_privilege('anon', 'llm_gateway', 'usage') and not has_schema_privilege('authenticated', 'llm_gateway', 'usage')
    and not exists (select 1 from pg_roles as r where r.rolname like 'workbench\_%' and r.rolname <> 'workbench_usage_recorder'
                    and has_schema_privilege(r.oid, 'llm_gateway', 'usage')),
  'llm_gateway: no api role and no other automation role uses it'
);
set local role authenticated;
select throws_ok($$select * from llm_gateway.caller_of_key(sha256('wbk_roles'::bytea))$$, '42501', null, 'authenticated: cannot look keys up through llm_gateway');
reset role;

select * from finish();
rollback;
