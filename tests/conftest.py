"""Hypothesis profiles come from seedgrad's own pytest plugin (`ci` when CI is set, else `dev`).

This suite runs 40 examples per test in CI, some of them slow by design.
"""

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.mirror import Mirror

settings.register_profile(
    "ci", settings.get_profile("ci"), max_examples=40, suppress_health_check=[HealthCheck.too_slow]
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the `slow` marker (pytest runs with --strict-markers); slow tests still run by default."""
    config.addinivalue_line("markers", "slow: takes seconds (e.g. loads a real data set); deselect with -m 'not slow'")


@pytest.fixture
def mirror(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mirror]:
    """A dataset mirror on 127.0.0.1 (tests/mirror.py), with proxies unset so requests reach it directly."""
    for proxy in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    server = Mirror()
    yield server
    server.close()
