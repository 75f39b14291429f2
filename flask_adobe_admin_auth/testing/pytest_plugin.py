"""pytest fixtures for apps that use the local Adobe IMS stand-in.

Installed packages register this plugin through the ``pytest11`` entry point,
so the fixtures are available without any ``conftest.py`` import.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .ims import LocalIMS


@pytest.fixture(scope="session")
def local_ims_server() -> Iterator[LocalIMS]:
    """Start one :class:`LocalIMS` per test session and stop it at the end.

    Tests should use ``local_ims`` instead, which resets this server first.
    """
    with LocalIMS() as server:
        yield server


@pytest.fixture
def local_ims(local_ims_server: LocalIMS) -> LocalIMS:
    """Return the session's :class:`LocalIMS`, reset to interactive consent with no faults,
    counters, consents or revocations left by earlier tests.
    """
    local_ims_server.reset()
    return local_ims_server


@pytest.fixture
def local_ims_config(local_ims: LocalIMS) -> dict[str, object]:
    """Flask settings (``ADOBE_ADMIN_AUTH_*``) that point an app at ``local_ims``."""
    return local_ims.config()
