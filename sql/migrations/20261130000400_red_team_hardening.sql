-- red team of issue 12 (sql/tests/08_red_team.sql): four holes found in execute_sql after
-- 20261130000100, each closed here.
--
-- 1. masked session settings (class 2). a write may call set_config(name, v, false) (a
--    session-level set) and then set_config(name, <the old value>, true): the current value
--    is unchanged, so the fingerprint saw nothing, but at commit the local value is popped and
--    the session value v stays on the pooled connection. with supabase's postgrest, which sets
--    only request.jwt.claims, an engineer wrote request.jwt.claim.sub = <an admin's id>:
--    auth.uid() reads it first, so every later request on that connection (the engineer's
--    own, or anybody's) was the admin. postgresql shows no masked session value to sql, so
--    it cannot be compared; instead, after every successful write, execute_sql sets every
--    setting the caller could have set (pg_settings with context 'user', and the watched
--    custom settings) at session level to its neutral value (pg_settings.reset_val; '' for
--    the custom request.* / response.* settings, which nobody sets at session level) and
--    then locally back to the value it has now. whatever the sql set at session level is
--    overwritten; the rest of the request sees the same values; after commit the connection
--    holds the neutral values. (reads need nothing: their subtransaction is rolled back.)
-- 2. session advisory locks (denial of service). pg_advisory_lock() taken by sql in a read
--    survives the rolled-back subtransaction and stays on the pooled connection; a viewer
--    could take the migration runner's lock (components/database/migrations.ts,
--    MIGRATION_LOCK_KEY) and every later deployment waited for ever. execute_sql now
--    releases every session-level advisory lock the sql took (the ones this backend did not
--    hold before the call).
-- 3. error text outside the byte cap (class 5). an error message carries its input, e.g.
--    `select repeat('x', 20000000)::int` returned and logged a 20 MB message. error message,
--    detail and hint are now cut at 8,192 characters each, in the result and the history.
-- 4. scanner and lexer disagreed on non-ascii characters (class 5). postgresql's lexer takes
--    any character above u+007f as an identifier character; the scanner only took letters
--    ([[:alnum:]], locale dependent), so in `returning 1 as a€$$), two as (insert ... as b€$$`
--    the scanner saw one dollar-quoted string where the server sees identifiers, and a
--    writer broke out of execute_sql's `with q as (...)` wrapper to run two data-modifying
--    statements in one call. the scanner now treats every non-ascii character as the lexer
--    does.

-- 6. forgeable approval decisions (class 6). the app role service (and any admin) could
--    record an expense as 'approved' with decided_by = any admin's id: a human decision,
--    attributed to someone who never made it. as for the records of 20261130000200, writers
--    acting as authenticated are held to: decided_by is the caller (or empty); 'approved' and
--    'rejected' (the human decisions) are an admin's; a human decision, once made, is changed
--    only by an admin (the workflow may still mark it notified). the n8n login has its own
--    policies (20261130000300) and is not held to this, as to the other record guards.

-- 7. cost suppression through a claimed request id (class 6). litellm's usage recorder inserts
--    each request `on conflict (request_id) do nothing`. an engineer who inserted their own
--    (cost 0) llm_requests row under the request id litellm had just returned to them made the
--    recorder skip the real, costed row: the cost never reached the admin's totals or the
--    run's budget check. request ids are litellm's: writers acting as authenticated other
--    than the recorder (service) and admins leave request_id empty.

