-- the attack corpus (issue 12): hostile inputs to ip_workbench.execute_sql, each sent the
-- way a request reaches the database on supabase: one transaction per request that sets
-- the role and the jwt claims with set_config(..., true) (sql/tests/harness/request.sql),
-- from the session that runs this file -- the `authenticator` login in the faithful mode
-- (test/helpers/authenticator.ts). requests commit, so the suite needs its own database
-- with sql/tests/fixtures/06_attack_corpus.sql loaded first.
--
-- for every case, four assertions:
--   1. outcome: 'refused' = the call returned an error and no rows; 'ok' = it returned no
--      error; 'any' = either (the case is judged by its check alone). a call that *raises*
--      fails all three kinds: a raised call rolls back its history row.
--   2. the next request on the same connection (an admin, claims set only through
--      request.jwt.claims as supabase's postgrest does) sees its own identity and exactly
--      the settings a fresh request has: nothing the case wrote outlived its request.
--   3. exactly one new query_history row, for the caller (null for an unknown sub), with
--      the sql sent (its first 262,144 characters) and the status matching the outcome.
--   4. the case's own check (run in that admin request; $1 is the call's result): nothing
--      the caller may not read came back and nothing it may not change changed.
-- then direct attempts to forge history (outside execute_sql) and class 3 (automation).
--
-- classes (issue 12): 1 role switch inside one statement, 2 settings outliving the call,
-- 3 escalation through automation, 4 unlogged calls and forged history, 5 scanner gaps and
-- caps, 6 forgeable records; u = the usual hostile inputs.

\ir harness/request.sql

create extension if not exists pgtap;

\ir harness/corpus.sql

create function pg_temp.corpus_label() returns text language sql immutable as $$ select 'corpus' $$;

