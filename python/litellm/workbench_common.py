"""What workbench_auth and workbench_usage share: the database connection, the gateway
settings from config.yaml, refusals, and the caller-key hash.

LiteLLM loads ``workbench_auth`` and ``workbench_usage`` from their files beside config.yaml;
both put that directory on ``sys.path`` and import this module, so each worker process holds
one copy of it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from typing import Any, Awaitable, Callable, Optional

DATABASE_URL_ENV = "WORKBENCH_USAGE_DATABASE_URL"
# Caller keys look like `wbk_<64 hex>`; the database keeps only their sha256.
KEY_PREFIX = "wbk_"
# The section of general_settings the workbench modules read (rendered by
# components/kubernetes/litellm-config.ts from the same settings as the rest of config.yaml).
SETTINGS_KEY = "workbench_gateway"


class GatewayRefusal(Exception):
    """A refused call. The proxy answers it as an OpenAI-style error with `status_code`
    (it reads `status_code`, `message`, `type` and `param` off the exception)."""

    def __init__(self, message: str, type: str, param: Optional[str], status_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.type = type
        self.param = param
        self.status_code = status_code
        self.code = status_code


def key_hash(key: str) -> bytes:
    """The sha256 the database keeps for a caller key (the key itself is never sent to it)."""
    return hashlib.sha256(key.encode("utf-8")).digest()


def gateway_settings() -> dict:
    """`general_settings.workbench_gateway` of the running proxy's config.yaml."""
    from litellm.proxy import proxy_server

    settings = (getattr(proxy_server, "general_settings", None) or {}).get(SETTINGS_KEY)
    if not isinstance(settings, dict):
        raise GatewayRefusal(
            message=f"the gateway's config.yaml has no general_settings.{SETTINGS_KEY}; render it with components/kubernetes/litellm-config.ts",
            type="gateway_misconfigured",
            param=None,
            status_code=500,
        )
    return settings


class Database:
    """One connection per worker process, used one transaction at a time (each is a few
    short statements), reconnected once when it broke."""

    def __init__(self, url: Optional[str] = None) -> None:
        self.url = url if url is not None else os.environ.get(DATABASE_URL_ENV)
        self._connection: Any = None
        self._lock: Optional[asyncio.Lock] = None

    async def run(self, work: Callable[[Any], Awaitable[Any]]) -> Any:
        import psycopg

        if not self.url:
            raise RuntimeError(f"{DATABASE_URL_ENV} is not set")
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            for attempt in (1, 2):
                try:
                    if self._connection is None or self._connection.closed:
                        self._connection = await psycopg.AsyncConnection.connect(
                            self.url, autocommit=False, application_name="litellm-workbench"
                        )
                    async with self._connection.transaction():
                        return await work(self._connection)
                except psycopg.OperationalError:
                    if self._connection is not None:
                        await self._connection.close()
                    self._connection = None
                    if attempt == 2:
                        raise


database = Database()
