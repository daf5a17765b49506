"""Jobs: submit a dataset, follow its progress, read its report, review it, download its release."""

from __future__ import annotations

import io
import zipfile
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from api import jobs
from api.bodies import DATASET_TYPES, read_dataset
from api.db import Job
from api.deps import get_audit_log, get_engine, get_settings, require
from api.execution import placement
from api.keys import Principal
from api.policy import resolve_policy
from api.problems import HttpProblem
from api.secrets import load_secret
from api.uploads import seal_upload

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
_READERS = ("submitter", "reviewer", "auditor")


class JobOptions(BaseModel):
    """What a job may choose within its policy."""

    mode: str | None = Field(None, max_length=40, pattern=r"^[a-z_]+$")
    n: int | None = Field(None, ge=1, le=100_000)
    seed: int | None = None
    finetune: bool = False
    dp: bool = False
    canaries: int = Field(0, ge=0, le=100)


def view(job: Job) -> dict:
    """A job as the API shows it: no key material, no record content."""
    base = f"/v1/jobs/{job.id}"
    return {
        "id": job.id, "state": job.state, "stage": job.stage, "progress": job.progress,
        "policy": job.policy_name, "options": job.options, "attempts": job.attempts,
        "completed_stages": job.completed_stages, "timings": job.timings, "counts": job.counts,
        "verdict": job.verdict, "error": job.error,
        "review": {"required": job.review_required, "state": job.review_state},
        "created_at": job.created_at, "started_at": job.started_at, "finished_at": job.finished_at,
        "links": {"self": base, "report": f"{base}/report", "report_html": f"{base}/report.html",
                  "release": f"{base}/release"},
    }


def _load(engine, job_id: str, principal: Principal) -> Job:  # noqa: ANN001
    """The job, if this caller may see it: submitters see their own jobs only."""
    try:
        job = jobs.get(engine, job_id)
    except jobs.JobNotFound:
        job = None
    if job is None or (principal.role == "submitter" and job.submitter_key_id != principal.key_id):
        raise HttpProblem(404, "Not found", f"no job {job_id}")
    return job


_UPLOAD_BODY = {"requestBody": {"required": True, "content": {
    media: {"schema": {"type": "string", "format": "binary"}} for media in DATASET_TYPES}}}


@router.post("", status_code=202, openapi_extra=_UPLOAD_BODY)
async def submit(
    request: Request, options: Annotated[JobOptions, Query()], policy: str = Query("default"),
    principal: Principal = Depends(require("submitter")), engine=Depends(get_engine),
    settings=Depends(get_settings), log=Depends(get_audit_log),
) -> JSONResponse:
    """Submit a JSONL or CSV dataset (the body) → 202 and the job; it is held encrypted until scrubbed."""
    chosen = resolve_policy(policy, settings.data_dir, settings.policy)
    placement(chosen.execution, site_address=settings.ray_address)  # a job that could not run is refused now
    data, fmt, count = await read_dataset(request, chosen.privacy.max_record_bytes)
    job_id = jobs.new_job_id()
    wrapped = seal_upload(data, jobs.job_dir(settings.jobs_dir, job_id) / "upload.enc", job_id,
                          load_secret("vault", settings))
    size = len(data)
    del data
    jobs.submit(engine, job_id, principal, policy, options.model_dump(), fmt, size, wrapped,
                chosen.release.require_approval)
    log.append("job.submitted", job_id, {"submitter": principal.key_id, "policy": policy, "format": fmt,
                                         "records": count, "options": options.model_dump()})
    job = jobs.get(engine, job_id)
    return JSONResponse(view(job), status_code=202, headers={"Location": f"/v1/jobs/{job_id}"})


@router.get("")
def list_jobs(principal: Principal = Depends(require(*_READERS)), engine=Depends(get_engine)) -> dict:
    """Recent jobs (a submitter sees its own)."""
    mine = principal.key_id if principal.role == "submitter" else None
    return {"jobs": [view(j) for j in jobs.all_jobs(engine, mine)]}


@router.get("/{job_id}")
def status(job_id: str, principal: Principal = Depends(require(*_READERS)), engine=Depends(get_engine)) -> dict:
    """State, stage, progress %, per-stage timings, counts, verdict, review."""
    return view(_load(engine, job_id, principal))


def _bundle_file(settings, job: Job, name: str):  # noqa: ANN001
    path = jobs.job_dir(settings.jobs_dir, job.id) / jobs.BUNDLE / name
    if not path.is_file():
        raise HttpProblem(409, "Not ready", f"job {job.id} has no report yet (state: {job.state})")
    return path


@router.get("/{job_id}/report")
def report(job_id: str, principal: Principal = Depends(require(*_READERS)), engine=Depends(get_engine),
           settings=Depends(get_settings)) -> Response:
    """The signed audit report (JSON), also for quarantined jobs."""
    job = _load(engine, job_id, principal)
    return Response(_bundle_file(settings, job, "report.json").read_bytes(), media_type="application/json")


@router.get("/{job_id}/report.html", response_class=HTMLResponse)
def report_html(job_id: str, principal: Principal = Depends(require(*_READERS)), engine=Depends(get_engine),
                settings=Depends(get_settings)) -> HTMLResponse:
    """The audit report for people."""
    job = _load(engine, job_id, principal)
    return HTMLResponse(_bundle_file(settings, job, "report.html").read_text(encoding="utf-8"))


