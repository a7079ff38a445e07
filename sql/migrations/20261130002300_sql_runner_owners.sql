-- execute_sql's runners get owners nobody can become (issue 12, red team "found, not fixed").
--
-- the runners (20261130000100) are security definer so that postgresql refuses any change of
-- `role` or `session_authorization` inside the user's sql. they were owned by the very role
-- that calls them (authenticated, service_role). an owner may alter, replace or drop its
-- function, and several logins may become those roles: authenticator (postgrest) and the
-- wb_<env>_n8n login (member of authenticated by design, its pipeline runs
-- `set local role authenticated`). `alter function private.sql_runner_authenticated(text,
-- text, int, int) security invoker` from such a session brought class 1 back for every user;
-- `create or replace` could plant code that every user's call runs.
--
-- the capability is removed: each runner now belongs to a dedicated nologin role that is a
-- member of exactly the caller role, with inherit, and of which nothing is a member.
--   sql_runner_owner_authenticated   member of authenticated (inherit)
--   sql_runner_owner_service_role    member of service_role (inherit), bypassrls like it
-- inside the runner current_user is the owner role. it has the caller role's privileges
-- (inherited) and the `to authenticated` policies apply to it (postgresql 15 applies a
-- policy to every role that has the privileges of the policy's role). the record guards
-- test `pg_has_role(current_user, 'authenticated', 'usage')`, which holds for it. role
-- attributes are not inherited, hence bypassrls on the service_role runner's owner.
-- no login is a member of either owner, so no session can become one and no ddl on the
-- runners is possible short of the migration role. the migration role (a non-superuser on
-- supabase) is a member only for the moment of `alter function ... owner to`.
--
-- on a postgresql before 16, only a superuser may create a bypassrls role. when the migration
-- role cannot, the migration stops and says so; a superuser (supabase_admin) creates
-- `sql_runner_owner_service_role` once and the migration goes on.
--
-- roles are cluster-wide: created only when missing (another database may have created them).

do $$
declare
  v_caller text;
  v_owner text;
  v_fn text;
  v_options text;
  v_temp_member boolean;
begin
  foreach v_caller in array array['authenticated', 'service_role'] loop
    v_owner := 'sql_runner_owner_' || v_caller;
    v_fn := pg_catalog.format('private.sql_runner_%s(text, text, int, int)', v_caller);
    v_options := 'nologin inherit nocreatedb nocreaterole noreplication'
      || case v_caller when 'service_role' then ' bypassrls' else ' nobypassrls' end;

    if not exists (select 1 from pg_catalog.pg_roles where rolname = v_owner) then
      begin
        execute pg_catalog.format('create role %I %s', v_owner, v_options);
      exception
        when duplicate_object then
          null; -- created meanwhile by a concurrent runner: same definition
        when insufficient_privilege then
          raise exception using
            errcode = '42501',
            message = pg_catalog.format('the migration role %s cannot create role %s (%s)', current_user, v_owner, v_options),
            hint = pg_catalog.format('as a superuser, run once: create role %I %s', v_owner, v_options);
      end;
    end if;
    if exists (
      select 1 from pg_catalog.pg_roles as r
      where r.rolname = v_owner
        and (r.rolcanlogin or not r.rolinherit or r.rolsuper or r.rolcreaterole or r.rolcreatedb
             or r.rolreplication or r.rolbypassrls <> (v_caller = 'service_role'))
    ) then
      raise exception using
        errcode = '42501',
        message = pg_catalog.format('role %s exists with other attributes than %s', v_owner, v_options),
        hint = 'it owns execute_sql''s runner: fix it as a superuser or drop it';
    end if;
    if not pg_catalog.pg_has_role(v_owner, v_caller, 'usage') then
      execute pg_catalog.format('grant %I to %I', v_caller, v_owner);
    end if;

    -- alter ... owner needs the migration role to be a member of the new owner and the owner
    -- to have create on the schema: both only for the moment of the change.
    if (select p.proowner <> v_owner::regrole from pg_catalog.pg_proc as p where p.oid = v_fn::regprocedure) then
      v_temp_member := not pg_catalog.pg_has_role(current_user, v_owner, 'member');
      if v_temp_member then
        execute pg_catalog.format('grant %I to %I', v_owner, current_user);
      end if;
      execute pg_catalog.format('grant create on schema private to %I', v_owner);
      execute pg_catalog.format('alter function %s owner to %I', v_fn, v_owner);
      execute pg_catalog.format('revoke create on schema private from %I', v_owner);
      if v_temp_member then
        execute pg_catalog.format('revoke %I from %I', v_owner, current_user);
      end if;
    end if;

    -- the owner change carried the old owner's grant over to the new owner: give the caller
    -- its execute privilege back, and nothing else.
    execute pg_catalog.format('revoke all on function %s from public', v_fn);
    execute pg_catalog.format('grant execute on function %s to %I', v_fn, v_caller);
    execute pg_catalog.format(
      'comment on function %s is %L', v_fn,
      'runs execute_sql''s user sql as ' || v_owner || ' (nologin, nobody''s role, member of ' || v_caller
        || ' with inherit; security definer: no role change possible inside); see 20261130000100_execute_sql_hardening.sql and 20261130002300_sql_runner_owners.sql'
    );
  end loop;
end
$$;
