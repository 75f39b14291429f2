"""Mutable state of the IMS stand-in, shared by the request threads and test controls."""

from __future__ import annotations

import secrets
import threading
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: Endpoints that :meth:`IMSState.add_faults` can make fail.
FAULT_ENDPOINTS = ("token", "jwks", "consent", "demo")

Endpoint = Literal["token", "jwks", "consent", "demo"]
OrgClaim = Literal["orgId", "org_id", "both"]


@dataclass(frozen=True)
class Interactive:
    """Consent decision mode: show the HTML consent page to a person."""


@dataclass(frozen=True)
class AutoApprove:
    """Consent decision mode: approve at once for ``org_id`` and return an id_token."""

    org_id: str
    technical_account_id: str | None = None
    org_claim: OrgClaim = "orgId"
    claims: Mapping[str, Any] | None = None
    header: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class AutoCancel:
    """Consent decision mode: redirect back with ``admin_consent=false``."""


@dataclass(frozen=True)
class AutoError:
    """Consent decision mode: redirect back with ``error=<code>``."""

    code: str


Decision = Interactive | AutoApprove | AutoCancel | AutoError


@dataclass(frozen=True)
class Fault:
    """One queued failure of an endpoint.

    ``status=None`` means: sleep ``delay`` seconds, then respond normally.
    """

    status: int | None
    delay: float = 0.0
    body: Mapping[str, Any] | str | bytes | None = None
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class IssuedToken:
    """An access token minted by the token endpoint."""

    org_id: str
    technical_account_id: str
    client_id: str
    expires_at: float


@dataclass
class _Data:
    decision: Decision = field(default_factory=Interactive)
    faults: dict[str, deque[Fault]] = field(
        default_factory=lambda: {name: deque() for name in FAULT_ENDPOINTS}
    )
    token_requests: Counter[str] = field(default_factory=Counter)
    jwks_requests: int = 0
    consent_requests: int = 0
    demo_requests: int = 0
    # org id -> technical account id, for orgs whose consent is active
    consents: dict[str, str] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    tokens: dict[str, IssuedToken] = field(default_factory=dict)
    last_consent_request: dict[str, str] | None = None


def new_technical_account_id() -> str:
    """Generate a technical account id in Adobe's format (24 hex digits)."""
    return f"{secrets.token_hex(12).upper()}@techacct.adobe.com"


class IMSState:
    """Decisions, faults, counters, consents and tokens of one stand-in, behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data = _Data()

    def clear(self) -> None:
        """Forget everything: back to interactive consent, no faults, zero counters."""
        with self._lock:
            self._data = _Data()

    # Consent decisions

    @property
    def decision(self) -> Decision:
        """The current consent decision mode."""
        with self._lock:
            return self._data.decision

    @decision.setter
    def decision(self, value: Decision) -> None:
        with self._lock:
            self._data.decision = value

    def record_consent_request(self, query: dict[str, str]) -> None:
        """Count one consent request and keep its query parameters."""
        with self._lock:
            self._data.consent_requests += 1
            self._data.last_consent_request = dict(query)

    @property
    def last_consent_request(self) -> dict[str, str] | None:
        """The query parameters of the latest consent request, or ``None``."""
        with self._lock:
            last = self._data.last_consent_request
            return None if last is None else dict(last)

    # Consents and revocation

    def grant(self, org_id: str, technical_account_id: str | None = None) -> str:
        """Record an active consent for ``org_id`` and return its technical account id.

        An org that already has an active consent keeps its technical account
        unless ``technical_account_id`` is given. A revoked org gets a new one,
        because Adobe deletes the technical account on revocation.
        """
        with self._lock:
            current = self._data.consents.get(org_id)
            account = technical_account_id or current or new_technical_account_id()
            self._data.consents[org_id] = account
            self._data.revoked.discard(org_id)
            return account

    def revoke(self, org_id: str, *, invalidate_tokens: bool) -> None:
        """Revoke the consent of ``org_id``, optionally invalidating its minted tokens."""
        with self._lock:
            self._data.consents.pop(org_id, None)
            self._data.revoked.add(org_id)
            if invalidate_tokens:
                self._drop_tokens(org_id)

    def is_revoked(self, org_id: str) -> bool:
        """Tell whether ``org_id``'s consent was revoked and not granted again since."""
        with self._lock:
            return org_id in self._data.revoked

    def consented_orgs(self) -> dict[str, str]:
        """Map each org with an active consent to its technical account id."""
        with self._lock:
            return dict(self._data.consents)

    def technical_account(self, org_id: str) -> str | None:
        """Return the technical account id of ``org_id``'s active consent, or ``None``."""
        with self._lock:
            return self._data.consents.get(org_id)

    # Access tokens

    def count_token_request(self, org_id: str) -> None:
        """Count one token request for ``org_id`` (``""`` when the request had none)."""
        with self._lock:
            self._data.token_requests[org_id] += 1

    def store_token(self, access_token: str, issued: IssuedToken) -> None:
        """Remember a minted access token so the demo API can accept it."""
        with self._lock:
            self._data.tokens[access_token] = issued

    def find_token(self, access_token: str) -> IssuedToken | None:
        """Look up a minted access token that was not invalidated."""
        with self._lock:
            return self._data.tokens.get(access_token)

    def expire_tokens(self, org_id: str | None) -> None:
        """Invalidate the minted tokens of ``org_id``, or of every org when ``None``."""
        with self._lock:
            if org_id is None:
                self._data.tokens.clear()
            else:
                self._drop_tokens(org_id)

    def _drop_tokens(self, org_id: str) -> None:
        tokens = self._data.tokens
        for access_token in [t for t, issued in tokens.items() if issued.org_id == org_id]:
            del tokens[access_token]

    # Faults

    def add_faults(self, endpoint: str, fault: Fault, count: int) -> None:
        """Queue ``count`` copies of ``fault`` behind the faults already queued."""
        with self._lock:
            self._data.faults[endpoint].extend([fault] * count)

    def next_fault(self, endpoint: str) -> Fault | None:
        """Take the next queued fault of ``endpoint``, or ``None`` when none is queued."""
        with self._lock:
            queue = self._data.faults[endpoint]
            return queue.popleft() if queue else None

    # Counters

    def count_jwks_request(self) -> None:
        """Count one key set request."""
        with self._lock:
            self._data.jwks_requests += 1

    def count_demo_request(self) -> None:
        """Count one demo API request."""
        with self._lock:
            self._data.demo_requests += 1

    def token_requests(self, org_id: str | None) -> int:
        """Return the number of token requests for ``org_id``, or of all orgs when ``None``."""
        with self._lock:
            if org_id is None:
                return sum(self._data.token_requests.values())
            return self._data.token_requests[org_id]

    def jwks_requests(self) -> int:
        """Return the number of key set requests."""
        with self._lock:
            return self._data.jwks_requests

    def consent_requests(self) -> int:
        """Return the number of consent requests (``GET /consent``)."""
        with self._lock:
            return self._data.consent_requests

    def demo_requests(self) -> int:
        """Return the number of demo API requests."""
        with self._lock:
            return self._data.demo_requests

    def reset_counters(self) -> None:
        """Set every request counter back to zero."""
        with self._lock:
            self._data.token_requests.clear()
            self._data.jwks_requests = 0
            self._data.consent_requests = 0
            self._data.demo_requests = 0
