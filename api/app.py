"""The FastAPI application: thin routes over the job store, the pipeline and the audit log.

`create_app()` wires settings, the database (migrated on start), the audit log, metrics and the
routers; with `worker=True` a worker thread drains the job queue (`airlock serve`), running each job in
a child process so that native code never runs inside the server.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from api.db import open_database
from api.deps import RateLimiter
from api.logs import configure_logging, get_logger
from api.metrics import ServiceMetrics
from api.problems import MEDIA_TYPE, HttpProblem, install
from api.settings import Settings

_SMALL_BODY = 64 * 1024


class BodyTooLarge(HttpProblem):
    def __init__(self, limit: int):
        super().__init__(413, "Payload too large", f"the request body is larger than the {limit}-byte limit")


class RequestContext:
    """Request id, body-size limit and one structured log line per request (no bodies, no keys)."""

    def __init__(self, app, settings: Settings, metrics: ServiceMetrics):  # noqa: ANN001 - ASGI app
        self.app, self.settings, self.metrics = app, settings, metrics

    def _limit(self, path: str) -> int:
        if path.startswith("/v1/scrub"):
            return self.settings.max_scrub_bytes
        if path.rstrip("/") == "/v1/jobs":
            return self.settings.max_upload_bytes
        return _SMALL_BODY

    async def __call__(self, scope, receive, send):  # noqa: ANN001 - ASGI
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        limit = self._limit(scope["path"])
        headers = dict(scope.get("headers") or [])
        status = {"code": 500}
        started = time.perf_counter()

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            declared = headers.get(b"content-length", b"0")
            if not declared.isdigit() or int(declared) > limit:
                await self._refuse(send_with_id, 413 if declared.isdigit() else 400, scope["path"], request_id,
                                   f"the request body is larger than the {limit}-byte limit"
                                   if declared.isdigit() else "malformed Content-Length")
                return
            await self.app(scope, limited_receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status["code"])).inc()
            get_logger("airlock.http").info(
                "request", method=scope["method"], route=route, status=status["code"],
                duration_ms=round((time.perf_counter() - started) * 1000, 1), key_id=state.get("key_id"),
            )
            structlog.contextvars.unbind_contextvars("request_id")

    @staticmethod
    async def _refuse(send, status: int, path: str, request_id: str, detail: str) -> None:
        title = "Payload too large" if status == 413 else "Bad request"
        body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail,
                           "instance": path, "request_id": request_id}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings | None = None, worker: bool = False) -> FastAPI:
    """The service. Binding (127.0.0.1 by default) is the server's business: see `airlock serve`."""
    from audit.log import AuditLog
    from api.routers import audit_log, health, jobs, models, scrub

    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_file)
    engine = open_database(settings.effective_database_url)
    metrics = ServiceMetrics(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = threading.Event()
        thread = None
        if worker:
            from api.worker import Worker

            thread = threading.Thread(target=Worker(settings, engine).run, args=(stop,), name="airlock-worker",
                                      daemon=True)
            thread.start()
        yield
        stop.set()
        if thread:
            thread.join(timeout=10)

    app = FastAPI(
        title="Airlock",
        version="0.1.0",
        summary="Scrub sensitive records, synthesize with a local model, audit before release.",
        docs_url=None,  # the interactive docs load scripts from a CDN; Airlock runs air-gapped
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.audit_log = AuditLog(engine)
    app.state.metrics = metrics
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.analyzers = {}
    app.state.analyzers_lock = threading.Lock()
    install(app)
    for router in (health.router, scrub.router, jobs.router, audit_log.router, models.router):
        app.include_router(router)
    app.add_middleware(RequestContext, settings=settings, metrics=metrics)
    return app
