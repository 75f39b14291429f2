"""A local stand-in for Adobe IMS that speaks real HTTP.

:class:`LocalIMS` serves Adobe's consent page, key set and token endpoint, plus
a small org-scoped demo API, on a loopback address. Tests, the example app and
users' own test suites point an app at it with :meth:`LocalIMS.config`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, get_args
from urllib.parse import urlsplit

from joserfc.jwk import RSAKey
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .endpoints import IMSApplication
from .keys import KeyRing, apply_overrides, ims_header, sign_jwt
from .state import (
    FAULT_ENDPOINTS,
    AutoApprove,
    AutoCancel,
    AutoError,
    Fault,
    IMSState,
    Interactive,
    OrgClaim,
    new_technical_account_id,
)

logger = logging.getLogger(__name__)

#: Demo customer orgs offered on the consent page when ``orgs`` is not given.
DEFAULT_ORGS: Mapping[str, str] = {
    "0123456789ABCDEF01234567@AdobeOrg": "Example Company",
    "89ABCDEF0123456789ABCDEF@AdobeOrg": "Example School",
    "FEDCBA9876543210FEDCBA98@AdobeOrg": "Example Agency",
}

#: Lifetime of an id_token minted by the stand-in, in seconds.
ID_TOKEN_LIFETIME = 24 * 60 * 60

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class _RequestHandler(WSGIRequestHandler):
    """Request handler that logs through this module's logger, at debug level.

    Werkzeug's handler logs the whole request line at info level, and the
    consent URL's query carries state and nonce values, which must not be logged.
    """

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug("%s %s -> %s", self.command, urlsplit(self.path).path, code)


def _as_tuple(name: str, values: Iterable[str]) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError(f"{name} must be a sequence of strings, not a single string")
    result = tuple(values)
    if not result:
        raise ValueError(f"{name} must not be empty")
    return result


class LocalIMS:
    """A local stand-in for Adobe IMS, served over HTTP on a loopback address.

    All methods are thread-safe: the server handles each request in its own
    thread while tests call the control methods from theirs.

    The consent page validates like Adobe and redirects back with ``state`` and
    ``admin_consent=true&id_token=...``, ``admin_consent=false`` or
    ``error=<code>``. Adobe sends errors to the default redirect URI, whatever
    the request asked for. So does the stand-in when ``default_redirect_uri`` is
    set; without one, errors go to the request's ``redirect_uri``.

    :param client_id: client id of the partner app's credential.
    :param client_secrets: client secrets that the token endpoint accepts. The
        first is the one :meth:`config` returns.
    :param scopes: scopes of the credential. Requests for any other scope fail.
    :param host: address to listen on.
    :param port: port to listen on. ``0`` picks a free port at :meth:`start`.
    :param issuer: ``iss`` of the id_tokens. Default: ``f"{base_url}/ims"``.
    :param token_lifetime: lifetime of minted access tokens in seconds, returned
        as ``expires_in``.
    :param orgs: customer orgs offered on the consent page, org id to display
        name. Default: :data:`DEFAULT_ORGS`.
    :param redirect_uri_patterns: regular expressions, one of which must match
        a whole ``redirect_uri``. ``None`` accepts any ``http`` or ``https`` URI
        on ``127.0.0.1``, ``localhost`` or ``::1``.
    :param default_redirect_uri: redirect URI used when a consent request has
        none, and for errors. ``None`` makes ``redirect_uri`` required.
    :param jwks_max_age: ``max-age`` of the key set's ``Cache-Control``, in seconds.
    :param clock: returns the current Unix time in seconds. It sets ``iat``,
        ``exp`` and access token expiry, so tests can move time without sleeping.
    """

    def __init__(
        self,
        *,
        client_id: str = "local-client-id",
        client_secrets: Iterable[str] = ("local-client-secret",),
        scopes: Iterable[str] = ("openid", "AdobeID", "read_organizations"),
        host: str = "127.0.0.1",
        port: int = 0,
        issuer: str | None = None,
        token_lifetime: int = 86399,
        orgs: Mapping[str, str] | None = None,
        redirect_uri_patterns: Iterable[str] | None = None,
        default_redirect_uri: str | None = None,
        jwks_max_age: int = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if token_lifetime <= 0:
            raise ValueError(
                f"token_lifetime must be a positive number of seconds, got {token_lifetime}"
            )

        self.client_id = client_id
        self.client_secrets = _as_tuple("client_secrets", client_secrets)
        self.scopes = _as_tuple("scopes", scopes)
        self.host = host
        self.port = port
        self.token_lifetime = token_lifetime
        self.orgs: dict[str, str] = dict(DEFAULT_ORGS if orgs is None else orgs)
        self.default_redirect_uri = default_redirect_uri
        self.jwks_max_age = jwks_max_age
        self.clock = clock
        self._issuer = issuer
        self._redirect_uri_patterns = (
            None
            if redirect_uri_patterns is None
            else [re.compile(pattern) for pattern in redirect_uri_patterns]
        )

        #: Send ``expires_in`` as a numeric string, to test clients against that variant.
        self.expires_in_as_string = False
        #: HTTP status and OAuth error code of the token endpoint's response for
        #: an org without an active consent (missing, unknown or revoked).
        self.revoked_org_response: tuple[int, str] = (400, "invalid_org")

        self._state = IMSState()
        self._key_ring = KeyRing()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._lifecycle_lock = threading.Lock()

    # Lifecycle

    def start(self) -> LocalIMS:
        """Start serving in a daemon thread and return ``self``.

        :raises RuntimeError: when the server is already running.
        :raises OSError: when the address cannot be bound.
        """
        with self._lifecycle_lock:
            if self._server is not None:
                raise RuntimeError(f"LocalIMS is already running at {self.base_url}")

            app = IMSApplication(self, self._state)
            server = make_server(
                self.host, self.port, app, threaded=True, request_handler=_RequestHandler
            )
            thread = threading.Thread(
                target=server.serve_forever, name=f"LocalIMS:{server.port}", daemon=True
            )
            self._server = server
            self._thread = thread
            thread.start()

        logger.info("Local IMS stand-in started at %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket. Does nothing when not running."""
        with self._lifecycle_lock:
            server, thread = self._server, self._thread
            if server is None or thread is None:
                return

            base_url = self.base_url
            server.shutdown()
            thread.join()
            server.server_close()
            self._server = None
            self._thread = None

        logger.info("Local IMS stand-in at %s stopped", base_url)

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    def __enter__(self) -> LocalIMS:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "not running"
        return f"<LocalIMS {where} client_id={self.client_id!r}>"

    @property
    def base_url(self) -> str:
        """Root URL of the running server, such as ``http://127.0.0.1:54321``.

        :raises RuntimeError: when the server is not running, because the port
            is only known once it is bound.
        """
        server = self._server
        if server is None:
            raise RuntimeError("LocalIMS is not running: call start() before using base_url")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{server.port}"

    @property
    def issuer(self) -> str:
        """``iss`` claim of the id_tokens."""
        return self._issuer if self._issuer is not None else f"{self.base_url}/ims"

    @property
    def demo_api_url(self) -> str:
        """Root URL of the demo API; ``GET {demo_api_url}/organization`` needs a minted token."""
        return f"{self.base_url}/demo"

    def config(self) -> dict[str, object]:
        """Build the Flask settings that point the extension at this stand-in."""
        base_url = self.base_url
        return {
            "ADOBE_ADMIN_AUTH_CLIENT_ID": self.client_id,
            "ADOBE_ADMIN_AUTH_CLIENT_SECRET": self.client_secrets[0],
            "ADOBE_ADMIN_AUTH_SCOPES": list(self.scopes),
            "ADOBE_ADMIN_AUTH_CONSENT_URL": f"{base_url}/consent",
            "ADOBE_ADMIN_AUTH_TOKEN_URL": f"{base_url}/ims/token/v3",
            "ADOBE_ADMIN_AUTH_JWKS_URL": f"{base_url}/ims/keys",
            "ADOBE_ADMIN_AUTH_ISSUER": self.issuer,
        }

    def reset(self, *, new_keys: bool = False) -> None:
        """Clear decisions, faults, counters, consents, revocations and minted tokens.

        Also restores :attr:`expires_in_as_string` and :attr:`revoked_org_response`
        to their defaults. Orgs, client settings and the server stay as they are.

        :param new_keys: also replace every signing key with one new key.
        """
        self._state.clear()
        self.expires_in_as_string = False
        self.revoked_org_response = (400, "invalid_org")
        if new_keys:
            self._key_ring.replace_all()

    def accepts_redirect_uri(self, uri: str) -> bool:
        """Tell whether a consent request may use ``uri`` as its ``redirect_uri``."""
        if self._redirect_uri_patterns is not None:
            return any(pattern.fullmatch(uri) for pattern in self._redirect_uri_patterns)

        try:
            parts = urlsplit(uri)
            hostname = parts.hostname
        except ValueError:
            return False
        return (
            parts.scheme in ("http", "https")
            and hostname in _LOOPBACK_HOSTS
            and parts.username is None
            and not parts.fragment
        )

    # Consent decisions

    def interactive(self) -> None:
        """Show the consent page to a person (the default mode)."""
        self._state.decision = Interactive()

    def auto_approve(
        self,
        org_id: str,
        *,
        technical_account_id: str | None = None,
        org_claim: OrgClaim = "orgId",
        claims: Mapping[str, Any] | None = None,
        header: Mapping[str, Any] | None = None,
    ) -> None:
        """Approve every following consent request for ``org_id`` without a page.

        The org need not be one of :attr:`orgs`.

        :param technical_account_id: ``sub`` of the id_token and technical account
            of the consent. Default: the org's current one, or a new one.
        :param org_claim: the claim that carries the org id: ``"orgId"`` (as in
            Adobe's samples), ``"org_id"`` (as in Adobe's claims table) or ``"both"``.
        :param claims: claims to add or replace in the id_token; ``None`` values delete.
        :param header: header fields to add or replace; ``None`` values delete.
        """
        _check_org_claim(org_claim)
        self._state.decision = AutoApprove(
            org_id=org_id,
            technical_account_id=technical_account_id,
            org_claim=org_claim,
            claims=dict(claims) if claims is not None else None,
            header=dict(header) if header is not None else None,
        )

    def auto_cancel(self) -> None:
        """Redirect every following consent request back as if the admin clicked Cancel."""
        self._state.decision = AutoCancel()

    def auto_error(self, code: str) -> None:
        """Redirect every following consent request back with ``error=code``.

        Any non-empty code is allowed, so apps can test codes Adobe does not document.
        """
        if not code:
            raise ValueError("auto_error() needs a non-empty error code")
        self._state.decision = AutoError(code)

    def last_consent_request(self) -> dict[str, str] | None:
        """Return the query parameters of the latest ``GET /consent``, or ``None``."""
        return self._state.last_consent_request

    # Consents and revocation

    def grant_consent(self, org_id: str, *, technical_account_id: str | None = None) -> str:
        """Record a consent for ``org_id`` as an approval on the consent page would.

        Returns the technical account id. Lets tests mint tokens without going
        through the consent redirect.
        """
        return self._state.grant(org_id, technical_account_id)

    def revoke(self, org_id: str, *, invalidate_tokens: bool = False) -> None:
        """Revoke ``org_id``'s consent: the token endpoint then rejects the org.

        :param invalidate_tokens: also make the org's minted access tokens fail
            on the demo API. By default they keep working until they expire, as
            Adobe's may for up to an hour.
        """
        logger.debug("Revoking consent of org %s", org_id)
        self._state.revoke(org_id, invalidate_tokens=invalidate_tokens)

    def is_revoked(self, org_id: str) -> bool:
        """Tell whether ``org_id``'s consent was revoked and not granted again since."""
        return self._state.is_revoked(org_id)

    def consented_orgs(self) -> dict[str, str]:
        """Map each org with an active consent to its technical account id."""
        return self._state.consented_orgs()

    def expire_tokens(self, org_id: str | None = None) -> None:
        """Make the minted access tokens of ``org_id`` (all orgs when ``None``) invalid."""
        self._state.expire_tokens(org_id)

    # Keys and id_tokens

    @property
    def current_kid(self) -> str:
        """``kid`` of the key that signs new id_tokens."""
        return str(self._key_ring.current.kid)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """Build the key set that ``GET /ims/keys`` serves."""
        return self._key_ring.jwks()

    def rotate_signing_key(self, *, keep_old: bool = True) -> str:
        """Generate a new signing key for new id_tokens and return its ``kid``.

        :param keep_old: keep publishing the previous keys; ``False`` removes
            them, so tokens they signed no longer verify.
        """
        kid = self._key_ring.rotate(keep_old=keep_old)
        logger.debug("Rotated the signing key, new kid %s", kid)
        return kid

    def make_id_token(
        self,
        *,
        org_id: str,
        nonce: str | None,
        aud: str | None = None,
        iss: str | None = None,
        sub: str | None = None,
        iat: int | None = None,
        exp: int | None = None,
        claims: Mapping[str, Any] | None = None,
        header: Mapping[str, Any] | None = None,
        key: RSAKey | None = None,
        alg: str = "RS256",
        org_claim: OrgClaim = "orgId",
    ) -> str:
        """Mint an id_token like the one the consent redirect carries.

        The header is ``{"alg", "x5u": "<kid>.cer", "kid", "itt": "id"}`` without
        ``typ``. Claims are ``iss``, ``sub``, ``aud``, ``exp``, ``iat``, ``nonce``
        and the org claim, with times in Unix seconds. Minting does not record a
        consent.

        :param nonce: the ``nonce`` claim; ``None`` leaves it out.
        :param aud: default: the client id.
        :param iss: default: :attr:`issuer`.
        :param sub: default: the org's technical account, or a new random one.
        :param iat: default: now, from ``clock``.
        :param exp: default: ``iat`` plus 24 hours.
        :param claims: claims to add or replace; ``None`` values delete.
        :param header: header fields to add or replace; ``None`` values delete,
            so ``{"kid": None}`` mints a token without ``kid``.
        :param key: key that signs instead of the current one. The header gets
            this key's ``kid``, or the current ``kid`` when the key has none. The
            latter gives a token whose signature fails under a published ``kid``.
        :param alg: ``RS256`` or another algorithm joserfc can sign with an RSA
            key. ``HS256`` forges an HMAC keyed with the public key's PEM, and
            ``none`` gives an unsigned token with an empty signature.
        :param org_claim: ``"orgId"``, ``"org_id"`` or ``"both"``.
        """
        _check_org_claim(org_claim)

        signing_key = self._key_ring.current if key is None else key
        kid = self.current_kid if key is None or not key.kid else key.kid

        issued_at = int(self.clock()) if iat is None else iat
        base_claims: dict[str, Any] = {
            "iss": self.issuer if iss is None else iss,
            "sub": sub or self._state.technical_account(org_id) or new_technical_account_id(),
            "aud": self.client_id if aud is None else aud,
            "exp": issued_at + ID_TOKEN_LIFETIME if exp is None else exp,
            "iat": issued_at,
        }
        if nonce is not None:
            base_claims["nonce"] = nonce
        if org_claim in ("orgId", "both"):
            base_claims["orgId"] = org_id
        if org_claim in ("org_id", "both"):
            base_claims["org_id"] = org_id

        token_header = apply_overrides(ims_header(kid, alg=alg), header)
        token_claims = apply_overrides(base_claims, claims)
        return sign_jwt(token_header, token_claims, signing_key)

    # Faults and counters

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int | None = 503,
        endpoint: str = "token",
        delay: float = 0.0,
        body: Mapping[str, Any] | str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Make the next ``count`` requests to ``endpoint`` fail, after queued faults.

        :param status: HTTP status of the response. ``None`` with a ``delay``
            sleeps, then responds normally.
        :param endpoint: ``"token"``, ``"jwks"``, ``"consent"`` (``GET /consent``
            only) or ``"demo"``.
        :param delay: seconds to sleep before responding.
        :param body: JSON object, or ``str``/``bytes`` sent as they are. Default:
            an OAuth error such as ``{"error": "temporarily_unavailable"}``, or
            a gateway error ``{"error_code", "message"}`` on the demo API.
        :param headers: extra response headers, such as ``{"Retry-After": "2"}``.
        """
        if endpoint not in FAULT_ENDPOINTS:
            raise ValueError(
                f"endpoint must be one of {', '.join(FAULT_ENDPOINTS)}, got {endpoint!r}"
            )
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        if delay < 0:
            raise ValueError(f"delay must not be negative, got {delay}")
        if status is not None and not 100 <= status <= 599:
            raise ValueError(f"status must be an HTTP status code or None, got {status}")

        fault = Fault(
            status=status,
            delay=delay,
            body=dict(body) if isinstance(body, Mapping) else body,
            headers=dict(headers) if headers is not None else None,
        )
        self._state.add_faults(endpoint, fault, count)

    def token_requests(self, org_id: str | None = None) -> int:
        """Return the number of token requests for ``org_id``, or for all orgs when ``None``.

        Every request counts, also the failed ones. A request without ``org_id``
        counts under ``""``.
        """
        return self._state.token_requests(org_id)

    def jwks_requests(self) -> int:
        """Return the number of key set requests, failed ones included."""
        return self._state.jwks_requests()

    def consent_requests(self) -> int:
        """Return the number of ``GET /consent`` requests, failed ones included."""
        return self._state.consent_requests()

    def demo_requests(self) -> int:
        """Return the number of demo API requests, failed ones included."""
        return self._state.demo_requests()

    def reset_counters(self) -> None:
        """Set every request counter back to zero."""
        self._state.reset_counters()


def _check_org_claim(org_claim: str) -> None:
    if org_claim not in get_args(OrgClaim):
        raise ValueError(f"org_claim must be 'orgId', 'org_id' or 'both', got {org_claim!r}")
