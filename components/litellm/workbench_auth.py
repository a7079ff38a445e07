"""Gateway authentication without LiteLLM's database: per-user limits for a shared key.

``general_settings.custom_auth: workbench_auth.user_api_key_auth`` (this file beside
config.yaml). LiteLLM's own per-user limits hang off virtual keys and internal users stored
in its Prisma-managed database (``default_internal_user_params`` is applied when a user is
created there). Where the gateway runs without that database, this function takes the place
of the key lookup:

- LiteLLM's public routes (the health probes) stay open;
- the caller must present the gateway key (``LITELLM_MASTER_KEY``), compared in constant
  time; anything else is a 401;
- the user is the request's OpenAI ``user`` field (the workbench passes the Supabase user
  id), else the ``x-workbench-user`` header, else the key holder itself (``gateway-key``);
- every user gets ``litellm_settings.default_internal_user_params`` (``rpm_limit``,
  ``tpm_limit``: the routing spec's ``rpmPerUser``/``tpmPerUser``) as *user* limits, which
  LiteLLM's own rate limiter (``parallel_request_limiter_v3``) enforces per ``user_id`` with
  its counters in the shared Redis, answering 429 when a user is over.

So the limit is LiteLLM's, keyed on the workbench user; only the identity comes from here.
"""

from __future__ import annotations

import os
import secrets
from typing import Optional

import litellm
from fastapi import Request
from litellm.proxy._types import (
    LiteLLMRoutes,
    LitellmUserRoles,
    ProxyErrorTypes,
    ProxyException,
    UserAPIKeyAuth,
)
from litellm.proxy.common_utils.http_parsing_utils import _read_request_body

MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
USER_HEADER = "x-workbench-user"
KEY_HOLDER = "gateway-key"


def user_of(body: dict, headers: dict) -> str:
    """Who a request is for: its `user` field, else the x-workbench-user header, else the key holder."""
    user = body.get("user") if isinstance(body, dict) else None
    if not isinstance(user, str) or not user.strip():
        user = headers.get(USER_HEADER)
    return user.strip() if isinstance(user, str) and user.strip() else KEY_HOLDER


def limit_of(name: str) -> Optional[int]:
    params = litellm.default_internal_user_params or {}
    value = params.get(name)
    return int(value) if value is not None else None


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    # LiteLLM calls custom auth before its own public-route check: keep its public routes
    # (/health/liveliness, /health/readiness, ...) open, as they are without custom auth.
    if request.url.path in LiteLLMRoutes.public_routes.value:
        return UserAPIKeyAuth(user_role=LitellmUserRoles.INTERNAL_USER_VIEW_ONLY)
    master_key = os.environ.get(MASTER_KEY_ENV)
    if not master_key:
        raise ProxyException(
            message=f"the gateway has no key: set {MASTER_KEY_ENV}",
            type=ProxyErrorTypes.auth_error,
            param="api_key",
            code=500,
        )
    if not isinstance(api_key, str) or not secrets.compare_digest(api_key.encode(), master_key.encode()):
        raise ProxyException(
            message="Authentication Error: invalid API key; send 'Authorization: Bearer <gateway key>'",
            type=ProxyErrorTypes.auth_error,
            param="api_key",
            code=401,
        )
    body = await _read_request_body(request)
    user = user_of(body, {key.lower(): value for key, value in request.headers.items()})
    return UserAPIKeyAuth(
        api_key=master_key,  # stored hashed by UserAPIKeyAuth
        user_id=user,
        user_role=LitellmUserRoles.INTERNAL_USER,
        user_rpm_limit=limit_of("rpm_limit"),
        user_tpm_limit=limit_of("tpm_limit"),
    )
