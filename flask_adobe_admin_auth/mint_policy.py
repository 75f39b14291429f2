"""What a failed token request means: the one place that classifies IMS responses.

The rules below are read top to bottom, and the first that matches wins:

1. No HTTP response (timeout, connection error), a 5xx, 408, 425 or 429,
   or a 200 without a usable token (not JSON, an ``error`` field, an empty
   or malformed ``access_token``, a missing or too short ``expires_in``):
   transient. Retry with backoff, honouring ``Retry-After``; never revoke.
2. ``error`` in :data:`CLIENT_ERRORS`: IMS rejected our client secret. Try
   the next configured secret; never revoke.
3. 400, 401 or 403 with an ``error`` that the app listed in
   ``ADOBE_ADMIN_AUTH_ORG_REJECTION_ERRORS``: the org rejected. Revoke the
   org's consent at once.
4. ``error`` in :data:`CONFIGURATION_ERRORS`, a 3xx (redirects are not
   followed, so that the client secret is never sent to another URL), or a
   4xx other than 400, 401 and 403: our configuration or a malformed request. Fail loudly (an
   ERROR log line); never revoke.
5. 400, 401 or 403 with any other OAuth ``error`` code, when the app lists
   no codes: the org rejected (consent revoked, technical account deleted).
   Revoke the org's consent once a second request confirms it, so that one
   odd response does not revoke a consent.
6. Anything else: fail the mint; never revoke.

The standard OAuth error codes of RFC 6749, section 5.2, fall as follows:

========================== ============== ===========================================
code                       verdict        reason
========================== ============== ===========================================
``invalid_request``        configuration  A malformed request: a missing or repeated
                                          parameter, sent by this app or mangled by
                                          a proxy. It carries no information about the org.
``invalid_client``         client         The client secret was rejected; the next
                                          configured secret is tried.
``invalid_grant``          org rejected   For the client credentials grant the grant
                                          is the org's consent, so this is the
                                          closest standard code for a revoked org.
``unauthorized_client``    configuration  The credential may not use this grant type,
                                          which is set up in the Developer Console.
``unsupported_grant_type`` configuration  The token URL or the grant type is wrong.
``invalid_scope``          configuration  ``ADOBE_ADMIN_AUTH_SCOPES`` requests scopes
                                          the credential does not have.
========================== ============== ===========================================

Adobe does not document the code its token endpoint returns for an org that
revoked its consent. The LocalIMS stand-in answers 400 ``invalid_org``, an
assumption rather than a documented fact. An app that knows the codes sets
``ADOBE_ADMIN_AUTH_ORG_REJECTION_ERRORS``: then a listed code revokes on the
first response, even one of the configuration codes above (for example
``invalid_request``), and any other code fails the mint without revoking.
A listed client error still only moves on to the next secret, because a
wrong client secret would otherwise revoke every org.

A 404 or 405 means that ``ADOBE_ADMIN_AUTH_TOKEN_URL`` points at the wrong
place, and a response without an OAuth ``error`` may come from a proxy
rather than IMS, so neither can revoke a consent.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable

from .token_endpoint import INVALID_TOKEN_RESPONSE, TokenFailure


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
#: malformed request.
CONFIGURATION_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_scope",
        "unsupported_grant_type",
        "invalid_grant_type",
        "unauthorized_client",
    }
)

#: HTTP statuses that mean "try again later" besides every 5xx.
TRANSIENT_STATUSES = frozenset({408, 425, 429})

#: HTTP statuses on which IMS can reject an org.
ORG_REJECTION_STATUSES = frozenset({400, 401, 403})


def classify(failure: TokenFailure, org_rejection_errors: tuple[str, ...] | None) -> Verdict:
    """Classify ``failure`` by the table in this module's docstring.

    :param org_rejection_errors: the codes of ``ADOBE_ADMIN_AUTH_ORG_REJECTION_ERRORS``,
        or ``None`` to treat every OAuth error on 400, 401 or 403 that the
        client and configuration rules do not claim as an org rejection.
    """
    status = failure.status
    error = failure.error

    if status is None and error is None:
        return Verdict.TRANSIENT
    if status is not None and (status >= 500 or status in TRANSIENT_STATUSES):
        return Verdict.TRANSIENT
    if status == 200 and error == INVALID_TOKEN_RESPONSE:
        # A gateway or a half-deployed IMS node; nothing about the org or the app.
        return Verdict.TRANSIENT
    if status is not None and 300 <= status < 400:
        return Verdict.CONFIGURATION
    if error in CLIENT_ERRORS:
        return Verdict.CLIENT_REJECTED

    is_oauth_rejection = status in ORG_REJECTION_STATUSES and error is not None
    listed = org_rejection_errors is not None and error in org_rejection_errors
    if is_oauth_rejection and listed:
        return Verdict.ORG_REJECTED
    if error in CONFIGURATION_ERRORS:
        return Verdict.CONFIGURATION
    if status is not None and 400 <= status < 500 and status not in ORG_REJECTION_STATUSES:
        return Verdict.CONFIGURATION

    if is_oauth_rejection and org_rejection_errors is None:
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
