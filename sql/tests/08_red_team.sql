-- red team of issue 12: hostile inputs to ip_workbench.execute_sql found after the issue 12
-- fixes (holes closed by 20261130000400_red_team_hardening.sql) and further attempts that
-- turned out harmless, kept as regression cases. same framework as 06_attack_corpus.sql:
-- one committed transaction per request, set up the way postgrest does it
-- (sql/tests/harness/request.sql), from the `authenticator` login in the faithful mode; the
-- fixture is sql/tests/fixtures/08_red_team.sql. `legacy` says whether the attack request
-- also sets the per-claim settings (older postgrest) or only request.jwt.claims (supabase's).
--
-- for every case, four assertions: the outcome ('refused', 'ok' or 'any'), the next request
-- on the same connection (an admin, request.jwt.claims only) has its own identity and a
-- fresh request's settings, exactly one new history row (the caller's, the sql sent, the
-- status), and the case's own check (run in that admin request; $1 is the call's result).
--
-- classes: m = masked session settings (a session-level set hidden behind a local one),
-- a = session advisory locks, e = error text beyond the byte cap, s = scanner and lexer
-- disagreeing, 6 = forgeable records (approval decisions, llm request ids), h = harmless (tried, nothing gained).

\ir harness/request.sql

create extension if not exists pgtap;

\ir harness/corpus.sql

create function pg_temp.corpus_label() returns text language sql immutable as $$ select 'red team' $$;

