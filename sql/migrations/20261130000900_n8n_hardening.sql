-- what the n8n workflows (n8n-workflows/) need to hold under hostile and real-world input
-- (issue 20). every rule that decides something lives here, in one transaction with the
-- write it guards, so two racing webhook calls cannot both win:
--
--   * bronze.deliver_batch: a batch id names one content. a re-sent batch with the same
--     records is a duplicate (nothing inserted); the same batch id with other records is a
--     conflict, never a silent duplicate: refused (the scout webhook answers 409), or, for
--     a sync that must not stall, stored as a new delivery under '<batch id>~<hash>'.
--   * bronze.sync_cursors / bronze.sync_quarantine: the odoo sync's stable cursor
--     (write_date, id), which only moves forward, and the records whose write_date is not
--     a timestamp (kept whole, never used as the cursor).
--   * ip_workbench.request_pipeline_run: called AS THE CALLER (role authenticated, the
--     caller's verified jwt claims): refuses unless the caller's app role may start a run (sql/MATRIX.md "Retry Failed Jobs": insert job_runs, engineers
--     as themselves, admins, service; viewers never), and inserts the run under the
--     caller's row level security. the steps then run as the caller too (the workflow),
--     never as the pipeline's owner.
--   * ip_workbench.expense_approvals gains the threshold's currency, the converted amount
--     and the previous decision; ip_workbench.decide_expense records a decision under a row
--     lock and hands the approvers' notification to exactly one caller.
--   * private.notification_log / ip_workbench.take_notification_slot: mattermost posting
--     is rate limited per topic and per channel.

-- re-deliveries -------------------------------------------------------------------------------------

-- the content hash of a batch: sha256 of its payloads as a json array, in order.
create or replace function bronze.batch_sha256(payloads text[])
returns text
language sql
immutable
parallel safe
set search_path = ''
return encode(pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.to_json(coalesce(payloads, '{}'::text[]))::text, 'UTF8')), 'hex');

comment on function bronze.batch_sha256(text[]) is 'sha256 (hex) of a batch''s payloads as a json array, in order: what a batch id stands for';

