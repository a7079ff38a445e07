-- ip_workbench.execute_sql: results and columns, row level security through it, one
-- statement only, read-only for viewers (even through functions), the row cap, the 30 s
-- statement_timeout precondition, history rows for every call (failed ones included),
-- identity pinning, and its privileges. every error (of the sql, of the call, and
-- cancellations) comes back in "error" and is logged; only a read-only transaction raises.
-- the 30 s expiry itself is exercised by the typescript suite; here a 200 ms timeout shows a
-- cancel is reported. the hostile inputs are in 06_attack_corpus.sql.
--
-- users: a1..01 viewer, a1..02 engineer, a1..03 engineer2, a1..04 admin, a1..05 viewer
-- whose history is counted. pipelines: c1..01 engineer's, c1..02 engineer2's.
begin;
create extension if not exists pgtap;

select plan(67);

set local statement_timeout = '30s';

-- superuser helpers ------------------------------------------------------------------------------
-- the timeout a role gets from its role setting, in ms (null when it has none).
create function pg_temp.role_timeout_ms(p_role text) returns bigint
language plpgsql
as $$
declare
  v_value text;
  v_saved text := current_setting('statement_timeout');
  v_ms bigint;
begin
  select substr(cfg, length('statement_timeout=') + 1) into v_value
  from pg_db_role_setting as s, unnest(s.setconfig) as cfg
  where s.setrole = p_role::regrole and s.setdatabase = 0 and cfg like 'statement_timeout=%';
  if v_value is null then
    return null;
  end if;
  perform set_config('statement_timeout', v_value, true);
  select setting::bigint into v_ms from pg_settings where name = 'statement_timeout';
  perform set_config('statement_timeout', v_saved, true);
  return v_ms;
end;
$$;

-- fixtures: sql/tests/fixtures/03_execute_sql.sql (loaded and committed by a superuser first).

-- privileges and settings ------------------------------------------------------------------------
-- (looked up in the catalogs: the `authenticator` login has no usage on ip_workbench itself)
create temp table fn as
  select p.oid from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
  where n.nspname = 'ip_workbench' and p.proname = 'execute_sql';
select ok(
  not has_function_privilege('anon', (select oid from fn), 'execute'),
  'anon cannot execute execute_sql'
);
select ok(
  not exists (
    select 1 from pg_proc as p, aclexplode(p.proacl) as a
    where p.oid = (select oid from fn) and a.grantee = 0
  ),
  'public has no execute privilege on execute_sql'
);
select ok(
  has_function_privilege('authenticated', (select oid from fn), 'execute')
    and has_function_privilege('service_role', (select oid from fn), 'execute'),
  'authenticated and service_role can execute execute_sql'
);
select ok(
  (select bool_and(pg_temp.role_timeout_ms(r) between 1 and 30000) from unnest(array['anon', 'authenticated', 'service_role']) as r),
  'anon, authenticated and service_role have a statement_timeout of at most 30 s'
);

-- anonymous ----------------------------------------------------------------------------------------
set local role anon;
set local request.jwt.claims = '{"role": "anon"}';
set local request.jwt.claim.sub = '';
select throws_ok($$select ip_workbench.execute_sql('select 1')$$, '42501', null, 'anon is refused by the privilege system');

-- viewer: results ----------------------------------------------------------------------------------
reset role;
set local role authenticated;
set local request.jwt.claims = '{"sub": "a1000000-0000-4000-8000-000000000001", "role": "authenticated"}';
set local request.jwt.claim.sub = 'a1000000-0000-4000-8000-000000000001';

