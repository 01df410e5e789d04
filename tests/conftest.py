"""Hypothesis profiles come from seedgrad's own pytest plugin (`ci` when CI is set, else `dev`).

This suite runs 40 examples per test in CI, some of them slow by design.
"""

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", settings.get_profile("ci"), max_examples=40, suppress_health_check=[HealthCheck.too_slow]
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the `slow` marker (pytest runs with --strict-markers); slow tests still run by default."""
    config.addinivalue_line("markers", "slow: takes seconds (e.g. loads a real data set); deselect with -m 'not slow'")

