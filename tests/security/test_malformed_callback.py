"""Malformed callbacks get a clear 4xx page, a log line with the reason, and store nothing."""

from __future__ import annotations

import base64
import logging

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_adobe_admin_auth.runtime import get_runtime

from ..flow import Flow

PARAMETER_NAMES = [
    "state",
    "admin_consent",
    "id_token",
    "error",
    "org_id",
    "orgId",
    "next",
    "adobe_admin_auth_bounce",
]


@pytest.fixture
def started(flow: Flow, browser: requests.Session) -> tuple[str, str]:
    flow.sign_in(browser, "alice")
    return flow.start(browser)


def assert_rejected_cleanly(
    flow: Flow,
    response: requests.Response,
    code: str,
    caplog: pytest.LogCaptureFixture,
    *,
    status: int = 400,
) -> None:
    assert response.status_code == status
    assert f"<code>{code}</code>" in response.text
    assert any(
        record.levelno >= logging.INFO and code in record.getMessage()
        for record in caplog.records
        if record.name.startswith("flask_adobe_admin_auth")
    )
    assert flow.all_consents() == []


def raw_query(raw: bytes) -> dict[str, str]:
    """Build environ overrides that carry ``raw`` as the query, as a WSGI server would."""
    return {"QUERY_STRING": raw.decode("latin-1")}


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "state_missing"),
        ("admin_consent=true", "state_missing"),
        ("state=&admin_consent=true", "state_missing"),
        ("state=a&state=b", "duplicate_parameter"),
        ("state=a&admin_consent=true&admin_consent=false", "duplicate_parameter"),
        ("state=a&id_token=x&id_token=y", "duplicate_parameter"),
        ("state=a&error=x&error=y", "duplicate_parameter"),
        ("state=" + "s" * 257, "parameter_too_long"),
        ("state=a&id_token=" + "t" * (16 * 1024 + 1), "parameter_too_long"),
        ("state=a&error=" + "e" * 101, "parameter_too_long"),
        ("state=a&admin_consent=" + "true" * 3, "parameter_too_long"),
        ("state=%FF%FE", "invalid_encoding"),
        ("state=a&id_token=%C3%28", "invalid_encoding"),
        ("state=a&error=%80", "invalid_encoding"),
        ("state=a&admin_consent=%FF", "invalid_encoding"),
        ("state=%EF%BF%BD", "invalid_characters"),
        ("state=a%25FF", "invalid_characters"),
        ("state=a+b", "invalid_characters"),
        ("state=a&id_token=a.b.c%0A", "invalid_characters"),
        ("state=a&id_token=<script>", "invalid_characters"),
        ("state=a&error=bad%0Acode", "invalid_characters"),
        ("&".join(f"p{i}=1" for i in range(40)), "too_many_parameters"),
    ],
)
def test_malformed_parameters_rejected(
    flow: Flow,
    browser: requests.Session,
    caplog: pytest.LogCaptureFixture,
    query: str,
    code: str,
) -> None:
    flow.sign_in(browser, "alice")
    caplog.set_level(logging.INFO)

    response = flow.callback(browser, query)

    assert_rejected_cleanly(flow, response, code, caplog)


@pytest.mark.parametrize("value", ["TRUE", "True", "1", "yes", "on", "false ", "tru"])
def test_admin_consent_must_be_true_or_false(
    flow: Flow,
    browser: requests.Session,
    started: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
    value: str,
) -> None:
    state, nonce = started
    caplog.set_level(logging.INFO)

    response = flow.callback(
        browser, {"state": state, "admin_consent": value, "id_token": flow.id_token(nonce)}
    )

    assert_rejected_cleanly(flow, response, "invalid_admin_consent", caplog)


def test_malformed_callback_keeps_state_usable(
    flow: Flow, browser: requests.Session, started: tuple[str, str]
) -> None:
    state, nonce = started
    flow.callback(browser, {"state": state, "admin_consent": "maybe"})

    response = flow.finish(browser, state, flow.id_token(nonce))

    assert response.status_code == 302
    assert len(flow.consents("alice")) == 1