-- delivers a batch once. answers {batch_id, inserted, status, stored_records}:
--   status 'new'        the batch landed (inserted = its records);
--   status 'duplicate'  the same records arrived under this batch id before (inserted 0);
--   status 'conflict'   other records arrived under this batch id before; nothing stored
--                       (on_conflict 'refuse');
--   status 'redelivered' other records arrived under this batch id before; these landed as
--                       a new delivery '<batch id>~<first 16 hex of their hash>'
--                       (on_conflict 'new_delivery'), and batch_id says which.
-- the stored content is read back from the landing table (every loader's rows count, not
-- only this function's). security invoker, like bronze.deliver.
create or replace function bronze.deliver_batch(
  entity text,
  source text,
  batch_id text,
  payloads text[],
  on_conflict text default 'refuse'
)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  landing text := case entity
    when 'scout_transactions' then 'scout_transactions_raw'
    when 'scout_products' then 'scout_products_raw'
    when 'expenses' then 'expenses_raw'
  end;
  v_hash text := bronze.batch_sha256(payloads);
  v_inserted integer;
  v_stored text[];
  v_new_id text;
begin
  if on_conflict not in ('refuse', 'new_delivery') then
    raise exception 'on_conflict must be refuse or new_delivery, not %', on_conflict using errcode = '22023';
  end if;
  v_inserted := bronze.deliver(entity, source, batch_id, payloads);
  if v_inserted > 0 or coalesce(cardinality(payloads), 0) = 0 then
    return jsonb_build_object('batch_id', batch_id, 'inserted', v_inserted, 'status', 'new',
      'stored_records', v_inserted);
  end if;
  execute format(
    'select coalesce(array_agg(payload_raw order by record_seq), ''{}'') from bronze.%I where source = $1 and batch_id = $2',
    landing)
  into v_stored
  using source, batch_id;
  if bronze.batch_sha256(v_stored) = v_hash then
    return jsonb_build_object('batch_id', batch_id, 'inserted', 0, 'status', 'duplicate',
      'stored_records', cardinality(v_stored));
  end if;
  if on_conflict = 'refuse' then
    return jsonb_build_object('batch_id', batch_id, 'inserted', 0, 'status', 'conflict',
      'stored_records', cardinality(v_stored));
  end if;
  v_new_id := batch_id || '~' || left(v_hash, 16);
  v_inserted := bronze.deliver(entity, source, v_new_id, payloads);
  return jsonb_build_object('batch_id', v_new_id, 'inserted', v_inserted,
    'status', case when v_inserted > 0 then 'redelivered' else 'duplicate' end,
    'conflicts_with', batch_id, 'stored_records', cardinality(v_stored));
end;
$$;

comment on function bronze.deliver_batch(text, text, text, text[], text) is
  'delivers a batch once: new, duplicate (same records), conflict (other records under the same batch id: refused) or redelivered under <batch id>~<hash>; see 20261130000900_n8n_hardening.sql';

revoke execute on function bronze.batch_sha256(text[]) from public;
revoke execute on function bronze.deliver_batch(text, text, text, text[], text) from public;
grant execute on function bronze.batch_sha256(text[]) to service_role;
grant execute on function bronze.deliver_batch(text, text, text, text[], text) to service_role;

-- sync cursors --------------------------------------------------------------------------------------

create table if not exists bronze.sync_cursors (
  source text not null,
  entity text not null check (entity in ('scout_transactions', 'scout_products', 'expenses')),
  -- the last record delivered, in the upstream's order (write_date, id): the next page
  -- starts strictly after it.
  cursor_at timestamp not null,
  cursor_id bigint not null,
  updated_at timestamptz not null default now(),
  constraint sync_cursors_pkey primary key (source, entity)
);
comment on table bronze.sync_cursors is 'where each incremental sync stands: the (write_date, id) of the last record delivered; only moves forward';

create table if not exists bronze.sync_quarantine (
  source text not null,
  entity text not null,
  record_key text not null,
  record_sha256 text not null,
  reason text not null,
  record jsonb not null,
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  seen_count integer not null default 1 check (seen_count >= 1),
  constraint sync_quarantine_pkey primary key (source, entity, record_key, record_sha256)
);
comment on table bronze.sync_quarantine is 'upstream records a sync could not place (e.g. a write_date that is not a timestamp): kept whole, one row per distinct version, never used as a cursor';

alter table bronze.sync_cursors enable row level security;
alter table bronze.sync_cursors force row level security;
alter table bronze.sync_quarantine enable row level security;
alter table bronze.sync_quarantine force row level security;
revoke all on bronze.sync_cursors, bronze.sync_quarantine from public, anon, authenticated;
grant select, insert, update on bronze.sync_cursors, bronze.sync_quarantine to service_role;
-- service_role bypasses rls; the policies say so for owners that do not.
drop policy if exists "the loader keeps its cursor" on bronze.sync_cursors;
create policy "the loader keeps its cursor" on bronze.sync_cursors
  for all to service_role using (true) with check (true);
drop policy if exists "the loader keeps its quarantine" on bronze.sync_quarantine;
create policy "the loader keeps its quarantine" on bronze.sync_quarantine
  for all to service_role using (true) with check (true);

-- moves a sync's cursor to (at, id) when that is after where it stands; returns where it
-- stands afterwards as {at: 'YYYY-MM-DD HH24:MI:SS', id}.
create or replace function bronze.advance_sync_cursor(source text, entity text, at timestamp, id bigint)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v bronze.sync_cursors;
begin
  insert into bronze.sync_cursors as c (source, entity, cursor_at, cursor_id)
  values (advance_sync_cursor.source, advance_sync_cursor.entity, advance_sync_cursor.at, advance_sync_cursor.id)
  on conflict on constraint sync_cursors_pkey do update
    set cursor_at = excluded.cursor_at, cursor_id = excluded.cursor_id, updated_at = now()
    where (excluded.cursor_at, excluded.cursor_id) > (c.cursor_at, c.cursor_id);
  select * into v from bronze.sync_cursors as c
  where c.source = advance_sync_cursor.source and c.entity = advance_sync_cursor.entity;
  return jsonb_build_object('at', to_char(v.cursor_at, 'YYYY-MM-DD HH24:MI:SS'), 'id', v.cursor_id);
end;
$$;

-- keeps a record a sync could not place; returns true the first time this version is seen.
create or replace function bronze.quarantine_sync_record(source text, entity text, record_key text, reason text, record jsonb)
returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_first boolean;
begin
  insert into bronze.sync_quarantine as q (source, entity, record_key, record_sha256, reason, record)
  values (quarantine_sync_record.source, quarantine_sync_record.entity, quarantine_sync_record.record_key,
    encode(pg_catalog.sha256(pg_catalog.convert_to(quarantine_sync_record.record::text, 'UTF8')), 'hex'),
    quarantine_sync_record.reason, quarantine_sync_record.record)
  on conflict on constraint sync_quarantine_pkey do update
    set last_seen_at = now(), seen_count = q.seen_count + 1
  returning (xmax = 0) into v_first;
  return v_first;
end;
$$;

revoke execute on function bronze.advance_sync_cursor(text, text, timestamp, bigint) from public;
revoke execute on function bronze.quarantine_sync_record(text, text, text, text, jsonb) from public;
grant execute on function bronze.advance_sync_cursor(text, text, timestamp, bigint) to service_role;
grant execute on function bronze.quarantine_sync_record(text, text, text, text, jsonb) to service_role;

-- pipeline runs -------------------------------------------------------------------------------------

-- starts a run of a pipeline for the caller. security invoker: call it as the caller
-- (set request.jwt.claims to the caller's verified claims, then set role authenticated),
-- so the pipeline is read and the run inserted under the caller's row level security.
-- that the caller exists in auth.users is the executor's check before it switches role
-- (authorization never reads auth.users, sql/tests/01_lints.sql).
-- answers {http_status, error} or {http_status: 202, job_run_id, status, role, steps}.
create or replace function ip_workbench.request_pipeline_run(p_pipeline_id uuid)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_role text;
  v_pipeline record;
  v_steps jsonb;
  v_unsupported text;
  v_run uuid;
begin
  if v_uid is null then
    return jsonb_build_object('http_status', 401, 'error', 'the token names no user (no sub claim)');
  end if;
  v_role := (select private.get_user_role());
  if v_role is null then
    return jsonb_build_object('http_status', 403, 'error', format('user %s has no app role', v_uid));
  end if;
  select p.id, p.name, p.enabled into v_pipeline
  from ip_workbench.pipelines as p
  where p.id = p_pipeline_id;
  if not found then
    return jsonb_build_object('http_status', 404, 'error', format('pipeline %s does not exist', p_pipeline_id));
  end if;
  if v_role not in ('engineer', 'admin', 'service') then
    return jsonb_build_object('http_status', 403, 'error', format(
      'role %s may not run pipelines: a run is a new job run, which engineers (as themselves), admins and service may start (sql/MATRIX.md, Retry Failed Jobs)',
      v_role));
  end if;
  if not v_pipeline.enabled then
    return jsonb_build_object('http_status', 409, 'error', format('pipeline ''%s'' is disabled', v_pipeline.name));
  end if;
  select
    coalesce(jsonb_agg(jsonb_build_object('position', s.position, 'name', s.name, 'sql', s.config ->> 'sql')
      order by s.position), '[]'::jsonb),
    string_agg(format('%s ''%s'' (%s)', s.position, s.name, s.step_type), ', ' order by s.position)
      filter (where s.step_type <> 'sql' or coalesce(btrim(s.config ->> 'sql'), '') = '')
  into v_steps, v_unsupported
  from ip_workbench.pipeline_steps as s
  where s.pipeline_id = p_pipeline_id;
  if jsonb_array_length(v_steps) = 0 then
    return jsonb_build_object('http_status', 422, 'error', format('pipeline ''%s'' has no steps', v_pipeline.name));
  end if;
  if v_unsupported is not null then
    return jsonb_build_object('http_status', 422, 'error', format(
      'pipeline ''%s'' has steps n8n cannot run: %s; n8n runs steps of type ''sql'' with config.sql',
      v_pipeline.name, v_unsupported));
  end if;
  begin
    insert into ip_workbench.job_runs (pipeline_id, status, triggered_by, stage)
    values (p_pipeline_id, 'pending', v_uid, 'n8n')
    returning id into v_run;
  exception when insufficient_privilege then
    return jsonb_build_object('http_status', 403, 'error', format(
      'user %s (role %s) may not start a run of pipeline ''%s'': %s', v_uid, v_role, v_pipeline.name, sqlerrm));
  end;
  return jsonb_build_object('http_status', 202, 'job_run_id', v_run, 'status', 'pending',
    'triggered_by', v_uid, 'role', v_role, 'pipeline', v_pipeline.name, 'steps', v_steps);
end;
$$;

comment on function ip_workbench.request_pipeline_run(uuid) is
  'starts a run of a pipeline for the caller, under the caller''s rls: 401 no user, 403 no role / role may not run (sql/MATRIX.md), 404, 409 disabled, 422 steps n8n cannot run, else 202 with the steps. see 20261130000900_n8n_hardening.sql';
revoke execute on function ip_workbench.request_pipeline_run(uuid) from public, anon;
grant execute on function ip_workbench.request_pipeline_run(uuid) to authenticated, service_role;

-- expense approvals ---------------------------------------------------------------------------------

alter table ip_workbench.expense_approvals
  add column if not exists threshold_currency text,
  add column if not exists amount_converted numeric(14, 2) check (amount_converted >= 0),
  add column if not exists previous_status text,
  add column if not exists previous_amount numeric(14, 2);
comment on column ip_workbench.expense_approvals.threshold_currency is 'currency of threshold (and of amount_converted)';
comment on column ip_workbench.expense_approvals.amount_converted is 'amount in threshold_currency: what was compared with the threshold';
comment on column ip_workbench.expense_approvals.previous_status is 'the decision a changed amount re-opened (pending_approval again)';

-- records the decision for one expense (its current amount), under a row lock, and answers
-- {expense_id, status, amount, currency, amount_converted, threshold, threshold_currency,
--  notify, reopened, notified_at}. rules:
--   * a first decision: auto_approved under the threshold, pending_approval at or above;
--   * the same amount again: the recorded decision stands (approved / rejected are final);
--   * a changed amount after a decision that involved people (pending, approved, rejected,
--     i.e. once notified) re-opens review: pending_approval, never auto_approved; an
--     auto-approval of another amount is decided afresh;
--   * notify is true for exactly one caller per pending decision: that caller posts, and
--     calls ip_workbench.release_expense_notification when the post fails.
-- called by the n8n login (service_role or the owner); amounts are checked by the caller,
-- and again by the table's checks.
create or replace function ip_workbench.decide_expense(
  p_expense_id text,
  p_amount numeric,
  p_currency text,
  p_amount_converted numeric,
  p_threshold numeric,
  p_threshold_currency text
)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v ip_workbench.expense_approvals;
  v_status text := case when p_amount_converted < p_threshold then 'auto_approved' else 'pending_approval' end;
  v_notify boolean := false;
  v_reopened boolean := false;
begin
  if p_amount is null or p_amount < 0 or p_amount_converted is null or p_amount_converted < 0 then
    raise exception 'expense %: the amount must be a number of at least 0 (got %)', p_expense_id, p_amount
      using errcode = '22023';
  end if;
  insert into ip_workbench.expense_approvals as a
    (expense_id, status, amount, currency, amount_converted, threshold, threshold_currency, notified_at)
  values (p_expense_id, v_status, p_amount, p_currency, p_amount_converted, p_threshold, p_threshold_currency,
    case when v_status = 'pending_approval' then now() end)
  on conflict (expense_id) do nothing
  returning * into v;
  if found then
    v_notify := v_status = 'pending_approval';
  else
    select * into v from ip_workbench.expense_approvals as a where a.expense_id = p_expense_id for update;
    if v.amount is distinct from p_amount or v.currency is distinct from p_currency then
      if v.status = 'auto_approved' and v.notified_at is null and v_status = 'auto_approved' then
        update ip_workbench.expense_approvals as a
        set amount = p_amount, currency = p_currency, amount_converted = p_amount_converted,
          threshold = p_threshold, threshold_currency = p_threshold_currency, decided_at = now(),
          previous_status = v.status, previous_amount = v.amount
        where a.expense_id = p_expense_id
        returning * into v;
      else
        v_reopened := v.status <> 'auto_approved';
        update ip_workbench.expense_approvals as a
        set status = 'pending_approval', amount = p_amount, currency = p_currency,
          amount_converted = p_amount_converted, threshold = p_threshold,
          threshold_currency = p_threshold_currency, decided_at = now(), decided_by = null,
          previous_status = v.status, previous_amount = v.amount, notified_at = now()
        where a.expense_id = p_expense_id
        returning * into v;
        v_notify := true;
      end if;
    elsif v.status = 'pending_approval' and v.notified_at is null then
      -- an earlier notification failed and was released: this caller posts it.
      update ip_workbench.expense_approvals as a set notified_at = now()
      where a.expense_id = p_expense_id
      returning * into v;
      v_notify := true;
    end if;
  end if;
  return jsonb_build_object(
    'expense_id', v.expense_id, 'status', v.status, 'amount', v.amount, 'currency', v.currency,
    'amount_converted', v.amount_converted, 'threshold', v.threshold,
    'threshold_currency', v.threshold_currency, 'notify', v_notify, 'reopened', v_reopened,
    'previous_status', v.previous_status, 'previous_amount', v.previous_amount,
    'notified_at', v.notified_at);
end;
$$;

-- gives a pending expense's notification back when posting it failed (the next call posts).
create or replace function ip_workbench.release_expense_notification(p_expense_id text, p_notified_at timestamptz)
returns boolean
language sql
volatile
set search_path = ''
as $$
  update ip_workbench.expense_approvals as a set notified_at = null
  where a.expense_id = p_expense_id and a.notified_at = p_notified_at
  returning true;
$$;

revoke execute on function ip_workbench.decide_expense(text, numeric, text, numeric, numeric, text) from public, anon, authenticated;
revoke execute on function ip_workbench.release_expense_notification(text, timestamptz) from public, anon, authenticated;
grant execute on function ip_workbench.decide_expense(text, numeric, text, numeric, numeric, text) to service_role;
grant execute on function ip_workbench.release_expense_notification(text, timestamptz) to service_role;

-- notification rate limit ---------------------------------------------------------------------------

create table if not exists private.notification_log (
  id bigint generated always as identity primary key,
  channel text not null,
  topic text not null,
  sent_at timestamptz not null default now()
);
comment on table private.notification_log is 'posts the n8n workflows made to a channel (mattermost), for their rate limit';
create index if not exists notification_log_channel_sent_idx on private.notification_log (channel, sent_at desc);
alter table private.notification_log enable row level security;
alter table private.notification_log force row level security;
revoke all on private.notification_log from public, anon, authenticated;
grant select, insert, delete on private.notification_log to service_role;
drop policy if exists "the workflows keep their post log" on private.notification_log;
create policy "the workflows keep their post log" on private.notification_log
  for all to service_role using (true) with check (true);

-- takes a slot to post `topic` to `channel`: refused when the same topic was posted within
-- `repeat_after`, or the channel had `per_hour` posts in the last hour. serialised per
-- channel, so racing callers cannot both take the last slot. answers {allowed, reason}.
create or replace function ip_workbench.take_notification_slot(channel text, topic text, repeat_after interval, per_hour integer)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_last timestamptz;
  v_count integer;
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('aiwb-notify:' || channel));
  select max(l.sent_at) into v_last from private.notification_log as l
  where l.channel = take_notification_slot.channel and l.topic = take_notification_slot.topic;
  if v_last is not null and v_last > now() - repeat_after then
    return jsonb_build_object('allowed', false, 'reason', format(
      'the same alert was posted at %s UTC; it is repeated after %s',
      to_char(v_last at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS'), repeat_after));
  end if;
  select count(*) into v_count from private.notification_log as l
  where l.channel = take_notification_slot.channel and l.sent_at > now() - interval '1 hour';
  if v_count >= per_hour then
    return jsonb_build_object('allowed', false, 'reason', format(
      '%s posts to %s in the last hour, the most allowed', v_count, channel));
  end if;
  insert into private.notification_log (channel, topic) values (take_notification_slot.channel, take_notification_slot.topic);
  delete from private.notification_log as l where l.sent_at < now() - interval '7 days';
  return jsonb_build_object('allowed', true);
end;
$$;

revoke execute on function ip_workbench.take_notification_slot(text, text, interval, integer) from public, anon, authenticated;
grant execute on function ip_workbench.take_notification_slot(text, text, interval, integer) to service_role;

-- pipeline steps ------------------------------------------------------------------------------------

-- runs one pipeline step as the caller: ip_workbench.execute_sql, with its reported error
-- raised (private.raise_on_sql_error), and a step cancelled by the step's statement_timeout
-- raised as a timeout, with the detail n8n keeps (it reports a cancellation otherwise only
-- with the query text). not security definer: the caller's role and rls apply.
create or replace function private.run_pipeline_step(step_sql text)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.raise_on_sql_error(ip_workbench.execute_sql(step_sql));
exception when query_canceled then
  raise exception 'the step timed out (statement_timeout %)', pg_catalog.current_setting('statement_timeout')
    using errcode = '57014',
      detail = format('sqlstate 57014: timed out after %s (statement_timeout)', pg_catalog.current_setting('statement_timeout'));
end;
$$;
comment on function private.run_pipeline_step(text) is
  'runs a pipeline step through ip_workbench.execute_sql as the caller; its errors raised, a statement_timeout reported as a timeout (pipeline-trigger workflow)';
revoke execute on function private.run_pipeline_step(text) from public, anon;
grant execute on function private.run_pipeline_step(text) to authenticated, service_role;
