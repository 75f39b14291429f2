"""The checks on Adobe's redirect back, in the order they run.

The callback is an unauthenticated endpoint that decides which Adobe org an
account may act on, so each step either passes or raises
:class:`ConsentRejected` with the reason; nothing is stored before every
check has passed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import request

from .consent_request import PendingConsent, digest, values_equal
from .errors import ConsentRejected
from .settings import Settings

logger = logging.getLogger(__name__)

#: Parameters the callback reads. Anything else, such as an ``org_id`` in the
#: query, is ignored: the org comes only from the verified id_token.
CALLBACK_PARAMETERS = ("state", "admin_consent", "id_token", "error")


@dataclass(frozen=True)
class CallbackParameters:
    """The validated query of a callback."""

    state: str | None
    admin_consent: str | None
    id_token: str | None
    error: str | None


def read_parameters(settings: Settings) -> CallbackParameters:
    """Read the callback's query, rejecting duplicates, oversize and undecodable values."""
    limits = {
        "state": settings.max_state_length,
        "admin_consent": 8,
        "id_token": settings.max_id_token_length,
        "error": 100,
    }
    values: dict[str, str | None] = {}
    for name in CALLBACK_PARAMETERS:
        found = request.args.getlist(name)
        if len(found) > 1:
            raise ConsentRejected(
                f"The parameter {name!r} appears more than once.", code="duplicate_parameter"
            )
        value = found[0] if found else None
        if value is not None:
            # Werkzeug replaces bytes that are not UTF-8 with U+FFFD.
            if "\ufffd" in value:
                raise ConsentRejected(
                    f"The parameter {name!r} is not valid UTF-8.", code="invalid_encoding"
                )
            if len(value) > limits[name]:
                raise ConsentRejected(
                    f"The parameter {name!r} is longer than {limits[name]} characters.",
                    code="parameter_too_long",
                )
            if value == "":
                value = None
        values[name] = value

    admin_consent = values["admin_consent"]
    if admin_consent is not None and admin_consent not in ("true", "false"):
        raise ConsentRejected(
            "The parameter 'admin_consent' must be 'true' or 'false'.",
            code="invalid_admin_consent",
        )
    return CallbackParameters(
        state=values["state"],
        admin_consent=admin_consent,
        id_token=values["id_token"],
        error=values["error"],
    )


def check_binding(
    pending: PendingConsent, *, browser_id: str | None, account_id: str | None
) -> None:
    """Reject a callback finished in another browser or by another account (login CSRF)."""
    if browser_id is None or not values_equal(pending.browser_digest, digest(browser_id)):
        raise ConsentRejected(
            "This consent was started in another browser.",
            code="browser_mismatch",
            status=403,
            account_id=pending.account_id,
        )
    if account_id is None:
        raise ConsentRejected(
            "Nobody is signed in to finish this consent.",
            code="not_signed_in",
            status=401,
            account_id=pending.account_id,
        )
    if not values_equal(pending.account_id, account_id):
        raise ConsentRejected(
            "This consent was started by another account.",
            code="account_mismatch",
            status=403,
            account_id=account_id,
        )
