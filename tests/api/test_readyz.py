"""`GET /readyz?details=true`: the engine as `airlock doctor` sees it, for admins only."""

from __future__ import annotations

from tests.api.conftest import auth


def test_engine_details_are_for_admins(client, keys):
    plain = client.get("/readyz")
    assert plain.status_code == 200 and "engine" not in plain.json()
    assert client.get("/readyz", params={"details": "true"}).status_code == 401
    assert client.get("/readyz", params={"details": "true"}, headers=auth(keys, "submitter")).status_code == 403
    engine = client.get("/readyz", params={"details": "true"}, headers=auth(keys, "admin")).json()["engine"]
    assert engine["build"]["cmake_args"] and engine["built_for_this_cpu"] is True
    assert engine["setup_smoke"]["passed"] and engine["cpu"]["digest"]
    assert engine["threads"]["n_threads"] >= 1 and "n_gpu_layers" in engine["gpu"]
