"""The workbench's LiteLLM callback: budgets before a call, usage rows after it.

``litellm_settings.callbacks: [workbench_usage.usage_recorder]`` (this file beside
config.yaml). The caller was authenticated by workbench_auth (its key names it); this module:

Before the provider is called (``async_pre_call_hook``):
- requires the run id of agent callers (``metadata.agent_run_id``);
- defaults ``max_tokens`` and refuses one above the cap of any model that may serve the
  request (``general_settings.workbench_gateway.models``);
- reserves the call's worst-case cost (an upper bound of the prompt's tokens at the input
  price plus ``max_tokens`` at the output price, for the dearest model of the fallback chain)
  against the agent run's budget (``agents.budget_usd``) and the caller's daily budget with
  ``private.llm_reserve``, which serialises concurrent reservations under row locks. A call
  that does not fit is refused with 400 ``budget_exceeded`` before any provider call;
- scopes the response cache to the caller and the agent run (Redis namespace), unless the
  request opted into the shared cache (``metadata.cache_scope: shared``);
- sets the request's deadline (``total_timeout_seconds``): each provider attempt, retries and
  fallbacks included, gets at most the time left (``async_pre_call_deployment_hook``).

After it:
- one ``ip_workbench.llm_requests`` row per call (model, tokens, the cost LiteLLM computed
  from config.yaml's prices, latency, status, the agent run, the caller and its user) and, for
  successful calls, the ``ip_workbench.cost_tracker`` roll-up per agent run and UTC day; the
  same transaction deletes the call's reservation (settles it);
- a stream that ends without the provider's finish reason (cut mid-way) ends with an error
  event to the client and its row is recorded with status ``error``.

Configuration: ``WORKBENCH_USAGE_DATABASE_URL`` (libpq URL of the workbench database as the
usage login, a member of ``workbench_usage_recorder``: the llm_gateway functions and the
litellm rows of cost_tracker, nothing in schema private). Without it every LLM call is refused
(503): budgets cannot be checked. A failure to *record* after a call is logged and never
fails the call.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Any, AsyncGenerator, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import litellm  # noqa: E402
from litellm._logging import verbose_proxy_logger  # noqa: E402
from litellm.integrations.custom_logger import CustomLogger  # noqa: E402

from workbench_common import DATABASE_URL_ENV, GatewayRefusal, database, gateway_settings  # noqa: E402

AGENT_RUN_KEY = "agent_run_id"
# Keys this module sets in the request's metadata (LiteLLM carries them to every attempt and
# to the logging payload's litellm_params); the caller cannot set them (workbench_auth).
TRUSTED = "workbench"
DEADLINE = "workbench_deadline"
# Tokens added to the byte count of the prompt for the provider's own framing.
PROMPT_TOKEN_OVERHEAD = 16
# How long a reservation counts after the deadline if its call never settles (crash).
RESERVATION_GRACE_SECONDS = 60

# The calls into private and the llm_requests upserts go through llm_gateway's security
# definer functions (sql/migrations/20261130002900_llm_gateway_definer_calls.sql): the usage
# login has no usage on schema private and cannot read or update llm_requests' traces.
# record_request returns the row's agent run, or no row when the call was recorded before (a
# retried callback); a row that is the error mark of a truncated stream takes the tokens and
# cost but stays an error.
INSERT_REQUEST = """
select agent_run_id from llm_gateway.record_request(
  %(request_id)s::text, %(agent_run_id)s::uuid, %(user_id)s::uuid, %(caller_id)s::uuid, %(model)s::text,
  %(status)s::text, %(prompt_tokens)s::int, %(completion_tokens)s::int, %(cost_usd)s::numeric,
  %(latency_ms)s::int, %(created_at)s::timestamptz
)
"""

# A truncated stream: the row of its call is an error, whether the success callback wrote it
# already (its cost stays: the tokens were paid for) or writes it later (see INSERT_REQUEST).
MARK_FAILED = """
select llm_gateway.mark_failed(
  %(request_id)s::text, %(agent_run_id)s::uuid, %(user_id)s::uuid, %(caller_id)s::uuid, %(model)s::text
)
"""

SETTLE = "select llm_gateway.settle(%(call_id)s::text)"

RESERVE = """
select refused_by, budget_usd, committed_usd
from llm_gateway.reserve(%(call_id)s::text, %(caller_id)s::uuid, %(agent_run_id)s::uuid, %(amount)s::numeric, %(hold)s::int)
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


def as_uuid(value: Any) -> Optional[str]:
    """The value as a canonical UUID string, or None when it is not one."""
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def trusted_of(metadata: Any) -> dict:
    """What pre_call set about the caller and the run (never what the client sent)."""
    found = metadata.get(TRUSTED) if isinstance(metadata, dict) else None
    return found if isinstance(found, dict) else {}