-- statement scanner (as in 20261130000100, with the lexer's identifier characters) -----------------
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
        escapes := i > 1 and c[i - 1] in ('e', 'E') and (i = 2 or not (c[i - 2] ~ '[[:alnum:]_$]' or pg_catalog.ascii(c[i - 2]) > 127));
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
      elsif ch = '$' and not (i > 1 and (c[i - 1] ~ '[[:alnum:]_]' or pg_catalog.ascii(c[i - 1]) > 127)) then
        -- $tag$ ... $tag$ (the tag may be empty); $1 is a parameter, not a quote.
        j := i + 1;
        while j <= n and (c[j] ~ '[[:alpha:]_]' or pg_catalog.ascii(c[j]) > 127 or (j > i + 1 and c[j] ~ '[0-9]')) loop
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
      elsif ch ~ '[[:alpha:]_]' or pg_catalog.ascii(ch) > 127 then
        j := i;
        while j <= n and (c[j] ~ '[[:alnum:]_$]' or pg_catalog.ascii(c[j]) > 127) loop
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


-- 5. found on the way: plpgsql formats a function's name for the call stack when it compiles
--    it, under the search_path of that moment. postgrest sets search_path to the exposed
--    schema (ip_workbench, ...), so a backend that first ran execute_sql in a request saw it
--    as `execute_sql(text,integer)`, unqualified, and sql_call_begin refused every call of that
--    backend (raised, unlogged). both spellings of execute_sql's own frame are accepted now
--    (no role can create a function named execute_sql elsewhere; a second pin per transaction
--    is refused anyway).
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
  if v_caller is null or (
    pg_catalog.strpos(v_caller, ' ip_workbench.execute_sql(text,integer) ') = 0
    and pg_catalog.strpos(v_caller, 'function execute_sql(text,integer) ') = 0
  ) then
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

-- 1. masked session settings ------------------------------------------------------------------------
-- after a successful write: every setting the caller can set goes to its neutral value at
-- session level and back to its current value locally (see the header). security invoker: it
-- acts on the caller's own settings. its set clause only scopes search_path while it runs
-- (a session-level set inside still outlives it), so the caller passes its own search_path.
create or replace function private.sql_reset_session_settings(p_search_path text)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  r record;
  v_name text;
  v_value text;
begin
  for r in
    select s.name, case when s.name = 'search_path' then p_search_path else s.setting end as setting, s.reset_val
    from pg_catalog.pg_settings as s
    where s.context = 'user'
      and s.name not in ('transaction_isolation', 'transaction_read_only', 'transaction_deferrable')
  loop
    perform pg_catalog.set_config(r.name, r.reset_val, false);
    if r.setting is distinct from r.reset_val then
      perform pg_catalog.set_config(r.name, r.setting, true);
    end if;
  end loop;
  foreach v_name in array private.sql_watched_settings() loop
    v_value := pg_catalog.current_setting(v_name, true);
    perform pg_catalog.set_config(v_name, '', false);
    if coalesce(v_value, '') <> '' then
      perform pg_catalog.set_config(v_name, v_value, true);
    end if;
  end loop;
end;
$$;

-- 2. session advisory locks -------------------------------------------------------------------------
-- the advisory locks this backend holds, as 'mode classid objid objsubid'.
create or replace function private.sql_advisory_locks()
returns text[]
language sql
volatile
set search_path = ''
as $$
  select coalesce(
    pg_catalog.array_agg(pg_catalog.concat_ws(' ', l.mode, l.classid, l.objid, l.objsubid) order by 1),
    '{}'
  )
  from pg_catalog.pg_locks as l
  where l.locktype = 'advisory' and l.pid = pg_catalog.pg_backend_pid() and l.granted;
$$;

-- releases the session-level advisory locks held now that were not held before (p_before,
-- from private.sql_advisory_locks()). a backend that held none before (every postgrest
-- connection) drops them all at once, however often the sql took them; otherwise each new one
-- is released as many times as it was taken. transaction-level ones cannot be released here
-- (pg_advisory_unlock says it does not own them, a warning kept from the client) and end with
-- the request anyway.
create or replace function private.sql_release_advisory_locks(p_before text[])
returns void
language plpgsql
volatile
set search_path = ''
set client_min_messages = 'error'
as $$
declare
  v_now text[] := private.sql_advisory_locks();
  v_lock text;
  v_part text[];
  v_key1 int;
  v_key2 int;
  v_big bigint;
  v_released boolean;
begin
  if v_now <@ coalesce(p_before, '{}') then
    return;
  end if;
  if coalesce(pg_catalog.cardinality(p_before), 0) = 0 then
    perform pg_catalog.pg_advisory_unlock_all();
    return;
  end if;
  foreach v_lock in array v_now loop
    continue when v_lock = any (p_before);
    v_part := pg_catalog.string_to_array(v_lock, ' ');
    -- pg_locks shows an (int, int) key as classid, objid (objsubid 2) and a bigint key as its
    -- high and low 32 bits (objsubid 1); both as unsigned oids.
    v_key1 := (v_part[2]::bigint - case when v_part[2]::bigint > 2147483647 then 4294967296 else 0 end)::int;
    v_key2 := (v_part[3]::bigint - case when v_part[3]::bigint > 2147483647 then 4294967296 else 0 end)::int;
    v_big := (v_part[2]::bigint << 32) | v_part[3]::bigint;
    loop
      v_released := case
        when v_part[4] = '1' and v_part[1] = 'ExclusiveLock' then pg_catalog.pg_advisory_unlock(v_big)
        when v_part[4] = '1' then pg_catalog.pg_advisory_unlock_shared(v_big)
        when v_part[1] = 'ExclusiveLock' then pg_catalog.pg_advisory_unlock(v_key1, v_key2)
        else pg_catalog.pg_advisory_unlock_shared(v_key1, v_key2)
      end;
      exit when not v_released;
    end loop;
  end loop;
end;
$$;

-- 3. error text cap ----------------------------------------------------------------------------------
create or replace function private.sql_cut(p_text text, p_max int)
returns text
language sql
immutable
set search_path = ''
as $$
  select case
    when pg_catalog.length(p_text) <= p_max then p_text
    else pg_catalog.left(p_text, p_max)
      || pg_catalog.format(' [cut by execute_sql at %s of %s characters]', p_max, pg_catalog.length(p_text))
  end;
$$;

-- execute_sql (as in 20261130000100, plus 1-3) ------------------------------------------------------
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
  c_max_error_chars constant int := 8192;
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
  v_locks text[];
begin
  if pg_catalog.current_setting('transaction_read_only') = 'on' then
    raise exception using
      errcode = '25006',
      message = 'execute_sql cannot run in a read-only transaction: the call could not be recorded in ip_workbench.query_history',
      hint = 'call it with post /rest/v1/rpc/execute_sql (postgrest runs get requests read-only), on the primary';
  end if;

  -- the history keeps at most c_max_sql_chars of the sql.
  v_token := private.sql_call_begin(pg_catalog.left(v_sql, c_max_sql_chars));
  -- the advisory locks held before the call (2).
  v_locks := private.sql_advisory_locks();

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
    if v_kind = 'write' then
      -- whatever the sql set at session level does not outlive the request (1).
      perform private.sql_reset_session_settings(pg_catalog.current_setting('search_path'));
    end if;
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
          'message', private.sql_cut(v_message, c_max_error_chars),
          'detail', private.sql_cut(nullif(v_detail, ''), c_max_error_chars),
          'hint', private.sql_cut(nullif(v_hint, ''), c_max_error_chars)
        );
      end if;
  end;

  -- session advisory locks the sql took do not outlive the call (2).
  perform private.sql_release_advisory_locks(v_locks);

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
  'runs one sql statement for the sql editor as the caller (authenticated or service_role, no role change possible inside) under row level security (read-only unless engineer, admin or service), at most max_rows rows and 5 MiB of rows, errors cut at 8,192 characters, logged in query_history exactly once; nothing it sets at session level and no session advisory lock it takes outlives the call. see 20261130000100_execute_sql_hardening.sql and 20261130000400_red_team_hardening.sql';