select is(
  ip_workbench.execute_sql('select name, description from ip_workbench.domains order by name') -> 'columns',
  '["name", "description"]'::jsonb,
  'columns lists the result columns in order'
);
select is(
  ip_workbench.execute_sql('select name, description from ip_workbench.domains order by name') #>> '{rows,0,name}',
  'finance',
  'rows are objects keyed by column'
);
select is(
  (ip_workbench.execute_sql('select name from ip_workbench.domains') - 'execution_time_ms' - 'rows'),
  '{"columns": ["name"], "row_count": 4, "truncated": false, "truncated_by": null, "command": "SELECT", "affected_rows": null, "error": null}'::jsonb,
  'a select reports row_count, truncated, command and no error'
);
select ok(
  (ip_workbench.execute_sql('select 1 as one') ->> 'execution_time_ms')::int >= 0,
  'execution_time_ms is reported'
);
select is(
  ip_workbench.execute_sql('select 3 as c, 1 as a, 2 as b') -> 'columns',
  '["c", "a", "b"]'::jsonb,
  'column order is kept although jsonb objects sort their keys'
);
select is(
  ip_workbench.execute_sql('select name, description from ip_workbench.domains where false') - 'execution_time_ms',
  '{"rows": [], "columns": ["name", "description"], "row_count": 0, "truncated": false, "truncated_by": null, "command": "SELECT", "affected_rows": null, "error": null}'::jsonb,
  'an empty result still names its columns'
);
select is(
  ip_workbench.execute_sql($$values (1, 'a'), (2, 'b')$$) -> 'rows',
  '[{"column1": 1, "column2": "a"}, {"column1": 2, "column2": "b"}]'::jsonb,
  'values queries run'
);
select is(
  ip_workbench.execute_sql('table ip_workbench.domains') ->> 'row_count',
  '4',
  'table queries run'
);
select is(
  ip_workbench.execute_sql($q$with f as (select name from ip_workbench.domains where name like 'f%') select * from f$q$) #>> '{rows,0,name}',
  'finance',
  'with queries run'
);
select is(
  ip_workbench.execute_sql(
    E'select \';\' as a, $$;$$ as b, $t$ ) ; $t$ as c, E\'\\\';\' as d, 1 as "se;mi" /* nested /* ; */ ; */ -- ;\n ;  -- trailing\n;'
  ) -> 'columns',
  '["a", "b", "c", "d", "se;mi"]'::jsonb,
  'semicolons and parentheses inside strings, dollar quotes, identifiers and comments, and trailing semicolons, are fine'
);

-- viewer: row level security -----------------------------------------------------------------------
select is(
  ip_workbench.execute_sql('select count(*)::int as n from ip_workbench.cost_tracker') #>> '{rows,0,n}',
  '0',
  'rls applies through execute_sql: a viewer sees no cost_tracker rows'
);
select is(
  ip_workbench.execute_sql('select name from ip_workbench.sql_snippets') -> 'rows',
  '[{"name": "viewer snippet"}]'::jsonb,
  'rls applies through execute_sql: a viewer sees only their own snippets'
);

-- identity pinning: the sql sets admin claims before reading cost_tracker.
select is(
  ip_workbench.execute_sql($q$
    with s as materialized (
      select set_config('request.jwt.claims', '{"sub": "a1000000-0000-4000-8000-000000000004", "role": "authenticated"}', true) as c
    )
    select (select count(*)::int from ip_workbench.cost_tracker) as n from s
  $q$) - 'execution_time_ms' - 'error',
  '{"rows": [], "columns": [], "row_count": 0, "truncated": false, "truncated_by": null, "command": "SELECT", "affected_rows": null}'::jsonb,
  'sql run by execute_sql cannot pose as another user by setting request.jwt.claims: refused, no rows'
);
select is(
  auth.uid(),
  'a1000000-0000-4000-8000-000000000001'::uuid,
  'the caller''s claims are unchanged after execute_sql'
);
-- baseline: the same query run directly is a real impersonation (direct database access is
-- trusted, as on supabase); it is execute_sql's pin that stops it there.
select is(
  (
    with s as materialized (
      select set_config('request.jwt.claims', '{"sub": "a1000000-0000-4000-8000-000000000004", "role": "authenticated"}', true) as c,
        set_config('request.jwt.claim.sub', 'a1000000-0000-4000-8000-000000000004', true) as l
    )
    select (select count(*)::int from ip_workbench.cost_tracker) from s
  ),
  1,
  'baseline: run directly, the same claim change does reach the admin-only rows'
);
set local request.jwt.claims = '{"sub": "a1000000-0000-4000-8000-000000000001", "role": "authenticated"}';
set local request.jwt.claim.sub = 'a1000000-0000-4000-8000-000000000001';

