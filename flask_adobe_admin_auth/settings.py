"""Read and validate the ``ADOBE_ADMIN_AUTH_*`` configuration once, at ``init_app``."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from . import defaults
from .errors import ConfigurationError

PREFIX = "ADOBE_ADMIN_AUTH_"

logger = logging.getLogger(__name__)

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class Settings:
    """Validated configuration of one app. Times are in seconds."""

    client_id: str
    client_secrets: tuple[str, ...]
    scopes: tuple[str, ...]
    redirect_uri: str | None
    consent_url: str
    token_url: str
    jwks_url: str
    issuers: tuple[str, ...]
    url_prefix: str
    login_endpoint: str | None
    after_connect_endpoint: str | None
    after_disconnect_endpoint: str | None
    state_max_age: int
    clock_leeway: int
    token_refresh_margin: int
    token_max_lifetime: int
    http_timeout: float
    http_max_attempts: int
    http_max_retry_time: float
    http_backoff: float
    jwks_cache_timeout: int
    jwks_refetch_cooldown: int
    mint_lease_timeout: int
    mint_wait_timeout: int
    consent_cache_timeout: int
    consent_local_timeout: float
    org_id_claim: str
    org_rejection_errors: tuple[str, ...] | None
    binding_cookie_name: str
    binding_cookie_samesite: str
    binding_cookie_secure: bool | None
    token_encryption_keys: tuple[str, ...]
    max_state_length: int
    max_id_token_length: int
    max_param_length: int
    cache_key_prefix: str

    @property
    def scope_param(self) -> str:
        """Scopes joined with commas, as Adobe's consent URL and token endpoint expect."""
        return ",".join(self.scopes)

    def __repr__(self) -> str:
        # The dataclass repr would print the client secrets.
        return f"Settings(client_id={self.client_id!r}, token_url={self.token_url!r})"


