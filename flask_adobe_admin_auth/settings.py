"""Read and validate the ``ADOBE_ADMIN_AUTH_*`` configuration once, at ``init_app``."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from . import defaults
from .config_reader import PREFIX, ConfigReader, config_error

logger = logging.getLogger(__name__)

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

#: ``secrets.token_urlsafe(32)`` gives the extension's own state values 43
#: characters, so this floor leaves room above them.
MIN_STATE_LENGTH = 64

#: IMS id_tokens are RS256 JWTs, whose signature alone is 342 characters.
MIN_ID_TOKEN_LENGTH = 1024

# A cookie name is an RFC 6265 token: no separators, spaces or control characters.
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

# The user info of a URL, which may contain a password.
_USER_INFO = re.compile(r"//[^/?#]*@")

# Characters that would turn the blueprint's mount point into a URL variable,
# a query or a fragment.
_URL_PREFIX_FORBIDDEN = re.compile(r"[<>?#\s]")


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

    Besides types and ranges, it rejects values that would only fail later,
    on requests. Examples are endpoint URLs that use http outside
    ``localhost``, ``127.0.0.1`` and ``::1``, callback limits too small for
    real values, a refresh margin not below the token lifetime, and a
    ``SameSite=None`` binding cookie that is not ``Secure``.
    ``BINDING_COOKIE_SAMESITE='Strict'`` only logs a warning, because browsers
    drop that cookie on Adobe's cross-site redirect and the callback then needs
    one same-site reload to read it.

    :raises ConfigurationError: naming the key, the value received and how to fix it.
    """
    reader = ConfigReader(config)

    client_id = reader.required_string("CLIENT_ID")
    secrets = _client_secrets(reader)
    scopes = _scopes(reader)

    redirect_uri = reader.optional_string("REDIRECT_URI")
    if redirect_uri is not None:
        _check_redirect_uri(redirect_uri)

    settings = Settings(
        client_id=client_id,
        client_secrets=secrets,
        scopes=scopes,
        redirect_uri=redirect_uri,
        consent_url=_endpoint_url(
            reader,
            "CONSENT_URL",
            defaults.CONSENT_URL,
            "the state and nonce of every consent flow would cross the network in clear",
        ),
        token_url=_endpoint_url(
            reader,
            "TOKEN_URL",
            defaults.TOKEN_URL,
            "the client secret is posted to it and would cross the network in clear",
        ),
        jwks_url=_endpoint_url(
            reader,
            "JWKS_URL",
            defaults.JWKS_URL,
            "anyone on the network path could replace the signing keys and forge id_tokens",
        ),
        issuers=_issuers(reader),
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
        http_max_attempts=reader.positive_int(
            "HTTP_MAX_ATTEMPTS", defaults.HTTP_MAX_ATTEMPTS, unit="attempts"
        ),
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
        binding_cookie_name=_binding_cookie_name(reader, config),
        binding_cookie_samesite=reader.choice(
            "BINDING_COOKIE_SAMESITE", defaults.BINDING_COOKIE_SAMESITE, ("Lax", "None", "Strict")
        ),
        binding_cookie_secure=reader.optional_bool("BINDING_COOKIE_SECURE"),
        token_encryption_keys=reader.string_list("TOKEN_ENCRYPTION_KEYS", ()),
        max_state_length=reader.int_at_least(
            "MAX_STATE_LENGTH",
            defaults.MAX_STATE_LENGTH,
            MIN_STATE_LENGTH,
            unit="characters",
            reason="the extension's own state values are 43 characters, so a lower limit "
            "leaves no room and a limit below 43 rejects every callback",
        ),
        max_id_token_length=reader.int_at_least(
            "MAX_ID_TOKEN_LENGTH",
            defaults.MAX_ID_TOKEN_LENGTH,
            MIN_ID_TOKEN_LENGTH,
            unit="characters",
            reason="the RS256 signature of an id_token alone is 342 characters, and a "
            "lower limit would reject every callback",
        ),
        max_param_length=reader.positive_int(
            "MAX_PARAM_LENGTH", defaults.MAX_PARAM_LENGTH, unit="characters"
        ),
        cache_key_prefix=reader.string("CACHE_KEY_PREFIX", defaults.CACHE_KEY_PREFIX),
    )

    _check_combinations(settings)
    if settings.binding_cookie_samesite == "Strict":
        logger.warning(
            "%sBINDING_COOKIE_SAMESITE is 'Strict': browsers drop that cookie on Adobe's "
            "cross-site redirect, so the callback bounces once through this site to read it",
            PREFIX,
        )
    return settings


