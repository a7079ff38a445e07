-- who may change execute_sql's runners (issue 12 red team, 20261130002300_sql_runner_owners.sql).
--
-- the runners were owned by the roles that call them (authenticated, service_role), and every
-- session that can become those roles (authenticator, i.e. postgrest; the wb_<env>_n8n login,
-- whose pipeline runs `set local role authenticated`) could alter, rename or drop them:
-- `alter function private.sql_runner_authenticated(text, text, int, int) security invoker`
-- brought back the role switch inside one statement (class 1) for every user. each case
-- below is such ddl, reached the way that session reaches it; all must fail with 42501
-- (must be owner / permission denied). then execute_sql must still work, and run the user's
-- sql as the owner role with the caller role's rights.
--
-- modes: as `authenticator` (the faithful one) the chains start from the real login; as the
-- superuser, `set role authenticator` first. the n8n chain (workbench_n8n -> authenticated)
-- needs a session that can become workbench_n8n: the superuser mode only (the n8n login
-- itself is tested in test/integration/database-layer.test.ts). the fixture is
-- sql/tests/fixtures/09_ownership.sql; requests commit one by one (own database).

\ir harness/request.sql

create extension if not exists pgtap;

create temp table results (id text primary key, result jsonb);
grant select, insert on results to public;

-- becomes each role of p_roles in turn (set_config(..., true), as postgrest and the n8n
-- workflow do), then runs p_sql. ddl that succeeds is undone by raising, so that a failing
-- case changes nothing for the next one.
create function pg_temp.ddl_as(p_roles text[], p_sql text) returns void language plpgsql as $$
declare
  v_role text;
begin
  foreach v_role in array p_roles loop
    perform pg_catalog.set_config('role', v_role, true);
  end loop;
  execute p_sql;
  raise exception using errcode = 'P0009', message = 'the ddl succeeded as ' || current_user || ': ' || p_sql;
end;
$$;

-- a case that only the superuser mode can reach.
create function pg_temp.superuser_only(p_test text, p_why text) returns setof text language plpgsql as $$
begin
  if session_user = 'authenticator' then
    return next skip(p_why, 1);
  else
    return query execute p_test;
  end if;
end;
$$;

select plan(15);

