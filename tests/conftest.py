"""Shared pytest configuration: a modest hypothesis profile so property tests stay fast on 2
cores."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "lsbook",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "lsbook"))
