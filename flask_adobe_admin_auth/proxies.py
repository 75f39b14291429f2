"""Proxies to the consent and token of the current request."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from flask import g
from werkzeug.local import LocalProxy

from .decorators import CONSENT_KEY, TOKEN_KEY

if TYPE_CHECKING:
    from .models import Consent
    from .tokens import AccessToken


def _current_consent() -> Consent | None:
    return cast("Consent | None", g.get(CONSENT_KEY))


def _current_token() -> AccessToken | None:
    return cast("AccessToken | None", g.get(TOKEN_KEY))


#: The active consent of the signed-in account, inside a view decorated with
#: ``requires_consent`` or ``requires_customer_token``; ``None`` elsewhere.
current_consent: Consent = cast("Consent", LocalProxy(_current_consent))

#: The access token for the consent's org, inside a view decorated with
#: ``requires_customer_token``; ``None`` elsewhere.
current_token: AccessToken = cast("AccessToken", LocalProxy(_current_token))
