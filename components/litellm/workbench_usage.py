"""The LiteLLM usage recorder: every LLM call the gateway makes lands in the catalog.

A LiteLLM custom callback (``litellm_settings.callbacks: [workbench_usage.usage_recorder]``,
this file beside config.yaml). For each call it writes one row into
``ip_workbench.llm_requests`` (model, prompt/completion tokens, cost, latency, status, the
agent run from the request's ``metadata.agent_run_id`` when there is one) and, for successful
calls, adds the cost to the ``ip_workbench.cost_tracker`` roll-up: one ``service = 'llm'`` row
per agent run (``resource_id``; null for calls outside a run) and UTC day (``period``).

Why a callback rather than LiteLLM's spend logs: the spend logs live in LiteLLM's own
Prisma-managed database, which needs Prisma's engine binaries (not a package-registry
download) and a second schema to poll; the callback sees the same standard logging payload
(the cost LiteLLM computed from its cost map, tokens, timings, metadata) in process, with no
polling delay and no dependency on that database.

It also enforces an agent's per-run budget (seed 004's ``agents.budget_usd``) before each
call that names an agent run: when the run's recorded cost has reached its agent's budget, the
call is refused with HTTP 400 ``budget_exceeded`` (LiteLLM's own status for an exhausted key
budget). The call that crosses the budget completes (its cost is unknown until it returns);
the next one is refused.

Configuration (environment):
  WORKBENCH_USAGE_DATABASE_URL  libpq URL of the workbench database; unset = recorder off
                                (a warning at start-up, calls still served, budgets unchecked).
  The connecting role must be able to insert into llm_requests and cost_tracker and read
  agent_runs, agents and llm_requests: ``service_role`` on Supabase (the trusted server-side
  role, which bypasses RLS), or the database owner locally.

A failure to record never fails the LLM call: it is logged and the call's response stands.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import datetime, timezone
from typing import Any, Optional

from litellm._logging import verbose_proxy_logger
from litellm.integrations.custom_logger import CustomLogger

DATABASE_URL_ENV = "WORKBENCH_USAGE_DATABASE_URL"
# The key in the request's `metadata` naming the agent run (ip_workbench.agent_runs.id).
AGENT_RUN_KEY = "agent_run_id"

INSERT_REQUEST = """
insert into ip_workbench.llm_requests
  (agent_run_id, request_id, user_id, model, status, prompt_tokens, completion_tokens,
   cost_usd, latency_ms, created_at)
values (
  -- an id that names no run is kept out rather than failing the foreign key.
  (select r.id from ip_workbench.agent_runs as r where r.id = %(agent_run_id)s::uuid),
  %(request_id)s, %(user_id)s::uuid, %(model)s, %(status)s, %(prompt_tokens)s,
  %(completion_tokens)s, %(cost_usd)s, %(latency_ms)s, %(created_at)s
)
on conflict (request_id) do nothing
returning agent_run_id
"""

# cost_tracker has no unique key to upsert on; a transaction-scoped advisory lock per
# (run, day) serialises the read-modify-write between concurrent callbacks and replicas.
LOCK_ROLLUP = "select pg_advisory_xact_lock(hashtextextended(%(lock)s, 0))"

UPDATE_ROLLUP = """
update ip_workbench.cost_tracker as ct
set
  cost_usd = ct.cost_usd + %(cost_usd)s,
  details = ct.details || jsonb_build_object(
    'requests', coalesce((ct.details ->> 'requests')::bigint, 0) + 1,
    'prompt_tokens', coalesce((ct.details ->> 'prompt_tokens')::bigint, 0) + %(prompt_tokens)s,
    'completion_tokens', coalesce((ct.details ->> 'completion_tokens')::bigint, 0) + %(completion_tokens)s
  ),
  recorded_at = now()
where ct.service = 'llm'
  and ct.details ->> 'source' = 'litellm'
  and ct.resource_id is not distinct from %(agent_run_id)s::uuid
  and ct.period = %(period)s
