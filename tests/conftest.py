"""Suite-wide fixtures: no network, and a fresh data directory per test."""

from __future__ import annotations

import shutil
import socket

import pytest


def pytest_sessionstart(session):
    """Stop at once with the doctor's line when the installed llama.cpp engine cannot run on this
    CPU — not with a segfault deep inside some test. The smoke test runs in a child process."""
    from api.doctor import engine_facts, run_smoke
    from api.settings import Settings

    result = run_smoke(engine_facts(Settings()))
    if not result.passed:
        pytest.exit(f"engine smoke test {result.detail}; run .venv/bin/airlock doctor", returncode=3)


class NetworkAccessBlocked(RuntimeError):
    pass


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0] if isinstance(address, tuple) else address
    return host in ("127.0.0.1", "::1", "localhost") or str(host).startswith("127.")


@pytest.fixture(autouse=True, scope="session")
def socket_guard():
    """Fail any connection to a non-loopback address for the whole suite: Airlock runs offline."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def guarded_connect(sock, address):
        if not _is_local(address):
            raise NetworkAccessBlocked(f"network access attempted: {address!r}")
        return real_connect(sock, address)

    def guarded_connect_ex(sock, address):
        if not _is_local(address):
            raise NetworkAccessBlocked(f"network access attempted: {address!r}")
        return real_connect_ex(sock, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if host not in (None, "localhost", "127.0.0.1", "::1") and not str(host).startswith("127."):
            raise NetworkAccessBlocked(f"name lookup attempted: {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex = guarded_connect, guarded_connect_ex
    socket.getaddrinfo = guarded_getaddrinfo
    yield
    socket.socket.connect, socket.socket.connect_ex = real_connect, real_connect_ex
    socket.getaddrinfo = real_getaddrinfo


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A fresh AIRLOCK_DATA_DIR per test, sharing the model store pulled by setup."""
    from api.settings import Settings

    shared_models = Settings().models_dir
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("AIRLOCK_DATA_DIR", str(tmp_path / "airlock"))
    (tmp_path / "airlock").mkdir()
    models = tmp_path / "airlock" / "models"
    models.mkdir()
    if shared_models.is_dir():  # big model files are linked, small registry files copied
        for item in shared_models.iterdir():
            if item.suffix == ".gguf":
                (models / item.name).symlink_to(item)
            elif item.is_file():
                shutil.copy2(item, models / item.name)
    return tmp_path / "airlock"