-- viewer: read-only ---------------------------------------------------------------------------------
select is(
  ip_workbench.execute_sql('delete from ip_workbench.sql_snippets') #>> '{error,code}',
  '42501',
  'a viewer''s delete is rejected'
);
select is(
  ip_workbench.execute_sql($$insert into ip_workbench.sql_snippets (name, sql) values ('via rpc', 'select 1')$$) #>> '{error,code}',
  '42501',
  'a viewer''s insert is rejected (even where the viewer may insert directly)'
);
select is(
  ip_workbench.execute_sql($$select private.sql_call_end(gen_random_uuid(), 0, 0, 'success', null)$$) #>> '{error,code}',
  '25006',
  'a viewer''s query runs read-only: a writing function called from a select fails'
);
select is(
  ip_workbench.execute_sql($$select set_config('statement_timeout', '0', false) as s$$) #>> '{error,code}',
  '42501',
  'a select that changes a setting is refused...'
);
select is(
  current_setting('statement_timeout'),
  '30s',
  '...and its settings are rolled back with the read-only subtransaction'
);
select is(current_setting('transaction_read_only'), 'off', 'the caller''s transaction is read-write again afterwards');
select is_empty(
  $$select 1 from ip_workbench.sql_snippets where name = 'via rpc'$$,
  'nothing was written'
);

-- one statement --------------------------------------------------------------------------------------
select is(
  ip_workbench.execute_sql('select 1; select 2') #>> '{error,code}',
  '42601',
  'stacked statements are rejected'
);

reset role;
set local role authenticated;
set local request.jwt.claims = '{"sub": "a1000000-0000-4000-8000-000000000002", "role": "authenticated"}';
set local request.jwt.claim.sub = 'a1000000-0000-4000-8000-000000000002';

select is(
  ip_workbench.execute_sql('select 1; delete from ip_workbench.sql_snippets') #>> '{error,message}',
  'execute_sql runs exactly one statement, got 2',
  'a stacked delete is rejected with a clear message'
);
select is(
  ip_workbench.execute_sql('select 1) as q; delete from ip_workbench.sql_snippets; select (1') #>> '{error,code}',
  '42601',
  'sql cannot close the wrapper''s parenthesis to stack a statement'
);
select is(
  ip_workbench.execute_sql('select 1) as q cross join (select 2') #>> '{error,code}',
  '42601',
  'unbalanced parentheses are rejected'
);
select is(
  ip_workbench.execute_sql('delete from ip_workbench.sql_snippets returning 1), x as (delete from ip_workbench.pipelines returning 1') #>> '{error,code}',
  '42601',
  'a dml cannot append a second data-modifying cte'
);
select is(
  ip_workbench.execute_sql('with x as (delete from ip_workbench.sql_snippets returning 1) select count(*) from x') #>> '{error,code}',
  '0A000',
  'a data-modifying cte is rejected, even for an engineer'
);
select is(
  (select count(*)::int from ip_workbench.sql_snippets),
  1,
  'none of the rejected statements deleted anything'
);
select is(
  ip_workbench.execute_sql('create table public.aiwb_oops (id int)') #>> '{error,code}',
  '0A000',
  'ddl is rejected'
);
select is(
  ip_workbench.execute_sql('merge into ip_workbench.sql_snippets as s using (select 1) as x on false when not matched then do nothing') #>> '{error,code}',
  '0A000',
  'merge is rejected'
);

