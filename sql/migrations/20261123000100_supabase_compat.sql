-- supabase compatibility shim.
--
-- on supabase the api roles, the `auth` schema, `auth.users` and `auth.uid()/jwt()/role()`
-- already exist and belong to supabase: this file must never replace or alter them. on plain
-- postgresql (the local stack, the tests) it creates each missing object with supabase's
-- shape and behaviour, so every later migration and every policy runs unchanged on both.
--
-- every object is created only when absent (checked in the catalogs), so applying the file
-- again, or on supabase, is a no-op. roles are cluster-wide: another database on the same
-- server may have created them first, and a concurrent runner may race us, hence the
-- `duplicate_object` handlers.

create extension if not exists pgcrypto;

-- api roles -------------------------------------------------------------------------------
-- supabase: anon and authenticated are nologin noinherit; service_role bypasses rls;
-- postgrest logs in as authenticator (noinherit) and switches to one of the three per request.
do $$
declare
  v_role text;
  v_options text;
begin
  foreach v_role in array array['anon', 'authenticated', 'service_role', 'authenticator'] loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = v_role) then
      v_options := case v_role
        when 'service_role' then 'nologin noinherit bypassrls'
        -- nologin locally: nothing logs in as authenticator here; supabase's has a password.
        else 'nologin noinherit'
      end;
      begin
        execute format('create role %I %s', v_role, v_options);
      exception when duplicate_object then
        null; -- created meanwhile by a concurrent runner: same definition
      end;
    end if;
  end loop;

  foreach v_role in array array['anon', 'authenticated', 'service_role'] loop
    if not pg_catalog.pg_has_role('authenticator', v_role, 'member') then
      execute format('grant %I to authenticator', v_role);
    end if;
  end loop;
end
$$;

-- auth schema and a minimal auth.users ------------------------------------------------------
do $$
begin
  if not exists (select 1 from pg_catalog.pg_namespace where nspname = 'auth') then
    create schema auth;
    grant usage on schema auth to anon, authenticated, service_role;
  end if;

  if not exists (
    select 1 from information_schema.tables where table_schema = 'auth' and table_name = 'users'
  ) then
    -- only the columns the workbench references; supabase's table has many more.
    create table auth.users (
      id uuid primary key default gen_random_uuid(),
      email text,
      created_at timestamptz default now()
    );
    comment on table auth.users is
      'local stand-in for supabase auth.users (created by the workbench compatibility shim)';
  end if;
end
$$;

-- auth.uid(), auth.role(), auth.jwt() --------------------------------------------------------
-- supabase's own definitions: claims come from the `request.jwt.claims` setting postgrest
-- sets per request, with the legacy per-claim settings (`request.jwt.claim.sub`, ...) first.
do $$
begin
  if not exists (
    select 1 from pg_catalog.pg_proc
    where pronamespace = 'auth'::regnamespace and proname = 'uid' and pronargs = 0
  ) then
    create function auth.uid() returns uuid
    language sql stable
    as $fn$
      select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
      )::uuid
    $fn$;
    comment on function auth.uid() is 'deprecated. use auth.jwt() -> ''sub'' instead.';
  end if;

  if not exists (
    select 1 from pg_catalog.pg_proc
    where pronamespace = 'auth'::regnamespace and proname = 'role' and pronargs = 0
  ) then
    create function auth.role() returns text
    language sql stable
    as $fn$
      select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
      )::text
    $fn$;
    comment on function auth.role() is 'deprecated. use auth.jwt() -> ''role'' instead.';
  end if;

  if not exists (
    select 1 from pg_catalog.pg_proc
    where pronamespace = 'auth'::regnamespace and proname = 'jwt' and pronargs = 0
  ) then
    create function auth.jwt() returns jsonb
    language sql stable
    as $fn$
      select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $fn$;
  end if;
end
$$;
