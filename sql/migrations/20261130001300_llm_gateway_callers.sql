-- the llm gateway's callers, their keys and the budget reservations of calls in flight.
--
-- identity: every caller of the litellm gateway (a service such as the api, an agent runtime,
-- or one workbench user) is a row of private.llm_callers and holds one or more keys. a key is
-- `wbk_` + 64 hex digits (244 random bits from two gen_random_uuid()); only its sha256 is
-- stored. the gateway (components/litellm/workbench_auth.py) hashes the bearer key of each
-- request and looks the hash up here: the caller, and with it the user id recorded in
-- ip_workbench.llm_requests and the key that rate limits and budgets count on, come from this
-- row and never from the request.
--
-- operators (as the database owner or service_role):
--   select private.llm_issue_key('agent-runtime', 'agent');            -- prints the key once
--   select private.llm_issue_key('user-' || id, 'user', id) from auth.users where email = ...;
--   select private.llm_revoke_keys('agent-runtime');                   -- every key of a caller
-- a revoked key is refused from the next request on (the gateway caches nothing).
--
-- budgets: before a provider call the gateway reserves the call's worst-case cost
-- (private.llm_reserve, under a row lock of the caller and of the agent run, so concurrent
-- calls are counted one after another); the usage recorder deletes the reservation in the
-- transaction that records the call's real cost. a reservation whose call never settled
-- (a crashed worker) stops counting at expires_at.
--
-- these tables live in private (not exposed through the api); only the owner and
-- service_role use them. rls is enabled with no policy, so the api roles see nothing even
-- if a grant slipped in.

