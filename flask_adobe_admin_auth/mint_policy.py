"""What a failed token request means: the one place that classifies IMS answers.

- No answer (timeout, connection error), 5xx or 429: transient. Retry with
  backoff, honouring ``Retry-After``; never revoke.
- ``invalid_client`` (IMS answers 400 or 401): our client secret. Try the
  next configured secret; never revoke.
- ``invalid_scope``, ``unsupported_grant_type``, a response without a token:
  our configuration. Fail loudly; never revoke.
- Any other 4xx: the org (consent revoked, technical account gone). Confirm
  with a second attempt, then revoke.

Adobe does not document the answer for a revoked org, so by default every
other 4xx counts once a second attempt confirms it. An app that knows the
codes sets ``ADOBE_ADMIN_AUTH_ORG_REJECTION_ERRORS``, and then only those
codes revoke; other 4xx answers fail the mint without revoking.
"""

from __future__ import annotations

import enum
import random

from .token_endpoint import TokenFailure


class Verdict(enum.Enum):
    TRANSIENT = "transient"
    CLIENT_REJECTED = "client_rejected"
    CONFIGURATION = "configuration"
    ORG_REJECTED = "org_rejected"
    FAILED = "failed"


CLIENT_ERRORS = frozenset({"invalid_client", "unauthorized_client_secret"})
CONFIGURATION_ERRORS = frozenset(
    {"invalid_scope", "unsupported_grant_type", "invalid_grant_type", "invalid_token_response"}
)


def classify(failure: TokenFailure, org_rejection_errors: tuple[str, ...] | None) -> Verdict:
    """Return what ``failure`` means for the org and for the app."""
    status = failure.status
    if status is None and failure.error is None:
        return Verdict.TRANSIENT
    if status is not None and (status >= 500 or status == 429):
        return Verdict.TRANSIENT
    if failure.error in CLIENT_ERRORS:
        return Verdict.CLIENT_REJECTED
    if failure.error in CONFIGURATION_ERRORS:
        return Verdict.CONFIGURATION
    is_client_error = status is not None and 400 <= status < 500
    if is_client_error and (org_rejection_errors is None or failure.error in org_rejection_errors):
        return Verdict.ORG_REJECTED
    return Verdict.FAILED


def backoff_delay(attempt: int, base: float, retry_after: float | None) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first retry).

    Exponential with full jitter, and never shorter than ``Retry-After``.
    """
    exponential = base * (2 ** (attempt - 1))
    delay = random.uniform(0, exponential)  # noqa: S311 - jitter, not a secret
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