-- engineer: one dml statement under rls ----------------------------------------------------------------
select is(
  ip_workbench.execute_sql($$update ip_workbench.pipelines set description = 'via sql' where id = 'c1000000-0000-4000-8000-000000000001' returning name, description$$) - 'execution_time_ms',
  '{"rows": [{"name": "sql engineer pipeline", "description": "via sql"}], "columns": ["name", "description"], "row_count": 1, "truncated": false, "truncated_by": null, "command": "UPDATE", "affected_rows": 1, "error": null}'::jsonb,
  'an engineer''s update ... returning returns the rows'
);
select is(
  ip_workbench.execute_sql($$update ip_workbench.pipelines set description = 'again' where id = 'c1000000-0000-4000-8000-000000000001'$$) - 'execution_time_ms',
  '{"rows": [], "columns": [], "row_count": 0, "truncated": false, "truncated_by": null, "command": "UPDATE", "affected_rows": 1, "error": null}'::jsonb,
  'without returning, affected_rows counts the changed rows'
);
select is(
  ip_workbench.execute_sql($$update ip_workbench.pipelines set description = 'hijacked' where id = 'c1000000-0000-4000-8000-000000000002'$$) ->> 'affected_rows',
  '0',
  'rls applies to an engineer''s dml: another engineer''s pipeline is untouched'
);
select is(
  ip_workbench.execute_sql($$insert into ip_workbench.sql_snippets (name, sql) values ('from the editor', 'select 3') returning name; -- saved$$) #>> '{rows,0,name}',
  'from the editor',
  'an insert with a trailing semicolon and comment runs'
);
select is(
  ip_workbench.execute_sql('delete from ip_workbench.cost_tracker') ->> 'affected_rows',
  '0',
  'an engineer cannot delete costs through execute_sql either'
);
select is(
  ip_workbench.execute_sql($$update ip_workbench.pipelines set description = (ip_workbench.execute_sql('select 1') ->> 'row_count') where id = 'c1000000-0000-4000-8000-000000000001'$$) #>> '{error,code}',
  '0A000',
  'execute_sql cannot be nested'
);

-- row cap ---------------------------------------------------------------------------------------------
select is(
  ip_workbench.execute_sql('select g from generate_series(1, 50) as g', 10) - 'execution_time_ms' - 'rows' - 'columns',
  '{"row_count": 10, "truncated": true, "truncated_by": "rows", "command": "SELECT", "affected_rows": null, "error": null}'::jsonb,
  'max_rows caps the rows and sets truncated'
);
select is(
  ip_workbench.execute_sql('select g from generate_series(1, 50) as g', 10) #>> '{rows,9,g}',
  '10',
  'the capped rows are the first ones'
);
select is(
  ip_workbench.execute_sql('select g from generate_series(1, 10) as g', 10) ->> 'truncated',
  'false',
  'exactly max_rows rows is not truncated'
);
select is(
  ip_workbench.execute_sql('select g from generate_series(1, 1500) as g') - 'execution_time_ms' - 'rows' - 'columns',
  '{"row_count": 1000, "truncated": true, "truncated_by": "rows", "command": "SELECT", "affected_rows": null, "error": null}'::jsonb,
  'the default cap is 1000 rows'
);
select is(
  ip_workbench.execute_sql('select 1', 10001) #>> '{error,code}',
  '22023',
  'max_rows above 10000 is rejected'
);
select is(
  ip_workbench.execute_sql('select 1', 0) #>> '{error,code}',
  '22023',
  'max_rows below 1 is rejected'
);
select is(
  ip_workbench.execute_sql($$select g, repeat('x', 1000000) as pad from generate_series(1, 8) as g$$) - 'rows' - 'execution_time_ms' - 'columns',
  '{"row_count": 5, "truncated": true, "truncated_by": "bytes", "command": "SELECT", "affected_rows": null, "error": null}'::jsonb,
  'results are capped at 5 MiB of row json: truncated_by says which cap cut them'
);
select is(
  ip_workbench.execute_sql('select g from generate_series(1, 20000) as g', 10000) ->> 'row_count',
  '10000',
  'max_rows may be 10000'
);

-- errors inside the query --------------------------------------------------------------------------------
select is(
  ip_workbench.execute_sql('select 1 / 0 as x') -> 'error',
  '{"code": "22012", "message": "division by zero", "detail": null, "hint": null}'::jsonb,
  'a failing query reports its sqlstate and message'
);
select is(
  ip_workbench.execute_sql('select 1 as ok') #>> '{rows,0,ok}',
  '1',
  'the caller''s transaction is usable after a failed query'
);

