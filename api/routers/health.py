"""Liveness, readiness (database and model store reachable) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.deps import current_principal, get_engine, get_settings, require
from api.problems import HttpProblem

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict:
    """The process answers (no key needed)."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, details: bool = False, engine=Depends(get_engine), settings=Depends(get_settings)) -> dict:
    """The database answers and the default model is in the store (no key needed).

    `?details=true` (admin key): the engine as `airlock doctor` sees it — build flags, CPU features,
    setup's smoke test, threads, GPU offload, model store — read from setup's record; llama.cpp is
    never loaded into the server process.
    """
    from synth.store import ModelStore

    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        raise HttpProblem(503, "Not ready", "the database is unreachable") from None
    try:
        ModelStore(settings.models_dir).get()
    except Exception:  # noqa: BLE001
        raise HttpProblem(503, "Not ready", "the default model is not in the model store (run: airlock models pull)") from None
    ready = {"status": "ready", "database": engine.dialect.name}
    if details:
        if current_principal(request, engine).role != "admin":
            raise HttpProblem(403, "Forbidden", "engine details are for the admin role")
        from api.doctor import engine_facts

        ready["engine"] = engine_facts(settings)
    return ready


@router.get("/metrics", dependencies=[Depends(require("auditor"))])
def metrics(request: Request) -> Response:
    """Prometheus exposition: jobs by state, stage durations, records, gate verdicts, requests."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
