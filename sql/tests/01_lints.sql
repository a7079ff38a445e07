-- structural lints over ip_workbench and private, in the spirit of supabase's splinter:
-- rls everywhere, definer functions pinned to an empty search_path, invoker views, no
-- auth.users or user_metadata in authorization, nothing for anon, every foreign key and
-- every policy-filtered column indexed.
begin;
create extension if not exists pgtap;

select plan(29);

-- shape ---------------------------------------------------------------------------------------------
select tables_are(
  'ip_workbench',
  array[
    'domains', 'tables', 'table_metadata',
    'pipelines', 'pipeline_steps', 'jobs', 'job_runs',
    'tests', 'test_runs',
    'lineage_edges',
    'agents', 'agent_bindings', 'agent_runs', 'llm_requests',
    'sql_snippets', 'query_history',
    'cost_tracker', 'activity_log',
    'user_roles', 'alerts', 'prompts',
    'expense_approvals',
    'lineage_coverage', 'catalog_projects'
  ],
  'ip_workbench has the 18 tables of seed 001 plus user_roles, alerts, prompts, expense_approvals and the catalog seeder''s lineage_coverage and catalog_projects'
);

select views_are('ip_workbench', array['kpi_summary', 'dq_scorecards'], 'ip_workbench has the two views');

select is_empty(
  $$
    select c.relname
    from pg_class as c
    where c.relnamespace = 'ip_workbench'::regnamespace and c.relkind in ('r', 'p')
      and not exists (select 1 from pg_constraint as k where k.conrelid = c.oid and k.contype = 'p')
  $$,
  'every ip_workbench table has a primary key'
);

select is_empty(
  $$
    select c.relname, a.attname
    from pg_class as c
    inner join pg_attribute as a on a.attrelid = c.oid
    where c.relnamespace = 'ip_workbench'::regnamespace and c.relkind = 'r'
      and a.attname ~ '(_at|^last_updated)$' and not a.attisdropped
      and a.atttypid <> 'timestamptz'::regtype
  $$,
  'every *_at / last_updated column is timestamptz'
);

select is_empty(
  $$
    select c.relname
    from pg_class as c
    inner join pg_attribute as a on a.attrelid = c.oid and a.attname = 'updated_at' and not a.attisdropped
    where c.relnamespace = 'ip_workbench'::regnamespace and c.relkind = 'r'
      and not exists (
        select 1 from pg_trigger as t
        where t.tgrelid = c.oid and t.tgfoid = 'private.set_updated_at()'::regprocedure
      )
  $$,
  'every table with updated_at maintains it with private.set_updated_at()'
);

-- row level security --------------------------------------------------------------------------
select is_empty(
  $$
    select c.relname from pg_class as c
    where c.relnamespace = 'ip_workbench'::regnamespace and c.relkind in ('r', 'p') and not c.relrowsecurity
  $$,
  'row level security is enabled on every ip_workbench table'
);

select is_empty(
  $$
    select c.relname from pg_class as c
    where c.relnamespace = 'ip_workbench'::regnamespace and c.relkind in ('r', 'p') and not c.relforcerowsecurity
  $$,
  'row level security is forced on every ip_workbench table'
);

select is_empty(
  $$
    select c.relname from pg_class as c
    where c.relnamespace = 'private'::regnamespace and c.relkind in ('r', 'p') and not c.relrowsecurity
  $$,
  'row level security is enabled on every private table'
);

select is_empty(
  $$
    select c.relname
    from pg_class as c
    where c.relnamespace = 'ip_workbench'::regnamespace and c.relkind in ('r', 'p')
      and not exists (select 1 from pg_policy as p where p.polrelid = c.oid)
  $$,
  'every ip_workbench table has policies'
);

select is_empty(
  $$
    select tablename, policyname from pg_policies
    where schemaname = 'ip_workbench' and roles <> '{authenticated}'::name[]
      and not (cardinality(roles) = 1 and roles[1] like 'workbench\_%' and policyname like roles[1] || ': %')
  $$,
  'every policy is to authenticated, or to one automation group role and named after it (20261130000300)'
);

select is_empty(
  $$
    select tablename, policyname from pg_policies
    where schemaname = 'ip_workbench'
      and (coalesce(qual, '') ~* 'auth\.users' or coalesce(with_check, '') ~* 'auth\.users')
  $$,
  'no policy references auth.users'
);

select is_empty(
  $$
    select tablename, policyname from pg_policies
    where schemaname = 'ip_workbench'
      and (coalesce(qual, '') ~* 'user_metadata' or coalesce(with_check, '') ~* 'user_metadata')
  $$,
  'no policy reads user_metadata'
);