-- statement_timeout precondition -------------------------------------------------------------------------
set local statement_timeout = 0;
select is(
  ip_workbench.execute_sql('select 1') #>> '{error,code}',
  '55000',
  'execute_sql refuses to run without a statement_timeout'
);
select matches(
  ip_workbench.execute_sql('select 1') #>> '{error,message}',
  'run  set statement_timeout = ''30s''  first',
  'the refusal tells the caller to set statement_timeout = ''30s'''
);
set local statement_timeout = '31s';
select is(
  ip_workbench.execute_sql('select 1') #>> '{error,code}',
  '55000',
  'execute_sql refuses a statement_timeout above 30 s'
);
set local statement_timeout = '5s';
select is(
  ip_workbench.execute_sql('select 1 as one') #>> '{error}',
  null,
  'a smaller statement_timeout (supabase gives authenticated 8s) is accepted'
);
set local statement_timeout = '200ms';
select is(
  ip_workbench.execute_sql('select pg_sleep(2)') #>> '{error,code}',
  '57014',
  'a query stopped by statement_timeout is cancelled and reported as 57014 (not raised: the call is logged)'
);
set local statement_timeout = '30s';

-- read-only transactions ------------------------------------------------------------------------------
select throws_ok(
  $$select set_config('transaction_read_only', 'on', true), ip_workbench.execute_sql('select 1')$$,
  '25006', null,
  'execute_sql refuses to run in a read-only transaction, where it could not log'
);

-- history: every call leaves a row, failed ones included ---------------------------------------------------
reset role;
set local role authenticated;
set local request.jwt.claims = '{"sub": "a1000000-0000-4000-8000-000000000005", "role": "authenticated"}';
set local request.jwt.claim.sub = 'a1000000-0000-4000-8000-000000000005';

select is(ip_workbench.execute_sql('select 1 as a') #>> '{error}', null, 'history call 1: a successful select');
select is(ip_workbench.execute_sql('select 1 / 0 as b') #>> '{error,code}', '22012', 'history call 2: a failing select');
select is(ip_workbench.execute_sql('select 3 as c; select 4') #>> '{error,code}', '42601', 'history call 3: a rejected stacked statement');
select is(ip_workbench.execute_sql('delete from ip_workbench.pipelines') #>> '{error,code}', '42501', 'history call 4: a rejected viewer write');
set local statement_timeout = 0;
select is(ip_workbench.execute_sql('select 5 as e') #>> '{error,code}', '55000', 'history call 5: refused without a statement_timeout');
set local statement_timeout = '30s';

select results_eq(
  $$
    select sql, status, rows_returned, error_message is not null, role, user_id = auth.uid(), execution_time_ms is not null
    from ip_workbench.query_history
    order by sql
  $$,
  $$
    values
      ('delete from ip_workbench.pipelines', 'error', null::int, true, 'viewer', true, true),
      ('select 1 / 0 as b', 'error', null::int, true, 'viewer', true, true),
      ('select 1 as a', 'success', 1, false, 'viewer', true, true),
      ('select 3 as c; select 4', 'error', null::int, true, 'viewer', true, true),
      ('select 5 as e', 'error', null::int, true, 'viewer', true, true)
  $$,
  'each call, refused and failed ones included, left one history row for the caller, readable by them'
);
select throws_ok(
  $$insert into ip_workbench.query_history (sql) values ('forged')$$,
  '42501', null,
  'nobody writes query_history directly'
);

-- an admin reads everyone's history
reset role;
set local role authenticated;
set local request.jwt.claims = '{"sub": "a1000000-0000-4000-8000-000000000004", "role": "authenticated"}';
set local request.jwt.claim.sub = 'a1000000-0000-4000-8000-000000000004';
select ok(
  (select count(distinct user_id) from ip_workbench.query_history) >= 3,
  'an admin reads every user''s query history'
);
select is(
  ip_workbench.execute_sql('select count(*)::int as n from ip_workbench.cost_tracker') #>> '{rows,0,n}',
  '1',
  'an admin sees cost_tracker through execute_sql'
);

reset role;
select * from finish();
rollback;
