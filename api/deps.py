"""Dependencies injected into routes: settings, the database engine, the audit log, the caller's key."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from fastapi import Depends, Request
from sqlalchemy.engine import Engine

from api import keys
from api.keys import Principal
from api.problems import HttpProblem
from api.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_audit_log(request: Request):
    return request.app.state.audit_log


class RateLimiter:
    """Per-key sliding window of one minute; in-process (each service process counts its own)."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key_id: str) -> float | None:
        """None when allowed; otherwise the seconds until the next request would be."""
        at = time.monotonic()
        with self._lock:
            hits = self._hits[key_id]
            while hits and hits[0] <= at - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return 60 - (at - hits[0])
            hits.append(at)
            return None


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def current_principal(request: Request, engine: Engine = Depends(get_engine)) -> Principal:
    """The authenticated caller; 401 without a valid key, 429 past the key's rate limit."""
    presented = _presented_key(request)
    if not presented:
        raise HttpProblem(401, "Unauthorized", "an API key is required (Authorization: Bearer <key>)",
                          {"WWW-Authenticate": "Bearer"})
    principal = keys.authenticate(engine, presented)
    if principal is None:
        raise HttpProblem(401, "Unauthorized", "the API key is unknown or revoked", {"WWW-Authenticate": "Bearer"})
    request.state.key_id = principal.key_id
    wait = request.app.state.rate_limiter.check(principal.key_id)
    if wait is not None:
        raise HttpProblem(429, "Too many requests", "this key's rate limit is reached; retry later",
                          {"Retry-After": str(max(1, int(wait + 0.999)))})
    return principal


def require(*roles: str) -> Callable[..., Principal]:
    """A dependency admitting only callers whose key has one of `roles` (admin is always admitted)."""
    allowed = {*roles, "admin"}

    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in allowed:
            raise HttpProblem(403, "Forbidden", f"the {principal.role} role may not do this")
        return principal

    return dependency
