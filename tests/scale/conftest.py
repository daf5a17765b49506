"""One small local Ray runtime for the scale tests (loopback only, no dashboard), stopped at the end."""

from __future__ import annotations

import pytest

WORKERS = 3


@pytest.fixture(scope="module")
def ray_runtime():
    """Started once per module; the code under test finds it running and reuses it."""
    import ray

    from api.execution import LOCAL, connect

    started = connect(LOCAL, WORKERS)
    yield ray
    if started:
        ray.shutdown()