def test_consent_without_token_rejected(
    flow: Flow,
    browser: requests.Session,
    started: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    state, _ = started
    caplog.set_level(logging.INFO)

    response = flow.callback(browser, {"state": state, "admin_consent": "true"})

    assert_rejected_cleanly(flow, response, "consent_missing", caplog)


GARBAGE_TOKENS = [
    ("abc", "id_token_malformed"),
    ("a.b", "id_token_malformed"),
    ("..", "id_token_malformed"),
    ("a.b.c.d", "id_token_malformed"),
    ("!!!.@@@.###", "invalid_characters"),
    (b64("not json") + ".e30.sig", "id_token_malformed"),
    (b64("[1, 2]") + ".e30.sig", "id_token_malformed"),
    (b64('"RS256"') + ".e30.sig", "id_token_malformed"),
    (b64("[" * 5000) + ".e30.sig", "id_token_malformed"),
    (b64('{"alg": "RS256"}') + ".e30.sig", "id_token_kid_missing"),
    (b64('{"alg": "RS256", "kid": 5}') + ".e30.sig", "id_token_kid_missing"),
    (b64('{"alg": "RS256", "kid": "' + "k" * 300 + '"}') + ".e30.sig", "id_token_kid_missing"),
    (b64('{"alg": "RS256", "kid": "nope"}') + ".e30.sig", "id_token_kid_unknown"),
    (b64('{"alg": "none"}') + ".e30.", "id_token_algorithm_rejected"),
]


@pytest.mark.parametrize(("id_token", "code"), GARBAGE_TOKENS)
def test_garbage_id_token_rejected(
    flow: Flow,
    browser: requests.Session,
    started: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
    id_token: str,
    code: str,
) -> None:
    state, _ = started
    caplog.set_level(logging.INFO)

    response = flow.finish(browser, state, id_token)

    assert_rejected_cleanly(flow, response, code, caplog)


def test_garbage_payload_with_known_kid_rejected(
    flow: Flow,
    browser: requests.Session,
    started: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    state, nonce = started
    header = flow.id_token(nonce).split(".")[0]
    caplog.set_level(logging.INFO)

    response = flow.finish(browser, state, f"{header}.{b64('[' * 5000)}.c2ln")

    assert_rejected_cleanly(flow, response, "id_token_signature_invalid", caplog)


def test_raw_non_utf8_bytes_rejected(app: Flask) -> None:
    client = app.test_client()
    client.get("/login/alice")

    response = client.get(
        "/adobe/callback", environ_overrides=raw_query(b"state=\xff\xfe&admin_consent=true")
    )

    assert response.status_code == 400
    assert b"<code>invalid_encoding</code>" in response.data


def test_raw_bytes_in_other_parameter_rejected(app: Flask) -> None:
    client = app.test_client()

    response = client.get("/adobe/callback", environ_overrides=raw_query(b"state=abc&junk=\xff"))

    assert response.status_code == 400
    assert b"<code>invalid_encoding</code>" in response.data


def test_bounce_page_drops_other_parameters(app: Flask) -> None:
    client = app.test_client()

    response = client.get("/adobe/callback?state=abc&junk=%3Cscript%3E&org_id=x")

    assert response.status_code == 200  # the bounce page: no cookies yet
    assert b"junk" not in response.data
    assert b"org_id" not in response.data
    assert b"script" not in response.data


# Property-based: no query string makes the callback fail with a 5xx or store a consent.

_values = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["true", "false", "", "%FF", "a.b.c", "eyJhbGciOiJub25lIn0.e30."]),
)
_queries = st.lists(
    st.tuples(st.one_of(st.sampled_from(PARAMETER_NAMES), st.text(max_size=10)), _values),
    max_size=6,
)


def _client_with_flow(app: Flask) -> tuple[FlaskClient, str]:
    client = app.test_client()
    client.get("/login/alice")
    location = client.get("/adobe/connect").headers["Location"]
    state = location.split("state=")[1].split("&")[0]
    return client, state


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pairs=_queries, use_real_state=st.booleans(), signed_in=st.booleans())
def test_arbitrary_queries_never_fail_or_store(
    app: Flask, pairs: list[tuple[str, str]], use_real_state: bool, signed_in: bool
) -> None:
    client, state = _client_with_flow(app)
    if not signed_in:
        client.get("/logout")
    if use_real_state:
        pairs = [("state", state), *pairs]

    response = client.get("/adobe/callback", query_string=pairs)

    assert response.status_code < 500
    with app.app_context():
        assert get_runtime(app).store.find() == []


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=st.binary(max_size=200))
def test_arbitrary_raw_queries_never_fail(app: Flask, raw: bytes) -> None:
    client = app.test_client()
    client.get("/login/alice")

    response = client.get("/adobe/callback", environ_overrides=raw_query(raw))

    assert response.status_code < 500
    with app.app_context():
        assert get_runtime(app).store.find() == []