-- 1-7: authenticator (postgrest's login) as authenticated or service_role -----------------------------
select throws_ok(
  $$select pg_temp.ddl_as(array['authenticator', 'authenticated'],
    'alter function private.sql_runner_authenticated(text, text, int, int) security invoker')$$,
  '42501', 'must be owner of function private.sql_runner_authenticated',
  'authenticator as authenticated cannot make the runner security invoker (class 1 back for every user)'
);
select throws_ok(
  $$select pg_temp.ddl_as(array['authenticator', 'authenticated'],
    'drop function private.sql_runner_authenticated(text, text, int, int)')$$,
  '42501', 'must be owner of function private.sql_runner_authenticated',
  'authenticator as authenticated cannot drop the runner'
);
select throws_ok(
  $$select pg_temp.ddl_as(array['authenticator', 'authenticated'],
    'alter function private.sql_runner_authenticated(text, text, int, int) rename to sql_runner_gone')$$,
  '42501', 'must be owner of function sql_runner_authenticated',
  'authenticator as authenticated cannot rename the runner (to put its own in its place)'
);
select throws_ok(
  $$select pg_temp.ddl_as(array['authenticator', 'authenticated'],
    'alter function private.sql_runner_authenticated(text, text, int, int) owner to authenticated')$$,
  '42501', 'must be owner of function sql_runner_authenticated',
  'authenticator as authenticated cannot take the runner back'
);
select throws_ok(
  $$select pg_temp.ddl_as(array['authenticator', 'service_role'],
    'alter function private.sql_runner_service_role(text, text, int, int) security invoker')$$,
  '42501', 'must be owner of function private.sql_runner_service_role',
  'authenticator as service_role cannot make the service_role runner security invoker'
);
select throws_ok(
  $$select pg_temp.ddl_as(array['authenticator', 'service_role'],
    'drop function private.sql_runner_service_role(text, text, int, int)')$$,
  '42501', 'must be owner of function private.sql_runner_service_role',
  'authenticator as service_role cannot drop the service_role runner'
);
select throws_ok(
  $$select pg_temp.ddl_as(array['authenticator', 'authenticated'],
    'grant sql_runner_owner_authenticated to authenticator')$$,
  '42501', null,
  'authenticator as authenticated cannot make itself a member of the runner''s owner'
);

-- 8: the n8n login's path ------------------------------------------------------------------------------
select pg_temp.superuser_only(
  $t$select throws_ok(
    $$select pg_temp.ddl_as(array['workbench_n8n', 'authenticated'],
      'alter function private.sql_runner_authenticated(text, text, int, int) security invoker')$$,
    '42501', 'must be owner of function private.sql_runner_authenticated',
    'the n8n group role as authenticated (its pipeline runs) cannot make the runner security invoker')$t$,
  'needs a session that can become workbench_n8n (the superuser mode; the real n8n login: database-layer.test.ts)'
);

-- 9: nobody but a superuser can become an owner ----------------------------------------------------------
select is_empty(
  $$
    select r.rolname || ' can become ' || o.rolname
    from pg_roles as r, pg_roles as o
    where o.rolname in ('sql_runner_owner_authenticated', 'sql_runner_owner_service_role')
      and r.oid <> o.oid
      and not r.rolsuper
      and pg_has_role(r.oid, o.oid, 'member')
  $$,
  'no role but a superuser is a member of a runner''s owner'
);

-- 10-15: execute_sql still works, as the owner role with the caller's rights ------------------------------
begin;
select pg_temp.request('authenticated', '{"sub": "a9000000-0000-4000-8000-000000000001", "role": "authenticated"}');
insert into results values ('viewer', ip_workbench.execute_sql(
  'select current_user as u, (select count(*) from ip_workbench.user_roles where user_id::text like ''a9%'') as n'));
commit;

begin;
select pg_temp.request('authenticated', '{"sub": "a9000000-0000-4000-8000-000000000001", "role": "authenticated"}');
insert into results values ('switch', ip_workbench.execute_sql(
  'select pg_catalog.set_config(''role'', ''service_role'', true), pg_catalog.query_to_xml(''select count(*) from ip_workbench.user_roles'', true, false, '''')'));
commit;

begin;
select pg_temp.request('authenticated', '{"sub": "a9000000-0000-4000-8000-000000000002", "role": "authenticated"}');
insert into results values ('engineer', ip_workbench.execute_sql(
  'select current_user as u, (select count(*) from ip_workbench.user_roles where user_id::text like ''a9%'') as n'));
commit;

begin;
select pg_temp.request('service_role', '{"role": "service_role"}');
insert into results values ('service_role', ip_workbench.execute_sql(
  'select current_user as u, (select count(*) from ip_workbench.user_roles where user_id::text like ''a9%'') as n'));
commit;

select is(
  (select result -> 'rows' from results where id = 'viewer'),
  '[{"u": "sql_runner_owner_authenticated", "n": 1}]'::jsonb,
  'a viewer''s sql runs as the runner''s owner and sees only its own role row (the to-authenticated policies apply)'
);
select is(
  (select result #>> '{error,code}' from results where id = 'switch'),
  '42501',
  'the role switch inside one statement is still refused (security definer frame)'
);
select matches(
  (select result #>> '{error,message}' from results where id = 'switch'),
  'cannot set parameter "role" within security-definer function',
  'refused by postgresql itself, not by a name list'
);
select is(
  (select result -> 'rows' from results where id = 'engineer'),
  '[{"u": "sql_runner_owner_authenticated", "n": 1}]'::jsonb,
  'an engineer''s sql runs as the runner''s owner with an engineer''s rights'
);
select is(
  (select result -> 'rows' from results where id = 'service_role'),
  '[{"u": "sql_runner_owner_service_role", "n": 2}]'::jsonb,
  'service_role''s sql runs as its runner''s owner, which bypasses row level security like service_role'
);
select is(
  (select count(*)::int from results where coalesce(result -> 'error', 'null') <> 'null' and id <> 'switch'),
  0,
  'no other call failed'
);

select * from finish();