def prompt_token_bound(data: dict) -> int:
    """An upper bound of the prompt's tokens: a token is at least one byte of UTF-8 text."""
    parts = [data.get("messages"), data.get("tools"), data.get("response_format")]
    text = json.dumps([part for part in parts if part is not None], ensure_ascii=False)
    return len(text.encode("utf-8")) + PROMPT_TOKEN_OVERHEAD


def max_tokens_policy(chain: list, models: dict) -> tuple[int, int]:
    """(default, cap) of max_tokens for a request any model of `chain` may serve."""
    return (
        min(int(models[name]["default_max_tokens"]) for name in chain),
        min(int(models[name]["max_tokens"]) for name in chain),
    )


def worst_case_cost(chain: list, models: dict, prompt_tokens: int, max_tokens: int) -> float:
    """The dearest the call can be, whichever model of the chain serves it (pure)."""
    return max(
        prompt_tokens * float(models[name]["input_usd_per_token"])
        + max_tokens * float(models[name]["output_usd_per_token"])
        for name in chain
    )


def usage_row(payload: dict, status: str, trusted: dict, call_id: Optional[str] = None) -> dict:
    """One llm_requests row from LiteLLM's standard logging payload (pure).

    request_id is LiteLLM's call id (the `x-litellm-call-id` response header) for a success;
    a failed provider call before a fallback shares that id, so it gets `<id>:error:<model>`.
    """
    provider = payload.get("custom_llm_provider")
    model = payload.get("model") or payload.get("model_group") or "unknown"
    # `provider/model` as the routing settings name it (e.g. openai/gpt-4o-mini).
    if provider and not str(model).startswith(f"{provider}/"):
        model = f"{provider}/{model}"
    start = float(payload.get("startTime") or 0)
    end = float(payload.get("endTime") or start)
    created_at = datetime.fromtimestamp(start, tz=timezone.utc) if start else datetime.now(timezone.utc)
    success = status == "success"
    base_id = str(call_id or payload.get("id") or uuid.uuid4())
    return {
        "request_id": base_id if success else f"{base_id}:error:{model}",
        "agent_run_id": as_uuid(trusted.get("agent_run_id")),
        "user_id": as_uuid(trusted.get("user_id")),
        "caller_id": as_uuid(trusted.get("caller_id")),
        "model": str(model),
        "status": status,
        "prompt_tokens": int(payload.get("prompt_tokens") or 0) if success else 0,
        "completion_tokens": int(payload.get("completion_tokens") or 0) if success else 0,
        "cost_usd": max(float(payload.get("response_cost") or 0), 0.0) if success else 0.0,
        "latency_ms": max(int(round((end - start) * 1000)), 0),
        "created_at": created_at,
        "period": created_at.date(),
    }


def stream_wrappers(response: Any) -> list:
    """LiteLLM's stream wrappers (CustomStreamWrapper) under the callbacks' stream generators
    and the router's fallback wrapper: every object that tracks a provider's finish reason."""
    found: list = []
    seen: set = set()
    pending = [response]
    while pending and len(seen) < 64:
        item = pending.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if hasattr(item, "received_finish_reason"):
            found.append(item)
        for attribute in ("_async_generator", "completion_stream"):
            inner = getattr(item, attribute, None)
            if inner is not None:
                pending.append(inner)
        frame = getattr(item, "ag_frame", None)
        if frame is not None:
            pending.extend(
                value
                for name, value in frame.f_locals.items()
                if name in ("response", "model_response", "self") or hasattr(value, "received_finish_reason")
            )
    return found


def provider_finished(response: Any) -> bool:
    """Whether the provider itself sent a finish reason (LiteLLM makes one up at a bare end)."""
    return any(
        getattr(wrapper, "received_finish_reason", None) or getattr(wrapper, "intermittent_finish_reason", None)
        for wrapper in stream_wrappers(response)
    )


def chunk_finish_reason(chunk: Any) -> Optional[str]:
    choices = getattr(chunk, "choices", None) or []
    return getattr(choices[0], "finish_reason", None) if choices else None


