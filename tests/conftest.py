"""Shared pytest configuration: a modest hypothesis profile so property tests stay fast on 2
cores."""

import os

import pytest
from hypothesis import HealthCheck, settings

from lsutils._store import num_threads

settings.register_profile(
    "lsbook",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "lsbook"))


@pytest.fixture
def one_thread():
    """Tiny models: a single torch thread is faster than many, and keeps the tests quick on a busy
    machine. Modules that train tiny models use it for every test (``pytestmark``)."""
    with num_threads(1):
        yield
