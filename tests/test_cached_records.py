"""Records read back from the shared cache: a wrongly typed field makes the record malformed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from flask_adobe_admin_auth.cache import SharedCache, cache_from_config
from flask_adobe_admin_auth.consent_request import ConsentRequests, digest
from flask_adobe_admin_auth.models import Consent

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

CONSENT = Consent(
    id=1,
    account_id="alice",
    org_id="ORG@AdobeOrg",
    technical_account_id="TA@techacct",
    scopes=("openid",),
    status="revoked",
    granted_at=NOW,
    revoked_at=NOW,
    revoked_reason="disconnected",
    updated_at=NOW,
)


def test_consent_round_trip() -> None:
    assert Consent.from_cache(CONSENT.to_cache()) == CONSENT


@pytest.mark.parametrize("reason", [5, ["disconnected"], {"reason": "x"}])
def test_consent_with_bad_reason_malformed(reason: Any) -> None:
    data = CONSENT.to_cache()
    data["revoked_reason"] = reason

    assert Consent.from_cache(data) is None


def requests_with_record(next_value: Any) -> tuple[ConsentRequests, str]:
    consent_requests = ConsentRequests(SharedCache(cache_from_config(None), "test:"), 600)
    state, _ = consent_requests.issue(account_id="alice", browser_id="browser", next_url="/reports")
    key = "state:" + digest(state)
    record = consent_requests._cache.get(key)
    record["next"] = next_value
    consent_requests._cache.set(key, record, timeout=600)
    return consent_requests, state


def test_pending_consent_keeps_string_next() -> None:
    consent_requests, state = requests_with_record("/reports")

    pending = consent_requests.consume(state)

    assert pending is not None
    assert pending.next_url == "/reports"


@pytest.mark.parametrize("next_value", [42, ["/reports"], {"path": "/reports"}])
def test_pending_consent_with_bad_next_malformed(next_value: Any) -> None:
    consent_requests, state = requests_with_record(next_value)

    assert consent_requests.consume(state) is None