"""

INSERT_ROLLUP = """
insert into ip_workbench.cost_tracker (service, resource_id, cost_usd, period, details)
values (
  'llm', %(agent_run_id)s::uuid, %(cost_usd)s, %(period)s,
  jsonb_build_object(
    'source', 'litellm',
    'requests', 1,
    'prompt_tokens', %(prompt_tokens)s,
    'completion_tokens', %(completion_tokens)s
  )
)
"""

RUN_BUDGET = """
select
  a.budget_usd,
  (
    select coalesce(sum(lr.cost_usd), 0)
    from ip_workbench.llm_requests as lr
    where lr.agent_run_id = r.id
  ) as spent_usd
from ip_workbench.agent_runs as r
left join ip_workbench.agents as a on a.id = r.agent_id
where r.id = %(agent_run_id)s::uuid
"""


def as_uuid(value: Any) -> Optional[str]:
    """The value as a canonical UUID string, or None when it is not one."""
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def agent_run_of(metadata: Any) -> Optional[str]:
    """The agent run a request names in its metadata (as sent by the client), if any."""
    if not isinstance(metadata, dict):
        return None
    value = metadata.get(AGENT_RUN_KEY)
    if value is None and isinstance(metadata.get("requester_metadata"), dict):
        value = metadata["requester_metadata"].get(AGENT_RUN_KEY)
    return None if value is None else str(value)


def usage_row(payload: dict, status: str, call_id: Optional[str] = None) -> dict:
    """One llm_requests row from LiteLLM's standard logging payload (pure).

    request_id is LiteLLM's call id (the `x-litellm-call-id` response header) for a success;
    a failed provider call before a fallback shares that id, so it gets `<id>:error:<model>`.
    """
    metadata = payload.get("metadata") or {}
    provider = payload.get("custom_llm_provider")
    model = payload.get("model") or payload.get("model_group") or "unknown"
    # `provider/model` as the routing spec names it (e.g. openai/gpt-4o-mini).
    if provider and not str(model).startswith(f"{provider}/"):
        model = f"{provider}/{model}"
    start = float(payload.get("startTime") or 0)
    end = float(payload.get("endTime") or start)
    created_at = datetime.fromtimestamp(start, tz=timezone.utc) if start else datetime.now(timezone.utc)
    success = status == "success"
    base_id = str(call_id or payload.get("id") or uuid.uuid4())
    return {
        "request_id": base_id if success else f"{base_id}:error:{model}",
        "agent_run_id": as_uuid(agent_run_of(metadata)),
        # The workbench user (a Supabase auth user id) the call was made for, when known.
        "user_id": as_uuid(payload.get("end_user") or metadata.get("user_api_key_user_id")),
        "model": str(model),
        "status": status,
        "prompt_tokens": int(payload.get("prompt_tokens") or 0) if success else 0,
        "completion_tokens": int(payload.get("completion_tokens") or 0) if success else 0,
        "cost_usd": max(float(payload.get("response_cost") or 0), 0.0) if success else 0.0,
        "latency_ms": max(int(round((end - start) * 1000)), 0),
        "created_at": created_at,
        "period": created_at.date(),
    }


class GatewayRefusal(Exception):
    """A refused call. The proxy answers it as an OpenAI-style error with `status_code`
    (it reads `status_code`, `message`, `type` and `param` off the exception)."""

    def __init__(self, message: str, type: str, param: str, status_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.type = type
        self.param = param
        self.status_code = status_code


class WorkbenchUsageRecorder(CustomLogger):
    def __init__(self, database_url: Optional[str] = None) -> None:
        super().__init__()
        self.database_url = database_url if database_url is not None else os.environ.get(DATABASE_URL_ENV)
        self._connection: Any = None
        self._lock: Optional[asyncio.Lock] = None
        if not self.database_url:
            verbose_proxy_logger.warning(
                "workbench_usage: %s is not set; LLM usage is not recorded and agent budgets are not checked",
                DATABASE_URL_ENV,
            )

    # --- database ---------------------------------------------------------------------
    async def _run(self, work: Any) -> Any:
        """Runs `work(connection)` on the shared connection, reconnecting once if it broke."""
        import psycopg

        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            for attempt in (1, 2):
                try:
                    if self._connection is None or self._connection.closed:
                        self._connection = await psycopg.AsyncConnection.connect(
                            self.database_url, autocommit=False, application_name="litellm-usage-recorder"
                        )
                    async with self._connection.transaction():
                        return await work(self._connection)
                except psycopg.OperationalError:
                    if self._connection is not None:
                        await self._connection.close()
                    self._connection = None
                    if attempt == 2:
                        raise

    async def record(self, payload: dict, status: str, call_id: Optional[str] = None) -> None:
        if not self.database_url:
            return
        row = usage_row(payload, status, call_id)

        async def write(connection: Any) -> None:
            cursor = await connection.execute(INSERT_REQUEST, row)
            inserted = await cursor.fetchone()
            if inserted is None or status != "success":
                return  # already recorded (a retried callback), or a failed call: no cost.
            rollup = {**row, "agent_run_id": inserted[0]}
            lock = f"workbench:llm-cost:{rollup['agent_run_id'] or '-'}:{row['period'].isoformat()}"
            await connection.execute(LOCK_ROLLUP, {"lock": lock})
            updated = await connection.execute(UPDATE_ROLLUP, rollup)
            if updated.rowcount == 0:
                await connection.execute(INSERT_ROLLUP, rollup)

        try:
            await self._run(write)
        except Exception as error:  # noqa: BLE001 - recording must never fail the call
            verbose_proxy_logger.error(
                "workbench_usage: could not record request %s (%s): %s",
                row["request_id"],
                row["model"],
                error,
            )

    async def run_budget(self, agent_run_id: str) -> Optional[tuple[Optional[float], float]]:
        """(budget_usd, spent_usd) of an agent run; None when the run does not exist."""

        async def read(connection: Any) -> Any:
            cursor = await connection.execute(RUN_BUDGET, {"agent_run_id": agent_run_id})
            return await cursor.fetchone()

        found = await self._run(read)
        if found is None:
            return None
        budget, spent = found
        return (None if budget is None else float(budget), float(spent))

    # --- LiteLLM hooks ----------------------------------------------------------------
    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
        payload = kwargs.get("standard_logging_object")
        if isinstance(payload, dict):
            await self.record(payload, "success", kwargs.get("litellm_call_id"))

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
        payload = kwargs.get("standard_logging_object")
        if isinstance(payload, dict):
            await self.record(payload, "error", kwargs.get("litellm_call_id"))

    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):  # noqa: ANN001
        raw = agent_run_of(data.get("metadata")) or agent_run_of(data.get("litellm_metadata"))
        if raw is None or not self.database_url:
            return data
        agent_run_id = as_uuid(raw)
        if agent_run_id is None:
            raise GatewayRefusal(
                message=f"metadata.{AGENT_RUN_KEY} '{raw}' is not a UUID; send the id of an ip_workbench.agent_runs row",
                type="invalid_request_error",
                param=f"metadata.{AGENT_RUN_KEY}",
                status_code=400,
            )
        try:
            found = await self.run_budget(agent_run_id)
        except Exception as error:  # noqa: BLE001
            # Fail closed: a call that names a run asked for its budget to be enforced.
            raise GatewayRefusal(
                message=f"cannot check the budget of agent run {agent_run_id}: {error}",
                type="budget_check_unavailable",
                param=f"metadata.{AGENT_RUN_KEY}",
                status_code=503,
            ) from error
        if found is None:
            raise GatewayRefusal(
                message=f"agent run {agent_run_id} does not exist; create the ip_workbench.agent_runs row first",
                type="invalid_request_error",
                param=f"metadata.{AGENT_RUN_KEY}",
                status_code=400,
            )
        budget, spent = found
        if budget is not None and spent >= budget:
            raise GatewayRefusal(
                message=(
                    f"Budget has been exceeded: agent run {agent_run_id} has spent ${spent:.6f} "
                    f"of its agent's ${budget:.6f} budget per run; start a new run or raise agents.budget_usd"
                ),
                type="budget_exceeded",
                param=f"metadata.{AGENT_RUN_KEY}",
                status_code=400,
            )
        return data


usage_recorder = WorkbenchUsageRecorder()

__all__ = ["WorkbenchUsageRecorder", "usage_recorder", "usage_row"]
