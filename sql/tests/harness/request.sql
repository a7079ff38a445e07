-- what postgrest does at the start of each request, for pgtap suites (\ir harness/request.sql).
--
-- postgrest (as supabase runs it) logs in as `authenticator` and, inside the request's
-- transaction, runs one statement of set_config(..., true) calls: the role to impersonate
-- (from the jwt's role claim), the claims as json (request.jwt.claims), the request's
-- method, path and headers, and the impersonated role's own settings (statement_timeout);
-- then the call, as a separate statement. older postgrest versions also set one setting
-- per claim (request.jwt.claim.sub, ...), which supabase's auth.uid() reads first.
--
-- pg_temp.request(role, claims, legacy) does the same from whatever session runs the suite:
-- the `authenticator` login (the faithful mode) or a superuser (the older mode). legacy
-- (default true) also sets request.jwt.claim.sub and request.jwt.claim.role; pass false to
-- act like the postgrest that supabase runs today (request.jwt.claims only). the statement
-- that calls it must not be the one that calls the function under test: a statement_timeout
-- only applies from the next statement on, exactly as with postgrest.
create or replace function pg_temp.request(p_role text, p_claims jsonb, p_legacy boolean default true)
returns void
language plpgsql
as $request$
declare
  v_timeout text;
begin
  select pg_catalog.substr(cfg, pg_catalog.length('statement_timeout=') + 1) into v_timeout
  from pg_catalog.pg_db_role_setting as s, pg_catalog.unnest(s.setconfig) as cfg
  where s.setrole = p_role::regrole and s.setdatabase = 0 and cfg like 'statement_timeout=%';

  perform pg_catalog.set_config('role', p_role, true),
    pg_catalog.set_config('request.jwt.claims', p_claims::text, true),
    pg_catalog.set_config('request.method', 'POST', true),
    pg_catalog.set_config('request.path', '/rpc/execute_sql', true),
    pg_catalog.set_config('request.headers', '{}', true);
  if p_legacy then
    perform pg_catalog.set_config('request.jwt.claim.sub', coalesce(p_claims ->> 'sub', ''), true),
      pg_catalog.set_config('request.jwt.claim.role', coalesce(p_claims ->> 'role', ''), true);
  end if;
  if v_timeout is not null then
    perform pg_catalog.set_config('statement_timeout', v_timeout, true);
  end if;
end;
$request$;
