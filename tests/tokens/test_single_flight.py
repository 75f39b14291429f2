"""One mint per org, however many threads and processes ask while the cache is cold."""

from __future__ import annotations

import multiprocessing
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from flask import Flask

from flask_adobe_admin_auth import ConsentRevokedError
from flask_adobe_admin_auth.store import EVENT_TOKEN_REJECTED
from flask_adobe_admin_auth.testing import LocalIMS

from .conftest import ORGS
from .helpers import runtime_of
from .workers import fetch_in_threads, fetch_tokens

AppBuilder = Callable[..., Flask]
Outcome = tuple[str, str, str]

needs_shared_storage = pytest.mark.shared_storage


def check_one_token_per_org(results: list[Outcome], expected_calls: int) -> None:
    tokens_by_org: dict[str, set[str]] = defaultdict(set)
    for requested, token_org, token in results:
        assert token_org == requested
        tokens_by_org[requested].add(token)

    assert len(results) == expected_calls
    assert {org: len(tokens) for org, tokens in tokens_by_org.items()} == dict.fromkeys(ORGS, 1)
    all_tokens = [next(iter(tokens)) for tokens in tokens_by_org.values()]
    assert len(set(all_tokens)) == len(ORGS)


def test_threads_mint_once_per_org(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    # Slow responses keep the first mint in flight while the other threads arrive.
    local_ims.fail_next(len(ORGS), status=None, delay=0.3)

    results = fetch_in_threads(app, ORGS, threads=32)

    check_one_token_per_org(results, expected_calls=32 * len(ORGS))
    for org_id in ORGS:
        assert local_ims.token_requests(org_id) == 1


def test_threads_share_org_rejection(
    seeded_app: AppBuilder, local_ims: LocalIMS, revocations: list[dict[str, Any]]
) -> None:
    app = seeded_app()
    org_id = ORGS[0]
    local_ims.revoke(org_id)
    local_ims.fail_next(status=None, delay=0.3)

    results = fetch_in_threads(app, (org_id,), threads=16)

    assert {outcome[1:] for outcome in results} == {("ConsentRevokedError", "consent_revoked")}
    # The leader sends a second request to confirm the rejection, and no waiter sends any.
    assert local_ims.token_requests(org_id) == 2
    assert len(revocations) == 1
    assert revocations[0]["org_id"] == org_id
    assert revocations[0]["reason"] == "token_rejected"
    with app.app_context():
        consent = runtime_of(app).store.find(org_id=org_id)[0]
        events = runtime_of(app).store.events(org_id=org_id)
    assert consent.status == "revoked"
    assert consent.revoked_reason == "token_rejected"
    assert [event.kind for event in events].count(EVENT_TOKEN_REJECTED) == 1


def test_rejected_org_drops_consents(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    org_id = ORGS[0]
    local_ims.revoke(org_id)

    with app.app_context(), pytest.raises(ConsentRevokedError):
        runtime_of(app).get_token(org_id)
    with app.app_context():
        assert runtime_of(app).active_consents("account-0") == []


def test_orgs_never_mix_after_revocation(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    local_ims.revoke(ORGS[0])
    local_ims.fail_next(len(ORGS), status=None, delay=0.2)

    results = fetch_in_threads(app, ORGS, threads=24)

    for requested, token_org, _ in results:
        if requested == ORGS[0]:
            assert token_org == "ConsentRevokedError"
        else:
            assert token_org == requested
    assert local_ims.token_requests(ORGS[1]) == 1
    assert local_ims.token_requests(ORGS[2]) == 1


def shared_config(app: Flask) -> dict[str, Any]:
    keys = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "ADOBE_ADMIN_AUTH_HTTP_BACKOFF")
    config = {key: app.config[key] for key in keys}
    config.update({k: v for k, v in app.config.items() if k.startswith("ADOBE_ADMIN_AUTH_")})
    return config


def fetch_in_processes(app: Flask, orgs: list[str], processes: int, threads: int) -> list[Outcome]:
    context = multiprocessing.get_context("spawn")
    with (
        context.Manager() as manager,
        ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool,
    ):
        start = manager.Barrier(processes)
        futures = [
            pool.submit(fetch_tokens, shared_config(app), orgs, threads, start)
            for _ in range(processes)
        ]
        return [outcome for future in futures for outcome in future.result(timeout=60)]


@needs_shared_storage
def test_processes_mint_once_per_org(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    local_ims.fail_next(len(ORGS), status=None, delay=0.3)

    results = fetch_in_processes(app, list(ORGS), processes=4, threads=8)

    check_one_token_per_org(results, expected_calls=4 * 8 * len(ORGS))
    for org_id in ORGS:
        assert local_ims.token_requests(org_id) == 1


@needs_shared_storage
def test_processes_share_org_rejection(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    org_id = ORGS[0]
    local_ims.revoke(org_id)
    local_ims.fail_next(status=None, delay=0.3)

    results = fetch_in_processes(app, [org_id], processes=4, threads=8)

    assert {outcome[1:] for outcome in results} == {("ConsentRevokedError", "consent_revoked")}
    assert local_ims.token_requests(org_id) == 2
    with app.app_context():
        events = runtime_of(app).store.events(org_id=org_id)
    assert [event.kind for event in events].count(EVENT_TOKEN_REJECTED) == 1
