"""Synchronous scrub of a small payload: records or one text, scrubbed under a named policy."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, ValidationError

from api.bodies import read_json
from api.deps import get_audit_log, require
from api.keys import Principal
from api.policy import resolve_policy
from api.secrets import load_secret
from privacy.errors import BadInput

router = APIRouter(prefix="/v1", tags=["scrub"])


class ScrubRequest(BaseModel):
    """Either `records` (JSON objects, fields per the policy) or one free `text`."""

    model_config = ConfigDict(extra="forbid")
    records: list[dict[str, Any]] | None = None
    text: str | None = None


def scrubber_for(app, policy_name: str):  # noqa: ANN001 - the FastAPI app
    """A fresh Scrubber per request (placeholder numbers are per dataset) on an analyzer that is
    built once per policy and kept for the process (loading spaCy takes seconds)."""
    from privacy.analyzer import build_analyzer
    from privacy.scrub import Scrubber

    settings = app.state.settings
    policy = resolve_policy(policy_name, settings.data_dir, settings.policy)
    with app.state.analyzers_lock:
        if policy_name not in app.state.analyzers:
            app.state.analyzers[policy_name] = build_analyzer(policy.privacy)
    return Scrubber(policy.privacy, load_secret("site", settings), analyzer=app.state.analyzers[policy_name])


_OPENAPI_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": ScrubRequest.model_json_schema()}}}}


@router.post("/scrub", openapi_extra=_OPENAPI_BODY)
async def scrub(request: Request, policy: str = Query("default"), log=Depends(get_audit_log),
                principal: Principal = Depends(require("submitter"))) -> dict:
    """Scrub at most `max_scrub_bytes` of records or text. Findings give type, field and span, never
    values; keyed fingerprints only where the policy sets `scrub_api.return_fingerprints`."""
    try:
        payload = ScrubRequest.model_validate(await read_json(request))
    except ValidationError as error:
        where = ".".join(str(part) for part in error.errors()[0]["loc"])
        raise BadInput(f"{where}: {error.errors()[0]['msg']}") from None
    if (payload.records is None) == (payload.text is None):
        raise BadInput("send either 'records' or 'text'")
    settings = request.app.state.settings
    chosen = await run_in_threadpool(resolve_policy, policy, settings.data_dir, settings.policy)
    scrubber = await run_in_threadpool(scrubber_for, request.app, policy)
    result = await run_in_threadpool(_scrub, request.app, scrubber, payload)
    linkable = chosen.scrub_api.return_fingerprints
    for finding in result["findings"]:
        finding.pop("prefix", None)  # the audit's prefilter digest links values by their first letters
        if not linkable:  # a fingerprint links one person across requests: only where the policy allows
            finding.pop("fingerprint", None)
    log.append("scrub.sync", None, {"by": principal.key_id, "policy": policy, "fingerprints_returned": linkable,
                                    "records": len(payload.records or []), "findings": len(result["findings"])})
    return result


def _scrub(app, scrubber, payload: ScrubRequest) -> dict:  # noqa: ANN001
    if payload.text is not None:
        text, findings = scrubber.scrub_text(payload.text)
        return {"text": text, "findings": [asdict(f) for f in findings]}
    results = list(scrubber.scrub(payload.records))
    app.state.metrics.scrubbed_sync.inc(len(results))
    return {
        "records": [r.record for r in results],
        "findings": [asdict(f) for r in results for f in r.findings],
    }
