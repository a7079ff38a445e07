"""Gateway authentication: a key per caller, the identity from the key, never from the request.

``general_settings.custom_auth: workbench_auth.user_api_key_auth`` (this file beside
config.yaml). LiteLLM's own virtual keys live in its Prisma-managed database, which cannot be
installed here; this function takes the place of its key lookup:

- the health probes stay open (LiteLLM's other "public" routes, such as /routes, do not);
- a caller presents ``Authorization: Bearer wbk_...``, a key an operator issued with
  ``private.llm_issue_key`` (sql/migrations/20261130001300_llm_gateway_callers.sql). The
  gateway hashes it (sha256) and looks the hash up (``llm_gateway.caller_of_key``, a security
  definer function the usage login may call; it cannot read ``private`` itself): the caller
  (a service, an agent runtime or one workbench user) is whatever that row names. A missing,
  unknown or revoked key is a 401, whatever the request says about its user;
- callers reach only the API routes (chat completions, the model list); every other route
  (admin, debug, key management, pass-through) is refused. The master key
  (``LITELLM_MASTER_KEY``) is the operator's: it opens the admin routes and no model;
- a request may carry only the OpenAI chat parameters the workbench uses: per-request prices,
  ``mock_response``, timeouts, retries, fallbacks, api_base/keys, cache namespaces, LiteLLM's
  ``x-litellm-*`` headers (a chosen call id would collide with another call's usage row) and a
  ``user`` other than the caller's own are refused with 400, naming the field;
- the caller's limits go to LiteLLM's own limiter (``parallel_request_limiter_v3``, counters
  in Redis) as *user* limits keyed on the caller id: the key's own rpm/tpm when it has them,
  else ``default_internal_user_params`` (the settings' ``rpmPerUser``/``tpmPerUser``).

What the caller is and what it asked for travel to workbench_usage (budgets, cache scope,
usage rows) in the returned ``UserAPIKeyAuth.metadata``.
"""

from __future__ import annotations

import os
import secrets
import sys
from typing import Any, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import litellm  # noqa: E402
from fastapi import Request  # noqa: E402
from litellm.proxy._types import (  # noqa: E402
    LitellmUserRoles,
    ProxyErrorTypes,
    ProxyException,
    UserAPIKeyAuth,
)
from litellm.proxy.common_utils.http_parsing_utils import _read_request_body  # noqa: E402

from workbench_common import KEY_PREFIX, database, key_hash  # noqa: E402

MASTER_KEY_ENV = "LITELLM_MASTER_KEY"

# The routes a caller may use (the Ingress publishes the same, components/kubernetes/litellm.ts).
API_ROUTES = frozenset({"/v1/chat/completions", "/chat/completions", "/v1/models", "/models"})
COMPLETION_ROUTES = frozenset({"/v1/chat/completions", "/chat/completions"})
# Open without a key: the probes (the Deployment's liveness, readiness and startup probes).
HEALTH_ROUTES = frozenset({"/health/liveliness", "/health/liveness", "/health/readiness"})

# OpenAI chat-completion parameters a caller may send. Anything else (LiteLLM's per-request
# knobs: prices, mock_response, timeout, num_retries, fallbacks, api_base, api_key, caching
# controls, metadata aliases, ...) is refused.
ALLOWED_BODY = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "n",
        "stream",
        "stream_options",
        "stop",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "response_format",
        "seed",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "reasoning_effort",
        "user",
        "metadata",
        "cache",
    }
)
# metadata.agent_run_id: the ip_workbench.agent_runs row the call is for (its budget applies);
# metadata.cache_scope: "shared" opts into the cache shared by all callers (default: the
# caller's own, per agent run).
ALLOWED_METADATA = frozenset({"agent_run_id", "cache_scope"})
# Per-request cache controls that only narrow caching (never widen who reads what).
ALLOWED_CACHE_CONTROLS = frozenset({"no-cache", "no-store"})

# llm_gateway.caller_of_key (sql/migrations/20261130002900_llm_gateway_definer_calls.sql): the
# usage login cannot read private.llm_caller_keys itself.
CALLER_OF_KEY = "select id, name, kind, user_id, rpm_limit, tpm_limit from llm_gateway.caller_of_key(%(hash)s::bytea)"


def refuse(message: str, code: int, param: Optional[str] = None, type: str = ProxyErrorTypes.auth_error) -> ProxyException:
    return ProxyException(message=message, type=type, param=param or "None", code=code)


def invalid(message: str, param: str) -> ProxyException:
    return ProxyException(message=message, type="invalid_request_error", param=param, code=400)


