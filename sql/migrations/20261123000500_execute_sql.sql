-- ip_workbench.execute_sql(sql, max_rows): the sql editor's rpc (seed 004: post
-- /rest/v1/rpc/execute_sql).
--
-- result (jsonb):
--   {"rows": [{...}, ...], "columns": ["col", ...], "row_count": n, "truncated": bool,
--    "execution_time_ms": n, "command": "SELECT"|"INSERT"|"UPDATE"|"DELETE"|null,
--    "affected_rows": n|null, "error": null | {"code", "message", "detail", "hint"}}
--   rows are json objects (key order is not kept in jsonb: "columns" gives the order);
--   row_count is the number of rows in "rows"; truncated says more rows existed than
--   max_rows (default 1000, 1..10000).
--
-- errors. an error raised out of this function rolls back the caller's transaction (the
-- postgrest request, or the savepoint) and with it the query_history row written for the
-- call: "log, then re-raise" can never persist a failed call. so the line is drawn here:
--   * errors of the sql itself (syntax, more than one statement, a data-modifying cte, a
--     viewer's write, rls, runtime errors such as division by zero) are caught in a
--     subtransaction, rolled back, logged in query_history with status 'error', and
--     returned as {"error": {"code": <sqlstate>, "message", "detail", "hint"}} (postgrest
--     answers 200; callers check `error`).
--   * errors of the call are raised, before anything runs: no execute privilege (anon,
--     42501), no app role (42501), max_rows out of range (22023), no or too large
--     statement_timeout (55000), a read-only transaction (25006), a nested call (0A000).
--   * a cancelled query (57014: statement_timeout or a cancel request) is raised too, so
--     a cancel still cancels the statement.
--   raised calls leave no query_history row; postgresql writes the failing statement to
--   the server log (log_min_error_statement), and a `raise log` line adds user and role.
--
-- what runs:
--   * exactly one statement. a small lexer (private.sql_scan) counts statements outside
--     quotes, comments and dollar quotes and checks parentheses; the sql is then wrapped
--     as a subquery or cte and opened as a cursor, which postgresql refuses for more than
--     one statement (plpgsql's plain `execute` would run them all). balanced parentheses
--     stop sql from closing the wrapper's own parenthesis to append a clause.
--   * select / with / values / table (any app role): run as
--     `select json_agg(row_to_json(q)) from (<sql>) as q limit max_rows + 1` inside a
--     subtransaction made read-only (transaction_read_only = on) and then rolled back on
--     purpose, so not even a volatile function called by the query can write, change a
--     setting or take a lock beyond the call. a data-modifying cte cannot run inside a
--     subquery (0A000), so it is rejected structurally.
--   * insert / update / delete (engineers, admins, service; service_role): one statement,
--     run as `with q as (<sql>) select ...`, rls applies. with a returning clause its
--     rows are returned (capped by max_rows); without one, "rows" is empty and
--     "affected_rows" counts the rows changed. merge, ddl, grants, copy, call, do, set,
--     explain are refused (0A000); so is `with ... delete` (a cte feeding a dml).
--
-- identity: the caller's uid and app role are pinned (private.begin_sql_session) before
-- the sql runs, so `select set_config('request.jwt.claims', ...)` inside the sql cannot
-- make the policies see someone else (see 20261123000400_authorization.sql).
--
-- 30 s timeout. postgresql arms statement_timeout when the client's top-level statement
-- starts; a `set statement_timeout` inside this function (or a `set` clause on it) would
-- change the setting but not the timer already running, so it cannot bound the user's
-- query. hence:
--   1. api roles get a role setting (below): `alter role anon / authenticated /
--      service_role set statement_timeout = '30s'`, only where the role has none or a
--      larger one (supabase gives anon 3s and authenticated 8s: those are kept).
--      postgrest applies the impersonated role's settings before each request, so the
--      rpc statement is armed with it.
--   2. execute_sql reads statement_timeout (the value armed for the current statement)
--      and refuses to run (raises 55000) when it is 0 (none) or above 30 s, telling the
--      caller to `set statement_timeout = '30s'` first. a direct connection (psql, the
--      typescript suite) therefore gets the same bound. (a caller that changes the setting
--      in the same statement that calls execute_sql is not detected.)
--   execute_sql has no `set` clause at all: the caller's search_path resolves the user's
--   sql, and every name inside the function body is schema-qualified.
--
-- read-only transactions: a call in one (postgrest runs get /rpc read-only, and so does a
-- read replica) could not record its history row, so it is refused with 25006 and a hint
-- to use post.

-- statement scanner -----------------------------------------------------------------------------
-- counts the statements of p_sql outside string constants, quoted identifiers, comments and
-- dollar quotes; returns the first statement without its terminating ';', its first keyword
-- (after any opening parentheses) and whether its parentheses balance. it only decides
-- what to run and words errors: the cursor and the wrapping enforce a single statement.
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
  depth int := 0;
  min_depth int := 0;
  has_token boolean := false;  -- the current statement has a token
  before_keyword boolean := true;  -- only '(' seen in the first statement so far
  first_end int;  -- position of the ';' ending the first statement
  escapes boolean;
  tag text;
  rest_pos int;
  ch text;
begin
  statement_count := 0;
  while i <= n loop
    ch := c[i];
    if ch ~ '\s' then
      i := i + 1;
    elsif ch = '-' and i < n and c[i + 1] = '-' then
      i := i + 2;
      while i <= n and c[i] <> E'\n' loop
        i := i + 1;
      end loop;
    elsif ch = '/' and i < n and c[i + 1] = '*' then
      -- block comments nest in postgresql
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
        -- E'...' also takes backslash escapes
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
      elsif ch = '$' then
        -- $tag$ ... $tag$ (the tag may be empty); $1 is a parameter, not a quote
        j := i + 1;
        while j <= n and (c[j] ~ '[[:alpha:]_]' or (j > i + 1 and c[j] ~ '[0-9]')) loop
          j := j + 1;
        end loop;
        if j <= n and c[j] = '$' then
          tag := pg_catalog.array_to_string(c[i:j], '');
          rest_pos := pg_catalog.strpos(pg_catalog.array_to_string(c[j + 1:n], ''), tag);
          if rest_pos = 0 then
            i := n + 1;  -- unterminated: the parser will say so
          else
            i := j + rest_pos + pg_catalog.length(tag);
          end if;
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

-- identity pin --------------------------------------------------------------------------------------
-- records the caller's uid and app role for this transaction; returns the token that
-- ends it. a second pin in the same transaction means execute_sql was called from sql
-- that execute_sql runs: refused.
create or replace function private.begin_sql_session()
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_token uuid := pg_catalog.gen_random_uuid();
  v_user_id uuid := private.uid();
  v_app_role text := private.get_user_role();
begin
  insert into private.sql_sessions (xact_id, backend_pid, token, user_id, app_role)
  values (pg_catalog.pg_current_xact_id(), pg_catalog.pg_backend_pid(), v_token, v_user_id, v_app_role);
  return v_token;
exception
  when unique_violation then
    raise exception using
      errcode = '0A000',
      message = 'execute_sql cannot be called from sql that execute_sql runs';
end;
$$;

-- the token is known only to the execute_sql call that pinned, so the user's sql cannot
-- lift the pin early.
create or replace function private.end_sql_session(p_token uuid)
returns void
language sql
volatile
security definer
set search_path = ''
as $$
  delete from private.sql_sessions as s
  where s.xact_id = pg_catalog.pg_current_xact_id_if_assigned() and s.token = p_token;
$$;

-- query history --------------------------------------------------------------------------------------
-- security definer: every app role's calls are logged, yet nobody may insert into
-- query_history directly. the user and role are taken from the (pinned) identity, not from
-- arguments, so a caller can only ever write rows about itself.
create or replace function private.log_query(
  p_sql text,
  p_rows_returned int,
  p_execution_time_ms int,
  p_status text,
  p_error_message text,
  p_database_role text
)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.uid();
  v_role text := coalesce(private.get_user_role(), p_database_role);
begin
  begin
    insert into ip_workbench.query_history (user_id, sql, rows_returned, execution_time_ms, status, error_message, role)
    values (v_user_id, coalesce(p_sql, ''), p_rows_returned, p_execution_time_ms, p_status, p_error_message, v_role);
  exception
    when foreign_key_violation then
      -- the jwt's sub names no known user (a hand-made token): keep the entry, unattributed.
      insert into ip_workbench.query_history (user_id, sql, rows_returned, execution_time_ms, status, error_message, role)
      values (null, coalesce(p_sql, ''), p_rows_returned, p_execution_time_ms, p_status, p_error_message, v_role);
  end;
end;
$$;

-- execute_sql -----------------------------------------------------------------------------------------
create or replace function ip_workbench.execute_sql(sql text, max_rows int default 1000)
returns jsonb
language plpgsql
volatile
security invoker
as $function$
declare
  c_max_rows_limit constant int := 10000;
  c_timeout_limit_ms constant bigint := 30000;
  v_limit int := coalesce(execute_sql.max_rows, 1000);
  v_token uuid;
  v_role text;
  v_privileged boolean;
  v_scan record;
  v_kind text;
  v_command text;
  v_body text;
  v_timeout_ms bigint;
  v_cur refcursor;
  v_json json;
  v_describe json;
  v_fetched bigint;
  v_affected bigint;
  v_rows jsonb := '[]';
  v_columns jsonb := '[]';
  v_truncated boolean := false;
  v_started timestamptz;
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

  v_token := private.begin_sql_session();
  v_role := private.get_user_role();
  -- service_role and superusers are not held to the policies; they may write too.
  v_privileged := coalesce(
    (select r.rolsuper or r.rolbypassrls from pg_catalog.pg_roles as r where r.rolname = current_user),
    false
  );

  -- errors of the call: raised (see the header).
  if v_role is null and not v_privileged then
    raise log 'execute_sql refused: user % has no app role', private.uid();
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
    raise log 'execute_sql refused: user % (role %) called it with statement_timeout %',
      private.uid(), coalesce(v_role, current_user), pg_catalog.current_setting('statement_timeout');
    raise exception using
      errcode = '55000',
      message = pg_catalog.format(
        'execute_sql needs a statement_timeout between 1ms and 30s, but it is %s: run  set statement_timeout = ''30s''  first',
        case when v_timeout_ms = 0 then '0 (no limit)' else pg_catalog.current_setting('statement_timeout') end
      ),
      hint = 'postgrest applies the api role''s 30s setting by itself; direct connections must set it';
  end if;

  v_started := pg_catalog.clock_timestamp();

  -- errors of the sql: rolled back to here, logged and reported in the result.
  begin
    select * into v_scan from private.sql_scan(execute_sql.sql);
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
    elsif v_kind = 'write' and not (v_privileged or v_role in ('engineer', 'admin', 'service')) then
      raise exception using
        errcode = '42501',
        message = pg_catalog.format('the %s role may only run read-only queries (SELECT, WITH, VALUES, TABLE)', v_role),
        hint = 'writes through execute_sql need the engineer, admin or service role';
    end if;

    if v_kind = 'read' then
      -- read-only for the rest of this subtransaction; raising 'AW000' below rolls it back,
      -- which restores read-write for the logging (the values fetched stay in variables).
      perform pg_catalog.set_config('transaction_read_only', 'on', true);
      open v_cur no scroll for execute pg_catalog.format(
        'select pg_catalog.json_agg(x.r), pg_catalog.count(*) from (select pg_catalog.row_to_json(q) as r from (%s) as q limit %s) as x',
        v_body, v_limit + 1
      );
      fetch v_cur into v_json, v_fetched;
      close v_cur;
      if v_fetched = 0 then
        -- no row to take the column names from: a left join on false yields one all-null
        -- row of the query's shape without running it.
        open v_cur no scroll for execute pg_catalog.format(
          'select pg_catalog.row_to_json(x) from (select q.* from (select) as d left join (%s) as q on false) as x',
          v_body
        );
        fetch v_cur into v_describe;
        close v_cur;
      end if;
      v_read_done := true;
      raise exception using errcode = 'AW000', message = 'execute_sql: end of read-only subtransaction';
    else
      begin
        open v_cur no scroll for execute pg_catalog.format(
          'with q as (%s) select (select pg_catalog.json_agg(x.r) from (select pg_catalog.row_to_json(q) as r from q limit %s) as x), (select pg_catalog.count(*) from q)',
          v_body, v_limit + 1
        );
        fetch v_cur into v_json, v_affected;
        close v_cur;
      exception
        when feature_not_supported then
          -- 'with query "q" does not have a returning clause' (raised while parsing, before
          -- anything ran): count the changed rows instead.
          open v_cur no scroll for execute pg_catalog.format(
            'with q as (%s returning 1) select null::json, pg_catalog.count(*) from q',
            v_body
          );
          fetch v_cur into v_json, v_affected;
          close v_cur;
      end;
    end if;
  exception
    when sqlstate 'AW000' then
      if not v_read_done then
        -- not our marker: something in the user's sql raised this code.
        v_error := pg_catalog.jsonb_build_object('code', 'AW000', 'message', sqlerrm, 'detail', null, 'hint', null);
      end if;
    when query_canceled then
      -- statement_timeout (or a cancel request) fired during the user's sql: let the
      -- cancel cancel the statement; note it in the server log first.
      raise log 'execute_sql cancelled after % ms: user % (role %)',
        pg_catalog.floor(extract(epoch from pg_catalog.clock_timestamp() - v_started) * 1000),
        private.uid(), coalesce(v_role, current_user);
      raise;
    when others then
      get stacked diagnostics
        v_state = returned_sqlstate, v_message = message_text,
        v_detail = pg_exception_detail, v_hint = pg_exception_hint;
      if v_state = '42P11' then
        -- "cannot open multi-query plan as cursor": the scanner missed a separator.
        v_detail := v_message;
        v_state := '42601';
        v_message := 'execute_sql runs exactly one statement';
      elsif v_state = '0A000' and v_kind = 'read' and coalesce(v_hint, '') = '' then
        v_hint := 'execute_sql runs SELECT/WITH queries as a subquery, where data-modifying WITH is not allowed; run one INSERT, UPDATE or DELETE (with RETURNING for rows) instead';
      end if;
      v_error := pg_catalog.jsonb_build_object(
        'code', v_state,
        'message', v_message,
        'detail', nullif(v_detail, ''),
        'hint', nullif(v_hint, '')
      );
  end;

  v_ms := pg_catalog.floor(extract(epoch from pg_catalog.clock_timestamp() - v_started) * 1000)::int;

  if v_error is null then
    if v_json is not null then
      v_rows := v_json::jsonb;
      -- json (not jsonb) keeps the keys in column order
      select coalesce(pg_catalog.jsonb_agg(k.key order by k.ord), '[]'::jsonb) into v_columns
      from pg_catalog.json_object_keys(v_json -> 0) with ordinality as k(key, ord);
    elsif v_describe is not null then
      select coalesce(pg_catalog.jsonb_agg(k.key order by k.ord), '[]'::jsonb) into v_columns
      from pg_catalog.json_object_keys(v_describe) with ordinality as k(key, ord);
    end if;
    if pg_catalog.jsonb_array_length(v_rows) > v_limit then
      v_rows := v_rows - v_limit;  -- drop the probe row past the cap
      v_truncated := true;
    end if;
  end if;

  -- logged before the pin is lifted: a claim changed by the user's sql cannot re-attribute it.
  perform private.log_query(
    execute_sql.sql,
    case when v_error is null then pg_catalog.jsonb_array_length(v_rows) end,
    v_ms,
    case when v_error is null then 'success' else 'error' end,
    v_error ->> 'message',
    current_user
  );
  perform private.end_sql_session(v_token);

  return pg_catalog.jsonb_build_object(
    'rows', v_rows,
    'columns', v_columns,
    'row_count', pg_catalog.jsonb_array_length(v_rows),
    'truncated', v_truncated,
    'execution_time_ms', v_ms,
    'command', v_command,
    'affected_rows', v_affected,
    'error', v_error
  );
end;
$function$;

comment on function ip_workbench.execute_sql(text, int) is
  'runs one sql statement for the sql editor under the caller''s row level security (read-only unless engineer, admin or service), at most max_rows rows, logged in query_history; errors of the sql are returned in "error", errors of the call and cancellations are raised. see 20261123000500_execute_sql.sql';

-- privileges ------------------------------------------------------------------------------------------
revoke execute on function ip_workbench.execute_sql(text, int) from public, anon;
grant execute on function ip_workbench.execute_sql(text, int) to authenticated, service_role;

-- execute_sql is security invoker: its callers need the helpers it calls.
revoke execute on function
  private.sql_scan(text),
  private.begin_sql_session(),
  private.end_sql_session(uuid),
  private.log_query(text, int, int, text, text, text)
from public, anon;
grant execute on function
  private.sql_scan(text),
  private.begin_sql_session(),
  private.end_sql_session(uuid),
  private.log_query(text, int, int, text, text, text)
to authenticated, service_role;

-- api role timeouts (see the header) ------------------------------------------------------------------
do $$
declare
  v_role text;
  v_value text;
  v_ms bigint;
  v_saved text := pg_catalog.current_setting('statement_timeout');
begin
  foreach v_role in array array['anon', 'authenticated', 'service_role'] loop
    select pg_catalog.substr(cfg, pg_catalog.length('statement_timeout=') + 1) into v_value
    from pg_catalog.pg_db_role_setting as s, pg_catalog.unnest(s.setconfig) as cfg
    where s.setrole = (select r.oid from pg_catalog.pg_roles as r where r.rolname = v_role)
      and s.setdatabase = 0
      and cfg like 'statement_timeout=%';

    v_ms := null;
    if v_value is not null then
      -- let postgresql parse the unit ('8s', '2min', '500'), then put the setting back.
      perform pg_catalog.set_config('statement_timeout', v_value, true);
      select st.setting::bigint into v_ms from pg_catalog.pg_settings as st where st.name = 'statement_timeout';
      perform pg_catalog.set_config('statement_timeout', v_saved, true);
    end if;

    if v_ms is null or v_ms = 0 or v_ms > 30000 then
      execute pg_catalog.format('alter role %I set statement_timeout = %L', v_role, '30s');
    end if;
  end loop;
end
$$;

-- postgrest caches role settings and the schema: have a running postgrest reload both.
notify pgrst, 'reload config';
notify pgrst, 'reload schema';