-- the deparsed policy shows a wrapped call as "( SELECT private.is_admin() AS is_admin)".
select is_empty(
  $$
    select tablename, policyname from pg_policies
    where schemaname = 'ip_workbench'
      and (
        regexp_count(coalesce(qual, ''), 'private\.\w+\(\)')
          <> regexp_count(coalesce(qual, ''), 'SELECT private\.\w+\(\)')
        or regexp_count(coalesce(with_check, ''), 'private\.\w+\(\)')
          <> regexp_count(coalesce(with_check, ''), 'SELECT private\.\w+\(\)')
      )
  $$,
  'policies call the private helpers as (select private.fn()) so they run once per statement'
);

select is_empty(
  $$
    select p.oid::regprocedure
    from pg_proc as p
    where p.pronamespace = 'private'::regnamespace
      and (p.prosrc ~* 'auth\.users' or p.prosrc ~* '''user_metadata''')
  $$,
  'no private helper reads auth.users or user_metadata'
);

-- functions ---------------------------------------------------------------------------------------
select is_empty(
  $$
    select p.oid::regprocedure
    from pg_proc as p
    where p.pronamespace in ('private'::regnamespace, 'ip_workbench'::regnamespace, 'auth'::regnamespace)
      and p.prosecdef
      and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) as cfg where cfg = 'search_path=""')
      -- execute_sql's runners: definer functions owned by the role that calls them (they
      -- gain nothing) that must resolve the user's sql with the caller's search_path.
      and p.proname not in ('sql_runner_authenticated', 'sql_runner_service_role')
  $$,
  'every security definer function in private, ip_workbench and auth sets search_path = '''''
);

-- the owner of each runner (20261130002300): a nologin role that nothing is a member of (no
-- session can become it, so nobody can alter, replace or drop the runner), that is a member
-- of exactly the caller role with inherit (so it has exactly that role's rights and policies),
-- and that has the caller's bypassrls (attributes are not inherited) and no other attribute.
select is(
  (
    select string_agg(
      format('%s owner=%s definer=%s execute=%s login=%s inherit=%s bypassrls=%s createrole=%s createdb=%s replication=%s super=%s member_of=%s members=%s',
        p.proname, o.rolname, p.prosecdef,
        (select string_agg(r.rolname, ',' order by r.rolname)
         from aclexplode(p.proacl) as a join pg_roles as r on r.oid = a.grantee
         where a.privilege_type = 'EXECUTE' and r.oid <> p.proowner),
        o.rolcanlogin, o.rolinherit, o.rolbypassrls, o.rolcreaterole, o.rolcreatedb, o.rolreplication, o.rolsuper,
        (select coalesce(string_agg(m.roleid::regrole::text, ',' order by m.roleid::regrole::text), '-')
         from pg_auth_members as m where m.member = o.oid),
        (select coalesce(string_agg(m.member::regrole::text, ',' order by m.member::regrole::text), '-')
         from pg_auth_members as m where m.roleid = o.oid)),
      '; ' order by p.proname)
    from pg_proc as p
    join pg_roles as o on o.oid = p.proowner
    where p.pronamespace = 'private'::regnamespace
      and p.proname in ('sql_runner_authenticated', 'sql_runner_service_role')
  ),
  'sql_runner_authenticated owner=sql_runner_owner_authenticated definer=t execute=authenticated login=f inherit=t bypassrls=f createrole=f createdb=f replication=f super=f member_of=authenticated members=-; '
  || 'sql_runner_service_role owner=sql_runner_owner_service_role definer=t execute=service_role login=f inherit=t bypassrls=t createrole=f createdb=f replication=f super=f member_of=service_role members=-',
  'execute_sql''s runners are security definer, executable only by their caller role, and owned by a nologin role nobody can become that has exactly the caller role''s rights'
);

-- ownership -----------------------------------------------------------------------------------------
-- an owner may alter, replace or drop its object (or disable row level security on its table),
-- and authenticator and the automation logins can become the api roles: none of them owns
-- anything in this database (every object kind, through the owner dependencies).
select is_empty(
  $$
    select pg_describe_object(d.classid, d.objid, d.objsubid) || ' owned by ' || d.refobjid::regrole::text
    from pg_shdepend as d
    where d.dbid = (select oid from pg_database where datname = current_database())
      and d.deptype = 'o'
      and d.refobjid in (
        select oid from pg_roles where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')
      )
  $$,
  'no object in the database is owned by anon, authenticated, service_role or authenticator'
);

select is_empty(
  $$
    select p.oid::regprocedure
    from pg_proc as p
    where p.pronamespace = 'private'::regnamespace
      and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) as cfg where cfg like 'search_path=%')
      -- see above; the fingerprint must see the caller's search_path (its names are qualified).
      and p.proname not in ('sql_runner_authenticated', 'sql_runner_service_role', 'sql_settings_fingerprint')
  $$,
  'every private function pins its search_path'
);

select is(
  (
    select array_agg(p.proname::text order by p.proname)
    from pg_proc as p
    where p.pronamespace = 'private'::regnamespace
      and p.proname in ('get_user_role', 'is_admin', 'is_engineer_or_admin', 'is_service', 'is_viewer_or_above', 'uid')
      and p.prosecdef and p.provolatile = 's'
  ),
  array['get_user_role', 'is_admin', 'is_engineer_or_admin', 'is_service', 'is_viewer_or_above', 'uid'],
  'the authorization helpers are stable security definer functions'
);

select ok(
  (
    select not p.prosecdef and p.proconfig is null
    from pg_proc as p
    where p.oid = 'ip_workbench.execute_sql(text, int)'::regprocedure
  ),
  'execute_sql is security invoker and has no set clause (the caller''s armed statement_timeout applies)'
);

-- views -------------------------------------------------------------------------------------------
select is_empty(
  $$
    select c.relname from pg_class as c
    where c.relnamespace = 'ip_workbench'::regnamespace and c.relkind in ('v', 'm')
      and not coalesce(c.reloptions @> array['security_invoker=true'], false)
  $$,
  'every ip_workbench view is security_invoker'
);

-- privileges ----------------------------------------------------------------------------------------
select ok(
  not has_schema_privilege('anon', 'ip_workbench', 'usage'),
  'anon has no usage on ip_workbench'
);

select is_empty(
  $$
    select c.relname from pg_class as c
    where c.relnamespace = 'ip_workbench'::regnamespace and c.relkind in ('r', 'p', 'v', 'm')
      and has_table_privilege('anon', c.oid, 'select, insert, update, delete, truncate, references, trigger')
  $$,
  'anon has no privilege on any ip_workbench table or view'
);

select is_empty(
  $$
    select p.oid::regprocedure from pg_proc as p
    where p.pronamespace in ('ip_workbench'::regnamespace, 'private'::regnamespace)
      and has_function_privilege('anon', p.oid, 'execute')
  $$,
  'anon can execute no ip_workbench or private function'
);

select is_empty(
  $$
    select c.relname from pg_class as c
    where c.relnamespace = 'private'::regnamespace and c.relkind in ('r', 'p')
      and has_table_privilege('authenticated', c.oid, 'select, insert, update, delete, truncate, references, trigger')
  $$,
  'authenticated has no privilege on private tables'
);

select is_empty(
  $$
    select c.relname from pg_class as c
    where c.relnamespace = 'ip_workbench'::regnamespace and c.relkind in ('r', 'p')
      and has_table_privilege('authenticated', c.oid, 'truncate, references, trigger')
  $$,
  'authenticated cannot truncate (which skips rls), reference or trigger ip_workbench tables'
);

select is_empty(
  $$
    select c.relname from pg_class as c
    where c.relnamespace = 'ip_workbench'::regnamespace and c.relkind in ('r', 'p')
      and has_table_privilege('authenticated', c.oid, 'update, delete')
      and c.relname in ('query_history', 'activity_log', 'llm_requests')
  $$,
  'the logs are append-only for authenticated'
);

-- indexes -------------------------------------------------------------------------------------------
-- an index serves a foreign key when its leading columns are the key's columns.
select is_empty(
  $$
    select k.conrelid::regclass, k.conname
    from pg_constraint as k
    where k.contype = 'f' and k.connamespace = 'ip_workbench'::regnamespace
      and not exists (
        select 1
        from pg_index as i,
          lateral (select (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(k.conkey)] as lead) as l
        where i.indrelid = k.conrelid and l.lead @> k.conkey and l.lead <@ k.conkey
      )
  $$,
  'every foreign key column has an index'
);

-- every column of a policy's own table that the policy expression names (owner, user_id,
-- triggered_by, ...) leads some index.
select is_empty(
  $$
    select distinct p.tablename, a.attname
    from pg_policies as p
    inner join pg_attribute as a
      on a.attrelid = format('%I.%I', p.schemaname, p.tablename)::regclass
      and a.attnum > 0 and not a.attisdropped
    where p.schemaname = 'ip_workbench'
      -- the app-role policies run for every api request; the automation roles' own policies
      -- (one login each, batch work) are left out.
      and p.roles = '{authenticated}'::name[]
      and (
        coalesce(p.qual, '') ~ ('\m' || a.attname || '\M')
        or coalesce(p.with_check, '') ~ ('\m' || a.attname || '\M')
      )
      and not exists (
        select 1 from pg_index as i
        where i.indrelid = a.attrelid and (string_to_array(i.indkey::text, ' ')::int2[])[1] = a.attnum
      )
  $$,
  'every column a policy filters on has an index'
);

select * from finish();
rollback;
