"""The HTTP API through real requests on real databases: keys, roles, limits, problem documents."""

from __future__ import annotations

import json

import pytest

from api import jobs
from tests.api.conftest import auth

PLANTED = "Zebulon Quarrington-Vance"  # content that must never come back in an error or a log
RECORDS = b"".join(
    json.dumps({"id": f"R-{i}", "kind": "note", "label": "a", "text": f"{PLANTED} called about order {i}."}).encode() + b"\n"
    for i in range(3)
)
JSONL = {"Content-Type": "application/x-ndjson"}


def _submit(client, keys, who="submitter", body=RECORDS, headers=JSONL, params=None):
    return client.post("/v1/jobs", content=body, headers={**headers, **auth(keys, who)}, params=params)


def _is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and "request_id" in body
    assert PLANTED not in response.text and "Zebulon" not in response.text
    return body


def test_health_needs_no_key_but_everything_else_does(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert "/v1/jobs" in client.get("/openapi.json").json()["paths"]
    for method, path in [("GET", "/v1/jobs"), ("GET", "/v1/models"), ("GET", "/v1/audit-log"), ("GET", "/metrics"),
                         ("POST", "/v1/scrub"), ("POST", "/v1/jobs")]:
        response = client.request(method, path)
        _is_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    _is_problem(client.get("/v1/jobs", headers={"Authorization": "Bearer ak_000000000000_nope"}), 401)


def test_revoked_keys_stop_working(client, keys, app):
    from api.keys import revoke_key

    assert client.get("/v1/jobs", headers=auth(keys, "auditor")).status_code == 200
    revoke_key(app.state.engine, keys["auditor"][0].key_id)
    _is_problem(client.get("/v1/jobs", headers=auth(keys, "auditor")), 401)


ROLES = ("submitter", "reviewer", "auditor", "admin")
MATRIX = [  # (method, path, roles allowed)
    ("GET", "/v1/models", set(ROLES)),
    ("GET", "/v1/audit-log", {"auditor", "admin"}),
    ("GET", "/v1/audit-log/verify", {"auditor", "admin"}),
    ("GET", "/metrics", {"auditor", "admin"}),
    ("GET", "/v1/jobs", set(ROLES)),
    ("GET", "/v1/jobs/{id}", set(ROLES)),
    ("GET", "/v1/jobs/{id}/report", set(ROLES)),
    ("POST", "/v1/jobs/{id}/approve", {"reviewer", "admin"}),
    ("POST", "/v1/jobs/{id}/reject", {"reviewer", "admin"}),
    ("GET", "/v1/jobs/{id}/release", {"submitter", "admin"}),
    ("POST", "/v1/scrub", {"submitter", "admin"}),
    ("POST", "/v1/jobs", {"submitter", "admin"}),
]


def test_the_role_matrix_is_enforced(client, keys):
    job_id = _submit(client, keys).json()["id"]
    for method, path, allowed in MATRIX:
        for role in ROLES:
            body = {"content": RECORDS, "headers": {**JSONL, **auth(keys, role)}} if path == "/v1/jobs" and method == "POST" \
                else {"json": {}, "headers": auth(keys, role)}
            response = client.request(method, path.format(id=job_id), **body)
            if role in allowed:
                assert response.status_code not in (401, 403), (method, path, role, response.text)
            else:
                assert _is_problem(response, 403)["detail"] == f"the {role} role may not do this", (method, path, role)


def test_submitters_see_only_their_own_jobs(client, keys):
    job_id = _submit(client, keys).json()["id"]
    _is_problem(client.get(f"/v1/jobs/{job_id}", headers=auth(keys, "other_submitter")), 404)
    assert client.get("/v1/jobs", headers=auth(keys, "other_submitter")).json() == {"jobs": []}
    assert [j["id"] for j in client.get("/v1/jobs", headers=auth(keys, "submitter")).json()["jobs"]] == [job_id]
    assert client.get(f"/v1/jobs/{job_id}", headers=auth(keys, "reviewer")).json()["state"] == jobs.QUEUED
    _is_problem(client.get("/v1/jobs/nope", headers=auth(keys, "admin")), 404)


def test_a_submitted_job_is_queued_and_its_upload_held_encrypted(client, keys, settings, app):
    response = _submit(client, keys, params={"n": 4, "seed": 3})
    assert response.status_code == 202
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["state"] == "queued" and job["options"]["n"] == 4 and job["progress"] == 0
    stored = jobs.job_dir(settings.jobs_dir, job["id"]) / "upload.enc"
    assert stored.stat().st_mode & 0o077 == 0
    blob = stored.read_bytes()
    assert PLANTED.encode() not in blob and b"called about" not in blob
    entries = client.get("/v1/audit-log", headers=auth(keys, "auditor")).json()["entries"]
    assert [e["event"] for e in entries if e["job_id"] == job["id"]] == ["job.submitted"]
    _is_problem(client.get(f"/v1/jobs/{job['id']}/report", headers=auth(keys, "submitter")), 409)
    assert "still" not in _is_problem(client.get(f"/v1/jobs/{job['id']}/release", headers=auth(keys, "submitter")), 409)["detail"]


MALFORMED = [
    ("bad JSON", b'{"id": "R-1", "text": "ok"}\n{"text": "' + PLANTED.encode() + b'"\n', JSONL, 400, "record 2: not valid JSON"),
    ("not an object", b'["' + PLANTED.encode() + b'"]\n', JSONL, 400, "record 1: not a JSON object"),
    ("wrong encoding", b'{"text": "' + PLANTED.encode("utf-16") + b'"}\n', JSONL, 400, "record 1: not valid UTF-8"),
    ("latin-1 charset", RECORDS, {"Content-Type": "application/x-ndjson; charset=latin-1"}, 415, "only UTF-8"),
    ("wrong content type", RECORDS, {"Content-Type": "application/pdf"}, 415, "application/x-ndjson"),
    ("multipart", RECORDS, {"Content-Type": "multipart/form-data; boundary=x"}, 415, "text/csv"),
    ("no content type", RECORDS, {}, 415, "application/x-ndjson"),
    ("empty", b"", JSONL, 400, "no records"),
    ("bad CSV", b"id,text\nR-1," + PLANTED.encode() + b",extra\n", {"Content-Type": "text/csv"}, 400, "record 1: more cells"),
    ("CSV not UTF-8", b"id,text\nR-1,\xff\xfe" + PLANTED.encode() + b"\n", {"Content-Type": "text/csv"}, 400, "not valid UTF-8"),
    ("oversized", b"x" * 200_001, JSONL, 413, "200000-byte limit"),
]


@pytest.mark.parametrize("case", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_uploads_get_problem_documents(client, keys, case):
    _, body, headers, status, detail = case
    assert detail in _is_problem(_submit(client, keys, body=body, headers=headers), status)["detail"]


def test_an_oversized_streamed_upload_is_cut_off(client, keys):
    chunks = (b'{"text": "' + b"y" * 50_000 + b'"}\n' for _ in range(10))  # no Content-Length: chunked
    _is_problem(_submit(client, keys, body=chunks), 413)


def test_bad_job_options_and_policies_are_problems(client, keys):
    assert "n" in _is_problem(_submit(client, keys, params={"n": 0}), 422)["detail"]
    assert "mode" in _is_problem(_submit(client, keys, params={"mode": "DROP TABLE"}), 422)["detail"]
    _is_problem(_submit(client, keys, params={"policy": "../../etc/passwd"}), 422)
    assert "no policy named" in _is_problem(_submit(client, keys, params={"policy": "missing"}), 422)["detail"]


@pytest.mark.parametrize("body,headers,status", [
    (b'{"text": "' + PLANTED.encode() + b'"', {"Content-Type": "application/json"}, 400),
    (b'["' + PLANTED.encode() + b'"]', {"Content-Type": "application/json"}, 400),
    (b'{"text": "\xff' + PLANTED.encode() + b'"}', {"Content-Type": "application/json"}, 400),
    (b'{"text": "' + PLANTED.encode() + b'"}', {"Content-Type": "text/plain"}, 415),
    (b'{"txt": "' + PLANTED.encode() + b'"}', {"Content-Type": "application/json"}, 400),
    (b'{"records": "' + PLANTED.encode() + b'"}', {"Content-Type": "application/json"}, 400),
    (b'{"text": "' + b"z" * 20_001 + b'"}', {"Content-Type": "application/json"}, 413),
])
def test_malformed_scrub_requests_get_problem_documents(client, keys, body, headers, status):
    _is_problem(client.post("/v1/scrub", content=body, headers={**headers, **auth(keys, "submitter")}), status)


def test_unknown_routes_and_methods_are_problems(client, keys):
    _is_problem(client.get("/v2/nothing", headers=auth(keys, "admin")), 404)
    _is_problem(client.delete("/v1/jobs", headers=auth(keys, "admin")), 405)


def test_each_key_is_rate_limited(data_dir):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.keys import create_key
    from api.settings import Settings

    app = create_app(Settings(data_dir=data_dir, rate_limit_per_minute=3))
    _, first = create_key(app.state.engine, "auditor")
    _, second = create_key(app.state.engine, "auditor")
    with TestClient(app) as client:
        for _ in range(3):
            assert client.get("/v1/jobs", headers={"X-API-Key": first}).status_code == 200
        limited = client.get("/v1/jobs", headers={"X-API-Key": first})
        _is_problem(limited, 429)
        assert int(limited.headers["retry-after"]) >= 1
        assert client.get("/v1/jobs", headers={"X-API-Key": second}).status_code == 200


def test_metrics_count_jobs_by_state(client, keys):
    _submit(client, keys)
    text = client.get("/metrics", headers=auth(keys, "auditor")).text
    assert 'airlock_jobs{state="queued"} 1.0' in text
    assert "airlock_http_requests_total" in text


def test_responses_carry_a_request_id_and_logs_are_json(client, keys, settings):
    response = client.get("/v1/jobs", headers=auth(keys, "auditor"))
    request_id = response.headers["x-request-id"]
    lines = [json.loads(line) for line in settings.log_file.read_text().splitlines() if line.startswith("{")]
    assert any(line.get("request_id") == request_id and line["event"] == "request" and line["status"] == 200
               for line in lines)


def test_sync_scrub_replaces_pii_and_returns_no_fingerprints_unless_the_policy_allows(data_dir):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.keys import create_key
    from api.settings import Settings
    from tests.api.conftest import PLANTED as PII
    from tests.api.conftest import leaks, write_policy

    write_policy(data_dir, "tiny")
    write_policy(data_dir, "linkable", scrub_api={"return_fingerprints": True})
    app = create_app(Settings(data_dir=data_dir))
    _, key = create_key(app.state.engine, "submitter")
    records = [{"id": "R-1", "kind": "ticket", "label": "billing",
                "text": f"Write to {PII['text_email']} about the refund.",
                "contact": {"email": PII["email"], "phone": PII["phone"]}}]
    with TestClient(app) as client:
        response = client.post("/v1/scrub", params={"policy": "tiny"}, json={"records": records},
                               headers={"X-API-Key": key})
        assert response.status_code == 200, response.text
        body = response.json()
        assert not leaks(response.content)
        assert body["records"][0]["id"] == "R-1" and body["records"][0]["label"] == "billing"
        assert {f["entity_type"] for f in body["findings"]} >= {"EMAIL_ADDRESS", "PHONE_NUMBER"}
        assert not any("fingerprint" in f or "prefix" in f for f in body["findings"])  # no linkage by default
        linked = client.post("/v1/scrub", params={"policy": "linkable"}, json={"records": records},
                             headers={"X-API-Key": key}).json()
        assert all(len(f["fingerprint"]) == 64 and "prefix" not in f for f in linked["findings"])
        text = client.post("/v1/scrub", params={"policy": "tiny"}, json={"text": f"mail {PII['email']}"},
                           headers={"X-API-Key": key}).json()
        assert PII["email"] not in text["text"] and text["findings"][0]["entity_type"] == "EMAIL_ADDRESS"
    entries = app.state.audit_log.entries()
    assert [e.event for e in entries][-3:] == ["scrub.sync"] * 3
    assert [e.details["fingerprints_returned"] for e in entries[-3:]] == [False, True, False]
    app.state.engine.dispose()


def test_reidentification_needs_a_reviewer_or_admin_and_is_logged_without_values(client, keys, settings, app):
    from api.secrets import load_secret
    from privacy.vault import VaultEntry, VaultWriter

    job_id = _submit(client, keys).json()["id"]
    (settings.data_dir / "vaults").mkdir(exist_ok=True)
    with VaultWriter(settings.data_dir / "vaults" / f"{job_id}.vault", load_secret("vault", settings)) as vault:
        vault.add(VaultEntry("f" * 64, "PERSON", "placeholder", "<PERSON_1>", PLANTED))
    body = {"records": [{"id": "R-1", "text": "<PERSON_1> called twice; <PERSON_1> again."}], "reason": "CASE-9"}
    url = f"/v1/jobs/{job_id}/reidentify"
    for who in ("submitter", "auditor"):
        _is_problem(client.post(url, json=body, headers=auth(keys, who)), 403)
    back = client.post(url, json=body, headers=auth(keys, "reviewer"))
    assert back.status_code == 200, back.text
    assert back.json()["records"][0]["text"] == f"{PLANTED} called twice; {PLANTED} again."
    looked_up = client.post(url, json={"fingerprints": ["f" * 64]}, headers=auth(keys, "admin"))
    assert looked_up.json()["values"][0]["value"] == PLANTED
    logged = [e for e in app.state.audit_log.entries(job_id=job_id) if e.event == "vault.reidentified"]
    assert [(e.details["by"], e.details["person"], e.details.get("records"), e.details["values"]) for e in logged] == [
        (keys["reviewer"][0].key_id, "reviewer-person", 1, 2), (keys["admin"][0].key_id, "admin-person", None, 1)]
    assert PLANTED not in json.dumps([e.details for e in app.state.audit_log.entries()])


def test_the_service_checkpoints_the_log_on_a_timer_and_verify_holds_the_log_to_it(settings):
    import time

    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from api.app import create_app
    from audit.log import read_checkpoints

    app = create_app(settings.model_copy(update={"log_checkpoint_seconds": 0.2}))
    try:
        with TestClient(app) as client:
            from api.keys import create_key

            _, auditor = create_key(app.state.engine, "auditor", name="ada", person="Ada")
            app.state.audit_log.append("job.stage", "job-1", {"stage": 1})
            last = app.state.audit_log.append("job.stage", "job-1", {"stage": 2}).seq

            def covered() -> list:
                found = read_checkpoints(settings.log_checkpoints) if settings.log_checkpoints.is_file() else []
                return found if found and found[-1].seq >= last else []

            # The timer may fire between the appends; wait for a checkpoint that covers the last one.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not covered():
                time.sleep(0.1)
            points = covered()
            assert points, "no signed checkpoint covered the log's last entry within 30 s"
            headers = {"X-API-Key": auditor}
            assert client.get("/v1/audit-log/verify", headers=headers).json()["ok"] is True
            with app.state.engine.begin() as connection:
                connection.execute(text("DELETE FROM audit_log WHERE seq >= :s"), {"s": points[-1].seq})
            result = client.get("/v1/audit-log/verify", headers=headers).json()
            assert result["ok"] is False and "deleted" in result["reason"]
    finally:
        app.state.engine.dispose()
