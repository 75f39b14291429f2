"""Retry-After from IMS: both header forms, and a wait shared by every request and worker."""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable

import pytest
from flask import Flask

from flask_adobe_admin_auth import IMSUnavailable
from flask_adobe_admin_auth.testing import LocalIMS
from flask_adobe_admin_auth.token_endpoint import MAX_RETRY_AFTER, parse_retry_after

from .conftest import ORGS, SleepRecorder, record_sleeps
from .helpers import runtime_of
from .sharing import two_workers

AppBuilder = Callable[..., Flask]
NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        (" 0 ", 0.0),
        ("Sat, 01 Mar 2025 12:01:00 GMT", 60.0),
        ("Sat, 01 Mar 2025 11:00:00 GMT", 0.0),
        ("Sun, 02 Mar 2025 12:00:00 GMT", MAX_RETRY_AFTER),
        ("999999", MAX_RETRY_AFTER),
        ("-3", None),
        ("soon", None),
        ("nan", None),
        ("", None),
    ],
)
def test_parse_retry_after_forms(header: str, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


def http_date_in(seconds: float) -> str:
    moment = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)
    return email.utils.format_datetime(moment, usegmt=True)


@pytest.mark.parametrize("retry_after", ["60", "http-date"])
def test_long_retry_after_fails_fast(
    seeded_app: AppBuilder, local_ims: LocalIMS, sleeps: SleepRecorder, retry_after: str
) -> None:
    app = seeded_app()
    record_sleeps(app, sleeps)
    header = http_date_in(60) if retry_after == "http-date" else retry_after
    local_ims.fail_next(status=429, headers={"Retry-After": header})
    client = app.test_client()
    client.get("/login/account-0")

    statuses = [client.get("/reports").status_code for _ in range(20)]

    assert statuses == [503] * 20
    assert local_ims.token_requests() == 1
    assert sleeps.delays == []


def test_retry_after_shared_by_workers(make_app: AppBuilder, local_ims: LocalIMS) -> None:
    first, second = two_workers(make_app, local_ims)
    local_ims.fail_next(status=503, headers={"Retry-After": "60"})

    with first.app_context(), pytest.raises(IMSUnavailable):
        runtime_of(first).get_token(ORGS[0])
    for org_id in ORGS:
        with second.app_context(), pytest.raises(IMSUnavailable) as raised:
            runtime_of(second).get_token(org_id)
        assert "asked to wait" in str(raised.value)

    assert local_ims.token_requests() == 1


def test_stale_token_served_during_wait(
    seeded_app: AppBuilder, local_ims: LocalIMS, sleeps: SleepRecorder
) -> None:
    app = seeded_app()
    record_sleeps(app, sleeps)
    # The token is due for refresh at once: it lives 100 s, within the 300 s margin.
    local_ims.fail_next(status=200, body={"access_token": "short-lived", "expires_in": 100})
    with app.app_context():
        stale = runtime_of(app).get_token(ORGS[0])
        local_ims.fail_next(status=429, headers={"Retry-After": "60"})
        with pytest.raises(IMSUnavailable):
            runtime_of(app).get_token(ORGS[1])

        served = [runtime_of(app).get_token(ORGS[0]) for _ in range(5)]

    assert [token.access_token for token in served] == [stale.access_token] * 5
    assert local_ims.token_requests() == 2


def test_short_retry_after_retried(
    seeded_app: AppBuilder, local_ims: LocalIMS, sleeps: SleepRecorder
) -> None:
    app = seeded_app()
    record_sleeps(app, sleeps)
    local_ims.fail_next(status=429, headers={"Retry-After": "2"})

    with app.app_context():
        token = runtime_of(app).get_token(ORGS[0])

    assert token.org_id == ORGS[0]
    assert sleeps.delays == [2.0]
    assert local_ims.token_requests() == 2