insert into corpus (id, class, who, sql, max_rows, timeout, expect, check_sql, label, legacy) values
-- m: masked session settings (hole: an engineer became the admin in later requests) ---------------
(1, 'm', 'engineer', $c$update ip_workbench.pipelines set description = (select set_config('request.jwt.claim.sub', 'a6000000-0000-4000-8000-000000000003', false) || set_config('request.jwt.claim.sub', o.v, true) from (select coalesce(current_setting('request.jwt.claim.sub', true), '') as v offset 0) as o) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'any', $k$coalesce(current_setting('request.jwt.claim.sub', true), '') = ''$k$, 'session claim.sub masked by a local set of its old value (legacy request)', true),
(2, 'm', 'engineer', $c$update ip_workbench.pipelines set description = (select set_config('request.jwt.claim.sub', 'a6000000-0000-4000-8000-000000000003', false) || set_config('request.jwt.claim.sub', o.v, true) from (select coalesce(current_setting('request.jwt.claim.sub', true), '') as v offset 0) as o) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'any', $k$coalesce(current_setting('request.jwt.claim.sub', true), '') = ''$k$, 'the same with request.jwt.claims only (supabase''s postgrest; was: next request = engineer2)', false),
(3, 'm', 'engineer', $c$update ip_workbench.pipelines set description = (select set_config('request.jwt.claims', '{"sub": "a6000000-0000-4000-8000-000000000004", "role": "authenticated"}', false) || set_config('request.jwt.claims', o.v, true) from (select current_setting('request.jwt.claims') as v offset 0) as o) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'any', $k$true$k$, 'session request.jwt.claims masked', false),
(4, 'm', 'engineer', $c$update ip_workbench.pipelines set description = (select set_config('request.jwt.claim', '{"sub": "a6000000-0000-4000-8000-000000000003", "app_metadata": {"role": "admin"}}', false) || set_config('request.jwt.claim', o.v, true) from (select coalesce(current_setting('request.jwt.claim', true), '') as v offset 0) as o) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'any', $k$auth.jwt() ->> 'sub' = 'a6000000-0000-4000-8000-000000000004'$k$, 'session request.jwt.claim (auth.jwt() reads it first) masked', false),
(5, 'm', 'engineer', $c$update ip_workbench.pipelines set description = (select set_config('request.jwt.claim.role', 'service_role', false) || set_config('request.jwt.claim.role', o.v, true) from (select coalesce(current_setting('request.jwt.claim.role', true), '') as v offset 0) as o) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'any', $k$auth.role() = 'authenticated'$k$, 'session claim.role masked', true),
(6, 'm', 'engineer', $c$update ip_workbench.pipelines set description = (select set_config('statement_timeout', '0', false) || set_config('statement_timeout', o.v, true) from (select current_setting('statement_timeout') as v offset 0) as o) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'any', $k$true$k$, 'session statement_timeout 0 masked', true),
(7, 'm', 'engineer', $c$update ip_workbench.pipelines set description = (select set_config('default_transaction_read_only', 'on', false) || set_config('default_transaction_read_only', o.v, true) from (select current_setting('default_transaction_read_only') as v offset 0) as o) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'any', $k$current_setting('default_transaction_read_only') = 'off'$k$, 'session default_transaction_read_only masked (every later write on the connection would fail)', true),
(8, 'm', 'engineer', $c$update ip_workbench.pipelines set description = (select set_config('search_path', 'pg_temp, public', false) || set_config('search_path', o.v, true) from (select current_setting('search_path') as v offset 0) as o) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'any', $k$true$k$, 'session search_path masked', true),
(9, 'm', 'engineer', $c$update ip_workbench.pipelines set description = (select set_config('TimeZone', 'Pacific/Kiritimati', false) || set_config('TimeZone', o.v, true) from (select current_setting('TimeZone') as v offset 0) as o) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'any', $k$true$k$, 'session TimeZone masked (shifts every later user''s times)', true),
(10, 'm', 'engineer', $c$update ip_workbench.pipelines set description = query_to_xml($q$select set_config('request.jwt.claim.sub', 'a6000000-0000-4000-8000-000000000003', false), set_config('request.jwt.claim.sub', '', true)$q$, true, false, '')::text where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'any', $k$coalesce(current_setting('request.jwt.claim.sub', true), '') = ''$k$, 'the mask inside query_to_xml', false),
(11, 'm', 'admin', $c$update ip_workbench.pipelines set description = (select set_config('request.jwt.claim.email', 'ceo@corpus.test', false) || set_config('request.jwt.claim.email', o.v, true) from (select coalesce(current_setting('request.jwt.claim.email', true), '') as v offset 0) as o) where id = 'c6000000-0000-4000-8000-000000000003'$c$, 1000, '30s', 'any', $k$coalesce(current_setting('request.jwt.claim.email', true), '') = ''$k$, 'an admin masks claim.email', false),
(12, 'm', 'service_role', $c$update ip_workbench.pipelines set description = (select set_config('request.jwt.claim.sub', 'a6000000-0000-4000-8000-000000000003', false) || set_config('request.jwt.claim.sub', o.v, true) from (select coalesce(current_setting('request.jwt.claim.sub', true), '') as v offset 0) as o) where id = 'c6000000-0000-4000-8000-000000000002'$c$, 1000, '30s', 'any', $k$coalesce(current_setting('request.jwt.claim.sub', true), '') = ''$k$, 'service_role leaves nothing on the connection either', false),
(13, 'm', 'engineer', $c$update ip_workbench.pipelines set description = (select set_config('request.jwt.claim.sub', 'a6000000-0000-4000-8000-000000000003', false) || coalesce(set_config('request.jwt.claim.sub', null, true), '')) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'any', $k$coalesce(current_setting('request.jwt.claim.sub', true), '') = ''$k$, 'session set masked by a local reset', false),
(14, 'm', 'engineer', $c$update ip_workbench.pipelines set description = (select set_config('role', 'service_role', false) || set_config('role', 'authenticated', true)) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'refused', $k$true$k$, 'a masked role change (refused in the definer frame)', false),
-- a: session advisory locks (hole: a viewer held the migration runner's lock on a pooled connection)
(20, 'a', 'viewer', $c$select pg_advisory_lock(7240115001) as l$c$, 1000, '30s', 'any', $k$not exists (select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid())$k$, 'the migration runner''s lock, taken in a read', true),
(21, 'a', 'viewer', $c$select pg_advisory_lock(5) as a, pg_advisory_lock(5) as b, pg_advisory_lock(5) as c$c$, 1000, '30s', 'any', $k$not exists (select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid())$k$, 'one lock taken three times', true),
(22, 'a', 'viewer', $c$select pg_advisory_lock_shared(-1, 2147483647) as s$c$, 1000, '30s', 'any', $k$not exists (select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid())$k$, 'a shared (int, int) lock with extreme keys', true),
(23, 'a', 'viewer', $c$select pg_try_advisory_lock(-9223372036854775808) as t$c$, 1000, '30s', 'any', $k$not exists (select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid())$k$, 'the smallest bigint key', true),
(24, 'a', 'engineer', $c$update ip_workbench.pipelines set description = pg_advisory_lock(42)::text where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'any', $k$not exists (select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid())$k$, 'a session lock in a write', true),
(25, 'a', 'viewer', $c$select pg_advisory_lock(7) as l, 1 / 0 as boom$c$, 1000, '30s', 'refused', $k$not exists (select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid())$k$, 'a lock, then an error', true),
(27, 'a', 'viewer', $c$select count(pg_advisory_lock(9)) as n from generate_series(1, 300000)$c$, 1000, '30s', 'any', $k$not exists (select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid())$k$, 'one lock taken 300,000 times', true),
(26, 'a', 'viewer', $c$select pg_advisory_xact_lock(8) as x$c$, 1000, '30s', 'any', $k$not exists (select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid())$k$, 'a transaction-level lock ends with the request', true),
-- e: error text beyond the byte cap (hole: a 20 MB error message was returned and logged) ----------
(30, 'e', 'viewer', $c$select repeat('x', 20000000)::int as n$c$, 1000, '30s', 'refused', $k$pg_catalog.length($1::text) < 20000 and $1 #>> '{error,message}' like '%cut by execute_sql at 8192 of %'$k$, 'a cast error carrying 20 MB of input', true),
(31, 'e', 'viewer', $c$select private.raise_on_sql_error(jsonb_build_object('error', jsonb_build_object('code', 'P0001', 'message', repeat('m', 3000000), 'hint', repeat('h', 3000000))))$c$, 1000, '30s', 'refused', $k$pg_catalog.length($1::text) < 40000$k$, 'a raised error with a 3 MB message, detail and hint', true),
(32, 'e', 'engineer', $c$insert into ip_workbench.sql_snippets (name, sql) values (repeat('n', 100), repeat('s', 10000000)::int::text)$c$, 1000, '30s', 'refused', $k$pg_catalog.length($1::text) < 20000$k$, 'the same in a write', true),
-- s: scanner and lexer disagreeing (hole: a writer ran two data-modifying statements in one call) --
(40, 's', 'engineer', $c$insert into ip_workbench.sql_snippets (name, sql) values ('one', 'x') returning 1 as a€$$), two as (insert into ip_workbench.sql_snippets (name, sql) values ('two', 'y') returning 1 as b€$$$c$, 1000, '30s', 'refused', $k$not exists (select 1 from ip_workbench.sql_snippets where name in ('one', 'two'))$k$, 'a non-letter non-ascii character before $$ hides a second write from the scanner', true),
(41, 's', 'engineer', $c$delete from ip_workbench.sql_snippets where false returning 1 as €$$), two as (insert into ip_workbench.sql_snippets (name, sql) values ('three', 'z') returning 1 as €$$$c$, 1000, '30s', 'refused', $k$not exists (select 1 from ip_workbench.sql_snippets where name = 'three')$k$, 'a non-ascii identifier start before $$', true),
(42, 's', 'viewer', $c$select $€$;)$€$ as s$c$, 1000, '30s', 'ok', $k$$1 #>> '{rows,0,s}' = ';)'$k$, 'a dollar quote with a non-ascii tag is a string to both', true),
(43, 's', 'viewer', $c$select 1 as x€, 2 as "y€"$c$, 1000, '30s', 'ok', $k$$1 -> 'columns' = '["x€", "y€"]'$k$, 'non-ascii identifiers', true),
(44, 's', 'viewer', $c$select 'a' as é$$, 2 as z$c$, 1000, '30s', 'ok', $k$$1 -> 'columns' = '["é$$", "z"]'$k$, 'a non-ascii letter then $$ is one identifier', true),
-- h: harmless ---------------------------------------------------------------------------------------
(50, 'h', 'viewer', $c$select query_to_xml('select private.sql_call_begin(''forged'') /* " ip_workbench.execute_sql(text,integer) " */', true, false, '')$c$, 1000, '30s', 'refused', $k$true$k$, 'sql_call_begin''s call-stack check fooled by a quoted comment (read-only: refused)', true),
(51, 'h', 'engineer', $c$update ip_workbench.pipelines set description = query_to_xml('select private.sql_call_begin(''forged'') /* " ip_workbench.execute_sql(text,integer) " */', true, false, '')::text where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'refused', $k$not exists (select 1 from ip_workbench.query_history where sql = 'forged')$k$, 'the same in a write (one pin per transaction: refused)', true),
(52, 'h', 'viewer', $c$select cursor_to_xml('<unnamed portal 1>', 10, true, false, '')$c$, 1000, '30s', 'refused', $k$true$k$, 'read execute_sql''s own cursor', true),
(53, 'h', 'viewer', $c$select lo_from_bytea(0, 'x') as lo$c$, 1000, '30s', 'any', $k$not exists (select 1 from pg_largeobject_metadata)$k$, 'a large object from a read (rolled back with the read)', true),
(54, 'h', 'viewer', $c$select pg_notify('pgrst', 'reload config') as n$c$, 1000, '30s', 'any', $k$true$k$, 'notify postgrest from a read (discarded with the read)', true),
(55, 'h', 'viewer', $c$select set_config('seed', '0.5', false) as s$c$, 1000, '30s', 'any', $k$true$k$, 'the random seed (not in pg_settings), rolled back with the read', true),
(56, 'h', 'viewer', $c$select tablename, attname, most_common_vals::text from pg_stats where schemaname = 'ip_workbench' and tablename in ('cost_tracker', 'sql_snippets', 'user_roles')$c$, 1000, '30s', 'ok', $k$$1 ->> 'row_count' = '0'$k$, 'planner statistics of tables under rls', true),
(57, 'h', 'viewer', $c$select id from ip_workbench.cost_tracker where cost_usd::text::int = 1$c$, 1000, '30s', 'ok', $k$$1 ->> 'row_count' = '0'$k$, 'a leaky cast in the where clause never sees hidden rows', true),
(58, 'h', 'viewer', $c$select (select sql from ip_workbench.sql_snippets limit 1)::int as n$c$, 1000, '30s', 'ok', $k$$1::text not like '%engineer2%'$k$, 'a cast error on another user''s snippet (none seen)', true),
(59, 'h', 'engineer', $c$insert into ip_workbench.pipelines (id, name, owner) values ('c6000000-0000-4000-8000-000000000002', 'dup', 'a6000000-0000-4000-8000-000000000002')$c$, 1000, '30s', 'refused', $k$$1::text not like '%engineer2 pipeline%'$k$, 'a key violation names no hidden row', true),
(60, 'h', 'viewer', $c$select * from ip_workbench.kpi_summary$c$, 1000, '30s', 'ok', $k$$1::text not like '%777.77%'$k$, 'the kpi view is the caller''s', true),
(61, 'h', 'viewer', $c$select pg_read_binary_file('/etc/hostname')$c$, 1000, '30s', 'refused', $k$true$k$, 'server files as bytes', true),
(62, 'h', 'viewer', $c$select set_config('request.jwt.claim.sub', null, false) as s$c$, 1000, '30s', 'any', $k$true$k$, 'a session-level reset in a read (rolled back)', true),
(63, 'h', 'viewer', $c$select pg_advisory_unlock_all() as u$c$, 1000, '30s', 'any', $k$true$k$, 'unlock everything (own session only)', true),
(64, 'h', 'viewer', $c$select query, usename from pg_stat_activity where pid <> pg_backend_pid() and query like '%execute_sql%'$c$, 1000, '30s', 'ok', $k$$1::text not like '%select%'$k$, 'other sessions'' queries', true),
(65, 'h', 'engineer', $c$update ip_workbench.pipelines set description = (select string_agg(sql, ',') from ip_workbench.query_history) where id = 'c6000000-0000-4000-8000-000000000001' returning description$c$, 1000, '30s', 'ok', $k$$1::text not like '%pg_advisory_lock(7240115001)%'$k$, 'others'' history copied into a row (rls: own only)', true),
(66, 'h', 'viewer', $c$select count(*) as n from ip_workbench.user_roles$c$, 1000, '30s', 'ok', $k$$1 #>> '{rows,0,n}' = '1'$k$, 'user_roles: the own row only', true),
(67, 'h', 'viewer', $c$select count(*) as n from ip_workbench.activity_log$c$, 1000, '30s', 'ok', $k$$1 #>> '{rows,0,n}' = '0'$k$, 'activity_log (admin and service only)', true),
(68, 'h', 'service', $c$select count(*) as n from ip_workbench.llm_requests$c$, 1000, '30s', 'ok', $k$$1 #>> '{rows,0,n}' = '0'$k$, 'llm_requests as service (admin only)', true),
(69, 'h', 'engineer', $c$update ip_workbench.pipelines set description = set_config('workbench.note', 'x', false) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'any', $k$true$k$, 'an unwatched custom setting at session level (read by nothing; left, see sql/README.md)', true),
(70, 'h', 'engineer', $c$update ip_workbench.pipelines set description = (select private.sql_reset_session_settings('pg_temp, public')::text) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'refused', $k$$1 #>> '{error,code}' = '42501'$k$, 'the settings reset called by hand with another search_path (the fingerprint sees it)', true),
(71, 'h', 'engineer', $c$update ip_workbench.pipelines set description = set_config('seed', '0.5', false) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'any', $k$true$k$, 'the random seed at session level in a write (only random() reads it; tokens use gen_random_uuid)', true),
(72, 'h', 'viewer', $c$select private.sql_release_advisory_locks('{}') as r, private.sql_advisory_locks() as l$c$, 1000, '30s', 'any', $k$true$k$, 'the lock helpers act on the own session only', true),
(73, 'h', 'viewer', $c$select private.sql_cut(repeat('x', 10), -1) as c$c$, 1000, '30s', 'any', $k$true$k$, 'the error cutter with a negative length', true),
(74, 'h', 'engineer', $c$insert into ip_workbench.sql_snippets (name, sql) select set_config('request.jwt.claim.sub', 'a6000000-0000-4000-8000-000000000003', true), 'x'$c$, 1000, '30s', 'refused', $k$(select count(*) = 1 from ip_workbench.sql_snippets where owner = 'a6000000-0000-4000-8000-000000000003')$k$, 'a default of auth.uid() (owner) forged within the statement', true),
(75, 'h', 'viewer', $c$select set_config('row_security', 'off', true) as r, (select count(*) from ip_workbench.cost_tracker) as n$c$, 1000, '30s', 'refused', $k$$1::text not like '%777.77%'$k$, 'row_security off (errors instead of filtering; no bypass)', true),
(76, 'h', 'engineer', $c$update ip_workbench.pipelines set description = set_config('session_replication_role', 'replica', true) where id = 'c6000000-0000-4000-8000-000000000001'$c$, 1000, '30s', 'refused', $k$true$k$, 'session_replication_role (would skip triggers: superuser only)', true),
-- 6: forgeable approval decisions (hole: service recorded an admin's approval) ------------------------
(80, '6', 'service', $c$insert into ip_workbench.expense_approvals (expense_id, status, amount, threshold, decided_by) values ('EX-R-9', 'approved', 9000, 5000, 'a6000000-0000-4000-8000-000000000004')$c$, 1000, '30s', 'refused', $k$not exists (select 1 from ip_workbench.expense_approvals where expense_id = 'EX-R-9')$k$, 'service records an approval in the admin''s name', true),
(81, '6', 'service', $c$update ip_workbench.expense_approvals set status = 'approved', decided_by = 'a6000000-0000-4000-8000-000000000004' where expense_id = 'EX-R-1'$c$, 1000, '30s', 'refused', $k$(select status = 'pending_approval' and decided_by is null from ip_workbench.expense_approvals where expense_id = 'EX-R-1')$k$, 'service approves a pending expense as the admin', true),
(82, '6', 'service', $c$update ip_workbench.expense_approvals set status = 'approved' where expense_id = 'EX-R-1'$c$, 1000, '30s', 'refused', $k$(select status = 'pending_approval' from ip_workbench.expense_approvals where expense_id = 'EX-R-1')$k$, 'service approves without a name', true),
(83, '6', 'service', $c$update ip_workbench.expense_approvals set status = 'rejected', decided_by = null where expense_id = 'EX-R-2'$c$, 1000, '30s', 'refused', $k$(select status = 'approved' and decided_by = 'a6000000-0000-4000-8000-000000000004' from ip_workbench.expense_approvals where expense_id = 'EX-R-2')$k$, 'service overturns the admin''s approval', true),
(84, '6', 'admin', $c$update ip_workbench.expense_approvals set status = 'approved', decided_by = 'a6000000-0000-4000-8000-000000000003' where expense_id = 'EX-R-1'$c$, 1000, '30s', 'refused', $k$(select status = 'pending_approval' from ip_workbench.expense_approvals where expense_id = 'EX-R-1')$k$, 'an admin records a decision in someone else''s name', true),
(85, '6', 'service', $c$update ip_workbench.expense_approvals set notified_at = now() where expense_id in ('EX-R-1', 'EX-R-2') returning expense_id$c$, 1000, '30s', 'ok', $k$($1 ->> 'affected_rows') = '2'$k$, 'service still marks decisions notified', true),
(86, '6', 'admin', $c$update ip_workbench.expense_approvals set status = 'rejected', decided_by = 'a6000000-0000-4000-8000-000000000004' where expense_id = 'EX-R-1'$c$, 1000, '30s', 'ok', $k$(select status = 'rejected' from ip_workbench.expense_approvals where expense_id = 'EX-R-1')$k$, 'an admin decides in their own name', true),
(90, '6', 'engineer', $c$insert into ip_workbench.llm_requests (request_id, model, prompt_tokens, completion_tokens, user_id) values ('chatcmpl-red-1', 'claude-sonnet-4.5', 90000, 90000, 'a6000000-0000-4000-8000-000000000002')$c$, 1000, '30s', 'refused', $k$not exists (select 1 from ip_workbench.llm_requests where request_id = 'chatcmpl-red-1')$k$, 'an engineer claims litellm''s request id first (the recorder then skipped the costed row)', true),
(91, '6', 'engineer', $c$insert into ip_workbench.llm_requests (model, prompt_tokens, completion_tokens, user_id) values ('claude-sonnet-4.5', 10, 10, 'a6000000-0000-4000-8000-000000000002')$c$, 1000, '30s', 'ok', $k$($1 ->> 'affected_rows') = '1'$k$, 'an engineer still records their own request without an id', true),
(92, '6', 'service', $c$insert into ip_workbench.llm_requests (request_id, model, cost_usd) values ('chatcmpl-red-2', 'claude-sonnet-4.5', 0.01)$c$, 1000, '30s', 'ok', $k$exists (select 1 from ip_workbench.llm_requests where request_id = 'chatcmpl-red-2')$k$, 'the usage recorder (service) records under litellm''s id', true);

select plan((select count(*)::int * 4 from corpus) + 1);

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
  format('select pg_temp.request(%L, %L, %L)', pg_temp.role_of(who), pg_temp.claims_of(who), legacy),
  -- postgrest also sets search_path to the exposed schema: the first call compiles execute_sql under it.
  'select set_config(''search_path'', ''ip_workbench, public'', true)',
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

select * from finish();