class WorkbenchUsageRecorder(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        if not os.environ.get(DATABASE_URL_ENV):
            verbose_proxy_logger.warning(
                "workbench_usage: %s is not set; every LLM call is refused (budgets cannot be checked)",
                DATABASE_URL_ENV,
            )

    # --- recording --------------------------------------------------------------------
    async def record(self, payload: dict, status: str, trusted: dict, call_id: Optional[str], settle: bool) -> None:
        row = usage_row(payload, status, trusted, call_id)

        async def write(connection: Any) -> None:
            cursor = await connection.execute(INSERT_REQUEST, row)
            inserted = await cursor.fetchone()
            if settle and call_id:
                await connection.execute(SETTLE, {"call_id": call_id})
            if inserted is None or status != "success":
                return  # already recorded (a retried callback), or a failed call: no cost.
            rollup = {**row, "agent_run_id": inserted[0]}
            lock = f"workbench:llm-cost:{rollup['agent_run_id'] or '-'}:{row['period'].isoformat()}"
            await connection.execute(LOCK_ROLLUP, {"lock": lock})
            updated = await connection.execute(UPDATE_ROLLUP, rollup)
            if updated.rowcount == 0:
                await connection.execute(INSERT_ROLLUP, rollup)

        try:
            await database.run(write)
        except Exception as error:  # noqa: BLE001 - recording must never fail the call
            verbose_proxy_logger.error(
                "workbench_usage: could not record request %s (%s): %s", row["request_id"], row["model"], error
            )

    async def settle_failed(self, request_data: dict, truncated: bool) -> None:
        call_id = request_data.get("litellm_call_id")
        if not call_id:
            return
        trusted = trusted_of(request_data.get("metadata"))

        async def write(connection: Any) -> None:
            await connection.execute(SETTLE, {"call_id": call_id})
            if truncated:
                await connection.execute(
                    MARK_FAILED,
                    {
                        "request_id": call_id,
                        "agent_run_id": as_uuid(trusted.get("agent_run_id")),
                        "user_id": as_uuid(trusted.get("user_id")),
                        "caller_id": as_uuid(trusted.get("caller_id")),
                        "model": str(request_data.get("model") or "unknown"),
                    },
                )

        try:
            await database.run(write)
        except Exception as error:  # noqa: BLE001
            verbose_proxy_logger.error("workbench_usage: could not settle call %s: %s", call_id, error)

    # --- LiteLLM hooks ----------------------------------------------------------------
    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
        payload = kwargs.get("standard_logging_object")
        if isinstance(payload, dict):
            trusted = trusted_of((kwargs.get("litellm_params") or {}).get("metadata"))
            await self.record(payload, "success", trusted, kwargs.get("litellm_call_id"), settle=True)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
        payload = kwargs.get("standard_logging_object")
        if isinstance(payload, dict):
            trusted = trusted_of((kwargs.get("litellm_params") or {}).get("metadata"))
            # Not settled here: a fallback may still serve the call (the proxy's failure hook settles).
            await self.record(payload, "error", trusted, kwargs.get("litellm_call_id"), settle=False)

    async def async_post_call_failure_hook(self, request_data, original_exception, user_api_key_dict, traceback_str=None):  # noqa: ANN001
        if isinstance(request_data, dict):
            truncated = isinstance(original_exception, GatewayRefusal) and original_exception.type == "stream_truncated"
            await self.settle_failed(request_data, truncated)

    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):  # noqa: ANN001
        key_metadata = getattr(user_api_key_dict, "metadata", None) or {}
        caller = key_metadata.get("workbench_caller")
        facts = key_metadata.get("workbench_request") or {}
        if not isinstance(caller, dict):
            raise GatewayRefusal("this call names no caller; call with a caller key", "auth_error", None, 401)
        if not os.environ.get(DATABASE_URL_ENV):
            raise GatewayRefusal(
                f"the gateway cannot check budgets: {DATABASE_URL_ENV} is not set", "budget_check_unavailable", None, 503
            )
        settings = gateway_settings()
        chain = settings["chains"].get(data.get("model"))
        if chain is None:
            raise GatewayRefusal(
                f"model '{data.get('model')}' is not served here; ask for one of {', '.join(sorted(settings['chains']))}",
                "invalid_request_error",
                "model",
                400,
            )

        raw_run = facts.get(AGENT_RUN_KEY)
        run_id = as_uuid(raw_run)
        if raw_run is not None and run_id is None:
            raise GatewayRefusal(
                f"metadata.{AGENT_RUN_KEY} '{raw_run}' is not a UUID; send the id of an ip_workbench.agent_runs row",
                "invalid_request_error",
                f"metadata.{AGENT_RUN_KEY}",
                400,
            )
        if run_id is None and caller.get("kind") == "agent":
            raise GatewayRefusal(
                f"agent caller '{caller.get('name')}' must name its run: metadata.{AGENT_RUN_KEY} = an ip_workbench.agent_runs id",
                "invalid_request_error",
                f"metadata.{AGENT_RUN_KEY}",
                400,
            )

        models = settings["models"]
        default_max, cap = max_tokens_policy(chain, models)
        asked = [data.get(name) for name in ("max_tokens", "max_completion_tokens") if data.get(name) is not None]
        for value in asked:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise GatewayRefusal(f"max_tokens must be a whole number of at least 1 (got {value!r})", "invalid_request_error", "max_tokens", 400)
            if value > cap:
                raise GatewayRefusal(
                    f"max_tokens {value} is above this gateway's cap of {cap} for model '{data.get('model')}'",
                    "invalid_request_error",
                    "max_tokens",
                    400,
                )
        max_tokens = max(asked) if asked else default_max
        if not asked:
            data["max_tokens"] = max_tokens
        amount = worst_case_cost(chain, models, prompt_token_bound(data), max_tokens)

        call_id = data.get("litellm_call_id") or str(uuid.uuid4())
        data["litellm_call_id"] = call_id
        total = float(settings["total_timeout_seconds"])
        hold = int(math.ceil(total)) + RESERVATION_GRACE_SECONDS

        async def reserve(connection: Any) -> Any:
            cursor = await connection.execute(
                RESERVE,
                {"call_id": call_id, "caller_id": caller["id"], "agent_run_id": run_id, "amount": amount, "hold": hold},
            )
            return await cursor.fetchone()

        try:
            refused_by, budget, committed = await database.run(reserve)
        except Exception as error:  # noqa: BLE001 - fail closed
            raise GatewayRefusal(
                f"cannot check the budget of this call: {type(error).__name__}", "budget_check_unavailable", None, 503
            ) from None
        if refused_by == "unknown_run":
            raise GatewayRefusal(
                f"agent run {run_id} does not exist; create the ip_workbench.agent_runs row first",
                "invalid_request_error",
                f"metadata.{AGENT_RUN_KEY}",
                400,
            )
        if refused_by == "foreign_run":
            raise GatewayRefusal(
                f"agent run {run_id} was started by another user; a user's key spends only that user's runs",
                "permission_error",
                f"metadata.{AGENT_RUN_KEY}",
                403,
            )
        if refused_by is not None:
            whose = f"agent run {run_id}" if refused_by == "run" else f"caller '{caller.get('name')}' today"
            raise GatewayRefusal(
                f"Budget has been exceeded: {whose} has ${float(committed):.6f} spent or reserved of its "
                f"${float(budget):.6f} budget, and this call may cost up to ${amount:.6f} (max_tokens {max_tokens}); "
                + ("start a new run or raise agents.budget_usd" if refused_by == "run" else "wait for tomorrow (UTC) or raise the caller's daily_budget_usd"),
                "budget_exceeded",
                f"metadata.{AGENT_RUN_KEY}" if refused_by == "run" else None,
                400,
            )

        metadata = data.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            metadata = data["metadata"] = {}
        metadata[TRUSTED] = {
            "caller_id": caller["id"],
            "user_id": caller.get("user_id"),
            "agent_run_id": run_id,
        }
        # The cache key gets this namespace: one caller's (and one run's) answers are never
        # served to another unless both opted into the shared cache.
        shared = facts.get("cache_scope") == "shared"
        metadata["redis_namespace"] = "workbench:shared" if shared else f"workbench:caller:{caller['id']}:run:{run_id or '-'}"
        metadata[DEADLINE] = time.time() + total
        return data

    async def async_pre_call_deployment_hook(self, kwargs, call_type):  # noqa: ANN001
        metadata = kwargs.get("metadata") or kwargs.get("litellm_metadata") or {}
        deadline = metadata.get(DEADLINE) if isinstance(metadata, dict) else None
        if deadline is None:
            return kwargs
        left = float(deadline) - time.time()
        if left <= 0:
            raise litellm.Timeout(
                message="the request's total wait (retries and fallbacks included) is used up",
                model=kwargs.get("model"),
                llm_provider=kwargs.get("custom_llm_provider") or "workbench",
            )
        timeout = kwargs.get("timeout")
        kwargs["timeout"] = left if not isinstance(timeout, (int, float)) else min(float(timeout), left)
        return kwargs

    async def async_post_call_streaming_iterator_hook(self, user_api_key_dict, response, request_data) -> AsyncGenerator:  # noqa: ANN001
        finished = False
        async for chunk in response:
            if chunk_finish_reason(chunk) is not None:
                if not provider_finished(response):
                    break  # LiteLLM's made-up finish of a stream the provider never finished
                finished = True
            yield chunk
        if not finished:
            raise GatewayRefusal(
                "the provider's stream ended before the answer was complete (no finish reason); the answer is incomplete",
                "stream_truncated",
                None,
                502,
            )


usage_recorder = WorkbenchUsageRecorder()

__all__ = ["WorkbenchUsageRecorder", "usage_recorder", "usage_row", "worst_case_cost", "prompt_token_bound"]
