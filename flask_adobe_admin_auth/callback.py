"""The checks on Adobe's redirect back, in the order they run.

The callback is an unauthenticated endpoint that decides which Adobe org an
account may act on, so each step either passes or raises
:class:`ConsentRejected` with the reason; nothing is stored before every
check has passed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from .consent_request import PendingConsent, digest, values_equal
from .errors import ConsentRejected
from .settings import Settings

logger = logging.getLogger(__name__)

#: Parameters the callback reads. Anything else, such as an ``org_id`` in the
#: query, is ignored: the org comes only from the verified id_token.
CALLBACK_PARAMETERS = ("state", "admin_consent", "id_token", "error")

#: Query parameter marking the callback's one same-site reload.
BOUNCE_PARAMETER = "adobe_admin_auth_bounce"

# More pairs than any redirect from Adobe carries is garbage, not a callback.
_MAX_QUERY_PAIRS = 32

# The alphabet of each value. ``state`` is ours (base64url), and an id_token is
# a JWS in compact form (base64url segments joined by dots). Adobe's error codes
# are snake case, and a generous printable set leaves room for new ones.
_ALPHABETS = {
    "state": re.compile(r"[A-Za-z0-9_-]+"),
    "admin_consent": re.compile(r"true|false"),
    "id_token": re.compile(r"[A-Za-z0-9_=.-]+"),
    "error": re.compile(r"[\x21-\x7e]+"),
}


@dataclass(frozen=True)
class CallbackParameters:
    """The validated query of a callback."""

    state: str | None
    admin_consent: str | None
    id_token: str | None
    error: str | None
    #: Whether this request is the callback's same-site reload.
    bounced: bool = False

    def reload_query(self) -> dict[str, str]:
        """Return the parameters the same-site reload sends, with the reload marker."""
        query = {name: getattr(self, name) for name in CALLBACK_PARAMETERS}
        query = {name: value for name, value in query.items() if value is not None}
        query[BOUNCE_PARAMETER] = "1"
        return query


def read_parameters(settings: Settings, query_string: bytes) -> CallbackParameters:
    """Parse and validate the callback's raw query.

    The raw bytes are decoded here, strictly, rather than through
    ``request.args``: Werkzeug 3.1 keeps an invalid percent-escape such as
    ``%FF`` as the literal text and raises on raw bytes that are not UTF-8.

    :raises ConsentRejected: for bytes that are not UTF-8, too many pairs, a
        duplicated, oversize or out-of-alphabet value, or an ``admin_consent``
        other than ``true`` or ``false``.
    """
    pairs = _parse_query(query_string)
    limits = {
        "state": settings.max_state_length,
        "admin_consent": 8,
        "id_token": settings.max_id_token_length,
        "error": 100,
    }

    values: dict[str, str | None] = {}
    for name in CALLBACK_PARAMETERS:
        found = [value for key, value in pairs if key == name]
        if len(found) > 1:
            raise ConsentRejected(
                f"The parameter {name!r} appears more than once.", code="duplicate_parameter"
            )
        value = found[0] if found else None
        if value is not None and len(value) > limits[name]:
            raise ConsentRejected(
                f"The parameter {name!r} is longer than {limits[name]} characters.",
                code="parameter_too_long",
            )
        if value == "":
            value = None
        if value is not None and not _ALPHABETS[name].fullmatch(value):
            if name == "admin_consent":
                raise ConsentRejected(
                    "The parameter 'admin_consent' must be 'true' or 'false'.",
                    code="invalid_admin_consent",
                )
            raise ConsentRejected(
                f"The parameter {name!r} contains characters it never carries.",
                code="invalid_characters",
            )
        values[name] = value

    return CallbackParameters(
        state=values["state"],
        admin_consent=values["admin_consent"],
        id_token=values["id_token"],
        error=values["error"],
        bounced=any(key == BOUNCE_PARAMETER for key, _ in pairs),
    )


def _parse_query(query_string: bytes) -> list[tuple[str, str]]:
    try:
        text = query_string.decode("utf-8")
        return parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=_MAX_QUERY_PAIRS,
        )
    except UnicodeError:
        raise ConsentRejected(
            "The callback's query is not valid UTF-8.", code="invalid_encoding"
        ) from None
    except ValueError:
        raise ConsentRejected(
            f"The callback's query has more than {_MAX_QUERY_PAIRS} parameters.",
            code="too_many_parameters",
        ) from None


def check_binding(
    pending: PendingConsent, *, browser_id: str | None, account_id: str | None
) -> str:
    """Reject a callback finished in another browser or by another account (login CSRF).

    :returns: the signed-in account id, now known to be the one that started the flow.
    """
    if browser_id is None or not values_equal(pending.browser_digest, digest(browser_id)):
        raise ConsentRejected(
            "This consent was started in another browser.",
            code="browser_mismatch",
            status=403,
            account_id=pending.account_id,
        )
    if account_id is None:
        raise ConsentRejected(
            "No account is signed in to finish this consent.",
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
    return account_id