create table if not exists private.llm_callers (
  id uuid primary key default gen_random_uuid(),
  name text not null unique check (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
  kind text not null check (kind in ('service', 'agent', 'user')),
  -- the workbench user a 'user' caller acts for (one caller per user); null otherwise.
  user_id uuid unique references auth.users (id) on delete cascade,
  -- limits of this caller; null = the gateway's defaults (workbench:llm rpmPerUser/tpmPerUser).
  rpm_limit int check (rpm_limit > 0),
  tpm_limit int check (tpm_limit > 0),
  -- spend allowed per utc day across all the caller's calls; null = no daily cap.
  daily_budget_usd numeric check (daily_budget_usd >= 0),
  created_at timestamptz not null default now(),
  constraint llm_callers_user_kind check ((kind = 'user') = (user_id is not null))
);
comment on table private.llm_callers is 'who may call the llm gateway: a service, an agent runtime (must name its agent run) or one workbench user';

create table if not exists private.llm_caller_keys (
  id uuid primary key default gen_random_uuid(),
  caller_id uuid not null references private.llm_callers (id) on delete cascade,
  key_hash bytea not null unique check (length(key_hash) = 32),
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  revoked_at timestamptz
);
comment on table private.llm_caller_keys is 'caller keys of the llm gateway, as sha256 only; the key itself is shown once by llm_issue_key';
create index if not exists llm_caller_keys_caller_id_idx on private.llm_caller_keys (caller_id);

create table if not exists private.llm_budget_reservations (
  call_id text primary key,
  caller_id uuid not null references private.llm_callers (id) on delete cascade,
  agent_run_id uuid references ip_workbench.agent_runs (id) on delete cascade,
  amount_usd numeric not null check (amount_usd >= 0),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
comment on table private.llm_budget_reservations is 'worst-case cost of llm calls in flight, held against their run''s and caller''s budgets until the call is recorded';
create index if not exists llm_budget_reservations_caller_id_idx on private.llm_budget_reservations (caller_id);
create index if not exists llm_budget_reservations_agent_run_id_idx on private.llm_budget_reservations (agent_run_id);

alter table private.llm_callers enable row level security;
alter table private.llm_caller_keys enable row level security;
alter table private.llm_budget_reservations enable row level security;
revoke all on private.llm_callers, private.llm_caller_keys, private.llm_budget_reservations
  from public, anon, authenticated;
grant select, insert, update, delete
  on private.llm_callers, private.llm_caller_keys, private.llm_budget_reservations to service_role;

-- which caller made each llm request (the user_id column holds the caller's workbench user).
alter table ip_workbench.llm_requests
  add column if not exists caller_id uuid references private.llm_callers (id) on delete set null;
create index if not exists llm_requests_caller_id_idx on ip_workbench.llm_requests (caller_id);

-- issuing and revoking keys --------------------------------------------------------------------

-- registers a key by its sha256 (hex) for a caller, creating the caller if it is new; for keys
-- generated elsewhere (e.g. by pulumi) so the key itself never reaches the database.
create or replace function private.llm_register_key(
  p_caller text,
  p_kind text,
  p_key_sha256 text,
  p_user_id uuid default null,
  p_rpm_limit int default null,
  p_tpm_limit int default null,
  p_daily_budget_usd numeric default null
)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
  v_caller private.llm_callers;
  v_key_id uuid;
begin
  if p_key_sha256 is null or p_key_sha256 !~ '^[0-9a-f]{64}$' then
    raise exception 'llm_register_key: key sha256 must be 64 lowercase hex digits'
      using errcode = 'invalid_parameter_value';
  end if;
  insert into private.llm_callers as c (name, kind, user_id, rpm_limit, tpm_limit, daily_budget_usd)
  values (p_caller, p_kind, p_user_id, p_rpm_limit, p_tpm_limit, p_daily_budget_usd)
  on conflict (name) do update
    set rpm_limit = excluded.rpm_limit,
      tpm_limit = excluded.tpm_limit,
      daily_budget_usd = excluded.daily_budget_usd
    where c.kind = excluded.kind and c.user_id is not distinct from excluded.user_id
  returning * into v_caller;
  if v_caller.id is null then
    raise exception 'llm_register_key: caller % exists with another kind or user; revoke it or pick another name', p_caller
      using errcode = 'unique_violation';
  end if;
  insert into private.llm_caller_keys (caller_id, key_hash)
  values (v_caller.id, decode(p_key_sha256, 'hex'))
  on conflict (key_hash) do nothing
  returning id into v_key_id;
  if v_key_id is null then
    select k.id into v_key_id
    from private.llm_caller_keys as k
    where k.key_hash = decode(p_key_sha256, 'hex') and k.caller_id = v_caller.id;
    if v_key_id is null then
      raise exception 'llm_register_key: that key belongs to another caller' using errcode = 'unique_violation';
    end if;
  end if;
  return v_key_id;
end;
$$;
comment on function private.llm_register_key(text, text, text, uuid, int, int, numeric) is 'adds a key (by its sha256) to an llm caller, creating the caller; idempotent';

-- issues a new key for a caller (creating the caller if it is new) and returns it: the only
-- time the key is shown. keep the caller's older keys until its clients use the new one, then
-- revoke them with llm_revoke_keys(caller, keep_newest => 1).
create or replace function private.llm_issue_key(
  p_caller text,
  p_kind text default 'service',
  p_user_id uuid default null,
  p_rpm_limit int default null,
  p_tpm_limit int default null,
  p_daily_budget_usd numeric default null
)
returns text
language plpgsql
set search_path = ''
as $$
declare
  v_key text := 'wbk_' || replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '');
begin
  perform private.llm_register_key(
    p_caller, p_kind, encode(sha256(convert_to(v_key, 'UTF8')), 'hex'),
    p_user_id, p_rpm_limit, p_tpm_limit, p_daily_budget_usd
  );
  return v_key;
end;
$$;
comment on function private.llm_issue_key(text, text, uuid, int, int, numeric) is 'issues an llm gateway key for a caller and returns it once (only its sha256 is stored)';

-- revokes a caller's keys (all, or all but the newest p_keep_newest); returns how many.
create or replace function private.llm_revoke_keys(p_caller text, p_keep_newest int default 0)
returns int
language plpgsql
set search_path = ''
as $$
declare
  v_count int;
begin
  if not exists (select 1 from private.llm_callers as c where c.name = p_caller) then
    raise exception 'llm_revoke_keys: no llm caller named %', p_caller using errcode = 'no_data_found';
  end if;
  with live as (
    select k.id, row_number() over (order by k.created_at desc, k.id) as newest
    from private.llm_caller_keys as k
    inner join private.llm_callers as c on c.id = k.caller_id
    where c.name = p_caller and k.revoked_at is null
  )
  update private.llm_caller_keys as k
  set revoked_at = now()
  from live
  where k.id = live.id and live.newest > greatest(p_keep_newest, 0);
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
comment on function private.llm_revoke_keys(text, int) is 'revokes the llm gateway keys of a caller (all but the newest p_keep_newest)';

-- budgets ---------------------------------------------------------------------------------------

-- reserves p_amount_usd for call p_call_id against the agent run's budget (agents.budget_usd)
-- and the caller's daily budget. returns null when reserved, else why it is refused
-- ('unknown_run'; 'foreign_run': a 'user' caller naming a run another user triggered; 'run' or
-- 'caller_daily': that budget would be passed) with the budget and what is already committed
-- (recorded cost plus live reservations).
create or replace function private.llm_reserve(
  p_call_id text,
  p_caller_id uuid,
  p_agent_run_id uuid,
  p_amount_usd numeric,
  p_hold_seconds int
)
returns table (refused_by text, budget_usd numeric, committed_usd numeric)
language plpgsql
set search_path = ''
as $$
declare
  v_daily numeric;
  v_kind text;
  v_user uuid;
  v_run_user uuid;
  v_budget numeric;
  v_committed numeric;
  v_day_start timestamptz := date_trunc('day', now() at time zone 'utc') at time zone 'utc';
begin
  if p_amount_usd is null or p_amount_usd < 0 then
    raise exception 'llm_reserve: amount must be at least 0 (got %)', p_amount_usd using errcode = 'invalid_parameter_value';
  end if;
  -- lock order: caller, then run. each lock serialises the reservations counted against it.
  select c.daily_budget_usd, c.kind, c.user_id into v_daily, v_kind, v_user
  from private.llm_callers as c where c.id = p_caller_id for update;
  if not found then
    raise exception 'llm_reserve: no llm caller %', p_caller_id using errcode = 'no_data_found';
  end if;
  if p_agent_run_id is not null then
    select a.budget_usd, r.triggered_by into v_budget, v_run_user
    from ip_workbench.agent_runs as r
    left join ip_workbench.agents as a on a.id = r.agent_id
    where r.id = p_agent_run_id
    for update of r;
    if not found then
      return query select 'unknown_run'::text, null::numeric, null::numeric;
      return;
    end if;
    -- a user's key spends only that user's runs (services and agent runtimes act for any).
    if v_kind = 'user' and v_run_user is distinct from v_user then
      return query select 'foreign_run'::text, null::numeric, null::numeric;
      return;
    end if;
    if v_budget is not null then
      select
        coalesce((select sum(lr.cost_usd) from ip_workbench.llm_requests as lr where lr.agent_run_id = p_agent_run_id), 0)
        + coalesce((
          select sum(br.amount_usd) from private.llm_budget_reservations as br
          where br.agent_run_id = p_agent_run_id and br.expires_at > now()
        ), 0)
      into v_committed;
      if v_committed + p_amount_usd > v_budget then
        return query select 'run'::text, v_budget, v_committed;
        return;
      end if;
    end if;
  end if;
  if v_daily is not null then
    select
      coalesce((
        select sum(lr.cost_usd) from ip_workbench.llm_requests as lr
        where lr.caller_id = p_caller_id and lr.created_at >= v_day_start
      ), 0)
      + coalesce((
        select sum(br.amount_usd) from private.llm_budget_reservations as br
        where br.caller_id = p_caller_id and br.expires_at > now()
      ), 0)
    into v_committed;
    if v_committed + p_amount_usd > v_daily then
      return query select 'caller_daily'::text, v_daily, v_committed;
      return;
    end if;
  end if;
  delete from private.llm_budget_reservations as br where br.caller_id = p_caller_id and br.expires_at <= now();
  insert into private.llm_budget_reservations (call_id, caller_id, agent_run_id, amount_usd, expires_at)
  values (p_call_id, p_caller_id, p_agent_run_id, p_amount_usd, now() + make_interval(secs => p_hold_seconds))
  on conflict (call_id) do update
    set amount_usd = excluded.amount_usd, expires_at = excluded.expires_at;
  return query select null::text, null::numeric, null::numeric;
end;
$$;
comment on function private.llm_reserve(text, uuid, uuid, numeric, int) is 'reserves the worst-case cost of an llm call against its run''s and caller''s budgets, or says which budget refuses it';

revoke execute on function
  private.llm_register_key(text, text, text, uuid, int, int, numeric),
  private.llm_issue_key(text, text, uuid, int, int, numeric),
  private.llm_revoke_keys(text, int),
  private.llm_reserve(text, uuid, uuid, numeric, int)
from public, anon, authenticated;
grant execute on function
  private.llm_register_key(text, text, text, uuid, int, int, numeric),
  private.llm_issue_key(text, text, uuid, int, int, numeric),
  private.llm_revoke_keys(text, int),
  private.llm_reserve(text, uuid, uuid, numeric, int)
to service_role;
