-- the llm gateway's database calls as the usage login (issue 19 item 1): what
-- components/litellm/workbench_auth.py and workbench_usage.py run, and nothing more.
--
-- the gateway looks callers up by key hash, reserves budgets and settles them in
-- private.llm_caller_keys / llm_callers / llm_budget_reservations (20261130001300), and
-- upserts its rows of ip_workbench.llm_requests. the automation roles have no usage on schema
-- private (sql/tests/07_automation_roles.sql), and the upsert of a truncated stream's row
-- would need update and select on columns of llm_requests the recorder must not read. so the
-- gateway calls these functions instead: security definer (they run as the migration role,
-- which owns the tables), `set search_path = ''`, every name qualified, each doing one fixed
-- statement with its arguments as values. they live in schema llm_gateway, which the api does
-- not expose and only workbench_usage_recorder may use; execute is revoked from everyone else.
--
--   llm_gateway.caller_of_key(sha256)       the live caller of a key (no key, no row)
--   llm_gateway.reserve(call, caller, run, amount, hold)   private.llm_reserve
--   llm_gateway.settle(call)                drops the reservation of a recorded call
--   llm_gateway.record_request(...)         inserts the call's row; returns its run (no row:
--                                           recorded before)
--   llm_gateway.mark_failed(...)            marks a truncated stream's row as an error
--
-- the recorder keeps its own grants of 20261130000300 for the cost_tracker rollup. it cannot
-- read the keys or callers, issue or revoke keys, or reserve for a caller that does not exist.

create schema if not exists llm_gateway;
comment on schema llm_gateway is 'the llm gateway''s calls into private (security definer functions); used by workbench_usage_recorder only, not exposed by the api';
revoke all on schema llm_gateway from public, anon, authenticated, service_role;
grant usage on schema llm_gateway to workbench_usage_recorder;

create or replace function llm_gateway.caller_of_key(p_key_sha256 bytea)
returns table (id text, name text, kind text, user_id text, rpm_limit int, tpm_limit int)
language sql
stable
security definer
set search_path = ''
as $$
  select c.id::text, c.name, c.kind, c.user_id::text, c.rpm_limit, c.tpm_limit
  from private.llm_caller_keys as k
  inner join private.llm_callers as c on c.id = k.caller_id
  where k.key_hash = p_key_sha256
    and k.revoked_at is null
    and (k.expires_at is null or k.expires_at > pg_catalog.now())
$$;
comment on function llm_gateway.caller_of_key(bytea) is 'the caller of a live llm gateway key, by the key''s sha256 (no row: unknown, revoked or expired)';

create or replace function llm_gateway.reserve(
  p_call_id text,
  p_caller_id uuid,
  p_agent_run_id uuid,
  p_amount_usd numeric,
  p_hold_seconds int
)
returns table (refused_by text, budget_usd numeric, committed_usd numeric)
language sql
security definer
set search_path = ''
as $$
  select r.refused_by, r.budget_usd, r.committed_usd
  from private.llm_reserve(p_call_id, p_caller_id, p_agent_run_id, p_amount_usd, p_hold_seconds) as r
$$;
comment on function llm_gateway.reserve(text, uuid, uuid, numeric, int) is 'private.llm_reserve for the gateway: reserves a call''s worst-case cost or says which budget refuses it';

create or replace function llm_gateway.settle(p_call_id text)
returns void
language sql
security definer
set search_path = ''
as $$
  delete from private.llm_budget_reservations as br where br.call_id = p_call_id
$$;
comment on function llm_gateway.settle(text) is 'drops the budget reservation of an llm call once its cost is recorded (or it failed)';

create or replace function llm_gateway.record_request(
  p_request_id text,
  p_agent_run_id uuid,
  p_user_id uuid,
  p_caller_id uuid,
  p_model text,
  p_status text,
  p_prompt_tokens int,
  p_completion_tokens int,
  p_cost_usd numeric,
  p_latency_ms int,
  p_created_at timestamptz
)
returns table (agent_run_id uuid)
language sql
security definer
set search_path = ''
as $$
  insert into ip_workbench.llm_requests as lr
    (agent_run_id, request_id, user_id, caller_id, model, status, prompt_tokens, completion_tokens,
     cost_usd, latency_ms, created_at)
  values (
    -- an id that names no run (or caller) is kept out rather than failing the foreign key.
    (select r.id from ip_workbench.agent_runs as r where r.id = p_agent_run_id),
    p_request_id, p_user_id,
    (select c.id from private.llm_callers as c where c.id = p_caller_id),
    p_model, p_status, p_prompt_tokens, p_completion_tokens, p_cost_usd, p_latency_ms, p_created_at
  )
  -- a row already there is either this call recorded before (a retried callback: nothing to
  -- do) or the error mark of a truncated stream, which takes the tokens and cost but stays an error.
  on conflict (request_id) do update
    set prompt_tokens = excluded.prompt_tokens,
      completion_tokens = excluded.completion_tokens,
      cost_usd = excluded.cost_usd,
      latency_ms = excluded.latency_ms,
      model = excluded.model
    where lr.status = 'error' and lr.cost_usd = 0 and lr.prompt_tokens = 0 and excluded.status = 'success'
  returning lr.agent_run_id
$$;
comment on function llm_gateway.record_request(text, uuid, uuid, uuid, text, text, int, int, numeric, int, timestamptz) is 'records one llm call in ip_workbench.llm_requests; returns its agent run, or no row when it was recorded before';

create or replace function llm_gateway.mark_failed(
  p_request_id text,
  p_agent_run_id uuid,
  p_user_id uuid,
  p_caller_id uuid,
  p_model text
)
returns void
language sql
security definer
set search_path = ''
as $$
  insert into ip_workbench.llm_requests as lr
    (agent_run_id, request_id, user_id, caller_id, model, status, created_at)
  values (
    (select r.id from ip_workbench.agent_runs as r where r.id = p_agent_run_id),
    p_request_id, p_user_id,
    (select c.id from private.llm_callers as c where c.id = p_caller_id),
    p_model, 'error', pg_catalog.now()
  )
  on conflict (request_id) do update set status = 'error'
$$;
comment on function llm_gateway.mark_failed(text, uuid, uuid, uuid, text) is 'marks the llm_requests row of a truncated stream as an error (its cost, if recorded, stays)';

revoke execute on function
  llm_gateway.caller_of_key(bytea),
  llm_gateway.reserve(text, uuid, uuid, numeric, int),
  llm_gateway.settle(text),
  llm_gateway.record_request(text, uuid, uuid, uuid, text, text, int, int, numeric, int, timestamptz),
  llm_gateway.mark_failed(text, uuid, uuid, uuid, text)
from public, anon, authenticated, service_role;
grant execute on function
  llm_gateway.caller_of_key(bytea),
  llm_gateway.reserve(text, uuid, uuid, numeric, int),
  llm_gateway.settle(text),
  llm_gateway.record_request(text, uuid, uuid, uuid, text, text, int, int, numeric, int, timestamptz),
  llm_gateway.mark_failed(text, uuid, uuid, uuid, text)
to workbench_usage_recorder;