def body_problem(body: Any, caller_user_id: Optional[str]) -> Optional[ProxyException]:
    """Why a completion request's body is refused, or None (pure)."""
    if not isinstance(body, dict):
        return invalid("the request body must be a JSON object", "body")
    unknown = sorted(key for key in body if key not in ALLOWED_BODY)
    if unknown:
        return invalid(
            f"field '{unknown[0]}' is not accepted by this gateway (prices, mock responses, timeouts, retries, "
            f"fallbacks and provider settings come from its configuration only); allowed: {', '.join(sorted(ALLOWED_BODY))}",
            unknown[0],
        )
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return invalid("messages must be a non-empty list", "messages")
    for index, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        parts = content if isinstance(content, list) else []
        kinds = sorted({str(part.get("type")) for part in parts if isinstance(part, dict) and part.get("type") != "text"})
        if kinds:
            # The worst-case cost before the call bounds a prompt's tokens by its text; an
            # image or audio part's tokens have no such bound.
            return invalid(f"messages[{index}] has a '{kinds[0]}' part; this gateway takes text messages only", "messages")
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            return invalid("metadata must be an object", "metadata")
        extra = sorted(key for key in metadata if key not in ALLOWED_METADATA)
        if extra:
            return invalid(
                f"metadata.{extra[0]} is not accepted; metadata may hold only {', '.join(sorted(ALLOWED_METADATA))}",
                f"metadata.{extra[0]}",
            )
        scope = metadata.get("cache_scope")
        if scope is not None and scope not in ("caller", "shared"):
            return invalid(f"metadata.cache_scope must be 'caller' or 'shared' (got {scope!r})", "metadata.cache_scope")
        run = metadata.get("agent_run_id")
        if run is not None and not isinstance(run, str):
            return invalid("metadata.agent_run_id must be a string (an ip_workbench.agent_runs id)", "metadata.agent_run_id")
    cache = body.get("cache")
    if cache is not None:
        if not isinstance(cache, dict) or any(key not in ALLOWED_CACHE_CONTROLS for key in cache):
            return invalid(
                f"cache may hold only {', '.join(sorted(ALLOWED_CACHE_CONTROLS))}; the cache scope is set by the gateway",
                "cache",
            )
    n = body.get("n")
    if n is not None and n != 1:
        return invalid(f"n must be 1 (got {n!r})", "n")
    user = body.get("user")
    if user is not None and user != caller_user_id:
        return invalid(
            "user is set by the gateway from your key; leave it out (or send your own user id)",
            "user",
        )
    return None


def default_limit(name: str) -> Optional[int]:
    params = litellm.default_internal_user_params or {}
    value = params.get(name)
    return int(value) if value is not None else None


async def caller_of(key: str) -> Optional[tuple]:
    async def read(connection: Any) -> Any:
        cursor = await connection.execute(CALLER_OF_KEY, {"hash": key_hash(key)})
        return await cursor.fetchone()

    return await database.run(read)


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    path = request.url.path
    # LiteLLM calls custom auth before its own public-route check: keep the health probes
    # open. Its other "public" routes (/routes, /config/yaml, /test, ...) are not.
    if path in HEALTH_ROUTES:
        return UserAPIKeyAuth(user_role=LitellmUserRoles.INTERNAL_USER_VIEW_ONLY)
    presented = api_key if isinstance(api_key, str) else ""
    master_key = os.environ.get(MASTER_KEY_ENV) or ""
    if master_key and secrets.compare_digest(presented.encode(), master_key.encode()):
        if path in API_ROUTES:
            raise refuse(
                "the master key is the operator's and names no caller; call with a caller key "
                "(select private.llm_issue_key(...), see README 'LiteLLM gateway')",
                403,
            )
        return UserAPIKeyAuth(api_key=master_key, user_id="workbench-operator", user_role=LitellmUserRoles.PROXY_ADMIN)
    if path not in API_ROUTES:
        raise refuse(f"route {path} is not open to callers; callers may use {', '.join(sorted(API_ROUTES))}", 403)
    if not presented.startswith(KEY_PREFIX):
        raise refuse(f"Authentication Error: send 'Authorization: Bearer {KEY_PREFIX}...' with your caller key", 401)
    try:
        found = await caller_of(presented)
    except Exception as error:  # noqa: BLE001 - fail closed, without the key in the message
        raise refuse(f"cannot check the caller key: {type(error).__name__}", 503) from None
    if found is None:
        raise refuse("Authentication Error: unknown or revoked caller key", 401)
    caller_id, name, kind, user_id, rpm, tpm = found

    headers = sorted(key.lower() for key in request.headers.keys() if key.lower().startswith("x-litellm-"))
    if headers:
        raise invalid(f"header {headers[0]} is not accepted by this gateway", headers[0])
    request_facts: dict = {}
    if path in COMPLETION_ROUTES:
        body = await _read_request_body(request)
        problem = body_problem(body, user_id)
        if problem is not None:
            raise problem
        metadata = body.get("metadata") or {}
        request_facts = {
            "agent_run_id": metadata.get("agent_run_id"),
            "cache_scope": metadata.get("cache_scope") or "caller",
        }
    return UserAPIKeyAuth(
        user_id=caller_id,
        user_role=LitellmUserRoles.INTERNAL_USER,
        user_rpm_limit=rpm if rpm is not None else default_limit("rpm_limit"),
        user_tpm_limit=tpm if tpm is not None else default_limit("tpm_limit"),
        metadata={
            "workbench_caller": {"id": caller_id, "name": name, "kind": kind, "user_id": user_id},
            "workbench_request": request_facts,
        },
    )