@router.get("/{job_id}/release")
def release(job_id: str, principal: Principal = Depends(require("submitter")), engine=Depends(get_engine),
            settings=Depends(get_settings), log=Depends(get_audit_log)) -> Response:
    """The release bundle (zip) — only after a passed gate and, where the policy asks, an approval."""
    job = _load(engine, job_id, principal)
    if job.state != jobs.PASSED or job.verdict != "pass":
        reason = {jobs.AWAITING_REVIEW: "it awaits a reviewer's approval"}.get(job.state, f"it is {job.state}")
        raise HttpProblem(409, "Not releasable", f"job {job_id} cannot be released: {reason}")
    folder = jobs.job_dir(settings.jobs_dir, job.id) / jobs.BUNDLE
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                archive.write(path, path.name)
    log.append("release.downloaded", job.id, {"by": principal.key_id})
    return Response(buffer.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="airlock-{job.id}.zip"'})


@router.post("/{job_id}/retry", status_code=202)
def retry(job_id: str, principal: Principal = Depends(require("submitter")), engine=Depends(get_engine),
          log=Depends(get_audit_log)) -> dict:
    """Queue a failed job again (e.g. after an engine crash); it resumes after its last completed stage."""
    _load(engine, job_id, principal)
    try:
        job = jobs.retry(engine, job_id)
    except jobs.NotRetryable as error:
        raise HttpProblem(409, "Conflict", str(error)) from None
    log.append("job.retried", job_id, {"by": principal.key_id, "resume_after": job.completed_stages[-1]})
    return view(job)


def _review(job_id: str, principal: Principal, engine, log, approve: bool) -> dict:  # noqa: ANN001
    _load(engine, job_id, principal)
    try:
        job = jobs.review(engine, job_id, principal, approve)
    except jobs.FourEyesViolation as error:
        raise HttpProblem(403, "Forbidden", str(error)) from None
    except jobs.NotReviewable as error:
        raise HttpProblem(409, "Conflict", str(error)) from None
    log.append("review.approved" if approve else "review.rejected", job_id,
               {"reviewer": principal.key_id, "person": principal.person or principal.name, "role": principal.role})
    return view(job)


@router.post("/{job_id}/approve")
def approve(job_id: str, principal: Principal = Depends(require("reviewer")), engine=Depends(get_engine),
            log=Depends(get_audit_log)) -> dict:
    """A reviewer other than the submitter approves a job whose gate passed."""
    return _review(job_id, principal, engine, log, True)


@router.post("/{job_id}/reject")
def reject(job_id: str, principal: Principal = Depends(require("reviewer")), engine=Depends(get_engine),
           log=Depends(get_audit_log)) -> dict:
    """A reviewer other than the submitter rejects a job: it is never released."""
    return _review(job_id, principal, engine, log, False)


class ReidentifyRequest(BaseModel):
    """Scrubbed `records` of this job to put raw values back into, or manifest `fingerprints`."""

    model_config = {"extra": "forbid"}
    records: list[dict] | None = Field(None, max_length=10_000)
    fingerprints: list[str] | None = Field(None, max_length=1_000)
    reason: str | None = Field(None, max_length=200)


@router.post("/{job_id}/reidentify")
async def reidentify(job_id: str, request: Request, principal: Principal = Depends(require("reviewer")),
                     engine=Depends(get_engine), settings=Depends(get_settings), log=Depends(get_audit_log)) -> dict:
    """Raw values back from the job's vault — reviewer or admin only. Written to the audit log first
    (who, which job, how many records and values — never the values); no log entry, no values."""
    from fastapi.concurrency import run_in_threadpool

    from api.bodies import read_json
    from privacy.errors import BadInput

    _load(engine, job_id, principal)
    try:
        body = ReidentifyRequest.model_validate(await read_json(request))
    except ValueError as error:
        raise BadInput(f"the body does not fit: {type(error).__name__}") from None
    if (body.records is None) == (body.fingerprints is None):
        raise BadInput("send either 'records' or 'fingerprints'")
    vault = settings.data_dir / "vaults" / f"{job_id}.vault"
    if not vault.is_file():
        raise HttpProblem(404, "Not found", f"job {job_id} has no vault (its policy did not keep one)")
    result, counts = await run_in_threadpool(_reidentify, vault, settings, body)
    details = {"by": principal.key_id, "person": principal.person or principal.name, "role": principal.role,
               **counts}
    if body.reason:
        details["reason"] = body.reason
    log.append("vault.reidentified", job_id, details)
    return result


def _reidentify(vault_path, settings, body: ReidentifyRequest) -> tuple[dict, dict]:  # noqa: ANN001
    from api.secrets import load_keyring
    from privacy.vault import Vault

    vault = Vault(vault_path, load_keyring("vault", settings).materials())
    if body.fingerprints is not None:
        wanted = set(body.fingerprints)
        entries = [e for e in vault.entries() if e.fingerprint in wanted]
        values = [{"fingerprint": e.fingerprint, "entity_type": e.entity_type, "value": e.value} for e in entries]
        return {"values": values}, {"fingerprints": len(body.fingerprints), "values": len(values)}
    reidentifier = vault.reidentifier()
    records = [{k: reidentifier.value(v) for k, v in record.items()} for record in body.records]
    return {"records": records}, {"records": len(records), "values": reidentifier.replaced}
