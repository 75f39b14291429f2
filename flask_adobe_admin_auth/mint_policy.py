"""What a failed token request means: the one place that classifies IMS responses.

The rules below are read top to bottom, and the first that matches wins:

1. No HTTP response (timeout, connection error), a 5xx, 408, 425 or 429:
   transient. Retry with backoff, honouring ``Retry-After``; never revoke.
2. ``error`` in :data:`CLIENT_ERRORS`: IMS rejected our client secret. Try
   the next configured secret; never revoke.
3. ``error`` in :data:`CONFIGURATION_ERRORS`, or a 4xx other than 400, 401
   and 403: our configuration. Fail loudly; never revoke.
4. 400, 401 or 403 with an OAuth ``error`` code: the org rejected (consent
   revoked, technical account deleted). Revoke the org's consent.
5. Anything else: fail the mint; never revoke.

Adobe does not document its response for a revoked org. By default every
OAuth error on 400, 401 or 403 that the rules above do not claim counts as
an org rejection once a second request confirms it, so that one odd response
does not revoke a consent. An app that knows the codes sets
``ADOBE_ADMIN_AUTH_ORG_REJECTION_ERRORS``: then a listed code revokes on the
first response, and any other code fails the mint without revoking.

A 404 or 405 means that ``ADOBE_ADMIN_AUTH_TOKEN_URL`` points at the wrong
place, and a response without an OAuth ``error`` may come from a proxy
rather than IMS, so neither can revoke a consent.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable

from .token_endpoint import TokenFailure


class Verdict(enum.Enum):
    """The meaning of a failed token request."""

    TRANSIENT = "transient"
    CLIENT_REJECTED = "client_rejected"
    CONFIGURATION = "configuration"
    ORG_REJECTED = "org_rejected"
    FAILED = "failed"


#: OAuth errors that reject the app's own client credentials.
CLIENT_ERRORS = frozenset({"invalid_client", "unauthorized_client_secret"})

#: OAuth errors caused by the app's configuration (scopes, grant type) or by a
#: success response that lacks a usable token.
CONFIGURATION_ERRORS = frozenset(
    {
        "invalid_scope",
        "unsupported_grant_type",
        "invalid_grant_type",
        "unauthorized_client",
        "invalid_token_response",
    }
)

#: HTTP statuses that mean "try again later" besides every 5xx.
TRANSIENT_STATUSES = frozenset({408, 425, 429})

#: HTTP statuses on which IMS can reject an org.
ORG_REJECTION_STATUSES = frozenset({400, 401, 403})


def classify(failure: TokenFailure, org_rejection_errors: tuple[str, ...] | None) -> Verdict:
    """Classify ``failure`` by the table in this module's docstring.

    :param org_rejection_errors: the codes of ``ADOBE_ADMIN_AUTH_ORG_REJECTION_ERRORS``,
        or ``None`` to treat every unclaimed OAuth error on 400, 401 or 403 as an
        org rejection.
    """
    status = failure.status
    error = failure.error

    if status is None and error is None:
        return Verdict.TRANSIENT
    if status is not None and (status >= 500 or status in TRANSIENT_STATUSES):
        return Verdict.TRANSIENT
    if error in CLIENT_ERRORS:
        return Verdict.CLIENT_REJECTED
    if error in CONFIGURATION_ERRORS:
        return Verdict.CONFIGURATION
    if status is not None and 400 <= status < 500 and status not in ORG_REJECTION_STATUSES:
        return Verdict.CONFIGURATION

    is_oauth_rejection = status in ORG_REJECTION_STATUSES and error is not None
    if is_oauth_rejection and (org_rejection_errors is None or error in org_rejection_errors):
        return Verdict.ORG_REJECTED
    return Verdict.FAILED


def org_rejections_to_revoke(org_rejection_errors: tuple[str, ...] | None) -> int:
    """Return how many org rejections in a row revoke a consent.

    A code the app listed in ``ADOBE_ADMIN_AUTH_ORG_REJECTION_ERRORS`` is
    trusted at once; a guessed one needs a second response to confirm it.
    """
    return 2 if org_rejection_errors is None else 1


def backoff_delay(
    retry: int,
    base: float,
    retry_after: float | None,
    *,
    uniform: Callable[[float, float], float] = random.uniform,
) -> float:
    """Return the seconds to wait before retry number ``retry`` (1 for the first retry).

    The delay is exponential with full jitter, so that workers that failed
    together do not retry together, and never shorter than ``Retry-After``.
    """
    exponential = base * (2 ** (retry - 1))
    delay = uniform(0, exponential)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
