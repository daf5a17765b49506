"""The hash-chained audit log, for auditors."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, Query

from api.deps import get_audit_log, require

router = APIRouter(prefix="/v1/audit-log", tags=["audit log"], dependencies=[Depends(require("auditor"))])


@router.get("")
def entries(log=Depends(get_audit_log), job_id: str | None = Query(None, max_length=64),
            limit: int = Query(1000, ge=1, le=10_000)) -> dict:
    """Entries, oldest first (ids, counts, verdicts — never record content); filter by job id."""
    return {"entries": [asdict(entry) for entry in log.entries(job_id=job_id, limit=limit)]}


@router.get("/verify")
def verify(log=Depends(get_audit_log)) -> dict:
    """Re-walk the hash chain: ok, or the first entry that does not fit and why."""
    return asdict(log.verify())
