-- the shared runner of the hostile-input suites (06_attack_corpus.sql, 08_red_team.sql): the
-- case table, who is who, and per case the attack and its four assertions (outcome, the next
-- request's identity and settings, exactly one history row, the case's own check). a suite
-- includes it after harness/request.sql, defines pg_temp.corpus_label() (the assertions'
-- prefix), inserts its cases and runs one request per case.

create temp table corpus (
  id int primary key,
  class text not null,
  who text not null check (who in ('viewer', 'engineer', 'admin', 'service', 'newbie', 'ghost', 'service_role')),
  sql text,
  max_rows int default 1000,
  timeout text not null default '30s',
  expect text not null check (expect in ('refused', 'ok', 'any')),
  check_sql text not null default 'true',
  label text not null,
  legacy boolean not null default true
);
create temp table results (id int primary key, result jsonb);
create temp table seen (id uuid primary key);
create temp table baseline (fingerprint text);
grant select on corpus to public;
grant select, insert on results, seen, baseline to public;

-- who -> (role, claims, the user id the history row must carry)
create function pg_temp.role_of(p_who text) returns text language sql immutable as $$
  select case p_who when 'service_role' then 'service_role' else 'authenticated' end;
$$;
create function pg_temp.uid_of(p_who text) returns uuid language sql immutable as $$
  select case p_who
    when 'viewer' then 'a6000000-0000-4000-8000-000000000001'
    when 'engineer' then 'a6000000-0000-4000-8000-000000000002'
    when 'admin' then 'a6000000-0000-4000-8000-000000000004'
    when 'service' then 'a6000000-0000-4000-8000-000000000005'
    when 'newbie' then 'a6000000-0000-4000-8000-000000000006'
    when 'ghost' then '00000000-dead-4000-8000-000000000000'
  end::uuid;
$$;
create function pg_temp.claims_of(p_who text) returns jsonb language sql immutable as $$
  select case p_who
    when 'service_role' then '{"role": "service_role"}'::jsonb
    else pg_catalog.jsonb_build_object('sub', pg_temp.uid_of(p_who), 'role', 'authenticated')
  end;
$$;

-- every setting a fresh request shows, plus the custom ones anybody could read.
create function pg_temp.fingerprint() returns text language sql as $$
  select concat_ws(
    E'\n',
    'current_user=' || current_user,
    (select string_agg(s.name || '=' || coalesce(s.setting, ''), E'\n' order by s.name) from pg_settings as s),
    (select string_agg(w || '=' || coalesce(current_setting(w, true), ''), E'\n' order by w)
     from unnest(array[
       'request.jwt.claim.sub', 'request.jwt.claim.role', 'request.jwt.claim.email', 'request.jwt.claim',
       'request.jwt.claims', 'request.headers', 'response.headers', 'response.status'
     ]) as w)
  );
$$;

-- the call, as the case's caller. a raised error is kept as {"raised": ...}.
create function pg_temp.attack(p_id int) returns text language plpgsql as $$
declare
  c record;
  r jsonb;
  v_ok boolean;
begin
  select * into c from pg_temp.corpus where id = p_id;
  begin
    r := ip_workbench.execute_sql(c.sql, c.max_rows);
  exception
    when others or query_canceled or assert_failure then
      r := jsonb_build_object('raised', jsonb_build_object('code', sqlstate, 'message', sqlerrm));
  end;
  insert into pg_temp.results values (p_id, r);
  v_ok := coalesce(case c.expect
    when 'refused' then r ? 'error' and jsonb_typeof(r -> 'error') = 'object' and r -> 'rows' = '[]'
    when 'ok' then r ? 'error' and jsonb_typeof(r -> 'error') = 'null'
    else r ? 'error'
  end, false);
  return ok(v_ok, format(pg_temp.corpus_label() || ' %s (class %s, %s): %s: %s', c.id, c.class, c.who, c.expect, c.label))
    || case when v_ok then '' else E'\n# ' || left(r::text, 500) end;
end;
$$;

-- the next request (an admin, modern claims only) checks what the case left behind.
create function pg_temp.check(p_id int) returns setof text language plpgsql as $$
declare
  c record;
  r jsonb;
  h record;
  v_new int;
  v_ok boolean;
  v_status text;
begin
  select * into c from pg_temp.corpus where id = p_id;
  select result into r from pg_temp.results where id = p_id;

  return next ok(
    auth.uid() = 'a6000000-0000-4000-8000-000000000004'
      and pg_temp.fingerprint() = (select fingerprint from pg_temp.baseline),
    format(pg_temp.corpus_label() || ' %s: the next request on the connection has its own identity and fresh settings', c.id)
  );

  select count(*) into v_new from ip_workbench.query_history as q
  where not exists (select 1 from pg_temp.seen as s where s.id = q.id);
  select * into h from ip_workbench.query_history as q
  where not exists (select 1 from pg_temp.seen as s where s.id = q.id)
  order by q.executed_at desc limit 1;
  v_status := case when jsonb_typeof(r -> 'error') = 'object' then 'error' else 'success' end;
  return next ok(
    coalesce(
      v_new = 1
        and h.user_id is not distinct from (case when c.who in ('ghost', 'service_role') then null else pg_temp.uid_of(c.who) end)
        and h.sql = left(coalesce(c.sql, ''), 262144)
        and h.status = v_status
        and not r ? 'raised',
      false
    ),
    format(pg_temp.corpus_label() || ' %s: exactly one history row, the caller''s, with the sql sent and status %s', c.id, v_status)
  ) || case when v_new = 1 then '' else format(E'\n# %s new history rows', v_new) end;
  insert into pg_temp.seen select q.id from ip_workbench.query_history as q on conflict do nothing;

  begin
    execute format('select coalesce((%s), false)', c.check_sql) into v_ok using r;
  exception
    when others then
      v_ok := false;
  end;
  return next ok(v_ok, format(pg_temp.corpus_label() || ' %s: nothing leaked or changed (%s)', c.id, c.check_sql));
end;
$$;
