"""The browser binding cookie and the CSRF token derived from it.

The cookie contains one random browser id, signed with the app's secret key, so
its size stays fixed however many consent flows a browser starts. A pending
consent request stores a hash of that id; the callback must come from the
same browser. Disconnect forms carry a CSRF token tied to the same id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, request
from itsdangerous import BadSignature, TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer

from .consent_request import digest, new_browser_id, values_equal
from .settings import Settings

logger = logging.getLogger(__name__)

_BINDING_SALT = "flask-adobe-admin-auth.binding"
_CSRF_SALT = "flask-adobe-admin-auth.csrf"
_NEW_ID_KEY = "_adobe_admin_auth_new_browser_id"

# The binding outlives any consent flow; a year keeps CSRF tokens of open
# tabs valid without keeping anything secret for longer than the cookie.
COOKIE_MAX_AGE = 365 * 24 * 3600
CSRF_MAX_AGE = 24 * 3600


def _secret_keys(app: Flask) -> Any:
    # itsdangerous signs with the last key and accepts all of them.
    fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or []
    return [*fallbacks, app.config["SECRET_KEY"]]


class _ClockedTimestampSigner(TimestampSigner):
    """A timestamp signer that reads the time from an injectable clock."""

    def __init__(self, *args: Any, clock: Callable[[], float], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock())


class BrowserBinding:
    """Reads, creates and signs the browser id of the current request.

    :param clock: returns the current Unix time in seconds and dates CSRF
        tokens; tests replace the ``clock`` attribute to expire them.
    """

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self.clock = clock

    def current_browser_id(self) -> str | None:
        """Return this browser's id, or ``None`` when it has no valid binding cookie yet."""
        new_id: str | None = g.get(_NEW_ID_KEY)
        if new_id is not None:
            return new_id

        raw = request.cookies.get(self._settings.binding_cookie_name)
        if not raw:
            return None
        try:
            value = URLSafeSerializer(_secret_keys(current_app), salt=_BINDING_SALT).loads(raw)
        except BadSignature:
            logger.info("Ignoring a browser binding cookie with an invalid signature")
            return None
        if isinstance(value, str) and value:
            return value
        return None

    def ensure_browser_id(self) -> str:
        """Return this browser's id, creating one that :meth:`save` sends with the response."""
        browser_id = self.current_browser_id()
        if browser_id is not None:
            return browser_id

        new_id = new_browser_id()
        setattr(g, _NEW_ID_KEY, new_id)
        return new_id

    def save(self, response: Response) -> Response:
        """Send the cookie when this request created a browser id."""
        new_id: str | None = g.get(_NEW_ID_KEY)
        if new_id is None:
            return response

        settings = self._settings
        secure = settings.binding_cookie_secure
        if secure is None:
            secure = request.is_secure or settings.binding_cookie_samesite == "None"
        response.set_cookie(
            settings.binding_cookie_name,
            URLSafeSerializer(_secret_keys(current_app), salt=_BINDING_SALT).dumps(new_id),
            max_age=COOKIE_MAX_AGE,
            path="/",
            secure=secure,
            httponly=True,
            samesite=settings.binding_cookie_samesite,
        )
        return response

    def csrf_token(self) -> str:
        """Return a CSRF token for forms that post to the consent blueprint."""
        browser_id = self.ensure_browser_id()
        return str(self._csrf_serializer().dumps(digest(browser_id)))

    def check_csrf_token(self, token: str | None) -> bool:
        """Return whether ``token`` was issued to this browser within the last day."""
        browser_id = self.current_browser_id()
        if not token or browser_id is None or len(token) > 512:
            return False
        try:
            signed = self._csrf_serializer().loads(token, max_age=CSRF_MAX_AGE)
        except BadSignature:
            return False
        return isinstance(signed, str) and values_equal(digest(browser_id), signed)

    def _csrf_serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            _secret_keys(current_app),
            salt=_CSRF_SALT,
            signer=_ClockedTimestampSigner,
            signer_kwargs={"clock": self.clock},
        )