insert into corpus (id, class, who, sql, max_rows, timeout, expect, check_sql, label) values
-- class 1: role switch inside one statement -----------------------------------------------------------
(1, '1', 'viewer', $c$select set_config('role', 'service_role', true), query_to_xml('select * from ip_workbench.cost_tracker', true, false, '')$c$, 1000, '30s', 'refused', $k$$1::text not like '%777.77%'$k$, 'set_config(role) then query_to_xml reads cost_tracker as service_role'),
(2, '1', 'viewer', $c$select set_config('role', 'service_role', true), table_to_xml('ip_workbench.cost_tracker', true, false, '')$c$, 1000, '30s', 'refused', $k$$1::text not like '%777.77%'$k$, 'set_config(role) then table_to_xml'),
(3, '1', 'viewer', $c$select set_config('role', 'service_role', true), query_to_xml_and_xmlschema('select * from ip_workbench.llm_requests', true, false, '')$c$, 1000, '30s', 'refused', $k$$1::text not like '%claude%'$k$, 'set_config(role) then query_to_xml_and_xmlschema on llm_requests'),
(4, '1', 'viewer', $c$with s as materialized (select set_config('role', 'service_role', true) as r) select (select count(*) from ip_workbench.cost_tracker) as n from s$c$, 1000, '30s', 'refused', $k$($1 #>> '{rows,0,n}') is distinct from '1'$k$, 'role switch in a materialized cte, then rls evaluated as service_role'),
(5, '1', 'viewer', $c$select set_config('role', 'service_role', true), (select string_agg(word, ',') from ts_stat('select to_tsvector(''simple'', cost_usd::text) from ip_workbench.cost_tracker'))$c$, 1000, '30s', 'refused', $k$$1::text not like '%777.77%'$k$, 'ts_stat runs a query string as the switched role'),
(6, '1', 'viewer', $c$select query_to_xml('select set_config(''role'', ''service_role'', true), (select count(*) from ip_workbench.sql_snippets)', true, false, '')$c$, 1000, '30s', 'refused', $k$true$k$, 'the role switch nested inside query_to_xml'),
(7, '1', 'engineer', $c$update ip_workbench.pipelines set description = (select set_config('role', 'service_role', true)) where id = 'c6000000-0000-4000-8000-000000000001' returning (select count(*) from ip_workbench.cost_tracker) as n$c$, 1000, '30s', 'refused', $k$(select description is null from ip_workbench.pipelines where id = 'c6000000-0000-4000-8000-000000000001')$k$, 'role switch inside an allowed write'),
(8, '1', 'engineer', $c$update pg_catalog.pg_settings set setting = 'service_role' where name = 'role'$c$, 1000, '30s', 'refused', $k$true$k$, 'update pg_settings (a rule calling set_config) to switch role'),
(9, '1', 'viewer', $c$select set_config('session_authorization', 'postgres', true)$c$, 1000, '30s', 'refused', $k$true$k$, 'session_authorization'),
(10, '1', 'viewer', $c$select set_config('role', 'anon', true), current_user$c$, 1000, '30s', 'refused', $k$true$k$, 'even a switch to a weaker role is refused'),
(11, '1', 'service', $c$select set_config('role', 'service_role', true), (select count(*) from ip_workbench.activity_log where action = 'x')$c$, 1000, '30s', 'refused', $k$true$k$, 'the service app role cannot become service_role'),
(12, '1', 'viewer', $c$select set_config('role', 'postgres', true)$c$, 1000, '30s', 'refused', $k$true$k$, 'a switch to the superuser'),
-- class 2: settings outliving the call -------------------------------------------------------------
(20, '2', 'viewer', $c$select set_config('request.jwt.claim.sub', 'a6000000-0000-4000-8000-000000000004', false)$c$, 1000, '30s', 'refused', $k$true$k$, 'session-level legacy claim.sub (auth.uid() reads it first) for the next request'),
(21, '2', 'engineer', $c$update ip_workbench.pipelines set description = set_config('request.jwt.claim.sub', 'a6000000-0000-4000-8000-000000000004', false) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'refused', $k$(select description is null from ip_workbench.pipelines where id = 'c6000000-0000-4000-8000-000000000001')$k$, 'session-level claim.sub inside an allowed write'),
(22, '2', 'engineer', $c$update ip_workbench.pipelines set description = set_config('request.jwt.claims', '{"sub": "a6000000-0000-4000-8000-000000000004", "role": "authenticated"}', true) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'refused', $k$(select description is null from ip_workbench.pipelines where id = 'c6000000-0000-4000-8000-000000000001')$k$, 'transaction-level claims inside an allowed write (later calls of the transaction)'),
(23, '2', 'engineer', $c$update ip_workbench.pipelines set description = set_config('request.jwt.claims', '{"sub": "a6000000-0000-4000-8000-000000000004", "role": "authenticated"}', false) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'refused', $k$true$k$, 'session-level claims inside an allowed write'),
(24, '2', 'engineer', $c$update ip_workbench.pipelines set description = set_config('statement_timeout', '0', false) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'refused', $k$true$k$, 'turn off the 30 s timeout for the pooled connection'),
(25, '2', 'engineer', $c$update ip_workbench.pipelines set description = set_config('search_path', 'public, pg_temp', false) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'refused', $k$true$k$, 'change search_path for later requests'),
(26, '2', 'viewer', $c$select set_config('response.headers', '[{"Set-Cookie": "session=stolen"}]', true)$c$, 1000, '30s', 'refused', $k$true$k$, 'response headers postgrest would send'),
(27, '2', 'viewer', $c$select set_config('request.jwt.claims', '{"sub": "a6000000-0000-4000-8000-000000000004", "role": "authenticated"}', true), (select count(*) from ip_workbench.cost_tracker) as n$c$, 1000, '30s', 'refused', $k$($1 #>> '{rows,0,n}') is distinct from '1'$k$, 'pose as the admin within the statement'),
(28, '2', 'viewer', $c$select set_config('transaction_read_only', 'off', true)$c$, 1000, '30s', 'refused', $k$true$k$, 'leave the read-only subtransaction'),
(29, '2', 'viewer', $c$select set_config('workbench.note', 'x', false) as s$c$, 1000, '30s', 'any', $k$coalesce(current_setting('workbench.note', true), '') = ''$k$, 'an unlisted custom setting in a read is rolled back'),
(30, '2', 'service', $c$select set_config('request.jwt.claim.role', 'service_role', false)$c$, 1000, '30s', 'refused', $k$true$k$, 'legacy claim.role'),
-- class 4: unlogged calls and forged history ----------------------------------------------------------
(40, '4', 'newbie', $c$select 1 as no_role$c$, 1000, '30s', 'refused', $k$true$k$, 'a signed-in user without an app role (was raised, unlogged)'),
(41, '4', 'ghost', $c$select 1 as ghost$c$, 1000, '30s', 'refused', $k$true$k$, 'a sub that names no user'),
(42, '4', 'viewer', $c$select 1 as bad_cap$c$, 0, '30s', 'refused', $k$true$k$, 'max_rows 0 (was raised)'),
(43, '4', 'viewer', $c$select 1 as big_cap$c$, 10001, '30s', 'refused', $k$true$k$, 'max_rows above 10,000 (was raised)'),
(44, '4', 'viewer', $c$select 1 as no_timeout$c$, 1000, '0', 'refused', $k$true$k$, 'no statement_timeout (was raised)'),
(45, '4', 'viewer', $c$select 1 as long_timeout$c$, 1000, '1h', 'refused', $k$true$k$, 'a statement_timeout above 30 s (was raised)'),
(46, '4', 'viewer', $c$select pg_sleep(3) as slept$c$, 1000, '300ms', 'refused', $k$$1 #>> '{error,code}' = '57014'$k$, 'cancelled by the statement_timeout (was raised, unlogged)'),
(47, '4', 'viewer', $c$select private.raise_on_sql_error(jsonb_build_object('error', jsonb_build_object('code', '57014', 'message', (select string_agg(name, ',') from ip_workbench.sql_snippets))))$c$, 1000, '30s', 'refused', $k$true$k$, 'data smuggled out in a query_canceled raised through a helper'),
(48, '4', 'viewer', $c$select private.raise_on_sql_error('{"error": {"code": "P0004", "message": "assert"}}')$c$, 1000, '30s', 'refused', $k$true$k$, 'assert_failure, which `when others` does not catch'),
(49, '4', 'engineer', $c$update ip_workbench.pipelines set description = (select 'x' from private.log_query('select 1', 1, 1, 'success', null, 'admin')) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'refused', $k$true$k$, 'call the old history logger from an allowed write'),
(50, '4', 'engineer', $c$update ip_workbench.pipelines set description = (select 'x' from private.sql_call_end(gen_random_uuid(), 1, 1, 'success', null)) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'refused', $k$true$k$, 'call the history writer without the call''s token'),
(51, '4', 'engineer', $c$update ip_workbench.pipelines set description = private.sql_call_begin('forged')::text where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'refused', $k$true$k$, 'open a second call from inside a call'),
(52, '4', 'engineer', $c$insert into ip_workbench.query_history (sql, status, role) values ('forged', 'success', 'admin')$c$, 1000, '30s', 'refused', $k$true$k$, 'insert into query_history'),
(53, '4', 'admin', $c$delete from ip_workbench.query_history$c$, 1000, '30s', 'refused', $k$true$k$, 'an admin deleting the history'),
(54, '4', 'engineer', $c$update ip_workbench.pipelines set description = (ip_workbench.execute_sql('select 1') ->> 'row_count') where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'refused', $k$true$k$, 'a nested execute_sql call'),
(55, '4', 'service_role', $c$select count(*) as n from ip_workbench.cost_tracker$c$, 1000, '30s', 'ok', $k$true$k$, 'service_role (no app role) is logged too'),
-- class 5: scanner gaps and caps ---------------------------------------------------------------------
(60, '5', 'viewer', E'select 1 as a --\r; select 2 as b', 1000, '30s', 'refused', $k$$1 #>> '{error,message}' like '%exactly one statement, got 2%'$k$, 'a -- comment ended by \r hides a second statement from a \n-only scanner'),
(61, '5', 'viewer', E'select 1 as a --\r, 2 as b', 1000, '30s', 'ok', $k$$1 -> 'columns' = '["a", "b"]'$k$, 'a -- comment ended by \r: the rest is sql'),
(62, '5', 'viewer', 'select cardinality(array[' || repeat('$$x$$,', 35000) || '$$x$$]) as n', 1000, '10s', 'ok', $k$$1 #>> '{rows,0,n}' = '35001'$k$, '245 kB of dollar quotes is scanned within the timeout (was quadratic)'),
(63, '5', 'viewer', 'select cardinality(array[' || repeat('$a$x$a$,', 30000) || '$a$x$a$]) as n', 1000, '10s', 'ok', $k$$1 #>> '{rows,0,n}' = '30001'$k$, '240 kB of tagged dollar quotes'),
(64, '5', 'viewer', 'select 1 as pad -- ' || repeat('x', 300000), 1000, '30s', 'refused', $k$$1 #>> '{error,code}' = '54000'$k$, 'sql longer than 262,144 characters (the history keeps the first 262,144)'),
(65, '5', 'viewer', $c$select repeat('x', 8000000) as big$c$, 1000, '30s', 'ok', $k$$1 ->> 'truncated_by' = 'bytes' and $1 -> 'rows' = '[]'$k$, 'one 8 MB cell: the 5 MiB result cap'),
(66, '5', 'viewer', $c$select g, repeat('x', 1000000) as big from generate_series(1, 10) as g$c$, 1000, '30s', 'ok', $k$$1 ->> 'truncated_by' = 'bytes' and jsonb_array_length($1 -> 'rows') = 5$k$, 'ten 1 MB rows: the first five fit in 5 MiB'),
(67, '5', 'viewer', $c$select g from generate_series(1, 100000) as g$c$, 10000, '30s', 'ok', $k$$1 ->> 'truncated_by' = 'rows' and jsonb_array_length($1 -> 'rows') = 10000$k$, 'the row cap'),
(68, '5', 'viewer', $c$select 1 /* unterminated comment$c$, 1000, '30s', 'refused', $k$true$k$, 'unterminated block comment'),
(69, '5', 'viewer', $c$select 'unterminated string$c$, 1000, '30s', 'refused', $k$true$k$, 'unterminated string'),
(70, '5', 'viewer', $c$select $q$ unterminated dollar quote$c$, 1000, '30s', 'refused', $k$true$k$, 'unterminated dollar quote'),
(71, '5', 'viewer', $c$select 1) as q, lateral (select 2$c$, 1000, '30s', 'refused', $k$true$k$, 'closing the wrapper''s parenthesis'),
(72, '5', 'viewer', $c$select 1 /* a /* nested */ ; still comment */ as x$c$, 1000, '30s', 'ok', $k$$1 -> 'columns' = '["x"]'$k$, 'nested block comments'),
(73, '5', 'viewer', E'select E\'\\\';delete from ip_workbench.sql_snippets;--\' as s', 1000, '30s', 'ok', $k$$1 #>> '{rows,0,s}' like '%delete%'$k$, 'an escaped quote in an E string hides nothing'),
(74, '5', 'viewer', E'select chr(0) as nul', 1000, '30s', 'refused', $k$true$k$, 'a NUL byte produced by the sql'),
(75, '5', 'viewer', E'select E\'a\\000b\' as nul', 1000, '30s', 'refused', $k$true$k$, 'a NUL byte in an E string'),
(76, '5', 'viewer', $c$select convert_from('\xc328'::bytea, 'UTF8') as bad$c$, 1000, '30s', 'refused', $k$true$k$, 'invalid UTF-8'),
(77, '5', 'viewer', E'select E\'\\xff\\xfe\' as bad', 1000, '30s', 'refused', $k$true$k$, 'invalid UTF-8 bytes in an E string'),
(78, '5', 'viewer', '', 1000, '30s', 'refused', $k$true$k$, 'empty sql'),
(79, '5', 'viewer', null, 1000, '30s', 'refused', $k$true$k$, 'null sql'),
(80, '5', 'viewer', E'  -- only a comment\n /* and another */ ;;', 1000, '30s', 'refused', $k$true$k$, 'comments and semicolons only'),
-- class 6: forgeable records, and class 3 set-ups -------------------------------------------------------
(90, '6', 'engineer', $c$insert into ip_workbench.llm_requests (model, cost_usd) values ('claude-sonnet-4.5', 100000)$c$, 1000, '30s', 'refused', $k$(select max(cost_usd) from ip_workbench.llm_requests) < 1000$k$, 'an engineer records an llm request with any cost'),
(91, '6', 'engineer', $c$insert into ip_workbench.job_runs (pipeline_id, status, triggered_by, completed_at, logs) values ('c6000000-0000-4000-8000-000000000002', 'completed', 'a6000000-0000-4000-8000-000000000002', now(), 'all good')$c$, 1000, '30s', 'refused', $k$not exists (select 1 from ip_workbench.job_runs where status = 'completed')$k$, 'a fake completed run on someone else''s pipeline'),
(92, '6', 'service', $c$insert into ip_workbench.activity_log (actor, action) values ('a6000000-0000-4000-8000-000000000004', 'user_role.granted')$c$, 1000, '30s', 'refused', $k$not exists (select 1 from ip_workbench.activity_log where actor = 'a6000000-0000-4000-8000-000000000004')$k$, 'service writes an audit entry for the admin'),
(93, '6', 'admin', $c$insert into ip_workbench.activity_log (actor, action) values ('a6000000-0000-4000-8000-000000000002', 'pipeline.deleted')$c$, 1000, '30s', 'refused', $k$true$k$, 'an admin writes an audit entry for someone else'),
(94, '3', 'service', $c$insert into ip_workbench.pipelines (name, owner) values ('planted', 'a6000000-0000-4000-8000-000000000004')$c$, 1000, '30s', 'refused', $k$not exists (select 1 from ip_workbench.pipelines where name = 'planted')$k$, 'service creates a pipeline owned by the admin'),
(95, '3', 'engineer', $c$update ip_workbench.pipelines set owner = 'a6000000-0000-4000-8000-000000000004' where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'refused', $k$(select owner = 'a6000000-0000-4000-8000-000000000002' from ip_workbench.pipelines where id = 'c6000000-0000-4000-8000-000000000001')$k$, 'an engineer hands their pipeline to the admin'),
(96, '3', 'service', $c$update ip_workbench.pipeline_steps set name = name where pipeline_id = 'c6000000-0000-4000-8000-000000000003' returning 1 as touched$c$, 1000, '30s', 'any', $k$true$k$, 'service edits the admin''s pipeline step (allowed by the matrix: harmless once steps run as the caller)'),
(97, '3', 'service', $c$update ip_workbench.user_roles set role = 'admin' where user_id = 'a6000000-0000-4000-8000-000000000005'$c$, 1000, '30s', 'ok', $k$(select role = 'service' from ip_workbench.user_roles where user_id = 'a6000000-0000-4000-8000-000000000005') and ($1 ->> 'affected_rows') = '0'$k$, 'the step''s sql run as the caller changes nothing'),
-- u: the usual ---------------------------------------------------------------------------------------
(100, 'u', 'viewer', $c$select 1; delete from ip_workbench.sql_snippets$c$, 1000, '30s', 'refused', $k$(select count(*) = 1 from ip_workbench.sql_snippets)$k$, 'stacked statements'),
(101, 'u', 'viewer', $c$select $$;$$ as a; delete from ip_workbench.sql_snippets$c$, 1000, '30s', 'refused', $k$(select count(*) = 1 from ip_workbench.sql_snippets)$k$, 'stacked after a dollar-quoted semicolon'),
(102, 'u', 'viewer', $c$with x as (delete from ip_workbench.sql_snippets returning 1) select count(*) from x$c$, 1000, '30s', 'refused', $k$(select count(*) = 1 from ip_workbench.sql_snippets)$k$, 'writable cte (viewer)'),
(103, 'u', 'engineer', $c$with x as (update ip_workbench.user_roles set role = 'admin' returning 1) select count(*) from x$c$, 1000, '30s', 'refused', $k$(select role = 'engineer' from ip_workbench.user_roles where user_id = 'a6000000-0000-4000-8000-000000000002')$k$, 'writable cte (engineer) on user_roles'),
(104, 'u', 'engineer', $c$update ip_workbench.user_roles set role = 'admin' where user_id = 'a6000000-0000-4000-8000-000000000002'$c$, 1000, '30s', 'ok', $k$(select role = 'engineer' from ip_workbench.user_roles where user_id = 'a6000000-0000-4000-8000-000000000002')$k$, 'an engineer makes themselves admin (rls: 0 rows)'),
(105, 'u', 'engineer', $c$insert into ip_workbench.user_roles (user_id, role) values ('a6000000-0000-4000-8000-000000000006', 'admin')$c$, 1000, '30s', 'refused', $k$not exists (select 1 from ip_workbench.user_roles where user_id = 'a6000000-0000-4000-8000-000000000006')$k$, 'an engineer grants a role'),
(106, 'u', 'engineer', $c$create table public.aiwb_pwned (id int)$c$, 1000, '30s', 'refused', $k$to_regclass('public.aiwb_pwned') is null$k$, 'ddl: create table'),
(107, 'u', 'admin', $c$drop table ip_workbench.user_roles$c$, 1000, '30s', 'refused', $k$to_regclass('ip_workbench.user_roles') is not null$k$, 'ddl: drop table'),
(108, 'u', 'admin', $c$alter role authenticated bypassrls$c$, 1000, '30s', 'refused', $k$not (select rolbypassrls from pg_roles where rolname = 'authenticated')$k$, 'ddl: alter role'),
(109, 'u', 'admin', $c$grant service_role to authenticated$c$, 1000, '30s', 'refused', $k$not pg_has_role('authenticated', 'service_role', 'member')$k$, 'grant'),
(110, 'u', 'engineer', $c$copy ip_workbench.user_roles to stdout$c$, 1000, '30s', 'refused', $k$true$k$, 'copy to stdout'),
(111, 'u', 'engineer', $c$copy (select 1) to program 'id'$c$, 1000, '30s', 'refused', $k$true$k$, 'copy to program'),
(112, 'u', 'engineer', $c$do $$ begin perform set_config('role', 'service_role', false); end $$$c$, 1000, '30s', 'refused', $k$true$k$, 'do block'),
(113, 'u', 'viewer', $c$set role service_role$c$, 1000, '30s', 'refused', $k$true$k$, 'set role'),
(114, 'u', 'viewer', $c$set local request.jwt.claims = '{"sub": "a6000000-0000-4000-8000-000000000004"}'$c$, 1000, '30s', 'refused', $k$true$k$, 'set local claims'),
(115, 'u', 'viewer', $c$reset role$c$, 1000, '30s', 'refused', $k$true$k$, 'reset role (back to authenticator)'),
(116, 'u', 'viewer', $c$set session authorization postgres$c$, 1000, '30s', 'refused', $k$true$k$, 'set session authorization'),
(117, 'u', 'engineer', $c$commit$c$, 1000, '30s', 'refused', $k$true$k$, 'transaction control: commit'),
(118, 'u', 'engineer', $c$rollback to savepoint x$c$, 1000, '30s', 'refused', $k$true$k$, 'transaction control: rollback to savepoint'),
(119, 'u', 'engineer', $c$explain analyze delete from ip_workbench.sql_snippets$c$, 1000, '30s', 'refused', $k$(select count(*) = 1 from ip_workbench.sql_snippets)$k$, 'explain analyze of a delete'),
(120, 'u', 'engineer', $c$merge into ip_workbench.sql_snippets as s using (select 1) as x on true when matched then delete$c$, 1000, '30s', 'refused', $k$(select count(*) = 1 from ip_workbench.sql_snippets)$k$, 'merge'),
(121, 'u', 'engineer', $c$lock table ip_workbench.user_roles in access exclusive mode$c$, 1000, '30s', 'refused', $k$true$k$, 'lock table'),
(122, 'u', 'engineer', $c$select * into public.aiwb_copy from ip_workbench.pipelines$c$, 1000, '30s', 'refused', $k$to_regclass('public.aiwb_copy') is null$k$, 'select into a new table'),
(123, 'u', 'viewer', $c$select * from ip_workbench.user_roles for update$c$, 1000, '30s', 'refused', $k$true$k$, 'row locks from a read'),
(124, 'u', 'viewer', $c$select pg_read_file('/etc/passwd')$c$, 1000, '30s', 'refused', $k$true$k$, 'server files'),
(125, 'u', 'viewer', $c$select lo_import('/etc/passwd')$c$, 1000, '30s', 'refused', $k$true$k$, 'large object import'),
(126, 'u', 'viewer', $c$select rolname, rolpassword from pg_authid$c$, 1000, '30s', 'refused', $k$true$k$, 'password hashes'),
(127, 'u', 'viewer', $c$select * from private.sql_sessions$c$, 1000, '30s', 'refused', $k$true$k$, 'the identity pins'),
(128, 'u', 'viewer', $c$select email from auth.users$c$, 1000, '30s', 'refused', $k$true$k$, 'auth.users'),
(129, 'u', 'viewer', $c$select pg_terminate_backend(pg_backend_pid())$c$, 1000, '30s', 'refused', $k$true$k$, 'terminate the pooled connection'),
(130, 'u', 'viewer', $c$select pg_reload_conf()$c$, 1000, '30s', 'refused', $k$true$k$, 'reload the server configuration'),
(131, 'u', 'viewer', $c$select name, sql from ip_workbench.sql_snippets$c$, 1000, '30s', 'ok', $k$$1::text not like '%engineer2 secret%'$k$, 'another user''s snippets (rls)'),
(132, 'u', 'viewer', $c$table ip_workbench.llm_requests$c$, 1000, '30s', 'ok', $k$$1 ->> 'row_count' = '0'$k$, 'llm_requests (admin only)'),
(133, 'u', 'viewer', $c$values ((select sum(cost_usd) from ip_workbench.cost_tracker))$c$, 1000, '30s', 'ok', $k$$1::text not like '%777.77%'$k$, 'cost_tracker in a scalar subquery'),
(134, 'u', 'viewer', $c$select sql, user_id from ip_workbench.query_history$c$, 1000, '30s', 'ok', $k$$1::text not like '%a6000000-0000-4000-8000-000000000002%'$k$, 'other users'' query history'),
(135, 'u', 'viewer', $c$select 1 as a union all select count(*)::int from ip_workbench.cost_tracker$c$, 1000, '30s', 'ok', $k$$1 -> 'rows' = '[{"a": 1}, {"a": 0}]'$k$, 'union to read more'),
(136, 'u', 'viewer', $c$select 'a'';delete from ip_workbench.sql_snippets;--' as s$c$, 1000, '30s', 'ok', $k$(select count(*) = 1 from ip_workbench.sql_snippets)$k$, 'a quoted injection stays a string'),
(137, 'u', 'viewer', $c$sElEcT/**/1 as "wEird"$c$, 1000, '30s', 'ok', $k$$1 -> 'columns' = '["wEird"]'$k$, 'odd casing and comments as whitespace'),
(138, 'u', 'viewer', $c$(select 1 as p)$c$, 1000, '30s', 'ok', $k$true$k$, 'a parenthesised query'),
(139, 'u', 'viewer', $c$select nextval('ip_workbench.nope_seq')$c$, 1000, '30s', 'refused', $k$true$k$, 'a missing object'),
(140, 'u', 'viewer', $c$select pg_notify('pgrst', 'reload schema')$c$, 1000, '30s', 'any', $k$true$k$, 'notify postgrest (rolled back with the read)'),
(141, 'u', 'viewer', $c$select * from ip_workbench.user_roles where user_id <> 'a6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'ok', $k$$1 ->> 'row_count' = '0'$k$, 'other users'' roles'),
(142, 'u', 'viewer', $c$insert into ip_workbench.sql_snippets (name, sql) values ('via rpc', 'select 1')$c$, 1000, '30s', 'refused', $k$not exists (select 1 from ip_workbench.sql_snippets where name = 'via rpc')$k$, 'a viewer writes through execute_sql'),
(143, 'u', 'engineer', $c$delete from ip_workbench.cost_tracker returning *$c$, 1000, '30s', 'ok', $k$(select count(*) = 1 from ip_workbench.cost_tracker)$k$, 'an engineer deletes costs (rls: none)'),
(144, 'u', 'engineer', $c$update ip_workbench.pipelines set n8n_webhook_url = 'https://evil.example/hook' where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'refused', $k$(select n8n_webhook_url is null from ip_workbench.pipelines where id = 'c6000000-0000-4000-8000-000000000001')$k$, 'configure an integration'),
(145, 'u', 'viewer', $c$select query_to_xml('delete from ip_workbench.sql_snippets returning 1', true, false, '')$c$, 1000, '30s', 'refused', $k$(select count(*) = 1 from ip_workbench.sql_snippets)$k$, 'a write through query_to_xml'),
(146, 'u', 'viewer', $c$select query_to_xml('create table public.aiwb_x (i int)', true, false, '')$c$, 1000, '30s', 'refused', $k$to_regclass('public.aiwb_x') is null$k$, 'ddl through query_to_xml'),
(147, 'u', 'viewer', $c$select dblink_exec('dbname=postgres', 'select 1')$c$, 1000, '30s', 'refused', $k$true$k$, 'dblink'),
(148, 'u', 'viewer', $c$select repeat('x', 100)::int$c$, 1000, '30s', 'refused', $k$true$k$, 'an error whose message carries data is still logged'),
(149, 'u', 'viewer', $c$select pg_sleep(0.1) from generate_series(1, 3)$c$, 1000, '30s', 'ok', $k$true$k$, 'a slow but bounded read');

select plan((select count(*)::int * 4 from corpus) + 1 + 5);

-- the baseline: what a fresh admin request shows.
begin;
select pg_temp.request('authenticated', pg_temp.claims_of('admin'), false);
insert into baseline select pg_temp.fingerprint();
insert into seen select id from ip_workbench.query_history;
select ok((select count(*) = 1 from baseline), 'baseline settings of a fresh request recorded');
commit;

-- one request per case, then one admin request that checks what it left behind.
select
  'begin',
  format('select pg_temp.request(%L, %L)', pg_temp.role_of(who), pg_temp.claims_of(who)),
  format('select set_config(''statement_timeout'', %L, true)', timeout),
  format('select pg_temp.attack(%s)', id),
  'commit',
  'begin',
  format('select pg_temp.request(''authenticated'', %L, false)', pg_temp.claims_of('admin')),
  format('select * from pg_temp.check(%s)', id),
  'commit'
from corpus
order by id
\gexec

-- forging history outside execute_sql (a direct session as authenticated) ----------------------------
begin;
select pg_temp.request('authenticated', pg_temp.claims_of('engineer'));
select throws_ok(
  $$select private.sql_call_begin('select 1 as forged')$$,
  '42501', null,
  'class 4: the history pin cannot be opened outside execute_sql'
);
select throws_ok(
  $$select private.sql_call_end(gen_random_uuid(), 1, 1, 'success', null)$$,
  '42501', null,
  'class 4: the history writer refuses a call without its token'
);
select ok(
  not exists (
    select 1 from pg_proc
    where pronamespace = 'private'::regnamespace and proname = 'log_query'
      and has_function_privilege('authenticated', oid, 'execute')
  ),
  'class 4: no history logger the api roles may call with arbitrary content'
);
commit;

-- class 3: a pipeline's steps run as the caller gain nothing --------------------------------------------
-- the fixed pipeline-trigger runs each step as the authenticated caller; here the service
-- account runs the admin pipeline's step exactly as the workflow does.
begin;
select pg_temp.request('authenticated', pg_temp.claims_of('service'));
select lives_ok(
  $$select private.raise_on_sql_error(ip_workbench.execute_sql(
      (select config ->> 'sql' from ip_workbench.pipeline_steps
       where pipeline_id = 'c6000000-0000-4000-8000-000000000003' and position = 0 and config ? 'sql')
      || ''))$$,
  'class 3: the step runs (as the caller)'
);
commit;
begin;
select pg_temp.request('authenticated', pg_temp.claims_of('admin'), false);
select is(
  (select role from ip_workbench.user_roles where user_id = 'a6000000-0000-4000-8000-000000000005'),
  'service',
  'class 3: run as the service account, the admin pipeline''s step did not make it admin'
);
commit;

select * from finish();
