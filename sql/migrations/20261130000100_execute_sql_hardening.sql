-- execute_sql under supabase's real role graph and a hostile caller (issue 12).
--
-- on supabase postgrest logs in as `authenticator` (login, noinherit, member of anon,
-- authenticated and service_role) and per request runs, in one transaction,
-- set_config('role', ..., true) and set_config('request.jwt.claims', ..., true), then the
-- call. the session user may therefore become service_role at any time, and settings a
-- request writes with is_local = false stay on the pooled connection. this migration
-- replaces execute_sql's internals (same signature, same grants, same result shape plus
-- two keys) so that:
--
-- 1. no role switch inside the user's sql. the user's sql runs inside a security definer
--    function owned by the very role that calls it (private.sql_runner_authenticated is
--    owned by authenticated, private.sql_runner_service_role by service_role): current_user
--    does not change, but postgresql refuses `role` and `session_authorization` changes
--    inside a security definer frame ("cannot set parameter "role" within
--    security-definer function"), and that holds for everything the sql calls
--    (query_to_xml, table_to_xml, cursor_to_xml, ts_stat, an update of pg_settings, ...).
--    the capability is removed, not a spelling: no list of function names is consulted.
--    revoking execute on pg_catalog.set_config / query_to_xml was rejected: on hosted
--    supabase those functions belong to supabase_admin, the migration role cannot revoke
--    on them (postgresql only warns), and postgrest itself needs set_config.
-- 2. settings do not outlive the call. a read runs in a subtransaction that is always
--    rolled back (which also undoes every setting it wrote, local or session-level); a
--    write is checked after it ran: if a setting changed (every setting in pg_settings,
--    current_user, and the custom settings postgrest and supabase's auth.* read, listed in
--    private.sql_watched_settings) the write is rolled back and reported. identity (uid and
--    app role) is pinned for the whole call as before (private.sql_sessions).
-- 4. every call leaves exactly one query_history row, written by a path the caller cannot
--    use by hand. errors of the call (no app role, bad max_rows, no 30 s timeout, sql too
--    long, wrong database role) and of the sql, and cancellations (statement_timeout,
--    errors raised with any sqlstate through a helper), are all caught, rolled back,
--    logged and *returned* in "error"; nothing is raised, so the request's transaction
--    commits with its history row. the row is written by private.sql_call_end, which only
--    accepts the secret token private.sql_call_begin returned to this execute_sql frame
--    (the user's sql cannot know it, and cannot begin a second call: the pin is unique per
--    transaction); sql_call_begin refuses callers other than ip_workbench.execute_sql
--    (checked on the call stack). the old logger private.log_query and the old pin
--    helpers are dropped.
--    still raised (and so not in query_history): a read-only transaction (25006: the row
--    could not be written; nothing ran) and a nested execute_sql call (0A000, reported by
--    the outer call, which logs it). anon has no execute privilege (42501 from postgresql
--    before anything runs).
-- 5. scanner: a `--` comment ends at \n or \r (as postgresql's lexer has it); dollar
--    quotes are scanned in linear time; sql longer than 262,144 characters is refused
--    (the history keeps its first 262,144). the scanner only words errors and picks
--    read or write: one statement, read-only for viewers and rls are enforced by the
--    server (the cursor, the subquery wrapper, the read-only subtransaction).
--    results are capped at max_rows rows (default 1000, at most 10,000) and at 5 MiB of
--    row json (5,242,880 bytes, counted as the rows' json text): "truncated" says a cap
--    cut the result and "truncated_by" which one ("rows" or "bytes").

-- the pin remembers the sql of the call, so the history row cannot be about other sql.
alter table private.sql_sessions add column if not exists sql text;

-- statement scanner -----------------------------------------------------------------------------
create or replace function private.sql_scan(
  p_sql text,
  out statement_count int,
  out first_statement text,
  out first_keyword text,
  out balanced boolean
)
language plpgsql
immutable
set search_path = ''
as $$
declare
  c text[] := pg_catalog.string_to_array(p_sql, null);
  n int := coalesce(pg_catalog.array_length(c, 1), 0);
  i int := 1;
  j int;
  k int;
  m int;
  tl int;
  depth int := 0;
  min_depth int := 0;
  has_token boolean := false;
  before_keyword boolean := true;
  first_end int;
  escapes boolean;
  tag text[];
  ch text;
begin
  statement_count := 0;
  while i <= n loop
    ch := c[i];
    if ch in (' ', E'\t', E'\n', E'\r', E'\f', pg_catalog.chr(11)) then
      i := i + 1;
    elsif ch = '-' and i < n and c[i + 1] = '-' then
      -- postgresql's lexer ends a line comment at \n or \r
      i := i + 2;
      while i <= n and c[i] not in (E'\n', E'\r') loop
        i := i + 1;
      end loop;
    elsif ch = '/' and i < n and c[i + 1] = '*' then
      j := 1;
      i := i + 2;
      while i <= n and j > 0 loop
        if c[i] = '/' and i < n and c[i + 1] = '*' then
          j := j + 1;
          i := i + 2;
        elsif c[i] = '*' and i < n and c[i + 1] = '/' then
          j := j - 1;
          i := i + 2;
        else
          i := i + 1;
        end if;
      end loop;
    elsif ch = ';' then
      if has_token then
        statement_count := statement_count + 1;
        if first_end is null then
          first_end := i;
        end if;
      end if;
      has_token := false;
      i := i + 1;
    else
      has_token := true;
      if ch = '''' then
        escapes := i > 1 and c[i - 1] in ('e', 'E') and (i = 2 or c[i - 2] !~ '[[:alnum:]_$]');
        i := i + 1;
        loop
          exit when i > n;
          if escapes and c[i] = '\' then
            i := i + 2;
          elsif c[i] = '''' then
            if i < n and c[i + 1] = '''' then
              i := i + 2;
            else
              i := i + 1;
              exit;
            end if;
          else
            i := i + 1;
          end if;
        end loop;
        if statement_count = 0 then before_keyword := false; end if;
      elsif ch = '"' then
        i := i + 1;
        loop
          exit when i > n;
          if c[i] = '"' then
            if i < n and c[i + 1] = '"' then
              i := i + 2;
            else
              i := i + 1;
              exit;
            end if;
          else
            i := i + 1;
          end if;
        end loop;
        if statement_count = 0 then before_keyword := false; end if;
      elsif ch = '$' and not (i > 1 and c[i - 1] ~ '[[:alnum:]_]') then
        -- $tag$ ... $tag$ (the tag may be empty); $1 is a parameter, not a quote.
        j := i + 1;
        while j <= n and (c[j] ~ '[[:alpha:]_]' or (j > i + 1 and c[j] ~ '[0-9]')) loop
          j := j + 1;
        end loop;
        if j <= n and c[j] = '$' then
          -- find the closing tag in linear time: a candidate starts at a '$'; a partial
          -- match covers tag characters (never '$'), so the next candidate starts at or
          -- after the mismatch and no character is compared more than twice.
          -- (element by element: slicing c would copy the whole array each time)
          tag := '{}';
          tl := j - i + 1;
          for m in 1..tl loop
            tag[m] := c[i + m - 1];
          end loop;
          k := j + 1;
          i := n + 1;  -- unterminated unless the closing tag is found: the parser will say so
          while k <= n loop
            if c[k] = '$' then
              m := 2;
              while m <= tl and k + m - 1 <= n and c[k + m - 1] = tag[m] loop
                m := m + 1;
              end loop;
              if m > tl then
                i := k + tl;
                exit;
              end if;
              k := k + m - 1;
            else
              k := k + 1;
            end if;
          end loop;
        else
          i := i + 1;
        end if;
        if statement_count = 0 then before_keyword := false; end if;
      elsif ch ~ '[[:alpha:]_]' then
        j := i;
        while j <= n and c[j] ~ '[[:alnum:]_$]' loop
          j := j + 1;
        end loop;
        if statement_count = 0 and before_keyword then
          first_keyword := pg_catalog.lower(pg_catalog.array_to_string(c[i:j - 1], ''));
          before_keyword := false;
        end if;
        i := j;
      else
        if ch = '(' then
          depth := depth + 1;
        else
          if statement_count = 0 then before_keyword := false; end if;
          if ch = ')' then
            depth := depth - 1;
            min_depth := least(min_depth, depth);
          end if;
        end if;
        i := i + 1;
      end if;
    end if;
  end loop;

  if has_token then
    statement_count := statement_count + 1;
  end if;
  first_statement := case
    when first_end is null then p_sql
    else pg_catalog.array_to_string(c[1:first_end - 1], '')
  end;
  balanced := depth = 0 and min_depth >= 0;
end;
$$;

-- settings a call must not change -------------------------------------------------------------------
-- custom settings are not listed in pg_settings; these are the ones postgrest writes or reads
-- and supabase's auth.uid() / auth.role() / auth.email() / auth.jwt() read.
create or replace function private.sql_watched_settings()
returns text[]
language sql
immutable
set search_path = ''
as $$
  select array[
    'request.jwt.claims', 'request.jwt.claim', 'request.jwt.claim.sub', 'request.jwt.claim.role',
    'request.jwt.claim.email', 'request.jwt.claim.aud', 'request.jwt.claim.app_metadata',
    'request.jwt.claim.user_metadata', 'request.jwt.claim.session_id', 'request.method', 'request.path',
    'request.headers', 'request.cookies', 'request.spec', 'response.headers', 'response.status',
    'pgrst.db_schemas'
  ]::text[];
$$;

-- current_user, every setting visible in pg_settings and the watched custom settings, as one
-- text (compared before and after the user's sql; security invoker: the caller's view). no
-- set clause: one on search_path would hide the caller's search_path from pg_settings
-- (every name in the body is qualified).
create or replace function private.sql_settings_fingerprint()
returns text
language sql
volatile
as $$
  select pg_catalog.concat_ws(
    pg_catalog.chr(10),
    'current_user=' || current_user,
    (select pg_catalog.string_agg(s.name || '=' || coalesce(s.setting, ''), pg_catalog.chr(10) order by s.name)
     from pg_catalog.pg_settings as s),
    (select pg_catalog.string_agg(w.name || '=' || coalesce(pg_catalog.current_setting(w.name, true), '<unset>'), pg_catalog.chr(10) order by w.name)
     from pg_catalog.unnest(private.sql_watched_settings()) as w(name))
  );
$$;

-- the call's pin and history row ----------------------------------------------------------------------
drop function if exists private.begin_sql_session();
drop function if exists private.end_sql_session(uuid);
drop function if exists private.log_query(text, int, int, text, text, text);

-- pins the caller's uid and app role (private.uid() and private.get_user_role() answer from
-- the pin) and the sql for this transaction; returns the secret token that sql_call_end
-- needs. only ip_workbench.execute_sql may call it (checked on the call stack, which
-- postgresql formats with schema-qualified names under this function's empty search_path).
create or replace function private.sql_call_begin(p_sql text)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_token uuid := pg_catalog.gen_random_uuid();
  v_stack text;
  v_caller text;
  v_user_id uuid;
  v_app_role text;
begin
  -- the frame below this one must be execute_sql's (plpgsql may add a line quoting the
  -- assignment before it when it evaluates it through spi). only the untranslated parts of
  -- the lines are compared: the signature and the assignment's own text, so any lc_messages
  -- works.
  get diagnostics v_stack = pg_context;
  select l.line into v_caller
  from pg_catalog.unnest(pg_catalog.string_to_array(v_stack, pg_catalog.chr(10))) with ordinality as l(line, n)
  where l.n > 1 and pg_catalog.strpos(l.line, '"v_token := private.sql_call_begin(pg_catalog.left(v_sql, c_max_sql_chars))"') = 0
  order by l.n
  limit 1;
  if v_caller is null or pg_catalog.strpos(v_caller, ' ip_workbench.execute_sql(text,integer) ') = 0 then
    raise exception using
      errcode = '42501',
      message = 'private.sql_call_begin may only be called by ip_workbench.execute_sql';
  end if;
  begin
    v_user_id := private.uid();
    v_app_role := private.get_user_role();
  exception
    when others then
      -- malformed claims: pin no identity; execute_sql then reports (and logs) "no app role".
      v_user_id := null;
      v_app_role := null;
  end;
  insert into private.sql_sessions (xact_id, backend_pid, token, user_id, app_role, sql)
  values (
    pg_catalog.pg_current_xact_id(), pg_catalog.pg_backend_pid(), v_token, v_user_id, v_app_role, coalesce(p_sql, '')
  );
  return v_token;
exception
  when unique_violation then
    raise exception using
      errcode = '0A000',
      message = 'execute_sql cannot be called from sql that execute_sql runs';
end;
$$;

-- writes the call's one history row (user, role and sql from the pin, not from arguments)
-- and lifts the pin. without the token of a pin of this transaction it does nothing but
-- raise.
create or replace function private.sql_call_end(
  p_token uuid,
  p_rows_returned int,
  p_execution_time_ms int,
  p_status text,
  p_error_message text
)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_pin private.sql_sessions%rowtype;
  v_role text;
begin
  delete from private.sql_sessions as s
  where s.xact_id = pg_catalog.pg_current_xact_id_if_assigned()
    and s.backend_pid = pg_catalog.pg_backend_pid()
    and s.token = p_token
  returning * into v_pin;
  if not found then
    raise exception using errcode = '42501', message = 'no execute_sql call with this token is open';
  end if;
  v_role := coalesce(v_pin.app_role, current_setting('role', true));
  begin
    insert into ip_workbench.query_history (user_id, sql, rows_returned, execution_time_ms, status, error_message, role)
    values (v_pin.user_id, v_pin.sql, p_rows_returned, greatest(p_execution_time_ms, 0), p_status, p_error_message, v_role);
  exception
    when foreign_key_violation then
      -- the jwt's sub names no known user: keep the entry, unattributed.
      insert into ip_workbench.query_history (user_id, sql, rows_returned, execution_time_ms, status, error_message, role)
      values (null, v_pin.sql, p_rows_returned, greatest(p_execution_time_ms, 0), p_status, p_error_message, v_role);
  end;
end;
$$;

-- runners -------------------------------------------------------------------------------------------
-- runs the wrapped user sql and fetches its rows under the caps. one copy per api role,
-- each owned by that role and executable only by it: security definer owned by the caller
-- keeps current_user, and makes postgresql refuse any change of `role` or
-- `session_authorization` for everything the sql calls. no set clause: the caller's
-- search_path resolves the user's sql (every name in the body is qualified).
--   p_kind 'read':  p_body is a query; rows of `select row_to_json(q) from (<body>) as q`.
--   p_kind 'write': p_body is one insert/update/delete; with returning its rows, else the
--                   count of changed rows.
-- raises 42501 when the sql changed a setting (the caller rolls the subtransaction back).
do $do$
declare
  v_role text;
  v_fn text;
begin
  foreach v_role in array array['authenticated', 'service_role'] loop
    v_fn := 'private.sql_runner_' || v_role;
    execute pg_catalog.format($f$
      create or replace function %s(
        p_body text,
        p_kind text,
        p_max_rows int,
        p_max_bytes int,
        out rows jsonb,
        out columns jsonb,
        out truncated_by text,
        out affected bigint
      )
      language plpgsql
      volatile
      security definer
      as $body$
      declare
        v_cur refcursor;
        v_row json;
        v_total bigint;
        v_text text;
        v_rows json[] := '{}';
        v_n int := 0;
        v_bytes bigint := 2;
        v_first json;
        v_before text := private.sql_settings_fingerprint();
        v_after text;
      begin
        if p_kind = 'read' then
          open v_cur no scroll for execute
            'select pg_catalog.row_to_json(q) from (' || p_body || ') as q';
        else
          begin
            open v_cur no scroll for execute
              'with q as (' || p_body || ') select pg_catalog.row_to_json(q), pg_catalog.count(*) over () from q';
          exception
            when feature_not_supported then
              -- 'with query "q" does not have a returning clause' (raised while parsing,
              -- before anything ran): count the changed rows instead.
              open v_cur no scroll for execute
                'with q as (' || p_body || ' returning 1) select null::json, pg_catalog.count(*) from q';
          end;
        end if;
        loop
          if p_kind = 'read' then
            fetch v_cur into v_row;
          else
            fetch v_cur into v_row, v_total;
          end if;
          exit when not found;
          affected := v_total;
          exit when v_row is null;  -- a write without returning
          if v_first is null then
            v_first := v_row;
          end if;
          if v_n >= p_max_rows then
            truncated_by := 'rows';
            exit;
          end if;
          v_text := v_row::text;
          if v_bytes + pg_catalog.octet_length(v_text) + 1 > p_max_bytes then
            truncated_by := 'bytes';
            exit;
          end if;
          v_bytes := v_bytes + pg_catalog.octet_length(v_text) + 1;
          v_n := v_n + 1;
          v_rows[v_n] := v_row;
        end loop;
        close v_cur;

        if v_first is null and p_kind = 'read' then
          -- no row to take the column names from: a left join on false yields one all-null
          -- row of the query's shape without running it.
          open v_cur no scroll for execute
            'select pg_catalog.row_to_json(x) from (select q.* from (select) as d left join (' || p_body || ') as q on false) as x';
          fetch v_cur into v_first;
          close v_cur;
        end if;

        v_after := private.sql_settings_fingerprint();
        if v_after is distinct from v_before then
          raise exception using
            errcode = '42501',
            message = 'execute_sql: the statement changed a setting or the current role; it was rolled back',
            detail = (
              select pg_catalog.string_agg(a.l, ', ')
              from pg_catalog.unnest(pg_catalog.string_to_array(v_after, pg_catalog.chr(10))) as a(l)
              where not a.l = any (pg_catalog.string_to_array(v_before, pg_catalog.chr(10)))
            ),
            hint = 'sql run through execute_sql may not call set_config or otherwise change settings';
        end if;

        rows := pg_catalog.array_to_json(v_rows)::jsonb;
        select coalesce(pg_catalog.jsonb_agg(k.key order by k.ord), '[]'::jsonb) into columns
        from pg_catalog.json_object_keys(coalesce(v_first, '{}'::json)) with ordinality as k(key, ord);
      end;
      $body$
    $f$, v_fn);
    -- a non-superuser migration role (supabase's postgres) may give the function to v_role
    -- only if it can become v_role and v_role may create in the schema: grant that for the
    -- moment of the change.
    if not pg_catalog.pg_has_role(current_user, v_role, 'member') then
      raise exception using
        errcode = '42501',
        message = pg_catalog.format('the migration role %s must be a member of %s to create execute_sql''s runner', current_user, v_role);
    end if;
    execute pg_catalog.format('grant create on schema private to %I', v_role);
    execute pg_catalog.format('alter function %s(text, text, int, int) owner to %I', v_fn, v_role);
    execute pg_catalog.format('revoke create on schema private from %I', v_role);
    execute pg_catalog.format('revoke all on function %s(text, text, int, int) from public', v_fn);
    execute pg_catalog.format('grant execute on function %s(text, text, int, int) to %I', v_fn, v_role);
    execute pg_catalog.format(
      'comment on function %s(text, text, int, int) is %L', v_fn,
      'runs execute_sql''s user sql as ' || v_role || ' (owner = caller: no role change possible inside); see 20261130000100_execute_sql_hardening.sql'
    );
  end loop;
end
$do$;

-- execute_sql ---------------------------------------------------------------------------------------
create or replace function ip_workbench.execute_sql(sql text, max_rows int default 1000)
returns jsonb
language plpgsql
volatile
security invoker
as $function$
declare
  c_max_rows_limit constant int := 10000;
  c_max_bytes constant int := 5242880;
  c_max_sql_chars constant int := 262144;
  c_timeout_limit_ms constant bigint := 30000;
  v_sql text := coalesce(execute_sql.sql, '');
  v_limit int := coalesce(execute_sql.max_rows, 1000);
  v_token uuid;
  v_role text;
  v_scan record;
  v_kind text;
  v_command text;
  v_body text;
  v_timeout_ms bigint;
  v_run record;
  v_rows jsonb := '[]';
  v_columns jsonb := '[]';
  v_truncated_by text;
  v_affected bigint;
  v_started timestamptz := pg_catalog.clock_timestamp();
  v_ms int;
  v_read_done boolean := false;
  v_error jsonb;
  v_state text;
  v_message text;
  v_detail text;
  v_hint text;
begin
  if pg_catalog.current_setting('transaction_read_only') = 'on' then
    raise exception using
      errcode = '25006',
      message = 'execute_sql cannot run in a read-only transaction: the call could not be recorded in ip_workbench.query_history',
      hint = 'call it with post /rest/v1/rpc/execute_sql (postgrest runs get requests read-only), on the primary';
  end if;

  -- the history keeps at most c_max_sql_chars of the sql.
  v_token := private.sql_call_begin(pg_catalog.left(v_sql, c_max_sql_chars));

  -- everything from here is caught, rolled back to here, logged and returned.
  begin
    v_role := private.get_user_role();

    if current_user not in ('authenticated', 'service_role') then
      raise exception using
        errcode = '42501',
        message = pg_catalog.format('execute_sql runs sql as authenticated or service_role, not as %s', current_user),
        hint = 'set role authenticated (with the request''s jwt claims) before calling it, as postgrest does';
    end if;
    if v_role is null and current_user <> 'service_role' then
      raise exception using
        errcode = '42501',
        message = 'execute_sql needs an app role (viewer, engineer, admin or service); this user has none',
        hint = 'an admin grants roles in ip_workbench.user_roles';
    end if;
    if v_limit not between 1 and c_max_rows_limit then
      raise exception using
        errcode = '22023',
        message = pg_catalog.format('max_rows must be between 1 and %s, got %s', c_max_rows_limit, v_limit);
    end if;
    select s.setting::bigint into v_timeout_ms from pg_catalog.pg_settings as s where s.name = 'statement_timeout';
    if v_timeout_ms = 0 or v_timeout_ms > c_timeout_limit_ms then
      raise exception using
        errcode = '55000',
        message = pg_catalog.format(
          'execute_sql needs a statement_timeout between 1ms and 30s, but it is %s: run  set statement_timeout = ''30s''  first',
          case when v_timeout_ms = 0 then '0 (no limit)' else pg_catalog.current_setting('statement_timeout') end
        ),
        hint = 'postgrest applies the api role''s 30s setting by itself; direct connections must set it';
    end if;
    if pg_catalog.length(v_sql) > c_max_sql_chars then
      raise exception using
        errcode = '54000',
        message = pg_catalog.format('execute_sql takes at most %s characters of sql, got %s (the history keeps the first %s)',
          c_max_sql_chars, pg_catalog.length(v_sql), c_max_sql_chars);
    end if;

    select * into v_scan from private.sql_scan(v_sql);
    if v_scan.statement_count = 0 then
      raise exception using errcode = '22023', message = 'execute_sql got no sql statement';
    elsif v_scan.statement_count > 1 then
      raise exception using
        errcode = '42601',
        message = pg_catalog.format('execute_sql runs exactly one statement, got %s', v_scan.statement_count),
        hint = 'send the statements one call at a time';
    elsif not v_scan.balanced then
      raise exception using
        errcode = '42601',
        message = 'execute_sql: the statement''s parentheses do not balance';
    end if;

    v_body := pg_catalog.chr(10) || v_scan.first_statement || pg_catalog.chr(10);
    v_kind := case
      when v_scan.first_keyword in ('select', 'with', 'values', 'table') then 'read'
      when v_scan.first_keyword in ('insert', 'update', 'delete') then 'write'
    end;
    v_command := case v_kind when 'read' then 'SELECT' when 'write' then pg_catalog.upper(v_scan.first_keyword) end;

    if v_scan.first_keyword = 'merge' then
      raise exception using
        errcode = '0A000',
        message = 'execute_sql does not run MERGE',
        hint = 'use INSERT ... ON CONFLICT, UPDATE or DELETE';
    elsif v_kind is null then
      raise exception using
        errcode = '0A000',
        message = pg_catalog.format(
          'execute_sql runs one SELECT, WITH, VALUES or TABLE query (and for engineers, admins and service one INSERT, UPDATE or DELETE), not %s',
          coalesce(pg_catalog.upper(v_scan.first_keyword), 'this statement')
        );
    elsif v_kind = 'write' and not (current_user = 'service_role' or v_role in ('engineer', 'admin', 'service')) then
      raise exception using
        errcode = '42501',
        message = pg_catalog.format('the %s role may only run read-only queries (SELECT, WITH, VALUES, TABLE)', v_role),
        hint = 'writes through execute_sql need the engineer, admin or service role';
    end if;

    if v_kind = 'read' then
      -- read-only for the rest of this subtransaction, which is always rolled back
      -- ('AW000' below): not even a volatile function can write, and every setting the
      -- sql wrote is undone. the values fetched stay in variables.
      perform pg_catalog.set_config('transaction_read_only', 'on', true);
    end if;
    if current_user = 'authenticated' then
      select * into v_run from private.sql_runner_authenticated(v_body, v_kind, v_limit, c_max_bytes);
    else
      select * into v_run from private.sql_runner_service_role(v_body, v_kind, v_limit, c_max_bytes);
    end if;
    v_rows := v_run.rows;
    v_columns := v_run.columns;
    v_truncated_by := v_run.truncated_by;
    v_affected := v_run.affected;
    if v_kind = 'read' then
      v_read_done := true;
      raise exception using errcode = 'AW000', message = 'execute_sql: end of read-only subtransaction';
    end if;
  exception
    when query_canceled or assert_failure or others then
      get stacked diagnostics
        v_state = returned_sqlstate, v_message = message_text,
        v_detail = pg_exception_detail, v_hint = pg_exception_hint;
      if v_state = 'AW000' and v_read_done then
        null;  -- our own marker: the read succeeded
      else
        v_rows := '[]';
        v_columns := '[]';
        v_truncated_by := null;
        v_affected := null;
        if v_state = '42P11' then
          -- "cannot open multi-query plan as cursor": the scanner missed a separator.
          v_detail := v_message;
          v_state := '42601';
          v_message := 'execute_sql runs exactly one statement';
        elsif v_state = '0A000' and v_kind = 'read' and coalesce(v_hint, '') = '' then
          v_hint := 'execute_sql runs SELECT/WITH queries as a subquery, where data-modifying WITH is not allowed; run one INSERT, UPDATE or DELETE (with RETURNING for rows) instead';
        elsif v_state = '57014' then
          v_hint := coalesce(nullif(v_hint, ''), 'the query was cancelled (the 30 s statement_timeout or a cancel request)');
        end if;
        v_error := pg_catalog.jsonb_build_object(
          'code', v_state,
          'message', v_message,
          'detail', nullif(v_detail, ''),
          'hint', nullif(v_hint, '')
        );
      end if;
  end;

  v_ms := pg_catalog.floor(extract(epoch from pg_catalog.clock_timestamp() - v_started) * 1000)::int;

  perform private.sql_call_end(
    v_token,
    case when v_error is null then pg_catalog.jsonb_array_length(v_rows) end,
    v_ms,
    case when v_error is null then 'success' else 'error' end,
    v_error ->> 'message'
  );

  return pg_catalog.jsonb_build_object(
    'rows', v_rows,
    'columns', v_columns,
    'row_count', pg_catalog.jsonb_array_length(v_rows),
    'truncated', v_truncated_by is not null,
    'truncated_by', v_truncated_by,
    'execution_time_ms', v_ms,
    'command', v_command,
    'affected_rows', v_affected,
    'error', v_error
  );
end;
$function$;

comment on function ip_workbench.execute_sql(text, int) is
  'runs one sql statement for the sql editor as the caller (authenticated or service_role, no role change possible inside) under row level security (read-only unless engineer, admin or service), at most max_rows rows and 5 MiB of rows, logged in query_history exactly once; every error is returned in "error" (only a read-only transaction and a nested call raise). see 20261130000100_execute_sql_hardening.sql';

-- privileges ------------------------------------------------------------------------------------------
revoke execute on function ip_workbench.execute_sql(text, int) from public, anon;
grant execute on function ip_workbench.execute_sql(text, int) to authenticated, service_role;

-- execute_sql is security invoker: its callers need these. sql_call_begin/_end are guarded
-- by the call stack and the token; the rest give nothing the caller does not have.
revoke execute on function
  private.sql_scan(text),
  private.sql_watched_settings(),
  private.sql_settings_fingerprint(),
  private.sql_call_begin(text),
  private.sql_call_end(uuid, int, int, text, text)
from public, anon;
grant execute on function
  private.sql_scan(text),
  private.sql_watched_settings(),
  private.sql_settings_fingerprint(),
  private.sql_call_begin(text),
  private.sql_call_end(uuid, int, int, text, text)
to authenticated, service_role;

notify pgrst, 'reload schema';