def _check_combinations(settings: Settings) -> None:
    """Reject keys that are valid alone but break requests together."""
    if settings.mint_wait_timeout < settings.mint_lease_timeout:
        raise config_error(
            "MINT_WAIT_TIMEOUT",
            f"must be at least {PREFIX}MINT_LEASE_TIMEOUT ({settings.mint_lease_timeout}), "
            f"got {settings.mint_wait_timeout}, so that a waiting request outlasts a stuck lease",
        )

    if settings.token_refresh_margin >= settings.token_max_lifetime:
        raise config_error(
            "TOKEN_REFRESH_MARGIN",
            f"must be smaller than {PREFIX}TOKEN_MAX_LIFETIME ({settings.token_max_lifetime}), "
            f"got {settings.token_refresh_margin}: every token would be due for refresh as soon "
            "as it is minted, so every request would mint a new one; lower the margin",
        )

    if settings.binding_cookie_samesite == "None" and settings.binding_cookie_secure is False:
        raise config_error(
            "BINDING_COOKIE_SECURE",
            f"must not be False while {PREFIX}BINDING_COOKIE_SAMESITE is 'None': browsers "
            "drop a SameSite=None cookie that is not Secure, so every consent would fail; "
            "set it to True or None, or use SameSite 'Lax'",
        )


def _client_secrets(reader: ConfigReader) -> tuple[str, ...]:
    single = reader.optional_string("CLIENT_SECRET")
    several = reader.optional_string_list("CLIENT_SECRETS")

    if single is not None and several is not None:
        raise config_error(
            "CLIENT_SECRETS",
            "is set together with ADOBE_ADMIN_AUTH_CLIENT_SECRET: set only one "
            "(CLIENT_SECRETS, newest first, while you rotate a secret)",
        )
    if several is not None:
        return several
    if single is not None:
        return (single,)
    raise config_error(
        "CLIENT_SECRET",
        "is missing: copy the client secret of your Enterprise Web App credential from the "
        "Adobe Developer Console",
    )


def _scopes(reader: ConfigReader) -> tuple[str, ...]:
    scopes = reader.string_list("SCOPES", defaults.SCOPES)

    for scope in scopes:
        # The scopes travel joined with commas, so a comma or a space inside one
        # scope would split it into several on Adobe's side.
        if "," in scope or any(character.isspace() for character in scope):
            raise config_error(
                "SCOPES",
                f"must list each scope separately, got {scope!r}: a scope cannot contain "
                "a comma or whitespace; write ['openid', 'AdobeID'] or 'openid,AdobeID'",
            )
    duplicates = sorted({scope for scope in scopes if scopes.count(scope) > 1})
    if duplicates:
        raise config_error(
            "SCOPES",
            f"must not repeat a scope, got {', '.join(duplicates)} more than once in "
            f"{list(scopes)!r}; list each scope once",
        )
    if "openid" not in scopes:
        raise config_error(
            "SCOPES",
            f"must contain 'openid', because the consent flow needs an id_token, "
            f"got {list(scopes)!r}",
        )
    return scopes


