"""The hash-chained audit log, for auditors; and the timer that signs its head into checkpoints."""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from dataclasses import asdict

from fastapi import APIRouter, Depends, Query

from api.deps import get_audit_log, get_settings, require


@asynccontextmanager
async def checkpoint_timer(app):  # noqa: ANN001 - the FastAPI app
    """At start-up, refuse key files open to group or others; while the service runs, sign the log
    head every `log_checkpoint_seconds` (when it grew)."""
    from api.pipeline import run_log_checkpoints
    from api.secrets import check_key_files

    check_key_files(app.state.settings)
    stop = threading.Event()
    thread = threading.Thread(target=run_log_checkpoints, args=(app.state.settings, app.state.audit_log, stop),
                              name="airlock-log-checkpoints", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


router = APIRouter(prefix="/v1/audit-log", tags=["audit log"], dependencies=[Depends(require("auditor"))],
                   lifespan=checkpoint_timer)


@router.get("")
def entries(log=Depends(get_audit_log), job_id: str | None = Query(None, max_length=64),
            limit: int = Query(1000, ge=1, le=10_000)) -> dict:
    """Entries, oldest first (ids, counts, verdicts — never record content); filter by job id."""
    return {"entries": [asdict(entry) for entry in log.entries(job_id=job_id, limit=limit)]}


@router.get("/verify")
def verify(log=Depends(get_audit_log), settings=Depends(get_settings)) -> dict:
    """Re-walk the hash chain and hold it against the site's signed checkpoints: ok, or the first
    entry that does not fit and why."""
    from api.secrets import load_keyring
    from audit.log import VerifyResult, checkpoint_is_genuine, read_checkpoints
    from audit.report import key_fingerprint, public_key

    points = read_checkpoints(settings.log_checkpoints) if settings.log_checkpoints.is_file() else []
    ring = load_keyring("signing", settings, create=False)
    trusted = {key_fingerprint(public_key(k)): public_key(k) for k in (ring.materials() if ring else [])}
    forged = [p.seq for p in points if not checkpoint_is_genuine(p, trusted)]
    if forged:
        return asdict(VerifyResult(False, forged[0], f"a checkpoint (entry {forged[0]}) is not signed by a trusted key"))
    return asdict(log.verify(points))
