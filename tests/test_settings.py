"""``load_settings`` rejects, at ``init_app``, values that would only fail on requests."""

from __future__ import annotations

from typing import Any

import pytest

from flask_adobe_admin_auth import ConfigurationError
from flask_adobe_admin_auth.config_reader import PREFIX
from flask_adobe_admin_auth.settings import Settings, load_settings
from flask_adobe_admin_auth.testing import LocalIMS

DURATION_KEYS = [
    "STATE_MAX_AGE",
    "CLOCK_LEEWAY",
    "TOKEN_REFRESH_MARGIN",
    "TOKEN_MAX_LIFETIME",
    "HTTP_TIMEOUT",
    "HTTP_MAX_RETRY_TIME",
    "HTTP_BACKOFF",
    "JWKS_CACHE_TIMEOUT",
    "JWKS_REFETCH_COOLDOWN",
    "MINT_LEASE_TIMEOUT",
    "MINT_WAIT_TIMEOUT",
    "CONSENT_CACHE_TIMEOUT",
    "CONSENT_LOCAL_TIMEOUT",
]

INTEGER_KEYS = [
    ("STATE_MAX_AGE", "seconds"),
    ("CLOCK_LEEWAY", "seconds"),
    ("TOKEN_REFRESH_MARGIN", "seconds"),
    ("TOKEN_MAX_LIFETIME", "seconds"),
    ("HTTP_MAX_ATTEMPTS", "attempts"),
    ("JWKS_CACHE_TIMEOUT", "seconds"),
    ("JWKS_REFETCH_COOLDOWN", "seconds"),
    ("MINT_LEASE_TIMEOUT", "seconds"),
    ("MINT_WAIT_TIMEOUT", "seconds"),
    ("CONSENT_CACHE_TIMEOUT", "seconds"),
    ("MAX_STATE_LENGTH", "characters"),
    ("MAX_ID_TOKEN_LENGTH", "characters"),
    ("MAX_PARAM_LENGTH", "characters"),
]


def load(**overrides: Any) -> Settings:
    """Load settings from a minimal valid config plus prefixed ``overrides``."""
    config: dict[str, Any] = {
        PREFIX + "CLIENT_ID": "client",
        PREFIX + "CLIENT_SECRET": "secret-value-that-must-stay-hidden",
    }
    config.update({PREFIX + key: value for key, value in overrides.items()})
    return load_settings(config)


def rejection(**overrides: Any) -> str:
    """Return the message of the ``ConfigurationError`` that ``overrides`` cause."""
    with pytest.raises(ConfigurationError) as caught:
        load(**overrides)
    assert caught.value.code == "invalid_setting"
    return str(caught.value)


@pytest.mark.parametrize("key", DURATION_KEYS)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "nan", "inf", "-inf"])
def test_non_finite_duration_rejected(key: str, value: float | str) -> None:
    message = rejection(**{key: value})

    assert f"{PREFIX}{key} must be a finite number of seconds" in message
    assert f"got {value!r}" in message


@pytest.mark.parametrize(("key", "unit"), INTEGER_KEYS)
@pytest.mark.parametrize("value", [0.5, "0.5", 600.5])
def test_fractional_integer_rejected(key: str, unit: str, value: float | str) -> None:
    message = rejection(**{key: value})

    assert f"{PREFIX}{key} must be a whole number of {unit}, got {float(value)!r}" in message


def test_fractional_state_max_age_named_exactly() -> None:
    assert rejection(STATE_MAX_AGE=0.5) == (
        f"{PREFIX}STATE_MAX_AGE must be a whole number of seconds, got 0.5."
    )


@pytest.mark.parametrize("value", [700.0, "700.0", "700", 700])
def test_whole_float_integer_accepted(value: float | str) -> None:
    settings = load(STATE_MAX_AGE=value, MAX_STATE_LENGTH=value)

    assert settings.state_max_age == 700
    assert type(settings.state_max_age) is int
    assert settings.max_state_length == 700
    assert type(settings.max_state_length) is int


@pytest.mark.parametrize(("key", "_unit"), INTEGER_KEYS)
def test_boolean_integer_rejected(key: str, _unit: str) -> None:
    message = rejection(**{key: True})

    assert f"{PREFIX}{key} must be a number of" in message
    assert "got True" in message


@pytest.mark.parametrize("key", DURATION_KEYS)
def test_duration_over_a_year_rejected(key: str) -> None:
    # Python's socket and thread timeouts overflow above about 9.2e9 seconds.
    message = rejection(**{key: 10**10})

    assert f"{PREFIX}{key} must be at most 31536000 seconds (365 days)" in message
    assert "got 10000000000" in message


