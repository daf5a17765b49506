"""The terminal progress bar draws from its callback and starts no thread of its own."""

from __future__ import annotations

import threading

from api.progress import cli_progress
from privacy.detections import forks_cheaply


def test_the_bar_draws_without_a_thread_so_detection_workers_can_fork(capsys, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich draws live as on a terminal
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    before = threading.active_count()
    with cli_progress("scrub", enabled=True) as progress:
        for done in range(1, 201):
            progress(done, 200)
        assert threading.active_count() == before
        assert forks_cheaply() is (before == 1 and threading.current_thread() is threading.main_thread())
    assert "scrub" in capsys.readouterr().err
