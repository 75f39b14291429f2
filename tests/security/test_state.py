"""The ``state`` of a consent flow: unguessable, single use, expiring and bound."""

from __future__ import annotations

import threading

import pytest
import requests

from flask_adobe_admin_auth.consent_request import values_equal

from ..flow import Flow
from ..support import ORG_A, ORG_B

RACERS = 16


class MovableClock:
    """A clock that tests move forward instead of sleeping."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_state_and_nonce_have_256_bits(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")

    issued = [flow.start(browser) for _ in range(20)]

    states = {state for state, _ in issued}
    nonces = {nonce for _, nonce in issued}
    assert len(states) == 20
    assert len(nonces) == 20
    # token_urlsafe(32) gives 43 base64url characters: 32 random bytes.
    assert all(len(state) == 43 for state in states)
    assert all(len(nonce) == 43 for nonce in nonces)
    assert states.isdisjoint(nonces)


def test_state_is_single_use(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)
    assert flow.finish(browser, state, flow.id_token(nonce)).status_code == 302

    replay = flow.finish(browser, state, flow.id_token(nonce, org_id=ORG_B))

    assert replay.status_code == 400
    assert "<code>state_unknown</code>" in replay.text
    assert [consent.org_id for consent in flow.consents("alice")] == [ORG_A]


def test_concurrent_consume_has_one_winner(flow: Flow) -> None:
    runtime = flow.runtime
    with flow.app.app_context():
        state, _ = runtime.consent_requests.issue(
            account_id="alice", browser_id="browser-1", next_url=None
        )

    barrier = threading.Barrier(RACERS)
    results: list[object] = []
    lock = threading.Lock()

    def consume() -> None:
        barrier.wait()
        pending = runtime.consent_requests.consume(state)
        with lock:
            results.append(pending)

    threads = [threading.Thread(target=consume) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert len(results) == RACERS
    assert sum(result is not None for result in results) == 1


def test_concurrent_callbacks_link_once(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)
    id_token = flow.id_token(nonce)
    cookies = browser.cookies.get_dict()

    barrier = threading.Barrier(8)
    statuses: list[int] = []
    lock = threading.Lock()

    def finish() -> None:
        barrier.wait()
        response = flow.finish(requests.Session(), state, id_token, cookies=cookies)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=finish) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert sorted(statuses) == [302] + [400] * 7
    assert len(flow.consents("alice")) == 1


def test_state_expires_after_max_age(flow: Flow, browser: requests.Session) -> None:
    clock = MovableClock(1_000_000.0)
    flow.runtime.consent_requests.clock = clock
    max_age = flow.runtime.settings.state_max_age
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)

    clock.now += max_age + 1
    response = flow.finish(browser, state, flow.id_token(nonce))

    assert response.status_code == 400
    assert "<code>state_unknown</code>" in response.text
    assert flow.consents("alice") == []


def test_state_valid_until_max_age(flow: Flow, browser: requests.Session) -> None:
    clock = MovableClock(1_000_000.0)
    flow.runtime.consent_requests.clock = clock
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)

    clock.now += flow.runtime.settings.state_max_age - 1
    response = flow.finish(browser, state, flow.id_token(nonce))

    assert response.status_code == 302
    assert len(flow.consents("alice")) == 1


def test_two_tabs_finish_in_either_order(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    first_state, first_nonce = flow.start(browser)
    second_state, second_nonce = flow.start(browser)

    second = flow.finish(browser, second_state, flow.id_token(second_nonce, org_id=ORG_B))
    first = flow.finish(browser, first_state, flow.id_token(first_nonce, org_id=ORG_A))

    assert second.status_code == 302
    assert first.status_code == 302
    assert sorted(consent.org_id for consent in flow.consents("alice")) == sorted([ORG_A, ORG_B])


def test_binding_cookie_size_is_constant(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    cookie_name = flow.runtime.settings.binding_cookie_name
    flow.start(browser)
    first_cookie = browser.cookies.get(cookie_name)
    first_header_size = len("; ".join(f"{c.name}={c.value}" for c in browser.cookies))

    for _ in range(50):
        flow.start(browser)

    assert first_cookie is not None
    assert browser.cookies.get(cookie_name) == first_cookie
    assert len("; ".join(f"{c.name}={c.value}" for c in browser.cookies)) == first_header_size


def test_state_from_other_account_rejected(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)
    flow.sign_in(browser, "mallory")

    response = flow.finish(browser, state, flow.id_token(nonce))

    assert response.status_code == 403
    assert "<code>account_mismatch</code>" in response.text
    assert flow.all_consents() == []


def test_callback_after_logout_rejected(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)
    browser.get(f"{flow.url}/logout")

    bounce = flow.finish(browser, state, flow.id_token(nonce))
    response = browser.get(flow.bounce_target(bounce), allow_redirects=False)

    assert response.status_code == 401
    assert "<code>not_signed_in</code>" in response.text
    assert flow.all_consents() == []


@pytest.mark.parametrize(
    ("expected", "received"),
    [("", ""), (None, None), ("", None), (None, ""), ("abc", ""), ("", "abc"), ("abc", "abd")],
)
def test_values_equal_rejects_empty_and_different(
    expected: str | None, received: str | None
) -> None:
    assert values_equal(expected, received) is False


def test_values_equal_accepts_same_value() -> None:
    assert values_equal("same-value", "same-value") is True