def _issuers(reader: ConfigReader) -> tuple[str, ...]:
    issuers = reader.string_list("ISSUER", defaults.ISSUER)

    for issuer in issuers:
        parts = _split_url("ISSUER", issuer)
        # OpenID Connect Core 1.0, section 2: an issuer has no query or
        # fragment, so such a value could never equal an id_token's iss.
        if parts.query or parts.fragment or "?" in issuer or "#" in issuer:
            raise config_error(
                "ISSUER",
                f"must not contain a query or fragment, got {_shown_url(issuer)}: an issuer is a "
                "scheme, host and path, compared exactly with the id_token's iss claim",
            )
    return issuers


def _url_prefix(reader: ConfigReader) -> str:
    prefix = reader.string("URL_PREFIX", defaults.URL_PREFIX)
    if not prefix.startswith("/") or prefix.endswith("/"):
        raise config_error(
            "URL_PREFIX", f"must start with '/' and not end with one, got {prefix!r}"
        )
    if _URL_PREFIX_FORBIDDEN.search(prefix):
        raise config_error(
            "URL_PREFIX",
            f"must be a plain path without '<', '>', '?', '#' or whitespace, got {prefix!r}: "
            "Flask would read '<...>' as a URL variable that url_for cannot fill, and the "
            "others would split the routes' URLs",
        )
    return prefix


def _binding_cookie_name(reader: ConfigReader, config: Mapping[str, Any]) -> str:
    name = reader.string("BINDING_COOKIE_NAME", defaults.BINDING_COOKIE_NAME)
    if not _COOKIE_NAME.fullmatch(name):
        raise config_error(
            "BINDING_COOKIE_NAME",
            f"must be a cookie name without spaces, separators such as ';', '=' or ',', or "
            f"non-ASCII characters, got {name!r}: browsers would mangle the cookie",
        )

    session_cookie = config.get("SESSION_COOKIE_NAME") or "session"
    if name == session_cookie:
        raise config_error(
            "BINDING_COOKIE_NAME",
            f"must differ from SESSION_COOKIE_NAME, got {name!r} for both: each cookie "
            "would overwrite the other and sign the account out; pick another name",
        )
    return name


def _endpoint_url(reader: ConfigReader, key: str, default: str, clear_text_risk: str) -> str:
    url = reader.string(key, default)
    _check_url(key, url, clear_text_risk)
    return url


def _check_redirect_uri(uri: str) -> None:
    _check_url(
        "REDIRECT_URI",
        uri,
        "Adobe accepts only https redirect URIs, and the id_token would cross the network in clear",
    )
    if len(uri) > 256:
        raise config_error(
            "REDIRECT_URI",
            f"is {len(uri)} characters long, longer than the 256 characters Adobe accepts",
        )


def _check_url(key: str, url: str, clear_text_risk: str) -> None:
    """Require an absolute https URL (http on a local host), without fragment or user info.

    A fragment would swallow the query that the consent flow appends, and
    RFC 6749, section 3.1.2, forbids one in a redirect URI. User info would
    appear in log lines and ``flask adobe-admin-auth check`` output that name
    the URL.
    """
    parts = _split_url(key, url)
    if parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS:
        raise config_error(
            key,
            f"must use https outside localhost, 127.0.0.1 and ::1, got {_shown_url(url)}: "
            f"{clear_text_risk}",
        )
    if parts.fragment or parts.username is not None or "#" in url:
        raise config_error(
            key, f"must not contain a fragment or user info, got {_shown_url(url)}; remove them"
        )


def _split_url(key: str, url: str) -> SplitResult:
    """Split an absolute http(s) URL with a host and a valid port, or raise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise config_error(key, f"must be a valid URL, got {_shown_url(url)}: {error}") from None

    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise config_error(key, f"must be an absolute http(s) URL, got {_shown_url(url)}")
    if port == 0:
        raise config_error(key, f"must not use port 0, got {_shown_url(url)}")
    return parts


def _shown_url(url: str) -> str:
    """Return ``repr(url)`` for a message, with user info masked because it may be a password."""
    return repr(_USER_INFO.sub("//***@", url))