-- privileges ------------------------------------------------------------------------------------------
revoke execute on function ip_workbench.execute_sql(text, int) from public, anon;
grant execute on function ip_workbench.execute_sql(text, int) to authenticated, service_role;

-- execute_sql is security invoker: its callers need these; none gives the caller anything it
-- does not have (each acts on the caller's own session).
revoke execute on function
  private.sql_scan(text),
  private.sql_reset_session_settings(text),
  private.sql_advisory_locks(),
  private.sql_release_advisory_locks(text[]),
  private.sql_cut(text, int)
from public, anon;
grant execute on function
  private.sql_scan(text),
  private.sql_reset_session_settings(text),
  private.sql_advisory_locks(),
  private.sql_release_advisory_locks(text[]),
  private.sql_cut(text, int)
to authenticated, service_role;

-- 6. expense approval decisions ---------------------------------------------------------------------
create or replace function private.guard_expense_decision()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- only api callers (authenticated) are held to it, as in 20261130000200: the n8n login has
  -- its own policies and cannot call the private helpers below (a separate statement, so
  -- that they are not even parsed for it).
  if not pg_catalog.pg_has_role(current_user, 'authenticated', 'usage')
     or not pg_catalog.row_security_active('ip_workbench.expense_approvals'::pg_catalog.regclass)
  then
    return new;
  end if;
  if private.is_admin() and new.decided_by is not distinct from private.uid() then
    return new;
  end if;
  if new.decided_by is not null
     and (tg_op = 'INSERT' or new.decided_by is distinct from old.decided_by)
     and new.decided_by is distinct from private.uid()
  then
    raise exception using
      errcode = '42501',
      message = 'expense_approvals.decided_by is the admin who decides: it must be the caller',
      hint = 'an admin records their own decision; the workflow leaves decided_by empty';
  end if;
  if not private.is_admin() and (
    (new.status in ('approved', 'rejected') and (tg_op = 'INSERT' or new.status is distinct from old.status))
    or (
      tg_op = 'UPDATE' and old.status in ('approved', 'rejected')
      and (new.status, new.decided_by, new.decided_at, new.amount, new.threshold)
        is distinct from (old.status, old.decided_by, old.decided_at, old.amount, old.threshold)
    )
  ) then
    raise exception using
      errcode = '42501',
      message = pg_catalog.format(
        'approved and rejected are an admin''s decisions: this role may not record or change one (expense %s)', new.expense_id
      ),
      hint = 'the workflow records auto_approved or pending_approval; an admin approves or rejects';
  end if;
  return new;
end;
$$;

create or replace trigger guard_expense_decision
before insert or update on ip_workbench.expense_approvals
for each row execute function private.guard_expense_decision();

revoke execute on function private.guard_expense_decision() from public, anon;
grant execute on function private.guard_expense_decision() to authenticated, service_role;

-- 7. llm request ids ---------------------------------------------------------------------------------
create or replace function private.guard_llm_request_id()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- only api callers (authenticated) are held to it, as in 20261130000200 (a separate
  -- statement: the usage recorder's login cannot call the private helpers below).
  if new.request_id is null
     or not pg_catalog.pg_has_role(current_user, 'authenticated', 'usage')
     or not pg_catalog.row_security_active('ip_workbench.llm_requests'::pg_catalog.regclass)
  then
    return new;
  end if;
  if not (private.is_admin() or private.is_service()) then
    raise exception using
      errcode = '42501',
      message = pg_catalog.format(
        'llm_requests.request_id is litellm''s, recorded by the usage recorder (app role service) or an admin; this role must leave it out (got %s)',
        new.request_id
      ),
      hint = 'insert the request without request_id; litellm''s usage callback records the request under its id';
  end if;
  return new;
end;
$$;

create or replace trigger guard_llm_request_id
before insert on ip_workbench.llm_requests
for each row execute function private.guard_llm_request_id();

revoke execute on function private.guard_llm_request_id() from public, anon;
grant execute on function private.guard_llm_request_id() to authenticated, service_role;

notify pgrst, 'reload schema';