def load_settings(config: Mapping[str, Any]) -> Settings:
    """Build :class:`Settings` from a Flask config, raising on the first invalid key.

    Checks that guard the consent flow: an explicit ``REDIRECT_URI`` must use
    https outside ``localhost``, ``127.0.0.1`` and ``::1``, and carry no
    fragment or user info. ``BINDING_COOKIE_SAMESITE='Strict'`` logs a warning,
    because browsers drop that cookie on Adobe's cross-site redirect and the
    callback then needs one same-site reload to read it.

    :raises ConfigurationError: naming the key and how to fix it.
    """
    reader = _Reader(config)

    client_id = reader.required_string("CLIENT_ID")
    secrets = _client_secrets(reader)
    scopes = reader.string_list("SCOPES", defaults.SCOPES)
    if "openid" not in scopes:
        raise _error("SCOPES", "must contain 'openid', because the consent flow needs an id_token")

    redirect_uri = reader.optional_string("REDIRECT_URI")
    if redirect_uri is not None:
        _check_redirect_uri(redirect_uri)

    settings = Settings(
        client_id=client_id,
        client_secrets=secrets,
        scopes=scopes,
        redirect_uri=redirect_uri,
        consent_url=reader.url("CONSENT_URL", defaults.CONSENT_URL),
        token_url=reader.url("TOKEN_URL", defaults.TOKEN_URL),
        jwks_url=reader.url("JWKS_URL", defaults.JWKS_URL),
        issuers=reader.string_list("ISSUER", defaults.ISSUER),
        url_prefix=_url_prefix(reader),
        login_endpoint=reader.optional_string("LOGIN_ENDPOINT"),
        after_connect_endpoint=reader.optional_string("AFTER_CONNECT_ENDPOINT"),
        after_disconnect_endpoint=reader.optional_string("AFTER_DISCONNECT_ENDPOINT"),
        state_max_age=reader.positive_int("STATE_MAX_AGE", defaults.STATE_MAX_AGE),
        clock_leeway=reader.non_negative_int("CLOCK_LEEWAY", defaults.CLOCK_LEEWAY),
        token_refresh_margin=reader.non_negative_int(
            "TOKEN_REFRESH_MARGIN", defaults.TOKEN_REFRESH_MARGIN
        ),
        token_max_lifetime=reader.positive_int("TOKEN_MAX_LIFETIME", defaults.TOKEN_MAX_LIFETIME),
        http_timeout=reader.positive_float("HTTP_TIMEOUT", defaults.HTTP_TIMEOUT),
        http_max_attempts=reader.positive_int("HTTP_MAX_ATTEMPTS", defaults.HTTP_MAX_ATTEMPTS),
        http_max_retry_time=reader.positive_float(
            "HTTP_MAX_RETRY_TIME", defaults.HTTP_MAX_RETRY_TIME
        ),
        http_backoff=reader.non_negative_float("HTTP_BACKOFF", defaults.HTTP_BACKOFF),
        jwks_cache_timeout=reader.positive_int("JWKS_CACHE_TIMEOUT", defaults.JWKS_CACHE_TIMEOUT),
        jwks_refetch_cooldown=reader.non_negative_int(
            "JWKS_REFETCH_COOLDOWN", defaults.JWKS_REFETCH_COOLDOWN
        ),
        mint_lease_timeout=reader.positive_int("MINT_LEASE_TIMEOUT", defaults.MINT_LEASE_TIMEOUT),
        mint_wait_timeout=reader.positive_int("MINT_WAIT_TIMEOUT", defaults.MINT_WAIT_TIMEOUT),
        consent_cache_timeout=reader.non_negative_int(
            "CONSENT_CACHE_TIMEOUT", defaults.CONSENT_CACHE_TIMEOUT
        ),
        consent_local_timeout=reader.non_negative_float(
            "CONSENT_LOCAL_TIMEOUT", defaults.CONSENT_LOCAL_TIMEOUT
        ),
        org_id_claim=reader.choice("ORG_ID_CLAIM", defaults.ORG_ID_CLAIM, ("orgId", "org_id")),
        org_rejection_errors=reader.optional_string_list("ORG_REJECTION_ERRORS"),
        binding_cookie_name=reader.string("BINDING_COOKIE_NAME", defaults.BINDING_COOKIE_NAME),
        binding_cookie_samesite=reader.choice(
            "BINDING_COOKIE_SAMESITE", defaults.BINDING_COOKIE_SAMESITE, ("Lax", "None", "Strict")
        ),
        binding_cookie_secure=reader.optional_bool("BINDING_COOKIE_SECURE"),
        token_encryption_keys=reader.string_list("TOKEN_ENCRYPTION_KEYS", ()),
        max_state_length=reader.positive_int("MAX_STATE_LENGTH", defaults.MAX_STATE_LENGTH),
        max_id_token_length=reader.positive_int(
            "MAX_ID_TOKEN_LENGTH", defaults.MAX_ID_TOKEN_LENGTH
        ),
        max_param_length=reader.positive_int("MAX_PARAM_LENGTH", defaults.MAX_PARAM_LENGTH),
        cache_key_prefix=reader.string("CACHE_KEY_PREFIX", defaults.CACHE_KEY_PREFIX),
    )

    if settings.mint_wait_timeout < settings.mint_lease_timeout:
        raise _error(
            "MINT_WAIT_TIMEOUT",
            "must be at least MINT_LEASE_TIMEOUT, so that a waiting request outlasts a stuck lease",
        )
    if settings.binding_cookie_samesite == "Strict":
        logger.warning(
            "%sBINDING_COOKIE_SAMESITE is 'Strict': browsers drop that cookie on Adobe's "
            "cross-site redirect, so the callback bounces once through this site to read it",
            PREFIX,
        )
    return settings


def _client_secrets(reader: _Reader) -> tuple[str, ...]:
    single = reader.optional_string("CLIENT_SECRET")
    several = reader.optional_string_list("CLIENT_SECRETS")

    if single is not None and several is not None:
        raise _error(
            "CLIENT_SECRETS",
            "is set together with ADOBE_ADMIN_AUTH_CLIENT_SECRET: set only one "
            "(CLIENT_SECRETS, newest first, while you rotate a secret)",
        )
    if several:
        return several
    if single is not None:
        return (single,)
    raise _error(
        "CLIENT_SECRET",
        "is missing: copy the client secret of your Enterprise Web App credential from the "
        "Adobe Developer Console",
    )