@pytest.mark.parametrize(("margin", "lifetime"), [(3600, 3600), (7200, 3600), ("600", 300.0)])
def test_refresh_margin_not_below_lifetime_rejected(margin: Any, lifetime: Any) -> None:
    message = rejection(TOKEN_REFRESH_MARGIN=margin, TOKEN_MAX_LIFETIME=lifetime)

    assert f"{PREFIX}TOKEN_REFRESH_MARGIN must be smaller than" in message
    assert f"{PREFIX}TOKEN_MAX_LIFETIME ({int(lifetime)}), got {int(margin)}" in message
    assert "lower the margin" in message


def test_refresh_margin_below_lifetime_accepted() -> None:
    settings = load(TOKEN_REFRESH_MARGIN=3599, TOKEN_MAX_LIFETIME=3600)

    assert settings.token_refresh_margin == 3599


def test_samesite_none_without_secure_rejected() -> None:
    message = rejection(BINDING_COOKIE_SAMESITE="None", BINDING_COOKIE_SECURE=False)

    assert f"{PREFIX}BINDING_COOKIE_SECURE must not be False" in message
    assert f"{PREFIX}BINDING_COOKIE_SAMESITE is 'None'" in message
    assert "set it to True or None" in message


@pytest.mark.parametrize("secure", [True, None])
def test_samesite_none_with_secure_accepted(secure: bool | None) -> None:
    settings = load(BINDING_COOKIE_SAMESITE="None", BINDING_COOKIE_SECURE=secure)

    assert settings.binding_cookie_samesite == "None"


def test_lax_without_secure_accepted() -> None:
    settings = load(BINDING_COOKIE_SAMESITE="Lax", BINDING_COOKIE_SECURE=False)

    assert settings.binding_cookie_secure is False


@pytest.mark.parametrize("key", ["TOKEN_URL", "JWKS_URL", "CONSENT_URL"])
@pytest.mark.parametrize(
    "url",
    [
        "http://ims.example/ims/x",
        "http://localhost.evil.example/ims/x",
        "http://10.0.0.5/ims/x",
        "http://127.0.0.2/ims/x",
    ],
)
def test_endpoint_over_http_rejected(key: str, url: str) -> None:
    message = rejection(**{key: url})

    assert f"{PREFIX}{key} must use https outside localhost, 127.0.0.1 and ::1" in message
    assert f"got {url!r}" in message


def test_endpoint_http_reasons_named() -> None:
    assert "client secret" in rejection(TOKEN_URL="http://ims.example/token")
    assert "forge id_tokens" in rejection(JWKS_URL="http://ims.example/keys")
    assert "in clear" in rejection(CONSENT_URL="http://ims.example/consent")


@pytest.mark.parametrize("key", ["TOKEN_URL", "JWKS_URL", "CONSENT_URL", "REDIRECT_URI"])
@pytest.mark.parametrize(
    "url",
    [
        "ftp://ims.example/x",
        "/relative/path",
        "https://ims.example/x#fragment",
        "https://user:password@ims.example/x",
        "https://ims.example:99999/x",
        "https://[::1/x",
    ],
)
def test_malformed_endpoint_rejected(key: str, url: str) -> None:
    message = rejection(**{key: url})

    assert message.startswith(f"{PREFIX}{key} must ")
    assert f"got {url.replace('user:password@', '***@')!r}" in message
    assert "password" not in message


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000/ims/x",
        "http://127.0.0.1:5000/ims/x",
        "http://[::1]:5000/ims/x",
        "https://ims.example/ims/x",
    ],
)
def test_https_or_local_endpoint_accepted(url: str) -> None:
    settings = load(TOKEN_URL=url, JWKS_URL=url, CONSENT_URL=url)

    assert settings.token_url == url
    assert settings.jwks_url == url
    assert settings.consent_url == url


def test_local_ims_config_accepted(local_ims: LocalIMS) -> None:
    settings = load_settings(local_ims.config())

    assert settings.token_url.startswith("http://127.0.0.1:")
    assert settings.issuers == (local_ims.issuer,)


@pytest.mark.parametrize(
    ("key", "value", "minimum"),
    [
        ("MAX_STATE_LENGTH", 63, 64),
        ("MAX_STATE_LENGTH", 43, 64),
        ("MAX_ID_TOKEN_LENGTH", 1023, 1024),
        ("MAX_ID_TOKEN_LENGTH", 100, 1024),
    ],
)
def test_callback_limit_too_small_rejected(key: str, value: int, minimum: int) -> None:
    message = rejection(**{key: value})

    assert f"{PREFIX}{key} must be at least {minimum}, got {value}" in message


