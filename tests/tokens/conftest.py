"""Fixtures of the token tests: an app with consents seeded, signal and sleep recorders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from flask_adobe_admin_auth import consent_revoked
from flask_adobe_admin_auth.testing import LocalIMS

from ..conftest import AppFactory
from .helpers import runtime_of, seed_consent

ORGS = (
    "0123456789ABCDEF01234567@AdobeOrg",
    "89ABCDEF0123456789ABCDEF@AdobeOrg",
    "FEDCBA9876543210FEDCBA98@AdobeOrg",
)


@pytest.fixture
def seeded_app(make_app: AppFactory, local_ims: LocalIMS) -> Callable[..., Flask]:
    """Build an app where account ``account-<n>`` has consented to ``ORGS[n]``."""

    def build(**config: Any) -> Flask:
        app = make_app(**config)
        for number, org_id in enumerate(ORGS):
            seed_consent(app, local_ims, f"account-{number}", org_id)
        return app

    return build


@pytest.fixture
def revocations() -> Iterator[list[dict[str, Any]]]:
    """Record every ``consent_revoked`` signal sent during the test."""
    received: list[dict[str, Any]] = []

    def record(sender: Flask, **kwargs: Any) -> None:
        received.append(kwargs)

    consent_revoked.connect(record)
    yield received
    consent_revoked.disconnect(record)


class SleepRecorder:
    """Replaces the token service's sleep between retries: records the delays, waits none."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def record_sleeps(app: Flask, recorder: SleepRecorder) -> None:
    runtime_of(app).tokens.sleep = recorder