def _url_prefix(reader: _Reader) -> str:
    prefix = reader.string("URL_PREFIX", defaults.URL_PREFIX)
    if not prefix.startswith("/") or prefix.endswith("/"):
        raise _error("URL_PREFIX", f"must start with '/' and not end with one, got {prefix!r}")
    return prefix


def _check_redirect_uri(uri: str) -> None:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _error("REDIRECT_URI", f"must be an absolute http(s) URL, got {uri!r}")
    if parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS:
        raise _error(
            "REDIRECT_URI",
            f"must use https outside localhost, got {uri!r}: Adobe accepts only https redirect "
            "URIs, and the id_token would cross the network in clear",
        )
    if parts.fragment or parts.username is not None or "#" in uri:
        raise _error(
            "REDIRECT_URI",
            f"must not contain a fragment or user info, got {uri!r}: OAuth redirect URIs "
            "cannot carry a fragment (RFC 6749, section 3.1.2)",
        )
    if len(uri) > 256:
        raise _error("REDIRECT_URI", "is longer than the 256 characters Adobe accepts")


def _error(key: str, problem: str) -> ConfigurationError:
    return ConfigurationError(f"{PREFIX}{key} {problem}.", code="invalid_setting")


class _Reader:
    """Typed access to prefixed config keys, with errors that name the key."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = config

    def _get(self, key: str) -> Any:
        return self._config.get(PREFIX + key)

    def required_string(self, key: str) -> str:
        value = self.optional_string(key)
        if value is None:
            raise _error(key, "is missing: set it in app.config or the environment")
        return value

    def optional_string(self, key: str) -> str | None:
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise _error(key, f"must be a non-empty string, got {type(value).__name__}")
        return value.strip()

    def string(self, key: str, default: str) -> str:
        value = self.optional_string(key)
        return default if value is None else value

    def choice(self, key: str, default: str, choices: Sequence[str]) -> str:
        value = self.string(key, default)
        if value not in choices:
            raise _error(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def optional_string_list(self, key: str) -> tuple[str, ...] | None:
        value = self._get(key)
        if value is None:
            return None
        if isinstance(value, str):
            items = [item.strip() for item in value.split(",")]
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise _error(key, f"must be a list or a comma-separated string, got {value!r}")
        if not items or not all(isinstance(item, str) and item.strip() for item in items):
            raise _error(key, "must contain only non-empty strings")
        return tuple(item.strip() for item in items)

    def string_list(self, key: str, default: Sequence[str]) -> tuple[str, ...]:
        value = self.optional_string_list(key)
        return tuple(default) if value is None else value

    def url(self, key: str, default: str) -> str:
        value = self.string(key, default)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _error(key, f"must be an absolute http(s) URL, got {value!r}")
        return value

    def optional_bool(self, key: str) -> bool | None:
        value = self._get(key)
        if value is None or isinstance(value, bool):
            return value
        raise _error(key, f"must be True, False or None, got {value!r}")

    def _number(self, key: str, default: float, kind: type) -> Any:
        value = self._get(key)
        if value is None:
            return kind(default)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise _error(key, f"must be a number of seconds, got {value!r}")
        try:
            number = kind(value)
        except ValueError:
            raise _error(key, f"must be a number of seconds, got {value!r}") from None
        return number

    def positive_int(self, key: str, default: int) -> int:
        number: int = self._number(key, default, int)
        if number <= 0:
            raise _error(key, f"must be greater than 0, got {number}")
        return number

    def non_negative_int(self, key: str, default: int) -> int:
        number: int = self._number(key, default, int)
        if number < 0:
            raise _error(key, f"must be 0 or greater, got {number}")
        return number

    def positive_float(self, key: str, default: float) -> float:
        number: float = self._number(key, default, float)
        if number <= 0:
            raise _error(key, f"must be greater than 0, got {number}")
        return number

    def non_negative_float(self, key: str, default: float) -> float:
        number: float = self._number(key, default, float)
        if number < 0:
            raise _error(key, f"must be 0 or greater, got {number}")
        return number