def test_callback_limits_at_minimum_accepted() -> None:
    settings = load(MAX_STATE_LENGTH=64, MAX_ID_TOKEN_LENGTH=1024)

    assert settings.max_state_length == 64
    assert settings.max_id_token_length == 1024


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        (["openid", "a,b"], "got 'a,b': a scope cannot contain a comma or whitespace"),
        (["openid", "a b"], "got 'a b': a scope cannot contain a comma or whitespace"),
        (["openid", "a\tb"], "got 'a\\tb': a scope cannot contain a comma or whitespace"),
        ("openid AdobeID", "got 'openid AdobeID'"),
        (["openid", ""], "must contain only non-empty strings, got ['openid', '']"),
        ("openid,,AdobeID", "must contain only non-empty strings, got 'openid,,AdobeID'"),
        (["openid", "AdobeID", "openid"], "must not repeat a scope, got openid more than once"),
        ("openid, openid", "must not repeat a scope, got openid more than once"),
        (["AdobeID"], "must contain 'openid'"),
    ],
)
def test_invalid_scopes_rejected(scopes: Any, expected: str) -> None:
    message = rejection(SCOPES=scopes)

    assert message.startswith(f"{PREFIX}SCOPES ")
    assert expected in message


@pytest.mark.parametrize("scopes", [["openid", "AdobeID"], "openid,AdobeID", " openid , AdobeID "])
def test_valid_scopes_accepted(scopes: Any) -> None:
    settings = load(SCOPES=scopes)

    assert settings.scopes == ("openid", "AdobeID")
    assert settings.scope_param == "openid,AdobeID"


@pytest.mark.parametrize(
    "issuer",
    [
        "ims-na1.adobelogin.com",
        "ftp://ims.example/ims",
        "/ims",
        "https://ims.example/ims?x=1",
        "https://ims.example/ims#x",
    ],
)
def test_invalid_issuer_rejected(issuer: str) -> None:
    message = rejection(ISSUER=["https://ims-na1.adobelogin.com/ims", issuer])

    assert message.startswith(f"{PREFIX}ISSUER must ")
    assert f"got {issuer!r}" in message


def test_issuer_over_http_accepted() -> None:
    # An issuer is only compared with the iss claim, never fetched.
    settings = load(ISSUER="http://127.0.0.1:5000/ims, https://ims.example")

    assert settings.issuers == ("http://127.0.0.1:5000/ims", "https://ims.example")


@pytest.mark.parametrize("prefix", ["/adobe/<org>", "/adobe?x=1", "/adobe#x", "/ado be"])
def test_url_prefix_with_url_syntax_rejected(prefix: str) -> None:
    message = rejection(URL_PREFIX=prefix)

    assert f"{PREFIX}URL_PREFIX must be a plain path" in message
    assert f"got {prefix!r}" in message


@pytest.mark.parametrize("name", ["adobe binding", "a;b", "a=b", "bindé", "a,b"])
def test_invalid_binding_cookie_name_rejected(name: str) -> None:
    message = rejection(BINDING_COOKIE_NAME=name)

    assert f"{PREFIX}BINDING_COOKIE_NAME must be a cookie name" in message
    assert f"got {name!r}" in message


@pytest.mark.parametrize(("session_name", "binding_name"), [(None, "session"), ("sid", "sid")])
def test_binding_cookie_named_like_session_rejected(
    session_name: str | None, binding_name: str
) -> None:
    config: dict[str, Any] = {
        PREFIX + "CLIENT_ID": "client",
        PREFIX + "CLIENT_SECRET": "secret",
        PREFIX + "BINDING_COOKIE_NAME": binding_name,
    }
    if session_name is not None:
        config["SESSION_COOKIE_NAME"] = session_name

    with pytest.raises(ConfigurationError) as caught:
        load_settings(config)

    assert f"{PREFIX}BINDING_COOKIE_NAME must differ from SESSION_COOKIE_NAME" in str(caught.value)
    assert f"got {binding_name!r} for both" in str(caught.value)


@pytest.mark.parametrize("key", ["CLIENT_SECRETS", "TOKEN_ENCRYPTION_KEYS"])
@pytest.mark.parametrize("value", [b"secret-in-bytes", ["secret-in-list", ""]])
def test_secret_list_error_hides_value(key: str, value: Any) -> None:
    overrides: dict[str, Any] = {key: value}
    if key == "CLIENT_SECRETS":
        overrides["CLIENT_SECRET"] = None
    message = rejection(**overrides)

    assert message.startswith(f"{PREFIX}{key} must ")
    assert "secret-in" not in message
    assert "not shown, because it is secret" in message


def test_defaults_accepted() -> None:
    settings = load()

    assert settings.token_url.startswith("https://")
    assert settings.max_state_length == 256
    assert settings.token_refresh_margin < settings.token_max_lifetime
